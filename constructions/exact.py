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

import numbers
from fractions import Fraction

import numpy as np
import scipy.sparse as sparse

__all__ = ["ExactSparse", "evaluate_filtered", "float_with_error_bounds", "local_affine_filtered", "to_fraction"]

_U = 2.0**-53  # unit roundoff of float64
_SAFETY = 1.01  # covers the few roundings made while computing the bound itself


class ExactSparse:
    """A sparse matrix of exact rationals: a CSR pattern plus a Fraction per stored entry.

    The pattern's data are 1-based positions into `values`, so scipy's stacking operations
    carry the exact values along.  Stored entries may be exactly 0.

    Examples
    --------
    >>> a = ExactSparse.from_coo([0, 1], [1, 0], [Fraction(1, 3), Fraction(-2)], (2, 2))
    >>> a.row(0)
    (array([1], dtype=int32), [Fraction(1, 3)])
    >>> ExactSparse.vstack([a, a]).shape
    (4, 2)
    """

    def __init__(self, pattern: sparse.csr_matrix, values: np.ndarray):
        self.pattern, self.values = pattern, values

    @classmethod
    def from_coo(cls, rows, cols, values, shape) -> ExactSparse:
        vals = np.empty(len(values), dtype=object)
        vals[:] = [v if isinstance(v, Fraction) else to_fraction(v, "values") for v in values]
        pos = np.arange(1, len(vals) + 1, dtype=np.float64)
        pattern = sparse.csr_matrix((pos, (np.asarray(rows), np.asarray(cols))), shape=shape)
        return cls._canonical(pattern, vals)

    @classmethod
    def _canonical(cls, pattern, values: np.ndarray) -> ExactSparse:
        pattern = sparse.csr_matrix(pattern)
        pattern.sort_indices()
        order = pattern.data.astype(np.int64) - 1
        out = sparse.csr_matrix((np.arange(1, len(order) + 1, dtype=np.float64), pattern.indices.copy(),
                                 pattern.indptr.copy()), shape=pattern.shape)
        return cls(out, values[order])

    @property
    def shape(self) -> tuple[int, int]:
        return self.pattern.shape

    def row(self, j: int):
        lo, hi = self.pattern.indptr[j], self.pattern.indptr[j + 1]
        return self.pattern.indices[lo:hi], list(self.values[lo:hi])

    def to_float(self) -> sparse.csr_matrix:
        """The float64 matrix (each value rounded to nearest)."""
        data = np.array([float(v) for v in self.values], dtype=np.float64)
        return sparse.csr_matrix((data, self.pattern.indices, self.pattern.indptr), shape=self.shape)

    def to_dense(self) -> np.ndarray:
        out = np.empty(self.shape, dtype=object)
        out.fill(Fraction(0))
        for j in range(self.shape[0]):
            cols, vals = self.row(j)
            out[j, cols] = vals
        return out

    @classmethod
    def _combine(cls, parts: list, op) -> ExactSparse:
        offset, mats, vals = 0, [], []
        for p in parts:
            m = p.pattern.copy()
            m.data = m.data + offset
            offset += len(p.values)
            mats.append(m)
            vals.append(p.values)
        return cls._canonical(op(mats), np.concatenate(vals) if vals else np.empty(0, dtype=object))

    @classmethod
    def vstack(cls, parts: list) -> ExactSparse:
        return cls._combine(parts, lambda m: sparse.vstack(m, format="csr"))

    @classmethod
    def hstack(cls, parts: list) -> ExactSparse:
        return cls._combine(parts, lambda m: sparse.hstack(m, format="csr"))

    @classmethod
    def block_diag(cls, parts: list) -> ExactSparse:
        return cls._combine(parts, lambda m: sparse.block_diag(m, format="csr"))


def to_fraction(value, name: str = "x") -> Fraction:
    """The exact rational value of a finite real number.

    Ints and Fractions (and other Rationals, NumPy integers included) are taken as they are,
    floats of every width (float16 to longdouble) at the exact binary value they hold.

    Parameters
    ----------
    value : int, Fraction, float or NumPy scalar
    name : str
        How the value is named in the error message.

    Raises
    ------
    ValueError
        For NaN, infinities, booleans and anything that is not a real number.

    Examples
    --------
    >>> to_fraction(np.float32(0.1))
    Fraction(13421773, 134217728)
    >>> to_fraction(3), to_fraction(0.5)
    (Fraction(3, 1), Fraction(1, 2))
    """
    if isinstance(value, Fraction):
        return value
    if isinstance(value, numbers.Rational) and not isinstance(value, (bool, np.bool_)):
        return Fraction(int(value.numerator), int(value.denominator))
    if isinstance(value, (float, np.floating)) and np.isfinite(value):
        return Fraction(*(value.as_integer_ratio()))
    raise ValueError(f"{name} = {value!r} is not allowed: exact arithmetic needs finite real numbers "
                     "(ints, Fractions or floats)")


def _gamma(m: np.ndarray | int) -> np.ndarray:
    m = np.asarray(m, dtype=np.float64)
    return m * _U / (1.0 - m * _U)


def _csr(w) -> sparse.csr_matrix:
    return w if sparse.isspmatrix_csr(w) else sparse.csr_matrix(w)


class _BoundPlan:
    """Per-layer data of the float pass with error bounds, computed once per net."""

    def __init__(self, net):
        self.layers = []
        for w, b in zip(net.weights[:-1], net.biases[:-1]):
            cw = _csr(w)
            # products plus the bias per row, plus 2 for the rounding of exact weights to float64
            gamma = _gamma(np.diff(cw.indptr) + 3)
            self.layers.append((cw, abs(cw), np.asarray(b)[:, None], np.abs(np.asarray(b))[:, None], gamma[:, None]))


def float_with_error_bounds(net, pts: np.ndarray, input_error: np.ndarray, plan: _BoundPlan | None = None):
    """Hidden pre-activations in float64 with bounds on their distance to the exact values.

    Parameters
    ----------
    net : ReluNet
    pts : (N, input_dim) float64 points.
    input_error : (N, input_dim) bounds on |pts - exact points|.

    Returns
    -------
    list of (z, bound) pairs, one per hidden layer, each of shape (width, N) (units first).
    """
    plan = plan or _BoundPlan(net)
    h, err = np.ascontiguousarray(pts.T), np.ascontiguousarray(input_error.T)
    out = []
    for cw, aw, b, ab, gamma in plan.layers:
        z = cw @ h + b
        bound = _SAFETY * (aw @ err + gamma * (aw @ np.abs(h) + ab)) + 1e-300
        out.append((z, bound))
        h = np.maximum(z, 0.0)
        err = bound  # ReLU is 1-Lipschitz
    return out


class _ExactLayers:
    """Row access to each layer's weights as Fractions (exact rational weights when the net has them)."""

    def __init__(self, net):
        self.rational = net.exact_rows()
        self.csr = [_csr(w) for w in net.weights]
        self.biases = net.biases
        self._cache: dict[tuple[int, int], tuple[dict[int, Fraction], Fraction]] = {}

    def row(self, layer: int, j: int) -> tuple[dict[int, Fraction], Fraction]:
        """Row j of a layer as {column: exact weight} and the exact bias."""
        key = (layer, j)
        if key not in self._cache:
            if self.rational is not None:
                wq, bq = self.rational[layer]
                if isinstance(wq, ExactSparse):
                    cols, vals = wq.row(j)
                else:
                    cols = self.csr[layer].indices[self.csr[layer].indptr[j]:self.csr[layer].indptr[j + 1]]
                    vals = [wq[j, c] for c in cols]
                bias = bq[j]
            else:
                w = self.csr[layer]
                cols = w.indices[w.indptr[j]:w.indptr[j + 1]]
                vals = [Fraction(float(v)) for v in w.data[w.indptr[j]:w.indptr[j + 1]]]
                bias = Fraction(float(self.biases[layer][j]))
            self._cache[key] = ({int(c): v for c, v in zip(cols, vals)}, bias)
        return self._cache[key]


def _needed_units(layers: _ExactLayers, inactive: list[np.ndarray], n_layers: int, output_dim: int) -> list:
    """Per layer, the units that a needed unit of the next layer reads and that are not certified inactive.

    All outputs are needed; every other unit contributes exactly 0 to them at this point.
    """
    needed = [None] * (n_layers + 1)
    needed[n_layers] = np.arange(output_dim)
    for layer in range(n_layers, 0, -1):
        w = layers.csr[layer]
        rows = needed[layer]
        if len(rows) == 1:
            cols = w.indices[w.indptr[rows[0]]:w.indptr[rows[0] + 1]]
        elif len(rows):
            cols = np.unique(np.concatenate([w.indices[w.indptr[j]:w.indptr[j + 1]] for j in rows]))
        else:
            cols = np.empty(0, dtype=np.int64)
        needed[layer - 1] = cols[~inactive[layer - 1][cols]]
    return needed


def _point_exact(layers: _ExactLayers, point: list[Fraction], inactive: list[np.ndarray],
                 n_layers: int, output_dim: int) -> list[Fraction]:
    """Exact outputs at one point, evaluating only the needed, possibly active units."""
    needed = _needed_units(layers, inactive, n_layers, output_dim)
    values: dict[int, Fraction] = {i: v for i, v in enumerate(point) if v}
    for layer in range(n_layers + 1):
        new: dict[int, Fraction] = {}
        for j in needed[layer]:
            weights, bias = layers.row(layer, int(j))
            total = bias
            # absent inputs are exactly 0 (certified inactive, or computed as 0): walk the shorter side
            if len(values) < len(weights):
                for c, x in values.items():
                    w = weights.get(c)
                    if w is not None:
                        total += w * x
            else:
                for c, w in weights.items():
                    x = values.get(c)
                    if x is not None:
                        total += w * x
            if layer == n_layers:
                new[int(j)] = total
            elif total > 0:
                new[int(j)] = total
        values = new
    return [values.get(j, Fraction(0)) for j in range(output_dim)]


def _float_points(pts_q: list[list[Fraction]], input_dim: int) -> tuple[np.ndarray, np.ndarray]:
    """float64 points and bounds on their distance to the exact ones (0 where a coordinate is a float)."""
    pts_f = np.array([[float(v) for v in row] for row in pts_q], dtype=np.float64).reshape(-1, input_dim)
    input_error = np.array([[0.0 if Fraction(float(v)) == v else _U * abs(float(v)) + 1e-300 for v in row]
                            for row in pts_q]).reshape(-1, input_dim)
    return pts_f, input_error


def evaluate_filtered(net, points: np.ndarray) -> np.ndarray:
    """Exact outputs (object array of Fractions, (N, output_dim)) by filtered evaluation."""
    pts_q = [[to_fraction(v) for v in row] for row in np.asarray(points, dtype=object)]
    pts_f, input_error = _float_points(pts_q, net.input_dim)
    layers = _ExactLayers(net)
    plan = _BoundPlan(net)
    out = np.empty((len(pts_q), net.output_dim), dtype=object)
    chunk = max(1, (1 << 22) // max(max(net.widths, default=1), 1))
    for start in range(0, len(pts_q), chunk):
        stop = min(start + chunk, len(pts_q))
        bounds = float_with_error_bounds(net, pts_f[start:stop], input_error[start:stop], plan)
        masks = [z + e < 0 for z, e in bounds]
        for i in range(start, stop):
            inactive = [m[:, i - start] for m in masks]
            out[i] = _point_exact(layers, pts_q[i], inactive, net.depth, net.output_dim)
    return out


def _affine_unit(weights: dict[int, Fraction], bias: Fraction, values: dict, maps: dict):
    """Exact pre-activation of one unit and the affine map it equals near the point.

    The map is (slope, offset) with the slope as {input coordinate: nonzero coefficient}.
    """
    total, slope, offset = bias, {}, bias
    for c, w in weights.items():
        x = values.get(c)
        if x is None:
            continue  # an inactive input: exactly 0 on the whole linear region
        total += w * x
        g, o = maps[c]
        for k, gk in g.items():
            slope[k] = slope.get(k, 0) + w * gk
        offset += w * o
    return total, slope, offset


def local_affine_filtered(net, point: list[Fraction]) -> tuple[np.ndarray, np.ndarray]:
    """The exact affine map (A, c) that `net` equals on the linear region of `point`.

    Hidden units certified inactive by the float pass with error bounds, and units no output
    depends on, contribute 0; the others are decided (active iff pre-activation > 0) and
    combined in rational arithmetic, row by row, so no layer is ever densified.

    Parameters
    ----------
    net : ReluNet
    point : list of Fraction, length input_dim

    Returns
    -------
    A : numpy.ndarray of Fraction, shape (output_dim, input_dim)
    c : numpy.ndarray of Fraction, shape (output_dim,)
    """
    pts_f, input_error = _float_points([point], net.input_dim)
    inactive = [z[:, 0] + e[:, 0] < 0 for z, e in float_with_error_bounds(net, pts_f, input_error)]
    layers = _ExactLayers(net)
    needed = _needed_units(layers, inactive, net.depth, net.output_dim)
    values = dict(enumerate(point))
    maps = {i: ({i: Fraction(1)}, Fraction(0)) for i in range(net.input_dim)}
    for layer in range(net.depth + 1):
        new_values, new_maps = {}, {}
        for j in needed[layer]:
            weights, bias = layers.row(layer, int(j))
            total, slope, offset = _affine_unit(weights, bias, values, maps)
            if layer == net.depth or total > 0:
                new_values[int(j)], new_maps[int(j)] = total, (slope, offset)
        values, maps = new_values, new_maps
    a = np.empty((net.output_dim, net.input_dim), dtype=object)
    a.fill(Fraction(0))
    c = np.empty(net.output_dim, dtype=object)
    for j in range(net.output_dim):
        slope, c[j] = maps[j]
        for k, gk in slope.items():
            a[j, k] = Fraction(gk)
    return a, c
