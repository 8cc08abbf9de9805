"""Base estimators f0 for regression on [0, 1]^d, realised as ReLU nets.

- :func:`partition_estimator`: the histogram estimator with cells of side h ≍ n^(-1/(2r+d)),
  its cell indicators replaced by cube bumps that overlap their neighbours by a ramp of width
  τ_h <= h/n, so that they sum to 1 off the corners; it is an exact, sparse, depth-2 `ReluNet`
  (under-parameterized: ≍ n^(d/(2r+d)) parameters).
- :func:`mlp_estimator`: ERM over an under-parameterized MLP trained by the batched trainer,
  its size set by the rate theory, returned as a `ReluNet`.
- :func:`truncate`: π_M ∘ f, one more layer of 2 units.

References
----------
L. Györfi, M. Kohler, A. Krzyżak, H. Walk, "A Distribution-Free Theory of Nonparametric
Regression", Springer 2002, Theorem 4.3 (partition estimates, rate n^(-2r/(2r+d)) for r <= 1).
``shared/theory/erm_deepening.md`` §6.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import torch
from scipy import stats

from .exact import ExactSparse
from .models import StackedMLP
from .network import ReluNet, compose
from .primitives import clip
from .training import BatchedTrainer
from .validation import check_int, check_real, check_seed

__all__ = ["cells_per_axis", "mlp_estimator", "mlp_to_relunet", "partition_estimator", "partition_expected_risk",
           "partition_sample_risk", "truncate", "whole_cell_size"]


def _check_xy(x, y) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    if x.ndim != 2 or len(x) != len(y) or len(x) == 0:
        raise ValueError(f"x has shape {x.shape} and y {y.shape}: need x (n, d) and y (n,) with n >= 1")
    if not np.all((x >= 0) & (x <= 1)):  # also catches NaN
        bad = x[~((x >= 0) & (x <= 1))]
        raise ValueError(f"x has {bad.size} entries outside [0, 1] (for example {float(bad[0])!r}): inputs must lie in "
                         "the unit cube [0, 1]^d")
    if not np.all(np.isfinite(y)):
        raise ValueError(f"y has {int(np.sum(~np.isfinite(y)))} entries that are NaN or inf: labels must be finite")
    return x, y


def _check_bound(bound) -> float | None:
    return None if bound is None else check_real("bound", bound, 0, low_open=True)


def cells_per_axis(n: int, r: float, d: int) -> int:
    """Cells per axis N_h = ceil(n^(1/(2r+d))) (side h = 1/N_h ≍ n^(-1/(2r+d))).

    >>> cells_per_axis(1000, 1, 1)
    10
    """
    n, r, d = check_int("n", n, 1), check_real("r", r, 0, low_open=True), check_int("d", d, 1)
    return max(1, math.ceil(n ** (1.0 / (2 * r + d)) - 1e-9))


def whole_cell_size(n: int, r: float, d: int, *, even: bool = False) -> int:
    """The sample size nearest n for which n^(1/(2r+d)) is a whole number of cells per axis.

    Returns floor(k^(2r+d)) with k = round(n^(1/(2r+d))) >= 1 (with ``even=True``, the nearest
    even k >= 2), so that ``cells_per_axis(result, r, d) == k`` and the cell side is exactly the
    rate theory's n^(-1/(2r+d)) (up to the floor).  Rate sweeps use it: with ceil(n^(1/(2r+d)))
    cells at arbitrary n the side jumps between n and n', which puts a staircase into the risk
    curve and biases its fitted slope.  An even k puts x_k = 1/2, the kink of
    :func:`~relunet.constructions.regression.holder_target`, on a cell edge at every n; with odd
    k the kink sits inside the middle slab, whose bias is smaller, and the risk zigzags with the
    parity of k (see :func:`partition_expected_risk`).

    >>> whole_cell_size(1024, 1, 1), whole_cell_size(1024, 1, 2), whole_cell_size(1024, 1, 2, even=True)
    (1000, 1296, 1296)
    """
    n, r, d = check_int("n", n, 1), check_real("r", r, 0, low_open=True), check_int("d", d, 1)
    power = 2 * r + d
    root = n ** (1.0 / power)
    k = max(2, 2 * round(root / 2)) if even else max(1, round(root))
    return int(math.floor(k**power + 1e-9))


def _slab_moments(lo: float, hi: float, r: float) -> tuple[float, float]:
    """Mean of g and of g² over [lo, hi] for g(t) = |t - 1/2|^r (exact antiderivatives)."""

    def integral(p: float) -> float:  # ∫_lo^hi |t - 1/2|^p dt
        def antiderivative(t: float) -> float:
            u = t - 0.5
            return math.copysign(abs(u) ** (p + 1) / (p + 1), u)
        return antiderivative(hi) - antiderivative(lo)

    width = hi - lo
    return integral(r) / width, integral(2 * r) / width


def partition_expected_risk(n: int, cells: int, r: float, d: int, sigma: float) -> float:
    """Exact expected excess risk E||f0 - f||² of the histogram estimator, finite n.

    For the target f(x) = Σ_k |x_k - 1/2|^r (`holder_target`), X uniform on [0, 1]^d, noise of
    variance σ², and a cell c holding N ~ Bin(n, k^-d) samples:

        E[(f0 - f)² on c] = P(N >= 1) V_c + E[1/N; N >= 1] (V_c + σ²) + P(N = 0) E_c f²

    where V_c = Σ_k Var_slab(|x_k - 1/2|^r) is the variance of f over the cell (the squared
    bias of the cell mean): given N >= 1 samples the cell mean of f(x_i) + noise misses f by
    V_c + (V_c + σ²)/N on average over the cell, and an empty cell predicts 0.

    For r = 1 and an even grid, V_c = d h²/12 in every cell, so with k = n^(1/(2r+d)) both the
    bias V and the variance σ²/m (m = n k^-d) fall exactly like n^(-2r/(2r+d)); the expansion
    E[1/N] = 1/m + 1/m² + ... adds the second-order factor 1 + 1/m that bends the log-log risk at
    small m.  For r < 1 this single-kink target is smoother than the worst case away from 1/2,
    and its risk falls faster than n^(-2r/(2r+d)).  Ignores the blending strips of the ReLU
    realisation (volume <= d/n) and the clipping at M.

    References
    ----------
    Györfi, Kohler, Krzyżak, Walk (2002), Theorem 4.3 and its proof (the same decomposition,
    bounded instead of computed).

    Parameters
    ----------
    n : int
        Sample size >= 1 (an integral float counts: rate sweeps pass n = k^(2r+d) beyond 2^63).
    cells : int
        Cells per axis k >= 1.
    r : float
        Hölder exponent of the target, > 0.
    d : int
        Input dimension >= 1.
    sigma : float
        Noise standard deviation >= 0.

    Examples
    --------
    >>> round(partition_expected_risk(1000, 10, 1.0, 1, 0.1) * 1e4, 3)
    9.427
    """
    n, k, d = check_int("n", n, 1), check_int("cells", cells, 1), check_int("d", d, 1)
    r, sigma = check_real("r", r, 0, low_open=True), check_real("sigma", sigma, 0)
    p = float(k) ** -d
    h = 1.0 / k
    variances, squares = [], []
    for j in range(k):
        mean, mean_sq = _slab_moments(j * h, (j + 1) * h, r)
        variances.append(mean_sq - mean**2)
        squares.append(mean_sq)
    # V_c is a sum over axes of slab variances, so its mean over cells is d times the slab mean
    v_mean = d * float(np.mean(variances))
    # E[1/N; N >= 1], summed where the binomial has mass (beyond 12 sd it is below 1e-30)
    mean, sd = n * p, math.sqrt(n * p * (1 - p))
    counts = np.arange(max(1, math.floor(mean - 12 * sd - 10)), min(n, math.ceil(mean + 12 * sd + 10)) + 1)
    # float n: k^(2r+d) may pass 2^63; for tiny p the binomial pmf loses its precision, and the Poisson
    # law of the same mean is within total variation p of it
    counts_law = stats.poisson(mean) if p < 1e-9 else stats.binom(float(n), p)
    inverse = float(np.sum(counts_law.pmf(counts) / counts))
    empty = math.exp(n * math.log1p(-p))
    slab_mean = _slab_moments(0.0, 1.0, r)[0]
    f_square = d * _slab_moments(0.0, 1.0, r)[1] + d * (d - 1) * slab_mean**2  # E f² over the cube
    return (1.0 - empty) * v_mean + inverse * (v_mean + sigma**2) + empty * f_square


def partition_sample_risk(x, y, cells: int, r: float, *, bound: float | None = None) -> float:
    """Exact excess risk ||f0 - f||² of the histogram estimator fitted to one sample.

    For the target f(x) = Σ_k |x_k - 1/2|^r (`holder_target`) and X uniform on [0, 1]^d: on a
    cell c with mean label ȳ_c (0 if empty, clipped to [-bound, bound]) the integral of
    (ȳ_c - f)² is |c| ((ȳ_c - f̄_c)² + V_c), with f̄_c and V_c the sums over axes of the slab
    means and variances of |t - 1/2|^r.  No Monte Carlo: it is the risk of the plain histogram
    (the ReLU realisation :func:`partition_estimator` differs on strips of volume <= d/n).  Its
    average over samples is :func:`partition_expected_risk`; it serves to simulate the sampling
    law of rate statistics over many seeds in seconds.

    Examples
    --------
    >>> x, y = np.array([[0.25], [0.75]]), np.array([0.25, 0.25])  # the cell means of f, k = 2
    >>> abs(partition_sample_risk(x, y, 2, 1.0) - 0.5 ** 2 / 12) < 1e-15  # only the bias h²/12
    True
    """
    x, y = _check_xy(x, y)
    d = x.shape[1]
    k, r, bound = check_int("cells", cells, 1), check_real("r", r, 0, low_open=True), _check_bound(bound)
    flat = np.ravel_multi_index(np.minimum((x * k).astype(np.int64), k - 1).T, (k,) * d)
    counts = np.bincount(flat, minlength=k**d)
    sums = np.bincount(flat, weights=y, minlength=k**d)
    means = np.where(counts > 0, sums / np.maximum(counts, 1), 0.0)
    if bound is not None:
        means = np.clip(means, -bound, bound)
    moments = np.array([_slab_moments(j / k, (j + 1) / k, r) for j in range(k)])
    slab_mean, slab_var = moments[:, 0], moments[:, 1] - moments[:, 0] ** 2
    axes = np.meshgrid(*([np.arange(k)] * d), indexing="ij")
    f_bar = sum(slab_mean[a] for a in axes).reshape(-1)
    variance = sum(slab_var[a] for a in axes).reshape(-1)
    return float(np.mean((means - f_bar) ** 2 + variance))


def partition_estimator(x, y, r: float, *, cells: int | None = None, bound: float | None = None) -> ReluNet:
    """The histogram estimator as an exact depth-2 ReLU net.

    Each cell c gets the mean of the y_i in it (0 if empty), clipped to [-bound, bound], times
    the cube bump σ(Σ_k t_k(x_k) - (d-1)) of its slab trapezoids t_k.  Slab j's trapezoid is 1
    on [a_j + τ_h, a_(j+1)] and ramps down over [a_(j+1), a_(j+1) + τ_h] while slab j+1 ramps
    up, τ_h = 2^floor(log2(h/n)) <= h/n, so the trapezoids of an axis sum to 1 and, away from
    the corners where two ramps cross (volume O(τ_h²)), the bumps form a partition of unity:
    f0 equals the histogram estimator except on strips of total volume <= d/n, where it blends
    the two neighbouring cell means.  Bumps whose supports are disjoint (the earlier design)
    leave a dip to 0 in every strip and add an O(1/n) risk of size E f², which steepens the
    fitted rate at small n.  Since every point sees at most 2^d bumps with weights summing to
    at most 1, clipping the cell means to [-bound, bound] bounds f0 by `bound` (π_M ∘ f0).
    First-layer trapezoid units are shared by all cells in the same slab of an axis.  The
    weights are exact rationals (cell edges j/N_h); the float64 weights are their roundings.

    Parameters
    ----------
    x : (n, d) inputs in [0, 1]^d.
    y : (n,) labels.
    r : float
        Smoothness used to set the cell size (cells per axis ceil(n^(1/(2r+d)))).
    cells : int, optional
        Cells per axis (overrides r).
    bound : float, optional
        M for the truncation of the cell means.

    Examples
    --------
    >>> f0 = partition_estimator(np.array([[0.1], [0.2], [0.9]]), np.array([1.0, 3.0, -1.0]), r=1, cells=2)
    >>> f0(np.array([[0.25], [0.75]])).ravel().tolist()
    [2.0, -1.0]
    """
    x, y = _check_xy(x, y)
    n, d = x.shape
    bound = _check_bound(bound)
    nh = check_int("cells", cells, 1) if cells is not None else cells_per_axis(n, r, d)
    h = Fraction(1, nh)
    tau = Fraction(2) ** math.floor(math.log2(1.0 / (nh * n)))
    if tau > h / n:  # guard against rounding in log2
        tau /= 2
    index = np.minimum((x * nh).astype(np.int64), nh - 1)
    flat = np.ravel_multi_index(index.T, (nh,) * d)
    occupied, inverse = np.unique(flat, return_inverse=True)
    inverse = inverse.reshape(-1)
    means = np.bincount(inverse, weights=y) / np.bincount(inverse)
    if bound is not None:
        means = np.clip(means, -bound, bound)
    # first layer: for axis k and slab j, four trapezoid units (shared by all cells of that slab).
    # Slab j rises on [a_j, a_j + τ] and falls on [a_(j+1), a_(j+1) + τ], where its right
    # neighbour rises: the slab functions sum to 1 on the whole axis (slab 0 rises on [-τ, 0]).
    shifts = []
    for j in range(nh):
        rise = j * h if j > 0 else -tau
        fall = (j + 1) * h
        shifts += [-rise, -(rise + tau), -fall, -(fall + tau)]
    units = 4 * nh * d
    w1 = ExactSparse.from_coo(np.arange(units), np.repeat(np.arange(d), 4 * nh), [1] * units, (units, d))
    b1 = shifts * d
    # second layer: one unit per occupied cell, reading its d trapezoids with slopes ±1/tau
    cell_index = np.stack(np.unravel_index(occupied, (nh,) * d), axis=1)  # (cells, d)
    r2 = np.repeat(np.arange(len(occupied)), 4 * d)
    c2 = (np.arange(d)[None, :, None] * 4 * nh + cell_index[:, :, None] * 4 + np.arange(4)[None, None, :]).reshape(-1)
    slopes = [1 / tau, -1 / tau, -1 / tau, 1 / tau]
    w2 = ExactSparse.from_coo(r2, c2, slopes * (d * len(occupied)), (len(occupied), units))
    b2 = [Fraction(-(d - 1))] * len(occupied)
    w3 = ExactSparse.from_coo(np.zeros(len(occupied), dtype=np.int64), np.arange(len(occupied)),
                              [Fraction(float(v)) for v in means], (1, len(occupied)))
    return ReluNet.from_exact([(w1, b1), (w2, b2), (w3, [Fraction(0)])], name=f"partition[{nh}^{d}]")


def truncate(net: ReluNet, bound: float) -> ReluNet:
    """π_M ∘ net: clip the output to [-M, M] with one more layer of 2 units."""
    bound = _check_bound(bound)
    if bound is None:
        raise ValueError("bound = None is not allowed: truncate needs a number M > 0")
    out = compose(clip(float(bound)), net)
    out.name = f"clip{bound:g}∘{net.name}"
    return out


def mlp_to_relunet(model: StackedMLP, params: dict, k: int) -> ReluNet:
    """Model k of a StackedMLP as a ReluNet (the NTK scaling folded into the weights)."""
    if model.activation != "relu":
        raise ValueError(f"model.activation = {model.activation!r}: only relu MLPs are ReLU nets")
    layers = []
    for i, (fan_in, _) in enumerate(model.layer_sizes):
        scale = 1.0 / math.sqrt(fan_in) if model.parameterization == "ntk" else 1.0
        w = params[f"w{i}"][k].detach().cpu().double().numpy() * scale
        b = params[f"b{i}"][k].detach().cpu().double().numpy() if model.bias else np.zeros(w.shape[0])
        layers.append((w, b))
    return ReluNet(layers, name=f"mlp[{model.width}x{model.depth}]")


def mlp_estimator(x, y, r: float, *, depth: int = 2, width: int | None = None, steps: int = 2000,
                  lr: float = 1e-2, seed: int = 0, bound: float | None = None) -> ReluNet:
    """ERM over an under-parameterized ReLU MLP (Adam, full batch), returned as a ReluNet.

    The width is set by the rate theory: about n^(d/(2r+d)) parameters, so
    width ≈ sqrt(n^(d/(2r+d))) for depth >= 2.  The result is only approximately an ERM.

    Examples
    --------
    >>> xs = np.linspace(0, 1, 64)[:, None]
    >>> f0 = mlp_estimator(xs, np.abs(xs[:, 0] - 0.5), r=1, steps=300, lr=3e-2)
    >>> float(np.abs(f0(xs).ravel() - np.abs(xs[:, 0] - 0.5)).max()) < 0.1
    True
    """
    x, y = _check_xy(x, y)
    n, d = x.shape
    r, bound = check_real("r", r, 0, low_open=True), _check_bound(bound)
    depth, steps = check_int("depth", depth, 1), check_int("steps", steps, 1)
    lr, seed = check_real("lr", lr, 0, low_open=True), check_seed(seed)
    if width is None:
        budget = n ** (d / (2 * r + d))
        width = max(4, int(round(math.sqrt(budget)))) if depth >= 2 else max(4, int(budget / (d + 2)))
    mlp = StackedMLP(d, width, depth, parameterization="standard")
    trainer = BatchedTrainer(mlp, optimizer="adam", lr=lr, steps=steps, record_every=max(1, steps // 10),
                             metrics=("loss",), progress=False)
    trainer.fit(torch.as_tensor(x)[None], torch.as_tensor(y)[None, :, None], seeds=[seed])
    net = mlp_to_relunet(mlp, trainer.params_, 0)
    return truncate(net, bound) if bound is not None else net
