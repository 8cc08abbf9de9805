"""Counts and bounds for Deep Linearly Gated Networks: cells, paths, soft-to-hard gates, ReLU regions.

A DLGN's hard-gated output can change only across its N = Σ_ℓ m_ℓ gating hyperplanes, so its
pieces are cells of a hyperplane arrangement (Zaslavsky/Buck for affine hyperplanes, Cover for
hyperplanes through the origin); its features are indexed by the m^L (or d m^L) paths; and a
soft-gated DLGN is within L e^(-β δ(x)) S of the hard-gated one.  The ReLU region bound of the
same shape is given for comparison.

``binomsum(N, d)`` stands for the partial binomial sum Σ_(k=0)^d C(N, k); it is exact on integer
arguments (:meth:`Bound.exact`) and vectorised in numpy (:meth:`Bound.evaluate`).

References
----------
T. Zaslavsky, "Facing up to arrangements: face-count formulas for partitions of space by
hyperplanes", Mem. AMS 154 (1975); R. C. Buck, "Partition of space", Amer. Math. Monthly 50
(1943) 541-544 (affine arrangements).  T. M. Cover, "Geometrical and statistical properties of
systems of linear inequalities", IEEE Trans. Electronic Computers EC-14 (1965) 326-334 (central
arrangements).  T. Serra, C. Tjandraatmadja, S. Ramalingam, "Bounding and counting linear regions
of deep neural networks", ICML 2018, Theorem 1; G. Montúfar, R. Pascanu, K. Cho, Y. Bengio, "On
the number of linear regions of deep neural networks", NeurIPS 2014 (ReLU regions; the
theory page tags these as [recalled]).  Banerjee, Ramaswamy, Yadav, Lakshminarayanan, ICLR 2025
(paths, DLGN-VT).  ``shared/theory/dlgn.md`` §3, §7, §8.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Callable, Sequence

import numpy as np
import sympy as sp

from .core import Bound, Domain, symbol

__all__ = [
    "BOUNDS",
    "arrangement_cells_affine",
    "arrangement_cells_central",
    "beta_zero_error",
    "binomsum",
    "path_count",
    "path_count_value_x",
    "relu_regions",
    "relu_regions_serra",
    "soft_to_hard",
    "window_cells",
]

SOURCE_THEORY = "shared/theory/dlgn.md"


def _binomsum_numpy(n, d):
    """Σ_(k=0)^d C(n, k) on broadcast float arrays (scipy's comb is exact to float rounding)."""
    from scipy.special import comb

    n, d = np.broadcast_arrays(np.asarray(n, dtype=np.float64), np.asarray(d, dtype=np.float64))
    out = np.zeros(n.shape)
    top = int(np.max(d)) if d.size else -1
    for k in range(top + 1):
        out = out + np.where(k <= d, comb(n, k), 0.0)
    return out if out.ndim else float(out)


class binomsum(sp.Function):  # noqa: N801  (a sympy function: printed as binomsum(N, d))
    """Σ_(k=0)^d C(N, k): the partial binomial sum, exact on integers.

    >>> binomsum(5, 2)
    16
    >>> binomsum(symbol("N", integer=True), 2)
    N**2/2 + N/2 + 1
    >>> N = symbol("N", integer=True)
    >>> sp.expand_func(binomsum(N, 2).rewrite(sp.Sum).doit()).expand()
    N**2/2 + N/2 + 1
    """

    is_positive = True
    is_integer = True
    _imp_ = staticmethod(_binomsum_numpy)

    @classmethod
    def eval(cls, n, d):
        if n.is_Integer and d.is_Integer and n >= 0 and d >= 0:
            return sp.Integer(sum(math.comb(int(n), k) for k in range(int(d) + 1)))
        if d.is_Integer and 0 <= d <= 50 and not n.is_number:
            # a fixed d gives a polynomial of degree d in N (zero terms for integer N < k, as it should)
            return sp.expand(sum(sp.expand_func(sp.binomial(n, k)) for k in range(int(d) + 1)))
        return None

    def _eval_rewrite_as_Sum(self, n, d, **kwargs):
        k = sp.Dummy("k", integer=True, nonnegative=True)
        return sp.Sum(sp.binomial(n, k), (k, 0, d))

    def _latex(self, printer, exp=None):
        n, d = (printer._print(a) for a in self.args)
        tex = rf"\sum_{{k=0}}^{{{d}}} \binom{{{n}}}{{k}}"
        return tex if exp is None else rf"\left({tex}\right)^{{{exp}}}"


_N = symbol("N", integer=True)
_d = symbol("d", integer=True)
_m = symbol("m", integer=True)
_L = symbol("L", integer=True)
_INT1 = Domain(lower=1, integer=True)


def arrangement_cells_affine() -> Bound:
    """Cells of N affine hyperplanes in R^d: at most Σ_(k=0)^d C(N, k), with equality in general position.

    A DLGN with gating biases has N = Σ_ℓ m_ℓ gating hyperplanes; its hard-gated output is
    constant (value input 1) or affine (value input x) on each cell.

    References
    ----------
    Zaslavsky 1975; Buck 1943; ``shared/theory/dlgn.md`` §8.

    Examples
    --------
    >>> arrangement_cells_affine().exact(N=3, d=2)
    7
    >>> arrangement_cells_affine().subs(d=2).exponent("N")
    2
    """
    return Bound("dlgn.cells.affine", binomsum(_N, _d), "upper",
                 "cells of an arrangement of N affine hyperplanes in R^d",
                 "Zaslavsky 1975, Buck 1943 (equality in general position); dlgn.md §8",
                 conditions={"N": _INT1, "d": _INT1},
                 description="pieces of a hard-gated DLGN with gating biases and N = sum of widths")


def arrangement_cells_central() -> Bound:
    """Cells of N hyperplanes through the origin in R^d: at most 2 Σ_(k<d) C(N-1, k) (equality in general position).

    A DLGN without gating biases (the default) has a central arrangement.

    References
    ----------
    Cover 1965; ``shared/theory/dlgn.md`` §8.

    Examples
    --------
    >>> arrangement_cells_central().exact(N=5, d=2)
    10
    """
    return Bound("dlgn.cells.central", 2 * binomsum(_N - 1, _d - 1), "upper",
                 "cells of an arrangement of N hyperplanes through the origin in R^d",
                 "Cover 1965 (equality in general position); dlgn.md §8",
                 conditions={"N": _INT1, "d": _INT1},
                 description="pieces of a hard-gated DLGN without gating biases")


def window_cells() -> Bound:
    """Cells of lines in general position inside a convex window: 1 + lines + intersection points.

    `lines` counts the lines meeting the window, `points` their pairwise intersections inside it
    (no two parallel, no three through one point).

    References
    ----------
    Euler's formula for planar graphs; ``shared/theory/dlgn.md`` §8 (exact 2-D count).

    Examples
    --------
    >>> window_cells().exact(lines=3, points=3)
    7
    """
    lines, points = symbol("lines", integer=True), symbol("points", integer=True)
    nonneg = Domain(lower=0, integer=True)
    return Bound("dlgn.cells.window", 1 + lines + points, "exact",
                 "cells of a line arrangement inside a convex window",
                 "derived (Euler's formula); dlgn.md §8", conditions={"lines": nonneg, "points": nonneg},
                 requires=(2 * points <= lines * (lines - 1),),
                 description="points: the crossings inside the window, at most C(lines, 2)")


def path_count() -> Bound:
    """The number of paths of a DLGN with L layers of width m (value input 1): m^L.

    References
    ----------
    Banerjee et al., ICLR 2025; ``shared/theory/dlgn.md`` §3.

    Examples
    --------
    >>> path_count().evaluate(m=10, L=4)
    10000.0
    >>> path_count().exponent("m")
    L
    """
    return Bound("dlgn.paths", _m**_L, "size", "paths (features) of a DLGN, value input 1",
                 f"Banerjee et al., ICLR 2025, §2; {SOURCE_THEORY} §3", variables=("m",),
                 conditions={"m": _INT1, "L": _INT1})


def path_count_value_x() -> Bound:
    """The number of paths of a DLGN with value input x: d m^L (the input index i_0 added).

    >>> path_count_value_x().exact(d=3, m=4, L=2)
    48
    """
    return Bound("dlgn.paths.value_x", _d * _m**_L, "size", "paths (features) of a DLGN, value input x",
                 f"Lakshminarayanan & Singh, NeurIPS 2020; {SOURCE_THEORY} §3", variables=("m",),
                 conditions={"d": _INT1, "m": _INT1, "L": _INT1})


def soft_to_hard() -> Bound:
    """|ŷ_β(x) - ŷ_∞(x)| <= L e^(-β δ(x)) S, with δ(x) the smallest |gating pre-activation| at x.

    S = Σ_π |g_π| (value input 1) or Σ |g_(i_0 π)| |x_(i_0)| (value input x).  From
    |sigmoid(βη) - 1(η >= 0)| <= e^(-β|η|) and |Π a_ℓ - Π b_ℓ| <= Σ |a_ℓ - b_ℓ| on [0, 1].
    In float64, test it with a rounding slack of about 1e-14 S.

    References
    ----------
    Derived, ``shared/theory/dlgn.md`` §7.

    Examples
    --------
    >>> round(soft_to_hard().evaluate(L=2, beta=10, delta=0.5, S=3), 8)
    0.04042768
    """
    beta, delta, s = symbol("beta"), symbol("delta"), symbol("S")
    return Bound("dlgn.soft_to_hard", _L * sp.exp(-beta * delta) * s, "upper",
                 "|soft-gated minus hard-gated DLGN output| at x", f"derived, {SOURCE_THEORY} §7",
                 variables=("beta",),
                 conditions={"L": _INT1, "beta": Domain(lower=0, lower_closed=False),
                             "delta": Domain(lower=0), "S": Domain(lower=0)})


def beta_zero_error() -> Bound:
    """|ŷ_β(x) - ŷ_0(x)| <= L β η_max(x) S / 4, where ŷ_0 has every gate 1/2.

    ŷ_0 is the constant 2^-L Σ_π g_π (value input 1) or the deep linear net
    2^-L u^(L+1)ᵀ U^L ⋯ U^1 x (value input x); η_max(x) is the largest |gating pre-activation|.
    From |sigmoid(t) - 1/2| <= |t|/4 and the product inequality on [0, 1]: the error is O(β).

    References
    ----------
    Derived, ``shared/theory/dlgn.md`` §7 (the β -> 0 limit).

    Examples
    --------
    >>> beta_zero_error().exponent("beta")
    1
    """
    beta, eta, s = symbol("beta"), symbol("eta_max"), symbol("S")
    return Bound("dlgn.beta_zero", _L * beta * eta * s / 4, "upper",
                 "|soft-gated DLGN output minus its beta -> 0 limit| at x",
                 f"derived here from |sigmoid(t) - 1/2| <= |t|/4 ({SOURCE_THEORY} §7 gives the beta -> 0 "
                 "limit, check D10 its O(beta) error)",
                 variables=("beta",),
                 conditions={"L": _INT1, "beta": Domain(lower=0, lower_closed=False),
                             "eta_max": Domain(lower=0), "S": Domain(lower=0)})


def relu_regions() -> Bound:
    """Linear regions of a ReLU net with d inputs and L hidden layers of width m: at most (Σ_(k=0)^d C(m, k))^L.

    The per-layer product bound (each layer's arrangement has at most Σ_(k<=d_ℓ) C(m, k) cells
    in the d_ℓ <= d dimensional image of the layer below); Serra et al.'s Theorem 1
    (:func:`relu_regions_serra`) is tighter.  For comparison with DLGN cell counts.

    References
    ----------
    Serra, Tjandraatmadja, Ramalingam, ICML 2018; Montúfar et al., NeurIPS 2014 (both [recalled]
    on the theory page: informational comparisons only).

    Examples
    --------
    >>> relu_regions().exact(m=3, d=2, L=2)
    49
    """
    return Bound("dlgn.relu.regions", binomsum(_m, _d) ** _L, "upper",
                 "linear regions of a ReLU net with L hidden layers of width m on R^d",
                 "Serra, Tjandraatmadja, Ramalingam 2018 and Montufar et al. 2014 ([recalled] in dlgn.md §8)",
                 conditions={"m": _INT1, "d": _INT1, "L": _INT1})


def relu_regions_serra(widths: Sequence[int], d: int) -> int:
    """Serra et al.'s bound Σ_(j ∈ J) Π_ℓ C(n_ℓ, j_ℓ), J = {0 <= j_ℓ <= min(d, n_1 - j_1, ..., n_(ℓ-1) - j_(ℓ-1), n_ℓ)}.

    An exact integer by enumeration of J (fine for a few layers of small width).

    >>> relu_regions_serra([3, 3], 2)
    40

    References
    ----------
    Serra, Tjandraatmadja, Ramalingam, ICML 2018, Theorem 1 ([recalled] in dlgn.md §8).
    """
    if not all(isinstance(w, numbers.Integral) or (isinstance(w, float) and w.is_integer()) for w in widths):
        raise ValueError(f"widths = {list(widths)} is out of range: widths must be integers >= 1")
    widths = [int(w) for w in widths]
    if not widths or any(w < 1 for w in widths):
        raise ValueError(f"widths = {list(widths)} is out of range: give at least one width, each >= 1")
    if isinstance(d, bool) or int(d) != d or d < 1:
        raise ValueError(f"d = {d!r} is out of range: d must be an integer >= 1")
    total = 0
    ranges = [range(min(int(d), w) + 1) for w in widths]
    for js in itertools.product(*ranges):
        caps = [int(d)]
        ok = True
        for ell, (w, j) in enumerate(zip(widths, js)):
            if ell:
                caps.append(widths[ell - 1] - js[ell - 1])
            if j > min(min(caps), w):
                ok = False
                break
        if ok:
            total += math.prod(math.comb(w, j) for w, j in zip(widths, js))
    return total


BOUNDS: dict[str, Callable[[], Bound]] = {
    "dlgn.cells.affine": arrangement_cells_affine,
    "dlgn.cells.central": arrangement_cells_central,
    "dlgn.cells.window": window_cells,
    "dlgn.paths": path_count,
    "dlgn.paths.value_x": path_count_value_x,
    "dlgn.soft_to_hard": soft_to_hard,
    "dlgn.beta_zero": beta_zero_error,
    "dlgn.relu.regions": relu_regions,
}
