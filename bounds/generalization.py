"""Statistical rates: what regression with n samples can and cannot achieve.

References
----------
C. J. Stone, "Optimal global rates of convergence for nonparametric regression", Annals of
Statistics 10(4) (1982) 1040-1053.  L. Györfi, M. Kohler, A. Krzyżak, H. Walk, "A
Distribution-Free Theory of Nonparametric Regression", Springer 2002, Theorem 3.2.
``shared/theory/erm_deepening.md`` section 3.
"""

from __future__ import annotations

import sympy as sp

from .core import Bound, Domain, symbol

__all__ = [
    "composite_network_size",
    "composite_rate",
    "holder_regression_rate",
    "kohler_langer_rate",
    "kohler_langer_sizes",
    "minimax_lower_bound",
    "radial_regression_rate",
]


def minimax_lower_bound() -> Bound:
    """Minimax lower bound for Hölder-r regression on [0, 1]^d: c n^(-2r/(2r+d)).

    No estimator has worst-case excess risk E||f_hat - f||^2 below this order over the
    Hölder ball, for bounded noise variance and, for example, uniform inputs.

    References
    ----------
    Stone 1982; Györfi et al. 2002, Theorem 3.2.

    Examples
    --------
    >>> minimax_lower_bound().exponent("n")
    -2*r/(d + 2*r)
    >>> round(minimax_lower_bound().evaluate(n=10**4, r=1, d=2, c=1), 6)
    0.01
    """
    n, r, d, c = symbol("n"), symbol("r"), symbol("d", integer=True), symbol("c")
    return Bound(
        name="stat.minimax.holder",
        expr=c * n ** (-2 * r / (2 * r + d)),
        kind="lower",
        quantity="minimax excess risk E||f_hat - f||^2",
        source="Stone 1982; Györfi-Kohler-Krzyżak-Walk 2002, Thm 3.2",
        variables=("n",),
        conditions={
            "n": Domain(lower=1, integer=True),
            "r": Domain(lower=0, lower_closed=False),
            "d": Domain(lower=1, integer=True),
            "c": Domain(lower=0, lower_closed=False),
        },
        constants=("c",),
        description="no estimator beats this rate uniformly over the Hölder-r ball",
    )


_POS = Domain(lower=0, lower_closed=False)
_N = Domain(lower=2, integer=True)
_D = Domain(lower=1, integer=True)
LIN_WANG_ZHOU = ("Lin, Wang, Zhou, 'Generalization performance of ERM on over-parameterized deep ReLU nets', "
                 "IEEE TIT 71(3) 2025 (arXiv:2111.14039); rate shape [recalled], exponent [standard]")


def holder_regression_rate() -> Bound:
    """Near-optimal rate of the interpolating global minima: C n^(-2r/(2r+d)) (log n)^kappa.

    The expected shape of the main theorem of Lin, Wang and Zhou: the deepening scheme gives
    perfect global minima of ERM whose excess risk matches the minimax rate up to the log
    factor (kappa = 1 is the default reading of "almost optimal"; kappa = 0 the TIT wording).

    References
    ----------
    Lin, Wang and Zhou 2025 (arXiv:2111.14039), main theorem (shape [recalled]);
    erm_deepening.md §3.

    Examples
    --------
    >>> holder_regression_rate().exponent("n")
    -2*r/(d + 2*r)
    >>> holder_regression_rate().log_power("n")
    kappa
    """
    n, r, d, c, kappa = symbol("n"), symbol("r"), symbol("d", integer=True), symbol("C"), symbol("kappa")
    return Bound("erm.rate.holder", c * n ** (-2 * r / (2 * r + d)) * sp.log(n) ** kappa, "upper",
                 "excess risk E||F - f_rho||^2", LIN_WANG_ZHOU, ("n",),
                 {"n": _N, "r": _POS, "d": _D, "C": _POS, "kappa": Domain(lower=0)}, ("C",))


def radial_regression_rate() -> Bound:
    """Rate for radial targets f(x) = g(|x|^2) with g Hölder-r: C n^(-2r/(2r+1)) (log n)^kappa.

    The effective dimension is 1 for an estimator that exploits the radial structure.

    References
    ----------
    erm_deepening.md §2 (radial targets, [recalled] as one of the "numerous types of data").

    Examples
    --------
    >>> radial_regression_rate().exponent("n")
    -2*r/(2*r + 1)
    """
    n, r, c, kappa = symbol("n"), symbol("r"), symbol("C"), symbol("kappa")
    return Bound("erm.rate.radial", c * n ** (-2 * r / (2 * r + 1)) * sp.log(n) ** kappa, "upper",
                 "excess risk for radial targets", LIN_WANG_ZHOU, ("n",),
                 {"n": _N, "r": _POS, "C": _POS, "kappa": Domain(lower=0)}, ("C",))


def _effective_smoothness(betas, dims):
    betas = [sp.nsimplify(b) for b in betas]
    if len(betas) != len(dims) or not betas:
        raise ValueError(f"betas has {len(betas)} entries and dims {len(dims)}: they must match, non-empty")
    for i, (b, t) in enumerate(zip(betas, dims)):
        if not b > 0:
            raise ValueError(f"betas[{i}] = {b} is out of range: smoothness must be > 0")
        if int(t) != t or t < 1:
            raise ValueError(f"dims[{i}] = {t} is out of range: dims must be integers >= 1")
    out = []
    for i, b in enumerate(betas):
        prod = sp.Integer(1)
        for later in betas[i + 1:]:
            prod *= sp.Min(later, 1)
        out.append(b * prod)
    return out


def composite_rate(betas, dims) -> Bound:
    """Schmidt-Hieber's rate for compositions g_q ∘ ... ∘ g_0: C phi_n log^3 n.

    phi_n = max_i n^(-2 beta_i* / (2 beta_i* + t_i)) with effective smoothness
    beta_i* = beta_i prod_{l > i} min(beta_l, 1); component i of g_i is beta_i-Hölder in t_i
    variables.  The max is resolved for the given numbers.

    Parameters
    ----------
    betas : sequence of positive numbers, the smoothness of g_0 .. g_q.
    dims : sequence of int, the number of variables t_0 .. t_q each component depends on.

    References
    ----------
    J. Schmidt-Hieber, "Nonparametric regression using deep neural networks with ReLU
    activation function", Ann. Statist. 48(4) (2020), Theorem 1 (upper bound, log^3 n for
    L ≍ log n) and Theorem 3 (lower bound c phi_n); erm_deepening.md §7.

    Examples
    --------
    >>> composite_rate([1, 2], [3, 1]).exponent("n")   # a Lipschitz g_0 of 3 variables, then a C^2 g_1
    -2/5
    >>> composite_rate([2, 1], [2, 1]).exponent("n")   # both components give -2/3
    -2/3
    """
    eff = _effective_smoothness(betas, dims)
    exponents = [-2 * b / (2 * b + t) for b, t in zip(eff, dims)]
    worst = max(exponents)  # the slowest (largest, least negative) exponent dominates
    n, c = symbol("n"), symbol("C")
    return Bound("stat.rate.composite", c * n**worst * sp.log(n) ** 3, "upper", "excess risk (composite class)",
                 "Schmidt-Hieber 2020, Ann. Statist. 48(4), Thm 1 and Thm 3", ("n",),
                 {"n": _N, "C": _POS}, ("C",),
                 description=f"for the class betas={list(betas)}, dims={list(dims)} (effective smoothness "
                             f"{', '.join(str(e) for e in eff)}); other classes: "
                             "relunet.bounds.generalization.composite_rate(betas, dims)")


def composite_network_size(betas, dims) -> dict[str, Bound]:
    """Network-size conditions of Schmidt-Hieber's Theorem 1, as bounds in n.

    depth_min = Σ_i log2(4 t_i ∨ 4 beta_i) log2 n <= L <= depth_max ≍ n phi_n; width ≳ n phi_n;
    sparsity s ≍ n phi_n log n.  Constants are not given ([recalled]); the shapes are.

    Examples
    --------
    >>> composite_network_size([1, 2], [3, 1])["sparsity"].exponent("n")
    3/5
    """
    eff = _effective_smoothness(betas, dims)
    worst = max(-2 * b / (2 * b + t) for b, t in zip(eff, dims))
    n, c = symbol("n"), symbol("C")
    depth_const = sum(sp.log(sp.Max(4 * t, 4 * sp.nsimplify(b)), 2) for b, t in zip(betas, dims))
    src = "Schmidt-Hieber 2020, Thm 1 conditions [recalled]"
    conds = {"n": _N, "C": _POS}
    return {
        "depth_min": Bound("stat.composite.depth_min", depth_const * sp.log(n, 2), "lower", "depth L", src,
                           ("n",), {"n": _N}),
        "depth_max": Bound("stat.composite.depth_max", c * n ** (1 + worst), "upper", "depth L", src, ("n",),
                           conds, ("C",)),
        "width": Bound("stat.composite.width", c * n ** (1 + worst), "lower", "width min_i p_i", src, ("n",),
                       conds, ("C",)),
        "sparsity": Bound("stat.composite.sparsity", c * n ** (1 + worst) * sp.log(n), "size", "nonzero weights s",
                          src, ("n",), conds, ("C",)),
    }


def kohler_langer_rate() -> Bound:
    """Fully connected least squares: c (log n)^6 n^(-2p/(2p+K)) for (p, K)-smooth hierarchical targets.

    References
    ----------
    M. Kohler, S. Langer, "On the rate of convergence of fully connected deep neural network
    regression estimates", Ann. Statist. 49(4) (2021) ([abstract]; the log power 6 [recalled]).

    Examples
    --------
    >>> kohler_langer_rate().log_power("n")
    6
    """
    n, p, k, c = symbol("n"), symbol("p"), symbol("K", integer=True), symbol("C")
    return Bound("stat.rate.kohler_langer", c * sp.log(n) ** 6 * n ** (-2 * p / (2 * p + k)), "upper",
                 "excess risk (fully connected nets)", "Kohler and Langer 2021, Ann. Statist. 49(4) [recalled]",
                 ("n",), {"n": _N, "p": _POS, "K": _D, "C": _POS}, ("C",))


def kohler_langer_sizes() -> dict[str, Bound]:
    """The two regimes of Kohler and Langer: (a) depth ≍ n^(K/(2(2p+K))) log n at constant width;
    (b) depth ≍ log n and width ≍ n^(K/(2(2p+K))).

    Examples
    --------
    >>> kohler_langer_sizes()["wide_width"].exponent("n")
    K/(2*(K + 2*p))
    """
    n, p, k, c = symbol("n"), symbol("p"), symbol("K", integer=True), symbol("C")
    e = k / (2 * (2 * p + k))
    src = "Kohler and Langer 2021 [recalled]"
    conds = {"n": _N, "p": _POS, "K": _D, "C": _POS}
    return {
        "deep_depth": Bound("stat.kohler_langer.deep_depth", c * n**e * sp.log(n), "size", "depth (constant width)",
                            src, ("n",), conds, ("C",)),
        "wide_depth": Bound("stat.kohler_langer.wide_depth", c * sp.log(n), "size", "depth (growing width)", src,
                            ("n",), {"n": _N, "C": _POS}, ("C",)),
        "wide_width": Bound("stat.kohler_langer.wide_width", c * n**e, "size", "width (depth ≍ log n)", src, ("n",),
                            conds, ("C",)),
    }
