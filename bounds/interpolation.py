"""The interpolation ("deepening") lemma: what adding one bump per sample costs.

F = f0 + S with S(x) = Σ_i c_i B_{i,τ}(x), c_i = y_i − f0(x_i) and B_{i,τ} the cube bump of
half-width τ at x_i (hats, plateau 0).  With disjoint supports (τ <= q∞/2) F interpolates, equals
f0 off the bumps, and the extra L2 error is exactly Σ c_i² ∫ B_i² dρ_X.  The sizes are those of
relunet's two realisations in :mod:`relunet.constructions.deepening` (hats: 3d first-layer units
per bump), counted from their weights.

References
----------
Lin, Wang and Zhou, IEEE TIT 71(3) 2025 (arXiv:2111.14039), the deepening scheme (its exact
form [recalled]); the lemma as derived in ``shared/theory/erm_deepening.md`` §4-§5.
"""

from __future__ import annotations

import sympy as sp

from .core import Bound, Domain, symbol

__all__ = [
    "bump_sum_nonzero",
    "deep_block_dense",
    "deep_realisation_dense",
    "deep_realisation_depth",
    "extra_term",
    "extra_term_rate",
    "inverse_tau_union_bound",
    "tau_choice",
    "wide_max_weight",
    "wide_nonzero",
]

SOURCE = "derived in erm_deepening.md §4 (the deepening lemma behind Lin-Wang-Zhou 2025)"
_n = symbol("n", integer=True)
_d = symbol("d", integer=True)
_tau = symbol("tau")
_N = Domain(lower=1, integer=True)
_D = Domain(lower=1, integer=True)
_POS = Domain(lower=0, lower_closed=False)


def extra_term() -> Bound:
    """||S||^2 = p (2τ)^d 2/(d+2)! Σ c_i²: exact for density p near every x_i, an upper bound for p_max.

    Examples
    --------
    >>> extra_term().exact(p_max=1, tau=sp.Rational(1, 4), d=1, sum_c2=3)
    1/2
    """
    p, s2 = symbol("p_max"), symbol("sum_c2")
    return Bound("erm.deepening.extra_term", p * (2 * _tau) ** _d * 2 / sp.factorial(_d + 2) * s2, "upper",
                 "||F - f0||^2 in L2(rho_X)", SOURCE + ", statement 3", ("tau",),
                 {"p_max": _POS, "tau": _POS, "d": _D, "sum_c2": Domain(lower=0)},
                 description="equality for uniform rho_X and bumps away from the boundary")


def tau_choice() -> Bound:
    """τ = min(q∞/2, n^(-2/d)/2): disjoint bumps and (2τ)^d <= n^-2.

    Examples
    --------
    >>> tau_choice().evaluate(q_inf=0.01, n=100, d=2)
    0.005
    """
    q = symbol("q_inf")
    return Bound("erm.deepening.tau", sp.Min(q / 2, _n ** (-2 / _d) / 2), "upper", "bump half-width tau",
                 SOURCE + ", statement 5", (), {"q_inf": _POS, "n": _N, "d": _D},
                 description="the lemma allows any tau up to this; relunet's choose_tau takes the power of two "
                             "at or below it, so that tau is exact in binary")


def extra_term_rate() -> Bound:
    """With τ from :func:`tau_choice`: ||S||^2 <= 8 M² p_max / ((d+2)! n), slope -1 in n.

    (Σ c_i² <= 4 M² n and (2τ)^d <= n^-2.)

    Examples
    --------
    >>> extra_term_rate().exponent("n")
    -1
    """
    m, p = symbol("M"), symbol("p_max")
    return Bound("erm.deepening.extra_rate", 8 * m**2 * p / (sp.factorial(_d + 2) * _n), "upper",
                 "||F - f0||^2 after the choice of tau", SOURCE + ", statement 5", ("n",),
                 {"M": _POS, "p_max": _POS, "d": _D, "n": _N})


def inverse_tau_union_bound() -> Bound:
    """With probability >= 1 - δ: 2/q∞ <= 4 (n(n-1) p_max / (2δ))^(1/d) (union bound on q∞).

    2/q∞ is 1/τ for τ = q∞/2.  relunet's τ (:func:`tau_choice`, then rounded down to a power of
    two) can be up to twice smaller, and also obeys 1/τ >= 2 n^(2/d); its largest bump weight is
    2/τ (:func:`wide_max_weight`).  The typical size is median(1/τ) ∝ n^(2/d); in d = 1,
    E[1/q∞] is infinite (heavy tail), so checks use medians.  p_max >= 1 is the largest value of
    the input density on [0, 1]^d.

    Examples
    --------
    >>> inverse_tau_union_bound().exponent("n")
    2/d
    """
    p, delta = symbol("p_max"), symbol("delta")
    return Bound("erm.deepening.inverse_tau", 4 * (_n * (_n - 1) * p / (2 * delta)) ** (1 / _d), "upper",
                 "2/q_inf (= 1/tau for tau = q_inf/2), with probability >= 1 - delta", SOURCE + " §5.4", ("n",),
                 {"n": Domain(lower=2, integer=True), "p_max": Domain(lower=1), "d": _D,
                  "delta": Domain(lower=0, upper=1, lower_closed=False, upper_closed=False)})


def bump_sum_nonzero() -> Bound:
    """Nonzero parameters of the bump sum S (hats): n (9d + 2) for d >= 2, 10 n for d = 1.

    Per bump: 3d first-layer weights and 3d biases, 3d second-layer weights and the bias
    -(d-1) (zero when d = 1), and the output weight c_i; exact-zero biases or c_i drop out.

    Examples
    --------
    >>> bump_sum_nonzero().evaluate(n=100, d=3)
    2900.0
    """
    expr = sp.Piecewise((_n * (9 * _d + 2), _d >= 2), (10 * _n, True))
    return Bound("erm.deepening.bump_nonzero", expr, "size", "nonzero parameters of S", SOURCE + " §5.3 (hats)",
                 ("n",), {"n": _N, "d": _D})


def wide_nonzero() -> Bound:
    """Nonzero parameters of the wide realisation F = f0 + S: P0 + bump_sum_nonzero + 2|L0 - 2|.

    S has depth 2; the shallower of f0 (depth L0) and S is carried to the other's depth as the
    positive and negative parts of its output, 2 parameters per added layer (the Σc⁺B, Σc⁻B
    carry of erm_deepening.md §5.3; :func:`relunet.constructions.network.deepen`).

    Examples
    --------
    >>> wide_nonzero().evaluate(P0=50, n=10, d=1, L0=2)
    150.0
    >>> wide_nonzero().evaluate(P0=50, n=10, d=1, L0=4)
    154.0
    """
    p0, l0 = symbol("P0", integer=True), symbol("L0", integer=True)
    expr = p0 + bump_sum_nonzero().expr + 2 * sp.Abs(l0 - 2)
    return Bound("erm.deepening.wide_nonzero", expr, "size", "nonzero parameters of F (wide), f0 of depth L0",
                 SOURCE + " §5.3", ("n",), {"P0": _N, "n": _N, "d": _D, "L0": _N},
                 description="the shallower of f0 and the bump sum is carried by 2 parameters per added layer")


def wide_max_weight() -> Bound:
    """Largest |weight| of the bump sum's hidden layers: 2/τ (the hat's middle slope), for τ <= 1/2.

    Its output weights are the residuals c_i, which are not bounded by τ; F's largest weight is
    this one when it dominates the c_i and f0's weights.

    Examples
    --------
    >>> wide_max_weight().evaluate(tau=2**-10)
    2048.0
    """
    return Bound("erm.deepening.max_weight", 2 / _tau, "size", "largest |hidden-layer weight| of S",
                 SOURCE + " §5.4, C9 (hats)", ("tau",),
                 {"tau": Domain(lower=0, upper=0.5, lower_closed=False)},
                 description="the output weights of S are the residuals c_i")


def deep_block_dense() -> Bound:
    """Dense parameters of one two-layer block of the deep realisation: 2(4d+2)(d+3) + 5d + 5.

    Layer A: 3d hat units, d carries of x, sigma(u), sigma(-u) (4d + 2 units reading d + 3);
    layer B: B_i, the x carries, sigma(u), sigma(-u) (d + 3 units reading 4d + 2).

    Examples
    --------
    >>> deep_block_dense().evaluate(d=1)
    58.0
    """
    expr = 2 * (4 * _d + 2) * (_d + 3) + 5 * _d + 5
    return Bound("erm.deepening.deep_block_dense", expr, "size", "dense parameters per block", SOURCE + " §5.3 (hats)",
                 (), {"d": _D})


def deep_realisation_dense() -> Bound:
    """Dense parameters of the deep realisation: D0 + n·block + (4d+2)(W_last - 3) + d + 4.

    D0 counts the f0 block with its x carries (widths W_l + d), W_last is f0's last hidden
    width (the first block reads it instead of a previous block's d + 3 units) and d + 4 is
    the output layer.

    Examples
    --------
    >>> deep_realisation_dense().exponent("n")
    1
    """
    d0, w_last = symbol("D0", integer=True), symbol("W_last", integer=True)
    expr = d0 + _n * deep_block_dense().expr + (4 * _d + 2) * (w_last - 3) + _d + 4
    return Bound("erm.deepening.deep_dense", expr, "size", "dense parameters of F (deep)", SOURCE + " §5.3",
                 ("n",), {"D0": _N, "W_last": _N, "n": _N, "d": _D})


def deep_realisation_depth() -> Bound:
    """Hidden layers of the deep realisation: L0 + 2n (over-parameterized by depth).

    Examples
    --------
    >>> deep_realisation_depth().evaluate(L0=2, n=1000)
    2002.0
    """
    l0 = symbol("L0", integer=True)
    return Bound("erm.deepening.deep_depth", l0 + 2 * _n, "size", "hidden layers of F (deep)", SOURCE + " §5.3",
                 ("n",), {"L0": _N, "n": _N})


BOUNDS = {
    "erm.deepening.extra_term": extra_term,
    "erm.deepening.tau": tau_choice,
    "erm.deepening.extra_rate": extra_term_rate,
    "erm.deepening.inverse_tau": inverse_tau_union_bound,
    "erm.deepening.bump_nonzero": bump_sum_nonzero,
    "erm.deepening.wide_nonzero": wide_nonzero,
    "erm.deepening.max_weight": wide_max_weight,
    "erm.deepening.deep_block_dense": deep_block_dense,
    "erm.deepening.deep_dense": deep_realisation_dense,
    "erm.deepening.deep_depth": deep_realisation_depth,
}
