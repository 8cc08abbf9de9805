"""Catapult dynamics: learning-rate thresholds, the uv recurrences, the weight-norm identity and
the sufficient catapult windows of Meltzer and Liu.

Conventions (``shared/theory/catapult.md`` §2): scalar output f, residual ε_a = f(x_a) − y_a, loss
L = (1/2n) Σ_a ε_a², normalised NTK H = J Jᵀ / n with λ0 = λ_max(H_0), full-batch GD
θ ← θ − η ∇L, and the dimensionless learning rate c = η λ0.  Every learning-rate bound below is
a bound on η; multiply by λ0 (:func:`in_c_units`) for the bound on c.

What is here:

* :func:`critical_learning_rate` η_crit = 2/λ0 and its versions for other loss normalisations
  (:func:`critical_learning_rate_for`, :func:`learning_rate_conversion`);
* the uv model's exact one-step recurrences (:func:`uv_recurrence`), re-derived from GD on the
  weights in sympy (:func:`derive_uv_recurrence`), their thresholds 2/λ and 4/λ derived from
  them (:func:`uv_thresholds`), its fixed points (:func:`uv_fixed_points`) and a vectorised float64
  iteration (:func:`uv_iterate`);
* the weight-norm identity of 2-homogeneous (k-homogeneous) models (:func:`norm_identity`),
  its y = 0 upper bound and the loss above which the norm must fall;
* the authors' sufficient upper edges of the catapult window (eqs. (154), (138), (163), (180),
  (124)/(130) of their code);
* width scaling of the uv catapult: the peak time log m/(2 log(c−1)), the peak loss ∝ m and
  the lazy-phase NTK drift ∝ 1/m.

:data:`BOUNDS` maps dotted names to the factories, for the catalogue.

References
----------
A. Lewkowycz, Y. Bahri, E. Dyer, J. Sohl-Dickstein, G. Gur-Ari, "The large learning rate phase
of deep learning: the catapult mechanism", arXiv:2003.02218 (the uv model, η_crit = 2/λ0,
η_max = 4/λ0).
D. Meltzer, J. Liu, "Catapult Dynamics and Phase Transitions in Quadratic Nets",
arXiv:2301.07737, and their code github.com/david-meltzer/quadratic_model (the bounds (154),
(138), (163), (180), (124)/(130)).
``shared/theory/catapult.md`` §2 (conventions and conversions), §4 (uv recurrences), §5 (the
weight-norm identity), §6 (the bound table), §8 (width dependence).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np
import sympy as sp

from .core import Bound, Domain, symbol

__all__ = [
    "BOUNDS",
    "LOSS_NORMALIZATIONS",
    "critical_learning_rate",
    "critical_learning_rate_for",
    "derive_uv_recurrence",
    "in_c_units",
    "lazy_drift",
    "leaky_relu_upper",
    "learning_rate_conversion",
    "loss_normalization_factor",
    "norm_decrease_loss_threshold",
    "norm_identity",
    "norm_upper_y0",
    "peak_loss",
    "peak_time",
    "peak_time_from_f0",
    "quadratic_linear_upper",
    "quadratic_omega_upper",
    "quadratic_residual_upper",
    "relu_upper",
    "uv_iterate",
    "uv_fixed_points",
    "uv_max_learning_rate",
    "uv_recurrence",
    "uv_thresholds",
]

LEWKOWYCZ = "Lewkowycz, Bahri, Dyer, Sohl-Dickstein, Gur-Ari 2020, arXiv:2003.02218"
MELTZER_LIU = "Meltzer and Liu 2023, arXiv:2301.07737"
CODE = "as implemented in the authors' code (github.com/david-meltzer/quadratic_model)"

#: Loss normalisations: name -> (description, the factor α in L = α Σ_a |f(x_a) − y_a|²).
LOSS_NORMALIZATIONS = ("half_mean", "mean", "half_sum", "sum")

# -- symbols ----------------------------------------------------------------------------------
_eta = symbol("eta")
_lam = symbol("lam")      # λ_max(H) at the current step
_lam0 = symbol("lam0")    # λ0 = λ_max(H_0)
_c = symbol("c")
_m = symbol("m")
_n = symbol("n", integer=True)
_k = symbol("k", integer=True)
_C = symbol("C")
_L = symbol("L")

_POS = Domain(lower=0, lower_closed=False)
_NONNEG = Domain(lower=0)
_COUNT = Domain(lower=1, integer=True)


# -- thresholds and conversions ----------------------------------------------------------------


def _present(expr: sp.Expr, conditions: dict[str, Domain]) -> dict[str, Domain]:
    """The conditions on the symbols that occur in `expr`."""
    names = {s.name for s in expr.free_symbols}
    return {k: v for k, v in conditions.items() if k in names}


def critical_learning_rate() -> Bound:
    """η_crit = 2/λ0: GD on L = (1/2n)Σε² is linearly unstable along the top NTK mode above it.

    The linearised dynamics ε_{t+1} = (I − ηH)ε_t have the factor 1 − ηλ0 on the top mode, and
    |1 − ηλ0| < 1 exactly when η < 2/λ0.  In c = ηλ0 the threshold is c = 2.

    References
    ----------
    Lewkowycz et al. 2020 (η_crit); ``shared/theory/catapult.md`` §2.

    Examples
    --------
    >>> critical_learning_rate().evaluate(lam0=4.0)
    0.5
    """
    return Bound("catapult.eta_crit", 2 / _lam0, "exact", "critical learning rate eta_crit of GD",
                 f"{LEWKOWYCZ}; catapult.md §2 [standard]", conditions={"lam0": _POS},
                 description="eta above which the top NTK mode of the linearised dynamics grows")


def loss_normalization_factor(loss: str) -> sp.Expr:
    """The factor α in L = α Σ_a |f(x_a) − y_a|² for a loss normalisation, in n (samples) and k (outputs).

    ``"half_mean"`` is (1/2nk)Σ (the package's convention, ½ × PyTorch's mean-reduced MSE),
    ``"mean"`` is (1/nk)Σ, ``"half_sum"`` is ½Σ and ``"sum"`` is Σ.

    Examples
    --------
    >>> loss_normalization_factor("half_mean")
    1/(2*k*n)
    """
    factors = {"half_mean": 1 / (2 * _n * _k), "mean": 1 / (_n * _k), "half_sum": sp.Rational(1, 2),
               "sum": sp.Integer(1)}
    if loss not in factors:
        raise ValueError(f"loss = {loss!r} is not allowed: use one of {LOSS_NORMALIZATIONS}")
    return factors[loss]


def critical_learning_rate_for(loss: str) -> Bound:
    """η_crit for a loss normalisation, in the top eigenvalue ``theta_top`` of the raw NTK Θ = JJᵀ.

    With L = α Σ|f − y|², one GD step moves the residuals by ε ← (I − 2αηΘ)ε, so
    η_crit = 1/(α λ_max(Θ)): 2nk/λ_max(Θ) for "half_mean", nk/λ_max(Θ) for "mean" (the ½ is
    missing, so η_crit halves), 2/λ_max(Θ) for "half_sum" and 1/λ_max(Θ) for "sum".  Θ is the
    (nk)×(nk) kernel of n samples with k outputs.

    References
    ----------
    ``shared/theory/catapult.md`` §2, "Conversions" [derived].

    Examples
    --------
    >>> critical_learning_rate_for("mean").evaluate(theta_top=50.0, n=10, k=1)
    0.2
    >>> critical_learning_rate_for("half_sum").evaluate(theta_top=50.0)
    0.04
    """
    theta = symbol("theta_top")
    expr = sp.simplify(1 / (loss_normalization_factor(loss) * theta))
    return Bound(f"catapult.eta_crit.{loss}", expr, "exact",
                 f"critical learning rate for the {loss} loss", "derived in catapult.md §2 (conversions)",
                 conditions=_present(expr, {"theta_top": _POS, "n": _COUNT, "k": _COUNT}),
                 description="theta_top = lambda_max(J J^T) over all n samples and k outputs")


def learning_rate_conversion(source: str, target: str) -> Bound:
    """The learning rate that gives the same GD trajectory (the same c) under another loss normalisation.

    η_target = η_source α_source/α_target: GD on α_s Σ|f − y|² with rate η_s takes the same
    steps as GD on α_t Σ|f − y|² with rate η_s α_s/α_t.

    Examples
    --------
    >>> learning_rate_conversion("half_mean", "mean").evaluate(eta=0.4)
    0.2
    >>> learning_rate_conversion("half_mean", "half_sum").expr
    eta/(k*n)
    """
    expr = sp.simplify(_eta * loss_normalization_factor(source) / loss_normalization_factor(target))
    return Bound(f"catapult.convert.{source}.{target}", expr, "exact",
                 f"learning rate for the {target} loss equivalent to eta for the {source} loss",
                 "derived in catapult.md §2 (conversions)",
                 conditions=_present(expr, {"eta": _POS, "n": _COUNT, "k": _COUNT}))


def uv_max_learning_rate() -> Bound:
    """η_max = 4/λ0: the uv model converges for η < 4/λ0 and diverges above (y = 0, large width).

    Derived from the recurrence λ_{t+1} − λ_t = (η f_t²/m)(ηλ_t − 4) (:func:`uv_thresholds`): the
    NTK falls during the spike exactly when ηλ < 4.

    References
    ----------
    Lewkowycz et al. 2020; ``shared/theory/catapult.md`` §4 [derived].

    Examples
    --------
    >>> uv_max_learning_rate().evaluate(lam0=2.0)
    2.0
    """
    return Bound("catapult.uv.eta_max", 4 / _lam0, "exact",
                 "largest convergent learning rate of the uv model (y = 0, large width)",
                 f"{LEWKOWYCZ}; derived in catapult.md §4", conditions={"lam0": _POS})


# -- the uv recurrences ----------------------------------------------------------------------------

_f, _x, _y = sp.symbols("f x y", real=True)
_mr = sp.Symbol("m", positive=True)
_etar = sp.Symbol("eta", positive=True)
_lamr = sp.Symbol("lam", positive=True)
UV_SYMBOLS = {"f": _f, "lam": _lamr, "eta": _etar, "m": _mr, "x": _x, "y": _y}


def uv_recurrence() -> dict[str, sp.Expr]:
    """One GD step of the uv model f = m^(-1/2) vᵀu x on one sample (x, y), as stated in catapult.md §4.

        f_{t+1} = f_t − ηλ_t ε_t + η² ε_t² x² f_t / m
        λ_{t+1} = λ_t + (η ε_t x² / m)(ηλ_t ε_t − 4 f_t),   ε_t = f_t − y,

    with λ_t = x²(|u_t|² + |v_t|²)/m the NTK of the sample.  Symbols: ``UV_SYMBOLS``.

    References
    ----------
    Lewkowycz et al. 2020; ``shared/theory/catapult.md`` §4 [derived].

    Examples
    --------
    >>> r = uv_recurrence()
    >>> s = UV_SYMBOLS
    >>> sp.factor(r["lam"].subs({s["x"]: 1, s["y"]: 0}) - s["lam"])
    eta*f**2*(eta*lam - 4)/m
    """
    eps = _f - _y
    return {
        "f": _f - _etar * _lamr * eps + _etar**2 * eps**2 * _x**2 * _f / _mr,
        "lam": _lamr + (_etar * eps * _x**2 / _mr) * (_etar * _lamr * eps - 4 * _f),
    }


def derive_uv_recurrence() -> dict[str, sp.Expr]:
    """Derive the uv recurrence from GD on the weights, in sympy.

    With P = uᵀv and S = |u|² + |v|² the model is f = xP/√m and λ = x²S/m.  The loss ½ε² has
    ∇_u = εxv/√m and ∇_v = εxu/√m, so with a = ηεx/√m one step is u' = u − a v, v' = v − a u,
    hence P' = (1 + a²)P − aS and S' = (1 + a²)S − 4aP.  Substituting P = f√m/x and
    S = mλ/x² gives f' = xP'/√m and λ' = x²S'/m in terms of (f, λ).

    Returns
    -------
    dict with "f" and "lam": expressions in ``UV_SYMBOLS``, equal to :func:`uv_recurrence`
    after simplification (tested).

    References
    ----------
    ``shared/theory/catapult.md`` §4 [derived].

    Examples
    --------
    >>> d, r = derive_uv_recurrence(), uv_recurrence()
    >>> [sp.simplify(d[k] - r[k]) for k in ("f", "lam")]
    [0, 0]
    """
    P, S = sp.symbols("P S", real=True)
    eps = _f - _y
    a = _etar * eps * _x / sp.sqrt(_mr)
    P1 = (1 + a**2) * P - a * S
    S1 = (1 + a**2) * S - 4 * a * P
    back = {P: _f * sp.sqrt(_mr) / _x, S: _mr * _lamr / _x**2}
    return {"f": sp.expand(_x * P1.subs(back) / sp.sqrt(_mr)),
            "lam": sp.expand(_x**2 * S1.subs(back) / _mr)}


def uv_thresholds() -> dict[str, sp.Expr]:
    """The learning-rate thresholds of the uv model, derived from its recurrence in sympy.

    * ``"eta_crit"``: the fixed point ε = 0 of the f-recurrence is stable iff |∂f_{t+1}/∂f_t| < 1
      there; ∂f_{t+1}/∂f_t = 1 − ηλ at ε = 0, and the set {η > 0 : |1 − ηλ| < 1} is (0, 2/λ).
    * ``"eta_max"``: with y = 0 and f ≠ 0, λ_{t+1} − λ_t = (ηf²x²/m)(ηλ − 4), which is negative
      (the NTK falls) iff η < 4/λ.

    Returns
    -------
    dict of sympy expressions in λ (``UV_SYMBOLS["lam"]``): {"eta_crit": 2/λ, "eta_max": 4/λ}.

    References
    ----------
    ``shared/theory/catapult.md`` §4, "In sympy".

    Examples
    --------
    >>> uv_thresholds()
    {'eta_crit': 2/lam, 'eta_max': 4/lam}
    """
    rec = uv_recurrence()
    slope = sp.diff(rec["f"], _f).subs(_f, _y)
    stable = sp.solve_univariate_inequality(sp.Abs(slope) < 1, _etar, relational=False)
    eta_crit = stable.sup
    delta_lam = sp.factor(rec["lam"].subs(_y, 0) - _lamr)
    roots = [r for r in sp.solve(sp.Eq(delta_lam, 0), _etar) if r != 0]
    if len(roots) != 1:
        raise ArithmeticError(f"expected one nonzero root of the lambda increment, found {roots}")
    return {"eta_crit": sp.simplify(eta_crit), "eta_max": sp.simplify(roots[0])}


def uv_fixed_points(y_zero: bool = True) -> list[dict[str, sp.Expr]]:
    """Fixed points (f, λ) of the uv recurrence, solved in sympy.

    With ``y_zero`` (x = 1, y = 0) the solutions are f = 0 for every λ (the minimum) and
    f = ±2√m/η with ηλ = 4: the only other fixed points sit exactly on the edge c = 4, where the NTK
    increment (η f²/m)(ηλ − 4) changes sign.  Without it, ε = 0 (f = y) for every λ is returned
    (and no closed form is attempted for the rest).

    Returns
    -------
    list of dict
        Each maps "f" (and "lam" where it is determined) to an expression in ``UV_SYMBOLS``.

    References
    ----------
    ``shared/theory/catapult.md`` §4.

    Examples
    --------
    >>> pts = uv_fixed_points()
    >>> sorted(str(p) for p in pts)
    ["{'f': -2*sqrt(m)/eta, 'lam': 4/eta}", "{'f': 0}", "{'f': 2*sqrt(m)/eta, 'lam': 4/eta}"]
    """
    rec = uv_recurrence()
    if not y_zero:
        return [{"f": _y}]
    sub = {_x: 1, _y: 0}
    eqs = [sp.factor(rec["f"].subs(sub) - _f), sp.factor(rec["lam"].subs(sub) - _lamr)]
    out = []
    for sol in sp.solve(eqs, [_f, _lamr], dict=True):
        out.append({("f" if k == _f else "lam"): sp.simplify(v) for k, v in sol.items()})
    return out


@lru_cache(maxsize=1)
def _uv_step_functions():
    rec = uv_recurrence()
    args = [UV_SYMBOLS[s] for s in ("f", "lam", "eta", "m", "x", "y")]
    return sp.lambdify(args, rec["f"], "numpy"), sp.lambdify(args, rec["lam"], "numpy")


def uv_iterate(f0, lam0, eta, m, steps: int, x=1.0, y=0.0) -> tuple[np.ndarray, np.ndarray]:
    """Iterate the uv recurrence (:func:`uv_recurrence`, lambdified) in float64.

    Parameters
    ----------
    f0, lam0, eta, m, x, y : float or array_like
        Initial output and NTK, learning rate, width and the sample; broadcast together (e.g. one
        entry per learning rate).
    steps : int
        Number of steps T.

    Returns
    -------
    f, lam : ndarray of shape (T + 1, *broadcast shape)
        The trajectories; entries that overflow become inf or nan (no warning).

    References
    ----------
    ``shared/theory/catapult.md`` §4.

    Examples
    --------
    >>> f, lam = uv_iterate(f0=1.0, lam0=2.0, eta=0.25, m=100.0, steps=3)
    >>> f.round(6).tolist()
    [1.0, 0.500625, 0.251486, 0.126441]
    """
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"steps = {steps!r} is out of range: steps must be an integer >= 0")
    arrays = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (f0, lam0, eta, m, x, y)))
    for name, value in zip(("lam0", "eta", "m"), (arrays[1], arrays[2], arrays[3])):  # λ0 = x²(|u|²+|v|²)/m
        if np.any(~(value > 0)):
            raise ValueError(f"{name} = {float(value.reshape(-1)[np.argmax(~(value > 0))])!r} is out of range: "
                             f"{name} must be > 0")
    step_f, step_lam = _uv_step_functions()
    f_now, lam_now, eta_a, m_a, x_a, y_a = arrays
    fs, lams = [f_now], [lam_now]
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(int(steps)):
            f_next = step_f(f_now, lam_now, eta_a, m_a, x_a, y_a)
            lam_next = step_lam(f_now, lam_now, eta_a, m_a, x_a, y_a)
            f_now, lam_now = np.asarray(f_next, dtype=np.float64), np.asarray(lam_next, dtype=np.float64)
            fs.append(f_now)
            lams.append(lam_now)
    return np.stack(fs), np.stack(lams)


# -- the weight-norm identity ---------------------------------------------------------------------


def norm_identity() -> Bound:
    """The exact change of |θ|² in one GD step of a k-homogeneous model: −(2kη/n)Σ_a ε_a f_a + η²|∇L|².

    For f(sθ) = s^k f(θ), Euler's relation θ·∇_θ f = k f gives θ·∇L = (k/n)Σ_a ε_a f_a, so
    |θ − η∇L|² − |θ|² = −2η θ·∇L + η²|∇L|².  k = 2 for the uv model, the pure quadratic model and
    bias-free two-layer (leaky) ReLU nets; k = L + 1 for L hidden layers.  Parameters:
    ``sum_ef`` = Σ_a ε_a f_a (any sign), ``grad_sq`` = |∇L|² = εᵀHε/n.

    References
    ----------
    Meltzer and Liu 2023 (the mechanism: the weight norm falls when the loss is large);
    ``shared/theory/catapult.md`` §5 [derived].

    Examples
    --------
    >>> norm_identity().evaluate(eta=0.5, n=2, k=2, sum_ef=1.0, grad_sq=4.0)
    0.0
    """
    s = sp.Symbol("sum_ef", real=True)
    g = symbol("grad_sq")
    expr = -2 * _k * _eta * s / _n + _eta**2 * g
    return Bound("catapult.norm.identity", expr, "exact", "change |theta_{t+1}|^2 - |theta_t|^2 in one GD step",
                 f"{MELTZER_LIU}; derived in catapult.md §5",
                 conditions={"eta": _POS, "n": _COUNT, "k": _COUNT, "sum_ef": Domain(), "grad_sq": _NONNEG},
                 description="exact for k-homogeneous models and the loss (1/2n) sum eps^2")


def norm_upper_y0() -> Bound:
    """For y = 0: Δ|θ|² ≤ 2ηL(ηλ − 2k), negative whenever ηλ < 2k (= 4 for 2-homogeneous models).

    With y = 0, Σ ε_a f_a = 2nL and |∇L|² = εᵀHε/n ≤ 2λ_max(H) L.

    References
    ----------
    ``shared/theory/catapult.md`` §5, "y = 0" [derived].

    Examples
    --------
    >>> norm_upper_y0().evaluate(eta=1.0, L=0.5, lam=3.0, k=2)
    -1.0
    """
    return Bound("catapult.norm.y0_upper", 2 * _eta * _L * (_eta * _lam - 2 * _k), "upper",
                 "change of |theta|^2 in one GD step when y = 0", f"{MELTZER_LIU}; derived in catapult.md §5",
                 conditions={"eta": _POS, "L": _NONNEG, "lam": _POS, "k": _COUNT})


def norm_decrease_loss_threshold() -> Bound:
    """The loss above which one GD step must lower |θ|²: 2k²|y|²/(n(2k − ηλ)²), for ηλ < 2k.

    Δ|θ|² ≤ (η|ε|/n)[|ε|(ηλ − 2k) + 2k|y|] (Cauchy–Schwarz on Σ ε_a y_a), which is negative once
    |ε| > 2k|y|/(2k − ηλ), i.e. L = |ε|²/(2n) > 2k²|y|²/(n(2k − ηλ)²); for k = 2 this is
    8|y|²/(n(4 − ηλ)²).  Parameters: ``y_sq`` = |y|² = Σ_a y_a², ``eta_lam`` = ηλ_max(H_t).
    The constant is sharp (uv model, one sample, ε anti-parallel to y).

    References
    ----------
    ``shared/theory/catapult.md`` §5, "y ≠ 0" [derived].

    Examples
    --------
    >>> norm_decrease_loss_threshold().evaluate(y_sq=1.0, n=1, eta_lam=3.5, k=2)
    32.0
    """
    y2, s = symbol("y_sq"), symbol("eta_lam")
    return Bound("catapult.norm.loss_threshold", 2 * _k**2 * y2 / (_n * (2 * _k - s) ** 2), "exact",
                 "loss above which one GD step lowers |theta|^2 (sufficient)",
                 f"{MELTZER_LIU} (abstract: the norm falls when the loss is large); derived in catapult.md §5",
                 conditions={"y_sq": _NONNEG, "n": _COUNT, "k": _COUNT, "eta_lam": _POS},
                 requires=(s < 2 * _k,),
                 description="no loss threshold exists for eta_lam >= 2k; the threshold bounds the norm "
                             "change from above, so it is sufficient")


# -- sufficient upper edges of the catapult window ---------------------------------------------------


def quadratic_residual_upper() -> Bound:
    """Pure quadratic model, residual along the top NTK eigenvector: η < 4/(ζ²|θ0|² λ_max(ψ_eff²)).

    ψ_eff = n^(-1/2) Σ_a u_a ψ(x_a) with u the unit top eigenvector of H_0 (``psi_eff_sq`` =
    λ_max(ψ_eff²)); ``theta_sq`` = |θ0|², ``zeta`` = ζ.

    References
    ----------
    Meltzer and Liu 2023, eq. (154), as implemented in the authors' code; catapult.md §6.

    Examples
    --------
    >>> quadratic_residual_upper().evaluate(zeta=0.5, theta_sq=4.0, psi_eff_sq=2.0)
    2.0
    """
    zeta, t2, p2 = symbol("zeta"), symbol("theta_sq"), symbol("psi_eff_sq")
    return Bound("catapult.quadratic.eta_upper", 4 / (zeta**2 * t2 * p2), "upper",
                 "learning rate below which the pure quadratic model catapults and converges (sufficient)",
                 f"{MELTZER_LIU}, eq. (154), {CODE}",
                 conditions={"zeta": _POS, "theta_sq": _POS, "psi_eff_sq": _POS})


def quadratic_omega_upper() -> Bound:
    """Pure quadratic model, residual-independent (several samples): η < 4/(|θ0|² λ_max(Ω)).

    Ω_{(aμ),(bν)} = (ζ²/n) Σ_ρ ψ_μρ(x_a) ψ_ρν(x_b); its top eigenvalue is (ζ²/n) λ_max(Σ_a ψ(x_a)²)
    (Ω = ΨΨᵀ with Ψ the stacked ψ(x_a)).

    References
    ----------
    Meltzer and Liu 2023, eq. (138), as implemented in the authors' code; catapult.md §6.

    Examples
    --------
    >>> quadratic_omega_upper().evaluate(theta_sq=100.0, omega_top=0.02)
    2.0
    """
    t2, om = symbol("theta_sq"), symbol("omega_top")
    return Bound("catapult.quadratic.eta_upper_omega", 4 / (t2 * om), "upper",
                 "learning rate below which the pure quadratic model catapults and converges (sufficient)",
                 f"{MELTZER_LIU}, eq. (138), {CODE}", conditions={"theta_sq": _POS, "omega_top": _POS})


def quadratic_linear_upper() -> Bound:
    """Quadratic model with a linear part: η < 4/(2|φ_eff|² + ζ²λ_max(ψ_eff²)(|θ0|² + (φ_eff·θ_f)²/|φ_eff|²)).

    ``theta_sq`` = |θ0|² of all trainable weights (θ_f and θ_m, as the authors' code takes it),
    ``phi_eff_sq`` = |φ_eff|², ``overlap_sq`` = (φ_eff·θ_f)².

    References
    ----------
    Meltzer and Liu 2023, eq. (163), as implemented in the authors' code; catapult.md §6.

    Examples
    --------
    >>> quadratic_linear_upper().evaluate(phi_eff_sq=0.5, zeta=0.5, theta_sq=4.0, psi_eff_sq=1.0,
    ...                                   overlap_sq=1.0)
    1.6
    """
    zeta, t2, p2 = symbol("zeta"), symbol("theta_sq"), symbol("psi_eff_sq")
    phi2, ov = symbol("phi_eff_sq"), symbol("overlap_sq")
    denominator = 2 * phi2 + zeta**2 * t2 * p2 + zeta**2 * p2 * ov / phi2
    return Bound("catapult.quadratic_linear.eta_upper", 4 / denominator, "upper",
                 "learning rate below which the quadratic model with a linear part catapults and converges "
                 "(sufficient)", f"{MELTZER_LIU}, eq. (163), {CODE}",
                 conditions={"zeta": _POS, "theta_sq": _POS, "psi_eff_sq": _POS, "phi_eff_sq": _POS,
                             "overlap_sq": _NONNEG})


def leaky_relu_upper() -> Bound:
    """Two-layer bias-free leaky-ReLU net (a₋ ≠ 0): η < 4/(2 (|θ0|²/P) λ_max(XXᵀ/n)).

    ``norm_per_param`` = |θ0|²/P with P = m(d + 1); ``data_top`` = λ_max(XXᵀ/n) of the raw inputs.
    For d = 1 and x = 1 this is c < 2λ0 ≈ 2(1 + a₋²).  For d > 1 the §5 argument gives the factor
    (d + 1)/d in place of 2, so the code's factor 2 is conservative there.

    References
    ----------
    Meltzer and Liu 2023, eq. (180), as implemented in the authors' code; catapult.md §6.

    Examples
    --------
    >>> leaky_relu_upper().evaluate(norm_per_param=1.0, data_top=1.0)
    2.0
    """
    q, dtop = symbol("norm_per_param"), symbol("data_top")
    return Bound("catapult.leaky.eta_upper", 4 / (2 * q * dtop), "upper",
                 "learning rate below which a two-layer leaky-ReLU net catapults and converges (sufficient)",
                 f"{MELTZER_LIU}, eq. (180), {CODE}", conditions={"norm_per_param": _POS, "data_top": _POS})


def relu_upper() -> Bound:
    """Two-layer ReLU net (a₋ = 0): η < 4/λ0, i.e. c < 4.

    One plausible argument for one input: dead units stay dead, the live ones form a uv model.
    The multi-sample statement is unverified; the authors draw the c = 4 line on all ReLU figures.

    References
    ----------
    Meltzer and Liu 2023, eqs. (124)/(130), as implemented in the authors' code; catapult.md §6.

    Examples
    --------
    >>> relu_upper().evaluate(lam0=0.5)
    8.0
    """
    return Bound("catapult.relu.eta_upper", 4 / _lam0, "upper",
                 "learning rate below which a two-layer ReLU net catapults and converges (one input; "
                 "unverified for several)", f"{MELTZER_LIU}, eqs. (124)/(130), {CODE}",
                 conditions={"lam0": _POS})


def in_c_units(bound: Bound) -> Bound:
    """The same bound on c = ηλ0 instead of η (the expression times λ0).

    Examples
    --------
    >>> in_c_units(relu_upper()).evaluate()
    4.0
    >>> in_c_units(leaky_relu_upper()).evaluate(norm_per_param=1.0, data_top=1.0, lam0=1.25)
    2.5
    """
    expr = sp.simplify(bound.expr * _lam0)
    names = {s.name for s in expr.free_symbols}
    conditions = _present(expr, {**bound.conditions, "lam0": _POS})
    return Bound(bound.name + "_c", expr, bound.kind, bound.quantity.replace("learning rate", "c = eta lam0"),
                 bound.source, tuple(v for v in bound.variables if v in names), conditions,
                 tuple(c for c in bound.constants if c in names), bound.description)


# -- width scaling ---------------------------------------------------------------------------------


# c = eta*lambda0 of the catapult phase of the uv model, 2 < c < 4 (catapult.md §4)
_CATAPULT_C = Domain(lower=2, upper=4, lower_closed=False, upper_closed=False)


def peak_time() -> Bound:
    """Peak time of the uv catapult: t* = log m/(2 log(c − 1)) + C, C = O(1).

    While f² ≪ m the output grows like |c − 1|^t from f_0 = O(1); the spike peaks once f² ~ m.

    References
    ----------
    Lewkowycz et al. 2020; ``shared/theory/catapult.md`` §4 and §8 [derived].

    Examples
    --------
    >>> round(peak_time().evaluate(m=1e4, c=3.0, C=0.0), 4)
    6.6439
    """
    c, m = _c, _m
    return Bound("catapult.uv.peak_time", sp.log(m) / (2 * sp.log(c - 1)) + _C, "exact",
                 "step of the loss peak in the uv catapult (up to the additive O(1) constant C)",
                 f"{LEWKOWYCZ}; derived in catapult.md §4, §8", variables=("m",),
                 conditions={"m": Domain(lower=1), "c": _CATAPULT_C, "C": Domain()},
                 constants=("C",), description="catapult phase only: for c >= 4 the uv run diverges")


def peak_time_from_f0() -> Bound:
    """Peak time with the initial output: t* = log(m/f_0²)/(2 log(c − 1)) + C.

    The seed-to-seed scatter of t* comes from f_0 (catapult.md §8).

    Examples
    --------
    >>> round(peak_time_from_f0().evaluate(m=1e4, f0_sq=1.0, c=3.0, C=0.0), 4)
    6.6439
    """
    f2 = symbol("f0_sq")
    return Bound("catapult.uv.peak_time_f0", sp.log(_m / f2) / (2 * sp.log(_c - 1)) + _C, "exact",
                 "step of the loss peak in the uv catapult, with the initial output f0",
                 "derived in catapult.md §8", variables=("m",),
                 conditions={"m": Domain(lower=1), "f0_sq": _POS, "c": _CATAPULT_C, "C": Domain()},
                 constants=("C",), requires=(f2 <= _m,),
                 description="catapult phase only (2 < c < 4), from an output f0^2 <= m")


def peak_loss() -> Bound:
    """Peak loss of the uv catapult: L_max = C m (C ≈ 0.15–0.19 at c = 3 [derived, one setting]).

    Examples
    --------
    >>> peak_loss().exponent("m")
    1
    """
    return Bound("catapult.uv.peak_loss", _C * _m, "exact", "largest loss during the uv catapult",
                 f"{LEWKOWYCZ}; derived in catapult.md §4, §8", variables=("m",),
                 conditions={"m": Domain(lower=1)}, constants=("C",))


def lazy_drift(model: str = "uv") -> Bound:
    """Lazy-phase NTK drift |λ_T/λ0 − 1|: C/m for the uv model, C/√m for wide nets.

    In the uv model λ moves by (ηf²/m)(ηλ − 4) per step and f decays geometrically, so the total
    drift is O(f_0²/m) [derived]; for nets O(1/√m) is standard NTK theory [recalled].

    Parameters
    ----------
    model : {"uv", "net"}

    Examples
    --------
    >>> lazy_drift("uv").exponent("m"), lazy_drift("net").exponent("m")
    (-1, -1/2)
    """
    if model == "uv":
        return Bound("catapult.uv.lazy_drift", _C / _m, "upper", "relative NTK change |lam_T/lam_0 - 1| for c < 2",
                     "derived in catapult.md §4, §8", variables=("m",),
                     conditions={"m": Domain(lower=1)}, constants=("C",))
    if model == "net":
        return Bound("catapult.net.lazy_drift", _C / sp.sqrt(_m), "upper",
                     "relative NTK change |lam_T/lam_0 - 1| for c < 2",
                     "standard NTK theory, catapult.md §8 [recalled]", variables=("m",),
                     conditions={"m": Domain(lower=1)}, constants=("C",))
    raise ValueError(f"model = {model!r} is not allowed: use 'uv' or 'net'")


BOUNDS: dict[str, Callable[[], Bound]] = {
    "catapult.eta_crit": critical_learning_rate,
    "catapult.uv.eta_max": uv_max_learning_rate,
    "catapult.norm.identity": norm_identity,
    "catapult.norm.y0_upper": norm_upper_y0,
    "catapult.norm.loss_threshold": norm_decrease_loss_threshold,
    "catapult.quadratic.eta_upper": quadratic_residual_upper,
    "catapult.quadratic.eta_upper_omega": quadratic_omega_upper,
    "catapult.quadratic_linear.eta_upper": quadratic_linear_upper,
    "catapult.leaky.eta_upper": leaky_relu_upper,
    "catapult.relu.eta_upper": relu_upper,
    "catapult.uv.peak_time": peak_time,
    "catapult.uv.peak_time_f0": peak_time_from_f0,
    "catapult.uv.peak_loss": peak_loss,
    "catapult.uv.lazy_drift": lambda: lazy_drift("uv"),
    "catapult.net.lazy_drift": lambda: lazy_drift("net"),
}
for _loss in LOSS_NORMALIZATIONS:
    BOUNDS[f"catapult.eta_crit.{_loss}"] = lambda _loss=_loss: critical_learning_rate_for(_loss)
for _bound in (quadratic_residual_upper, quadratic_omega_upper, quadratic_linear_upper, leaky_relu_upper,
               relu_upper):
    BOUNDS[_bound().name + "_c"] = lambda _bound=_bound: in_c_units(_bound())
