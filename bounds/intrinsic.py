"""Bounds for functions of a projection onto a manifold: rates set by d, not by D.

The model is f(x) = g(π_M(x)) on the tube M(qτ) = {x : dist(x, M) < qτ} around a compact
d-dimensional manifold M ⊂ R^D with reach τ, 0 <= q < 1, g Hölder-α; or the distance model
f(x) = g(dist(x, M_1), ..., dist(x, M_K)).  This module holds what theory predicts for it:

* the approximation cost S(ε) ≍ ε^(-d/α) log(1/ε) and its inverse ε(S) ≍ (S / log S)^(-α/d),
  the D-dependence (at most linear) and, for contrast, the rate a D-variate method would have;
* the ERM risk n^(-2α/(2α+d)) up to logs, the class size S*(n) ≍ n^(d/(2α+d)) and the D-driven
  risk of estimators that do not adapt;
* the geometry constants: Lip(π) <= 1/(1-q), the localisation interval [1-q, 1+q] and its
  distortion (1+q)/(1-q), the linearisation error q r + r²/(2τ), Federer's r²/(2τ);
* covering numbers of the test manifolds, and the error bound of relunet's own projection net.

Exponents are exact (:meth:`~relunet.bounds.core.Bound.exponent`); the implied dimension of a
fitted slope is the solution d of "exponent = slope" (:func:`implied_dimension`).

References
----------
A. Cloninger, T. Klock, "A deep network construction that adapts to intrinsic dimensionality
beyond the domain", Neural Networks 141 (2021) 404-419 (arXiv:2008.02545): Theorem A
(projection model) and Theorem B (distance model) in the form of
``shared/theory/intrinsic_dimension.md`` §3 [recalled]; the constants are not the paper's.
H. Federer, "Curvature measures", Trans. AMS 93 (1959), Theorems 4.8 and 4.18 (reach,
Lipschitz projection, the reach inequality).
C. J. Stone, "Optimal global rates of convergence for nonparametric regression", Ann. Statist.
10 (1982) (the exponent -2α/(2α+d)).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import sympy as sp

from .core import Bound, Domain, symbol

__all__ = [
    "BOUNDS",
    "CLONINGER_KLOCK",
    "ambient_approx_error",
    "ambient_risk",
    "approx_error",
    "approx_size",
    "approx_size_ambient",
    "covering_circle",
    "covering_flat_torus",
    "covering_sphere",
    "covering_torus",
    "distance_net_error",
    "erm_risk",
    "erm_size",
    "federer_reach_inequality",
    "foot_point_factor",
    "implied_dimension",
    "linearisation_error",
    "localisation_distortion",
    "localisation_interval",
    "projection_lipschitz",
    "projection_net_error",
    "small_scale_exponent",
]

CLONINGER_KLOCK = "Cloninger-Klock 2021, Neural Networks 141:404-419 (arXiv:2008.02545)"
THEORY = "intrinsic_dimension.md"

_d = symbol("d", integer=True)
_D = symbol("D", integer=True)
_alpha = symbol("alpha")
_C = symbol("C")
_eps = symbol("eps")
_S = symbol("S")
_n = symbol("n")
_k = symbol("k")
_q = symbol("q")
_r = symbol("r")
_tau = symbol("tau")
_R = symbol("R")
_eta = symbol("eta")
_s = symbol("s")

_POS = Domain(lower=0, lower_closed=False)
_DIM = Domain(lower=1, integer=True)
_Q = Domain(lower=0, upper=1, upper_closed=False)
_ACCURACY = Domain(lower=0, upper=1, lower_closed=False, upper_closed=False)


def _rate_conditions(*extra: str) -> dict[str, Domain]:
    base = {"d": _DIM, "alpha": _POS, "C": _POS}
    for name in extra:
        base[name] = {"D": _DIM, "q": _Q, "k": Domain(lower=0), "eps": _ACCURACY,
                      "S": Domain(lower=1, lower_closed=False),
                      "n": Domain(lower=2, integer=True)}[name]
    return base


# -- approximation ------------------------------------------------------------------------------


def approx_size() -> Bound:
    """Nonzero weights for sup error ε on the tube: S(ε) = C ε^(-d/α) log(1/ε).

    The rate is read as ε -> 0 (:func:`small_scale_exponent` gives -d/α); C depends on g, M,
    τ, q (blowing up as q -> 1) and on D at most linearly (:func:`approx_size_ambient`).

    References
    ----------
    Cloninger and Klock 2021, Theorem A in the form of intrinsic_dimension.md §3 [recalled].

    Examples
    --------
    >>> small_scale_exponent(approx_size(), "eps")
    -d/alpha
    """
    return Bound(
        name="intrinsic.approx.size",
        expr=_C * _eps ** (-_d / _alpha) * sp.log(1 / _eps),
        kind="size", quantity="nonzero weights for sup error eps on the tube M(q tau)",
        source=f"{CLONINGER_KLOCK}, Theorem A as recalled in {THEORY} §3",
        variables=(), conditions=_rate_conditions("eps"), constants=("C",),
        description="cost governed by the intrinsic dimension d, not by D",
    )


def approx_error() -> Bound:
    """Sup error on the tube reachable with S nonzero weights: C (S / log S)^(-α/d).

    The inverse of :func:`approx_size` up to constants; its exponent in S is -α/d and the
    log factor contributes ``log_power("S") = α/d``.

    References
    ----------
    Cloninger and Klock 2021, Theorem A [recalled]; intrinsic_dimension.md §8.

    Examples
    --------
    >>> approx_error().exponent("S")
    -alpha/d
    >>> approx_error().subs(alpha=1, d=2).exponent("S")
    -1/2
    """
    return Bound(
        name="intrinsic.approx.error",
        expr=_C * (_S / sp.log(_S)) ** (-_alpha / _d),
        kind="upper", quantity="sup error on M(q tau) against nonzero weights S",
        source=f"{CLONINGER_KLOCK}, Theorem A (inverted) as recalled in {THEORY} §3, §8",
        variables=("S",), conditions=_rate_conditions("S"), constants=("C",),
    )


def approx_size_ambient() -> Bound:
    """The D-dependence of the cost: S = C D ε^(-d/α) log(1/ε), at most linear in D.

    relunet's projection net reads x in R^D only through N affine maps (N D weights), so its
    cost is multiplicative in D (intrinsic_dimension.md §3); the tests assert that the
    exponent in D is at most 1.

    Examples
    --------
    >>> approx_size_ambient().exponent("D")
    1
    """
    return Bound(
        name="intrinsic.approx.size_ambient",
        expr=_C * _D * _eps ** (-_d / _alpha) * sp.log(1 / _eps),
        kind="size", quantity="nonzero weights for sup error eps, with the ambient dimension D",
        source=f"derived for relunet's construction ({THEORY} §3, §5.2 variant (a))",
        variables=("D",), conditions=_rate_conditions("eps", "D"), constants=("C",),
    )


def ambient_approx_error() -> Bound:
    """The rate if D mattered: C S^(-α/D), as a D-variate grid approximant has (the contrast).

    Examples
    --------
    >>> ambient_approx_error().subs(alpha=1, D=4).exponent("S")
    -1/4
    """
    return Bound(
        name="intrinsic.approx.ambient_error",
        expr=_C * _S ** (-_alpha / _D),
        kind="upper", quantity="sup error of a D-variate approximant against its size S",
        source=f"grid (piecewise-constant) approximation of an alpha-Hölder function of D variables, {THEORY} "
               "check 7; DeVore-Howard-Micchelli 1989 give the matching lower bound for continuous "
               "parameter selection (§3 'near-optimality')",
        variables=("S",), conditions={"D": _DIM, "alpha": _POS, "C": _POS,
                                      "S": Domain(lower=1, lower_closed=False)},
        constants=("C",),
    )


def projection_net_error() -> Bound:
    """Error bound of relunet's projection net: L (r sqrt((κ + 1 + q)/(1 - q)))^α + e.

    For the net of :func:`relunet.constructions.intrinsic_nets.projection_net` (variant (a),
    constant local pieces): centres with covering radius r on M, ramps that switch a centre
    off once its localisation gap exceeds κ r², g with Hölder constant L (ambient metric on
    M) and arithmetic error e (the reciprocal and the product gate).  Derivation: the nearest
    centre has gap 0; by (G2) a centre with gap < κ r² satisfies
    (1-q)|p - c|² <= κ r² + (1+q) r², and the output is a convex combination of g at such
    centres.

    References
    ----------
    Derived in docs/intrinsic_dimension.md ("the projection net"), from (G2) of
    intrinsic_dimension.md §4.

    Examples
    --------
    >>> round(projection_net_error().evaluate(L=1, r=0.01, kappa=1, q=0, alpha=1, e=0), 12)
    0.014142135624
    """
    L, kappa, e = symbol("L"), symbol("kappa"), symbol("e")
    radius = _r * sp.sqrt((kappa + 1 + _q) / (1 - _q))
    return Bound(
        name="intrinsic.net.error",
        expr=L * radius**_alpha + e,
        kind="upper", quantity="sup error of the projection net on M(q tau)",
        source=f"derived for relunet's variant (a) net from (G2), {THEORY} §4-§5.2",
        variables=("r",),
        conditions={"L": _POS, "r": _POS, "kappa": _POS, "q": _Q, "alpha": Domain(lower=0, upper=1,
                    lower_closed=False), "e": Domain(lower=0)},
    )


def distance_net_error() -> Bound:
    """Error of the distance network: η + sqrt(ε_sq) + ε_sqrt.

    η is the covering radius of the net {z_j} of M, ε_sq the absolute error of the approximate
    squared distance and ε_sqrt that of the piecewise-linear square root
    (|sqrt a - sqrt b| <= sqrt |a - b|).

    References
    ----------
    intrinsic_dimension.md §5.3 step 3 (corrected form) [derived].

    Examples
    --------
    >>> round(distance_net_error().evaluate(eta=0.01, eps_sq=1e-4, eps_sqrt=0.001), 12)
    0.021
    """
    eps_sq, eps_sqrt = symbol("eps_sq"), symbol("eps_sqrt")
    return Bound(
        name="intrinsic.distance.error",
        expr=_eta + sp.sqrt(eps_sq) + eps_sqrt,
        kind="upper", quantity="sup error of the distance network",
        source=f"derived in {THEORY} §5.3 step 3",
        variables=(),
        conditions={"eta": _POS, "eps_sq": Domain(lower=0), "eps_sqrt": Domain(lower=0)},
    )


# -- statistics ---------------------------------------------------------------------------------


def erm_risk() -> Bound:
    """Excess risk of sparse ReLU ERM on tube data: C n^(-2α/(2α+d)) (log n)^k.

    The power k of the logarithm is not known (polylog n); it does not change the exponent.

    References
    ----------
    Cloninger and Klock, arXiv:2008.02545 v1 (ERM over sparsely constrained ReLU nets)
    [recalled]; intrinsic_dimension.md §7; Stone 1982 for the exponent.

    Examples
    --------
    >>> erm_risk().exponent("n")
    -2*alpha/(2*alpha + d)
    >>> erm_risk().subs(alpha=1, d=1).exponent("n")
    -2/3
    """
    return Bound(
        name="intrinsic.erm.risk",
        expr=_C * _n ** (-2 * _alpha / (2 * _alpha + _d)) * sp.log(_n) ** _k,
        kind="upper", quantity="excess risk E||f_hat - f||^2 on tube data",
        source=f"{CLONINGER_KLOCK} v1, ERM guarantee as recalled in {THEORY} §7",
        variables=("n",), conditions=_rate_conditions("n", "k"), constants=("C", "k"),
    )


def erm_size() -> Bound:
    """The class size that balances bias and variance: S*(n) = C n^(d/(2α+d)).

    Examples
    --------
    >>> erm_size().exponent("n")
    d/(2*alpha + d)
    """
    return Bound(
        name="intrinsic.erm.size",
        expr=_C * _n ** (_d / (2 * _alpha + _d)),
        kind="size", quantity="nonzero weights of the ERM class",
        source=f"{THEORY} §7 (S ≍ eps^(-d/alpha) at eps ≍ n^(-alpha/(2 alpha + d)))",
        variables=("n",), conditions=_rate_conditions("n"), constants=("C",),
    )


def ambient_risk() -> Bound:
    """The risk of an estimator driven by D: C n^(-2α/(2α+D)) (minimax over D-variate Hölder-α).

    Examples
    --------
    >>> ambient_risk().subs(alpha=1, D=300).exponent("n")
    -1/151
    """
    return Bound(
        name="intrinsic.erm.ambient_risk",
        expr=_C * _n ** (-2 * _alpha / (2 * _alpha + _D)),
        kind="lower", quantity="minimax excess risk of D-variate Hölder-alpha regression",
        source="Stone 1982; the contrast of intrinsic_dimension.md §8",
        variables=("n",), conditions={"D": _DIM, "alpha": _POS, "C": _POS,
                                      "n": Domain(lower=2, integer=True)},
        constants=("C",),
    )


# -- geometry ------------------------------------------------------------------------------------


def projection_lipschitz() -> Bound:
    """Lipschitz constant of the projection on the tube of radius qτ: 1/(1-q).

    References
    ----------
    Federer 1959, Theorem 4.8 (8); intrinsic_dimension.md §2.1 and check 2.

    Examples
    --------
    >>> projection_lipschitz().evaluate(q=0.5)
    2.0
    """
    return Bound("geometry.lipschitz", 1 / (1 - _q), "upper",
                 "Lipschitz constant of pi_M on M(q tau)", "Federer 1959, Thm 4.8",
                 variables=(), conditions={"q": _Q})


def localisation_interval() -> dict[str, Bound]:
    """(G2): (|x-c|² - δ(x)²) / |π(x)-c|² lies in [1-q, 1+q] for x in M(qτ), c in M.

    Examples
    --------
    >>> {k: b.evaluate(q=0.25) for k, b in localisation_interval().items()}
    {'lower': 0.75, 'upper': 1.25}
    """
    src = f"derived from Federer 1959, Thm 4.18 ({THEORY} §4 (G2))"
    what = "ratio (|x-c|^2 - dist(x,M)^2) / |pi(x)-c|^2"
    return {"lower": Bound("geometry.localisation.lower", 1 - _q, "lower", what, src,
                           conditions={"q": _Q}),
            "upper": Bound("geometry.localisation.upper", 1 + _q, "upper", what, src,
                           conditions={"q": _Q})}


def localisation_distortion() -> Bound:
    """Ambient-nearest centres are (1+q)/(1-q)-nearest to π(x) in squared distance.

    Examples
    --------
    >>> localisation_distortion().evaluate(q=0.5)
    3.0
    """
    return Bound("geometry.localisation", (1 + _q) / (1 - _q), "upper",
                 "distortion of localisation by ambient distance",
                 f"derived from (G2), {THEORY} §4", conditions={"q": _Q})


def linearisation_error() -> Bound:
    """(G4): the tangential chart at a centre within r of π(x) errs by at most q r + r²/(2τ).

    Examples
    --------
    >>> round(linearisation_error().evaluate(q=0.5, r=0.1, tau=1), 12)
    0.055
    """
    return Bound("geometry.linearisation", _q * _r + _r**2 / (2 * _tau), "upper",
                 "error of the local affine chart V^T (x - c)",
                 f"derived from (G1) and tangent variation, {THEORY} §4 (G4)",
                 variables=("r",), conditions={"q": _Q, "r": _POS, "tau": _POS})


def foot_point_factor() -> Bound:
    """Contraction factor of the foot-point iteration of variant (b) on a sphere of radius τ.

    For x = π(x) + tν with |t| <= qτ and a chart coordinate |h*| <= ρ of π(x), the Jacobian of
    T_x at its fixed point has eigenvalues -t/τ and -(tτ + |h*|²)/(τ² - |h*|²), so the
    iteration converges geometrically with factor at most (q + s²)/(1 - s²), s = ρ/τ < 1: the
    "q + O(r/τ)" of intrinsic_dimension.md §5.2 (b), exact for spheres
    (:mod:`relunet.constructions.foot_point`).

    Examples
    --------
    >>> round(foot_point_factor().evaluate(q=0.5, s=0.2), 12)   # (0.5 + 0.04) / 0.96
    0.5625
    """
    return Bound("intrinsic.footpoint.factor", (_q + _s**2) / (1 - _s**2), "upper",
                 "geometric convergence factor of the foot-point iteration (sphere; s = chart radius / reach)",
                 f"derived for relunet's variant (b), {THEORY} §5.2 and check 10",
                 variables=("q",), conditions={"q": _Q, "s": Domain(lower=0, upper=1, upper_closed=False)})


def federer_reach_inequality() -> Bound:
    """(G1): dist(y - p, T_pM) <= h²/(2τ) for p, y in M with |y - p| = h.

    Examples
    --------
    >>> federer_reach_inequality().evaluate(h=1, tau=2)
    0.25
    """
    h = symbol("h")
    return Bound("geometry.federer", h**2 / (2 * _tau), "upper",
                 "distance of y - p from the tangent space at p", "Federer 1959, Thm 4.18",
                 variables=("h",), conditions={"h": _POS, "tau": _POS})


# -- covering numbers ----------------------------------------------------------------------------


def covering_circle() -> Bound:
    """Covering number of a circle of radius R by ambient η-balls centred on it, exactly.

    A ball of radius η <= 2R centred on the circle covers an arc of half-angle
    2 asin(η/(2R)), so N = ceil(π / (2 asin(η/(2R)))) ≈ πR/η.

    Examples
    --------
    >>> covering_circle().evaluate(R=1, eta=0.1)
    32.0
    >>> import math
    >>> round(covering_circle().evaluate(R=1, eta=0.001) * 0.001 / math.pi, 3)   # ≈ πR/η
    1.0
    """
    return Bound("geometry.covering.circle",
                 sp.ceiling(sp.pi / (2 * sp.asin(sp.Min(1, _eta / (2 * _R))))), "exact",
                 "covering number N(M, eta) of the circle", f"derived ({THEORY} §6)",
                 conditions={"R": _POS, "eta": _POS})


def _volume_covering(name: str, volume: sp.Expr, dim, extra: dict[str, Domain], requires=()) -> Bound:
    conditions = {"C": _POS, "eta": _POS, **extra}
    return Bound(name, _C * volume / _eta**dim, "size", "covering number N(M, eta) up to constants",
                 f"volume argument ({THEORY} §6, §8)", conditions=conditions, constants=("C",),
                 requires=requires)


def covering_sphere() -> Bound:
    """N(S^d_R, η) ≍ C area(S^d_R) / η^d with area 2π^((d+1)/2) R^d / Γ((d+1)/2).

    Examples
    --------
    >>> small_scale_exponent(covering_sphere(), "eta")
    -d
    """
    area = 2 * sp.pi ** ((_d + 1) / 2) * _R**_d / sp.gamma((_d + 1) / 2)
    return _volume_covering("geometry.covering.sphere", area, _d, {"R": _POS, "d": _DIM})


def covering_torus() -> Bound:
    """N(T, η) ≍ C 4π² R r / η² for the torus in R^3 (R > r).

    Examples
    --------
    >>> small_scale_exponent(covering_torus(), "eta")
    -2
    """
    return _volume_covering("geometry.covering.torus", 4 * sp.pi**2 * _R * _r, 2,
                            {"R": _POS, "r": _POS}, requires=(_r < _R,))


def covering_flat_torus() -> Bound:
    """N(S¹(r1) × S¹(r2), η) ≍ C 4π² r1 r2 / η².

    Examples
    --------
    >>> covering_flat_torus().evaluate(C=1, r1=1, r2=1, eta=1) > 39
    True
    """
    r1, r2 = symbol("r1"), symbol("r2")
    return _volume_covering("geometry.covering.flat_torus", 4 * sp.pi**2 * r1 * r2, 2,
                            {"r1": _POS, "r2": _POS})


# -- exponents ----------------------------------------------------------------------------------


def small_scale_exponent(bound: Bound, var: str) -> sp.Expr:
    """lim_{var -> 0} d log f / d log var: the exponent of a rate read at small `var`.

    `Bound.exponent` reads rates at var -> ∞; a cost in the accuracy ε or a covering number
    in the scale η is read at 0.  Substituting var = 1/m turns one into the other.

    >>> small_scale_exponent(approx_size().subs(alpha=1, d=2), "eps")
    -2
    """
    m = symbol("_m_inverse")
    flipped = Bound(bound.name, bound.expr.subs(bound.sym(var), 1 / m), bound.kind, bound.quantity,
                    bound.source, variables=("_m_inverse",))
    return sp.simplify(-flipped.exponent("_m_inverse"))


@cache
def _dimension_solver(name: str) -> Callable:
    bound = {"approx": approx_error(), "risk": erm_risk()}[name]
    var = {"approx": "S", "risk": "n"}[name]
    slope = sp.Symbol("slope", negative=True)
    d = sp.Symbol("d", positive=True)
    exponent = bound.exponent(var).subs(bound.sym("d"), d)
    (solution,) = sp.solve(sp.Eq(exponent, slope), d)
    return sp.lambdify((slope, bound.sym("alpha")), solution, modules="math")


def implied_dimension(slope: float, alpha: float, kind: str = "approx") -> float:
    """The d for which the bound's exponent equals a fitted slope.

    ``kind="approx"`` solves -α/d = slope (d = α/|slope|); ``kind="risk"`` solves
    -2α/(2α+d) = slope (d = 2α(1/|slope| - 1)).

    Examples
    --------
    >>> implied_dimension(-0.5, 1.0)
    2.0
    >>> round(implied_dimension(-2 / 3, 1.0, kind="risk"), 12)
    1.0
    """
    if kind not in ("approx", "risk"):
        raise ValueError(f"kind = {kind!r} is not allowed: use 'approx' or 'risk'")
    if not slope < 0:
        raise ValueError(f"slope = {slope!r} is out of range: a rate's slope must be < 0")
    if not alpha > 0:
        raise ValueError(f"alpha = {alpha!r} is out of range: alpha must be > 0")
    if kind == "risk" and not slope > -1:
        raise ValueError(f"slope = {slope!r} is out of range: a risk slope must be in (-1, 0)")
    return float(_dimension_solver(kind)(float(slope), float(alpha)))


def _family(name: str, factory: Callable[[], dict[str, Bound]]) -> dict[str, Callable[[], Bound]]:
    return {factory()[key].name: (lambda key=key: factory()[key]) for key in factory()}


BOUNDS: dict[str, Callable[[], Bound]] = {
    "intrinsic.approx.size": approx_size,
    "intrinsic.approx.error": approx_error,
    "intrinsic.approx.size_ambient": approx_size_ambient,
    "intrinsic.approx.ambient_error": ambient_approx_error,
    "intrinsic.net.error": projection_net_error,
    "intrinsic.distance.error": distance_net_error,
    "intrinsic.erm.risk": erm_risk,
    "intrinsic.erm.size": erm_size,
    "intrinsic.erm.ambient_risk": ambient_risk,
    "intrinsic.footpoint.factor": foot_point_factor,
    "geometry.lipschitz": projection_lipschitz,
    "geometry.localisation": localisation_distortion,
    "geometry.linearisation": linearisation_error,
    "geometry.federer": federer_reach_inequality,
    "geometry.covering.circle": covering_circle,
    "geometry.covering.sphere": covering_sphere,
    "geometry.covering.torus": covering_torus,
    "geometry.covering.flat_torus": covering_flat_torus,
    **_family("localisation", localisation_interval),
}
"""Dotted names to factories, merged into :data:`relunet.bounds.catalogue.CATALOGUE`."""
