"""Exact evaluation of large ReLU nets, exact only where it has to be.

A float64 pass with a rigorous bound on its rounding error certifies, point by point, which
hidden units are exactly inactive (their pre-activation is certainly negative, so their exact
value is 0).  Walking back from the outputs, only the units that some needed unit reads and
that are not certified inactive are evaluated in rational arithmetic.  For nets whose units are
mostly off at any given point (bump sums, localised constructions) this is exact evaluation at
the cost of the active units.

References
----------
N. J. Higham, "Accuracy and Stability of Numerical Algorithms", 2nd ed., SIAM 2002, §3.1
(the bound |fl(sum) - sum| <= γ_m sum|terms|, γ_m = m u / (1 - m u), for any summation order).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import scipy.sparse as sparse

__all__ = ["evaluate_filtered", "float_with_error_bounds"]

_U = 2.0**-53  # unit roundoff of float64
_SAFETY = 1.01  # covers the few roundings made while computing the bound itself


def _gamma(m: np.ndarray | int) -> np.ndarray:
    m = np.asarray(m, dtype=np.float64)
    return m * _U / (1.0 - m * _U)


def _csr(w) -> sparse.csr_matrix:
    return w if sparse.isspmatrix_csr(w) else sparse.csr_matrix(w)


def float_with_error_bounds(net, pts: np.ndarray, input_error: np.ndarray):
    """Hidden pre-activations in float64 with bounds on their distance to the exact values.

    Parameters
    ----------
    net : ReluNet
    pts : (N, input_dim) float64 points.
    input_error : (N, input_dim) bounds on |pts - exact points|.

    Returns
    -------
    list of (z, bound) pairs, one per hidden layer, each (N, width).
    """
    h, err = pts, input_error
    out = []
    for w, b in zip(net.weights[:-1], net.biases[:-1]):
        cw = _csr(w)
        aw = abs(cw)
        terms = np.diff(cw.indptr) + 1  # products plus the bias, per row
        z = np.ascontiguousarray((cw @ h.T).T) + b
        magnitude = np.ascontiguousarray((aw @ np.abs(h).T).T) + np.abs(b)
        propagated = np.ascontiguousarray((aw @ err.T).T)
        bound = _SAFETY * (propagated + _gamma(terms) * magnitude) + 1e-300
        out.append((z, bound))
        h = np.maximum(z, 0.0)
        err = bound  # ReLU is 1-Lipschitz
    return out


class _ExactLayers:
    """Row access to each layer's weights as Fractions (exact rational weights when the net has them)."""

    def __init__(self, net):
        self.rational = net._exact
        self.csr = [_csr(w) for w in net.weights]
        self.biases = net.biases
        self._cache: dict[tuple[int, int], tuple[np.ndarray, list[Fraction], Fraction]] = {}

    def row(self, layer: int, j: int):
        key = (layer, j)
        if key not in self._cache:
            w = self.csr[layer]
            cols = w.indices[w.indptr[j]:w.indptr[j + 1]]
            if self.rational is not None:
                wq, bq = self.rational[layer]
                vals = [wq[j, c] for c in cols]
                bias = bq[j]
            else:
                vals = [Fraction(float(v)) for v in w.data[w.indptr[j]:w.indptr[j + 1]]]
                bias = Fraction(float(self.biases[layer][j]))
            self._cache[key] = (cols, vals, bias)
        return self._cache[key]


def _point_exact(layers: _ExactLayers, point: list[Fraction], inactive: list[np.ndarray],
                 n_layers: int, output_dim: int) -> list[Fraction]:
    """Exact outputs at one point, evaluating only the needed, possibly active units."""
    needed = [None] * (n_layers + 1)
    needed[n_layers] = np.arange(output_dim)
    for layer in range(n_layers, 0, -1):
        w = layers.csr[layer]
        rows = needed[layer]
        if len(rows):
            cols = np.unique(np.concatenate([w.indices[w.indptr[j]:w.indptr[j + 1]] for j in rows]))
        else:
            cols = np.empty(0, dtype=np.int64)
        needed[layer - 1] = cols[~inactive[layer - 1][cols]]
    values: dict[int, Fraction] = dict(enumerate(point))
    for layer in range(n_layers + 1):
        new: dict[int, Fraction] = {}
        for j in needed[layer]:
            cols, vals, bias = layers.row(layer, int(j))
            total = bias
            for c, v in zip(cols, vals):
                x = values.get(int(c))
                if x:  # absent means certified inactive: exactly 0
                    total += v * x
            new[int(j)] = total if layer == n_layers or total > 0 else Fraction(0)
        values = new
    return [values[j] for j in range(output_dim)]


def evaluate_filtered(net, points: np.ndarray) -> np.ndarray:
    """Exact outputs (object array of Fractions, (N, output_dim)) by filtered evaluation."""
    pts_q = [[v if isinstance(v, Fraction) else Fraction(v) for v in row] for row in np.asarray(points, dtype=object)]
    pts_f = np.array([[float(v) for v in row] for row in pts_q], dtype=np.float64).reshape(-1, net.input_dim)
    # exact when the coordinate is a float; otherwise it was rounded once
    input_error = np.array([[0.0 if Fraction(float(v)) == v else _U * abs(float(v)) + 1e-300 for v in row]
                            for row in pts_q]).reshape(-1, net.input_dim)
    layers = _ExactLayers(net)
    out = np.empty((len(pts_q), net.output_dim), dtype=object)
    chunk = max(1, (1 << 21) // max(max(net.widths, default=1), 1))
    for start in range(0, len(pts_q), chunk):
        stop = min(start + chunk, len(pts_q))
        bounds = float_with_error_bounds(net, pts_f[start:stop], input_error[start:stop])
        for i in range(start, stop):
            inactive = [(z[i - start] + e[i - start] < 0) for z, e in bounds]
            out[i] = _point_exact(layers, pts_q[i], inactive, net.depth, net.output_dim)
    return out
