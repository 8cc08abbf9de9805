"""Base estimators f0 for regression on [0, 1]^d, realised as ReLU nets.

- :func:`partition_estimator`: the histogram estimator with cells of side h ≍ n^(-1/(2r+d)),
  its cell indicators replaced by cube bumps whose support is exactly the closed cell, so it is
  an exact, sparse, depth-2 `ReluNet` (under-parameterized: ≍ n^(d/(2r+d)) parameters).
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

from .exact import ExactSparse
from .models import StackedMLP
from .network import ReluNet, compose
from .primitives import clip
from .training import BatchedTrainer

__all__ = ["cells_per_axis", "mlp_estimator", "mlp_to_relunet", "partition_estimator", "truncate", "whole_cell_size"]


def _check_xy(x, y) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    if x.ndim != 2 or len(x) != len(y) or len(x) == 0:
        raise ValueError(f"x has shape {x.shape} and y {y.shape}: need x (n, d) and y (n,) with n >= 1")
    if np.any(x < 0) or np.any(x > 1) or not np.all(np.isfinite(x)):
        raise ValueError("x must lie in [0, 1]^d")
    if not np.all(np.isfinite(y)):
        raise ValueError("y must be finite")
    return x, y


def cells_per_axis(n: int, r: float, d: int) -> int:
    """Cells per axis N_h = ceil(n^(1/(2r+d))) (side h = 1/N_h ≍ n^(-1/(2r+d))).

    >>> cells_per_axis(1000, 1, 1)
    10
    """
    return max(1, math.ceil(n ** (1.0 / (2 * r + d)) - 1e-9))


def whole_cell_size(n: int, r: float, d: int) -> int:
    """The sample size nearest n for which n^(1/(2r+d)) is a whole number of cells per axis.

    Returns floor(k^(2r+d)) with k = round(n^(1/(2r+d))) >= 1, so that
    ``cells_per_axis(result, r, d) == k`` and the cell side is exactly the rate theory's
    n^(-1/(2r+d)) (up to the floor).  Rate sweeps use it: with ceil(n^(1/(2r+d))) cells at
    arbitrary n the side jumps between n and n', which puts a staircase into the risk curve and
    biases its fitted slope.

    >>> whole_cell_size(1024, 1, 1), whole_cell_size(1024, 1, 2)
    (1000, 1296)
    """
    power = 2 * r + d
    k = max(1, round(n ** (1.0 / power)))
    return int(math.floor(k**power + 1e-9))


def partition_estimator(x, y, r: float, *, cells: int | None = None, bound: float | None = None) -> ReluNet:
    """The histogram estimator as an exact depth-2 ReLU net.

    Each cell c gets the mean of the y_i in it (0 if empty), clipped to [-bound, bound]
    (this is π_M ∘ f0: the cell bumps have disjoint supports), times the cube bump that is 1
    on the cell shrunk by τ_h and 0 outside the closed cell, τ_h = 2^floor(log2(h/n)) <= h/n.
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
    nh = cells if cells is not None else cells_per_axis(n, r, d)
    if isinstance(nh, bool) or int(nh) != nh or nh < 1:
        raise ValueError(f"cells = {cells!r} is out of range: cells must be an integer >= 1")
    nh = int(nh)
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
    # first layer: for axis k and slab j, four trapezoid units (shared by all cells of that slab)
    half = h / 2 - tau
    shifts = []
    for j in range(nh):
        centre = (j + Fraction(1, 2)) * h
        shifts += [-centre + half + tau, -centre + half, -centre - half, -centre - half - tau]
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
    if not bound > 0:
        raise ValueError(f"bound = {bound!r} is out of range: bound must be > 0")
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
    if width is None:
        budget = n ** (d / (2 * r + d))
        width = max(4, int(round(math.sqrt(budget)))) if depth >= 2 else max(4, int(budget / (d + 2)))
    mlp = StackedMLP(d, width, depth, parameterization="standard")
    trainer = BatchedTrainer(mlp, optimizer="adam", lr=lr, steps=steps, record_every=max(1, steps // 10),
                             metrics=("loss",), progress=False)
    trainer.fit(torch.as_tensor(x)[None], torch.as_tensor(y)[None, :, None], seeds=[seed])
    net = mlp_to_relunet(mlp, trainer.params_, 0)
    return truncate(net, bound) if bound is not None else net
