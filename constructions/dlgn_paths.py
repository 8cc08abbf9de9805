"""Reading a DLGN exactly: effective half-spaces, path values, the path sum, kernels and path regions.

Everything here takes a DLGN family (:mod:`relunet.constructions.dlgn`), its stacked
parameters and the index k of one model, and returns numpy arrays (float64) or sympy matrices
(exact rationals).  The computations are deliberately *different* from the forward pass, so that
comparing them with it is a check:

* :func:`effective_hyperplanes` multiplies the gating weights out, V^ℓ = W^ℓ ⋯ W^1 and
  c^ℓ = W^ℓ c^(ℓ-1) + b^ℓ; :func:`effective_hyperplanes_exact` does it in exact rationals
  (every float64 weight is a dyadic rational, converted without rounding).
* :func:`path_values` builds the tensor g_π = u^1_(i_1) Π_ℓ U^ℓ_(i_ℓ i_(ℓ-1)) u^(L+1)_(i_L) by
  outer products, :func:`path_gates` the tensor f_π(x) = Π_ℓ G^ℓ_(i_ℓ)(x), and
  :func:`path_sum` the sum Σ_π g_π f_π(x) over all Π_ℓ m_ℓ (times d) paths.
* :func:`matrix_form` evaluates u^(L+1)ᵀ D^L U^L ⋯ D^1 u^1 with explicit diagonal matrices.
* :func:`overlap_kernel` is Π_ℓ ⟨G^ℓ(x), G^ℓ(x')⟩, :func:`path_features` the features whose
  inner products it equals, :func:`npk` the neural path kernel ⟨x, x'⟩ · overlap.
* :func:`active_path_regions` decides, by one linear program per path (scipy ``linprog``),
  which R_π = ∩_ℓ H^ℓ_(i_ℓ) meet a box window in a set with interior.

References
----------
Yadav, Ramaswamy, Lakshminarayanan, arXiv:2404.04312 (paths as experts, features as
intersections of half-spaces, active path regions, the overlap kernel).  Banerjee et al., ICLR
2025, §2-§3 (path-sum form).  Lakshminarayanan, Singh, NeurIPS 2020 (neural path features, the
NPK).  ``shared/theory/dlgn.md`` §3, §4, §6, §7, §8.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import sympy as sp
import torch

from .dlgn import StackedDLGN, StackedDLGNSF, StackedDLGNVT, _GatedFamily
from .validation import check_int, check_positive

__all__ = [
    "PathRegions",
    "active_path_regions",
    "cell_slopes",
    "effective_hyperplanes",
    "effective_hyperplanes_exact",
    "exact_preactivations",
    "exact_rank",
    "margin",
    "matrix_form",
    "model_gates",
    "neuron_jump",
    "normalized_hyperplanes",
    "npk",
    "one_model",
    "overlap_kernel",
    "path_features",
    "path_gates",
    "path_sum",
    "path_sum_from_gates",
    "path_values",
    "path_weight_sum",
    "rational",
    "single_path_logistic_gradient",
]


# -- helpers ----------------------------------------------------------------------------------------


def _check_family(model) -> None:
    if not isinstance(model, _GatedFamily):
        raise ValueError(f"model = {model!r} is not allowed: use a StackedDLGN, StackedDLGNSF or StackedDLGNVT")


def one_model(params: dict[str, torch.Tensor], k: int) -> dict[str, torch.Tensor]:
    """Model k of a stacked parameter dict, as (1, ...) tensors in float64 (k an integer in [0, K - 1])."""
    count = next(iter(params.values())).shape[0]
    k = check_int("k", k, 0, count - 1)
    return {name: p[k:k + 1].detach().to(torch.float64) for name, p in params.items()}


def _weights(params, k) -> dict[str, np.ndarray]:
    return {name: p[0].cpu().numpy() for name, p in one_model(params, k).items()}


def _as_points(model: _GatedFamily, x) -> np.ndarray:
    x = np.asarray(x.detach().cpu().numpy() if torch.is_tensor(x) else x, dtype=np.float64)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2 or x.shape[1] != model.input_dim:
        raise ValueError(f"x has shape {x.shape}: expected (n, {model.input_dim})")
    return x


def model_gates(model: _GatedFamily, params, k: int, x, beta: float | None = None) -> list[np.ndarray]:
    """G^1(x), ..., G^L(x) of model k at points x (n, d), each (n, m_ℓ), from the forward pass's gating."""
    _check_family(model)
    pts = torch.as_tensor(_as_points(model, x)).unsqueeze(0)
    with torch.no_grad():
        return [g[0].numpy() for g in model.gates(one_model(params, k), pts, beta)]


def rational(value) -> sp.Rational:
    """The exact rational value of a float (a dyadic rational; no rounding) or of an int/Fraction.

    >>> rational(0.375)
    3/8
    """
    return sp.Rational(float(value)) if isinstance(value, (float, np.floating)) else sp.Rational(value)


def _rational_matrix(a: np.ndarray) -> sp.Matrix:
    a = np.atleast_2d(a)
    return sp.Matrix(a.shape[0], a.shape[1], [rational(v) for v in a.reshape(-1)])


# -- effective half-spaces ----------------------------------------------------------------------------


def effective_hyperplanes(model: _GatedFamily, params, k: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """(V^ℓ, c^ℓ) for ℓ = 1..L in float64: η^ℓ(x) = V^ℓ x + c^ℓ, V^ℓ of shape (m_ℓ, d).

    For a DLGN, V^ℓ = W^ℓ V^(ℓ-1) and c^ℓ = W^ℓ c^(ℓ-1) + b^ℓ (c = 0 without gating biases); for
    a DLGN-SF they are its parameters.

    Examples
    --------
    >>> net = StackedDLGN(3, [4, 2])
    >>> [v.shape for v, c in effective_hyperplanes(net, net.init([0]))]
    [(4, 3), (2, 3)]

    References
    ----------
    ``shared/theory/dlgn.md`` §2 item 2 and §4 item 3.
    """
    _check_family(model)
    w = _weights(params, k)
    out, v, c = [], np.eye(model.input_dim), np.zeros(model.input_dim)
    for ell, m in enumerate(model.widths, start=1):
        if isinstance(model, StackedDLGNSF):
            v, c = w[f"gv{ell}"], w.get(f"gc{ell}", np.zeros(m))
        else:
            v, c = w[f"gw{ell}"] @ v, w[f"gw{ell}"] @ c + w.get(f"gb{ell}", np.zeros(m))
        out.append((v.copy(), c.copy()))
    return out


def effective_hyperplanes_exact(model: _GatedFamily, params, k: int = 0) -> list[tuple[sp.Matrix, sp.Matrix]]:
    """(V^ℓ, c^ℓ) in exact rational arithmetic (sympy matrices; c^ℓ a column).

    Each float64 weight is converted to its exact dyadic value, so the products are the exact
    effective half-spaces of the network whose weights are the stored floats.

    Examples
    --------
    >>> net = StackedDLGN(2, [2, 2])
    >>> p = {"gw1": torch.tensor([[[0.5, 1.0], [1.0, -1.0]]]), "gw2": torch.tensor([[[1.0, 2.0], [0.0, 3.0]]]),
    ...      "v1": torch.ones(1, 2), "v2": torch.ones(1, 2, 2), "out": torch.ones(1, 1, 2)}
    >>> effective_hyperplanes_exact(net, p)[1][0]
    Matrix([
    [5/2, -1],
    [  3, -3]])
    """
    _check_family(model)
    w = _weights(params, k)
    out = []
    v, c = sp.eye(model.input_dim), sp.zeros(model.input_dim, 1)
    for ell, m in enumerate(model.widths, start=1):
        bias = _rational_matrix(w[f"gb{ell}" if isinstance(model, StackedDLGN) else f"gc{ell}"]).T \
            if model.gating_bias else sp.zeros(m, 1)
        if isinstance(model, StackedDLGNSF):
            v, c = _rational_matrix(w[f"gv{ell}"]), bias
        else:
            weight = _rational_matrix(w[f"gw{ell}"])
            v, c = weight * v, weight * c + bias
        out.append((v, c))
    return out


def exact_preactivations(model: _GatedFamily, params, point, k: int = 0) -> list[sp.Matrix]:
    """η^1(x), ..., η^L(x) at one point, computed layer by layer as the network does, in rationals.

    For a DLGN: η^ℓ = W^ℓ η^(ℓ-1) + b^ℓ from η^0 = x; for a DLGN-SF: V^ℓ x + c^ℓ.  `point`
    may hold ints, Fractions, sympy Rationals or floats (taken at their exact value).
    """
    _check_family(model)
    coords = list(point)
    if len(coords) != model.input_dim:
        raise ValueError(f"point has {len(coords)} coordinates: expected {model.input_dim}")
    x = sp.Matrix([rational(v) if isinstance(v, (float, np.floating)) else sp.Rational(v) for v in coords])
    w = _weights(params, k)
    out, eta = [], x
    for ell, m in enumerate(model.widths, start=1):
        prefix = ("gb", "gw") if isinstance(model, StackedDLGN) else ("gc", "gv")
        bias = _rational_matrix(w[f"{prefix[0]}{ell}"]).T if model.gating_bias else sp.zeros(m, 1)
        source = eta if isinstance(model, StackedDLGN) else x
        eta = _rational_matrix(w[f"{prefix[1]}{ell}"]) * source + bias
        out.append(eta)
    return out


def exact_rank(matrix: sp.Matrix) -> int:
    """The exact rank of a rational matrix (fraction-field elimination, sympy DomainMatrix over QQ).

    >>> exact_rank(sp.Matrix([[1, 2], [2, 4], [sp.Rational(1, 3), sp.Rational(2, 3)]]))
    1
    """
    from sympy.polys.matrices import DomainMatrix

    if matrix.rows == 0 or matrix.cols == 0:
        return 0
    return int(DomainMatrix.from_Matrix(matrix).convert_to(sp.QQ).rank())


def normalized_hyperplanes(v: np.ndarray, c: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(v/|v|, c/|v|) row by row: unit normals and signed offsets (the hyperplane is v̂·x + ĉ = 0).

    >>> vh, ch = normalized_hyperplanes(np.array([[3.0, 4.0]]), np.array([10.0]))
    >>> vh.tolist(), ch.tolist()
    ([[0.6, 0.8]], [2.0])
    """
    v = np.atleast_2d(np.asarray(v, dtype=np.float64))
    c = np.zeros(v.shape[0]) if c is None else np.asarray(c, dtype=np.float64).reshape(-1)
    norms = np.linalg.norm(v, axis=1)
    if np.any(norms == 0):
        raise ValueError(f"v has {int(np.sum(norms == 0))} zero rows: a zero normal defines no hyperplane")
    return v / norms[:, None], c / norms


# -- paths ----------------------------------------------------------------------------------------------


def path_values(model: _GatedFamily, params, k: int = 0) -> np.ndarray:
    """The path values g_π as a tensor of shape (o, m_1, ..., m_L), or (o, d, m_1, ..., m_L) for value input x.

    g_(i_0, i_1..i_L) = U^1_(i_1 i_0) Π_(ℓ>=2) U^ℓ_(i_ℓ i_(ℓ-1)) u^(L+1)_(o i_L), built by outer
    products (for DLGN-VT: its tensor ``g``).

    Examples
    --------
    >>> net = StackedDLGN(2, [3, 4])
    >>> path_values(net, net.init([0])).shape
    (1, 3, 4)

    References
    ----------
    ``shared/theory/dlgn.md`` §3 (path value).
    """
    _check_family(model)
    w = _weights(params, k)
    if isinstance(model, StackedDLGNVT):
        return w["g"].copy()
    t = w["v1"] if model.value_input == "one" else w["v1"].T  # ([d,] m_1)
    for ell in range(2, model.depth + 1):
        t = t[..., :, None] * w[f"v{ell}"].T  # [..., i_(ℓ-1), i_ℓ] = t[..., i_(ℓ-1)] U[i_ℓ, i_(ℓ-1)]
    return np.stack([t * w["out"][o] for o in range(model.output_dim)])


def path_gates(gates: list[np.ndarray]) -> np.ndarray:
    """f_π(x) = Π_ℓ G^ℓ_(i_ℓ)(x) for all paths: shape (n, m_1, ..., m_L).

    >>> path_gates([np.array([[1.0, 0.5]]), np.array([[0.5, 1.0, 0.0]])]).tolist()
    [[[0.5, 1.0, 0.0], [0.25, 0.5, 0.0]]]
    """
    f = np.asarray(gates[0], dtype=np.float64)
    for g in gates[1:]:
        f = f[..., None] * np.asarray(g, dtype=np.float64).reshape(g.shape[0], *([1] * (f.ndim - 1)), -1)
    return f


def path_sum_from_gates(values: np.ndarray, gates: list[np.ndarray], x: np.ndarray | None = None):
    """Σ_π g_π f_π(x) with the given gates; returns (output (n, o), scale Σ_π |g_π f_π(x)| (n, o)).

    `values` is the tensor of :func:`path_values`; `x` (n, d) is needed for value input x
    (``values`` then has the extra input axis).
    """
    f = path_gates(gates).reshape(gates[0].shape[0], -1)  # (n, P)
    n, o = f.shape[0], values.shape[0]
    if values.ndim == len(gates) + 2:  # value input x: features x_(i_0) f_π
        if x is None:
            raise ValueError("x = None: value input x needs the points")
        feats = (np.asarray(x)[:, :, None] * f[:, None, :]).reshape(n, -1)
    else:
        feats = f
    g = values.reshape(o, -1)
    return feats @ g.T, np.abs(feats) @ np.abs(g).T


def path_sum(model: _GatedFamily, params, x, k: int = 0, beta: float | None = None):
    """ŷ(x) = Σ_π g_π f_π(x) by explicit enumeration of all paths.

    Returns (output (n, o), scale (n, o)) where scale = Σ_π |g_π f_π(x)| is the size of the
    terms, the natural reference for the rounding error of the sum.

    Examples
    --------
    >>> net = StackedDLGN(3, [3, 2, 2], value_input="x")
    >>> p = net.init([4])
    >>> x = np.random.default_rng(0).normal(size=(5, 3))
    >>> y, scale = path_sum(net, p, x)
    >>> fwd = net.forward(p, torch.as_tensor(x)[None])[0].numpy()
    >>> bool(np.all(np.abs(y - fwd) <= 1e-12 * scale))
    True

    References
    ----------
    ``shared/theory/dlgn.md`` §3 and check D1.
    """
    pts = _as_points(model, x)
    return path_sum_from_gates(path_values(model, params, k), model_gates(model, params, k, pts, beta), pts)


def matrix_form(model: _GatedFamily, params, x, k: int = 0, beta: float | None = None) -> np.ndarray:
    """ŷ(x) = u^(L+1)ᵀ D^L U^L ⋯ D^2 U^2 D^1 u^1 (or ... D^1 U^1 x), D^ℓ = diag(G^ℓ(x)), point by point; (n, o).

    The D^ℓ are explicit diagonal matrices up to width 512 (above, the same product is taken
    entrywise, since a dense diagonal of width 10^4 would take 800 MB).

    >>> net = StackedDLGN(2, [3, 3])
    >>> p = net.init([0])
    >>> x = np.array([[0.3, -0.2]])
    >>> bool(np.allclose(matrix_form(net, p, x), net.forward(p, torch.as_tensor(x)[None])[0].numpy()))
    True
    """
    if isinstance(model, StackedDLGNVT):
        raise ValueError("model = StackedDLGNVT has no value matrices: use path_sum")
    pts = _as_points(model, x)
    gates = model_gates(model, params, k, pts, beta)
    w = _weights(params, k)
    out = np.empty((pts.shape[0], model.output_dim))
    for a in range(pts.shape[0]):
        h = _diag_times(gates[0][a], w["v1"] if model.value_input == "one" else w["v1"] @ pts[a])
        for ell in range(2, model.depth + 1):
            h = _diag_times(gates[ell - 1][a], w[f"v{ell}"] @ h)
        out[a] = w["out"] @ h
    return out


def _diag_times(gate: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """D v with D = diag(gate): an explicit matrix product for widths up to 512, the same product entrywise above."""
    return np.diag(gate) @ vector if len(gate) <= 512 else gate * vector


def path_weight_sum(model: _GatedFamily, params, k: int = 0, x=None) -> np.ndarray:
    """S = Σ_π |g_π| (value input 1), or S(x) = Σ_(i_0, π) |g_(i_0 π)| |x_(i_0)| (value input x); shape (o,) or (n, o).

    Computed in O(L m^2) as |u^(L+1)|ᵀ |U^L| ⋯ |U^2| |u^1| (or ⋯ |U^1| |x|).

    References
    ----------
    ``shared/theory/dlgn.md`` §7.
    """
    _check_family(model)
    if isinstance(model, StackedDLGNVT):
        g = np.abs(path_values(model, params, k))
        if model.value_input == "one":
            return g.reshape(g.shape[0], -1).sum(-1)
        return np.abs(_as_points(model, x)) @ g.reshape(g.shape[0], g.shape[1], -1).sum(-1).T
    w = {name: np.abs(a) for name, a in _weights(params, k).items()}
    if model.value_input == "one":
        h = w["v1"][:, None]
    else:
        h = w["v1"] @ np.abs(_as_points(model, x)).T  # (m_1, n)
    for ell in range(2, model.depth + 1):
        h = w[f"v{ell}"] @ h
    out = (w["out"] @ h).T
    return out[0] if model.value_input == "one" else out


def margin(model: _GatedFamily, params, x, k: int = 0) -> np.ndarray:
    """δ(x) = min_(ℓ, i) |η^ℓ_i(x)|, shape (n,), from the effective half-spaces."""
    pts = _as_points(model, x)
    etas = [pts @ v.T + c for v, c in effective_hyperplanes(model, params, k)]
    return np.min(np.abs(np.concatenate(etas, axis=1)), axis=1)


def neuron_jump(model: _GatedFamily, params, layer: int, neuron: int, x, k: int = 0) -> np.ndarray:
    """The jump of ŷ (hard gates) across the hyperplane of neuron (ℓ, i), at points x on it; shape (n, o).

    Σ_(π ∋ (ℓ, i)) g_π Π_(ℓ' ≠ ℓ) G^(ℓ')_(i_ℓ')(x) (times x_(i_0) for value input x): the sum over
    the paths through the neuron with the other layers' gates evaluated at x; the output on the
    side η^ℓ_i > 0 minus the output on the other side.

    References
    ----------
    ``shared/theory/dlgn.md`` §12, check D7.
    """
    _check_family(model)
    layer = check_int("layer", layer, 1, model.depth)
    m = model.widths[layer - 1]
    neuron = check_int("neuron", neuron, 0, m - 1)
    pts = _as_points(model, x)
    gates = model_gates(model, params, k, pts, math.inf)
    one_hot = np.zeros((pts.shape[0], m))
    one_hot[:, neuron] = 1.0
    gates[layer - 1] = one_hot
    return path_sum_from_gates(path_values(model, params, k), gates, pts)[0]


def cell_slopes(model: _GatedFamily, params, x, k: int = 0) -> np.ndarray:
    """a(cell) = u^(L+1)ᵀ D^L U^L ⋯ D^1 U^1 with hard gates at each point: shape (n, o, d) (value input x).

    On the cell of x the hard-gated output is exactly x -> a(cell) x.
    """
    if model.value_input != "x" or isinstance(model, StackedDLGNVT):
        raise ValueError(f"model value_input = {model.value_input!r}: cell slopes need a DLGN or DLGN-SF "
                         "with value input x")
    pts = _as_points(model, x)
    gates = model_gates(model, params, k, pts, math.inf)
    w = _weights(params, k)
    out = np.empty((pts.shape[0], model.output_dim, model.input_dim))
    for a in range(pts.shape[0]):
        mat = gates[0][a][:, None] * w["v1"]
        for ell in range(2, model.depth + 1):
            mat = gates[ell - 1][a][:, None] * (w[f"v{ell}"] @ mat)
        out[a] = w["out"] @ mat
    return out


# -- kernels ---------------------------------------------------------------------------------------------


def path_features(gates: list[np.ndarray], x: np.ndarray | None = None) -> np.ndarray:
    """The path features: f_π(x) for all π (n, Π m_ℓ), or x_(i_0) f_π(x) (n, d Π m_ℓ) when x is given.

    Their inner products are :func:`overlap_kernel` (and :func:`npk` with x).
    """
    f = path_gates(gates).reshape(gates[0].shape[0], -1)
    if x is None:
        return f
    return (np.asarray(x)[:, :, None] * f[:, None, :]).reshape(f.shape[0], -1)


def overlap_kernel(gates_a: list[np.ndarray], gates_b: list[np.ndarray]) -> np.ndarray:
    """K(x, x') = Π_ℓ ⟨G^ℓ(x), G^ℓ(x')⟩ = Σ_π f_π(x) f_π(x'): the Gram matrix (n_a, n_b) in O(L n_a n_b m).

    >>> g = [np.array([[1.0, 0.0], [1.0, 1.0]]), np.array([[0.5, 1.0], [1.0, 1.0]])]
    >>> overlap_kernel(g, g).tolist()
    [[1.25, 1.5], [1.5, 4.0]]

    References
    ----------
    ``shared/theory/dlgn.md`` §6 (the overlap kernel; the identity is derived).
    """
    if len(gates_a) != len(gates_b):
        raise ValueError(f"gates_b has {len(gates_b)} layers: expected {len(gates_a)} like gates_a")
    out = np.ones((gates_a[0].shape[0], gates_b[0].shape[0]))
    for ga, gb in zip(gates_a, gates_b):
        out *= ga @ gb.T
    return out


def npk(gates_a: list[np.ndarray], x_a: np.ndarray, gates_b: list[np.ndarray], x_b: np.ndarray) -> np.ndarray:
    """The neural path kernel ⟨x, x'⟩ · Π_ℓ ⟨G^ℓ(x), G^ℓ(x')⟩ (value input x).

    References
    ----------
    Lakshminarayanan, Singh, NeurIPS 2020; ``shared/theory/dlgn.md`` §6.
    """
    return (np.asarray(x_a) @ np.asarray(x_b).T) * overlap_kernel(gates_a, gates_b)


# -- active path regions -------------------------------------------------------------------------------


@dataclass
class PathRegions:
    """Which active path regions R_π meet a box window in a set with interior.

    Attributes
    ----------
    paths : ndarray (P, L)
        Every path (i_1, ..., i_L).
    depth : ndarray (P,)
        The LP optimum t*: the largest t such that some x in the window satisfies v̂·x + ĉ >= t
        for the L (normalised) half-spaces of the path; R_π has interior in the window iff t* > 0.
    nonempty : ndarray (P,) of bool
        t* > tol.
    points : ndarray (P, d)
        The LP's maximiser (a point deep inside R_π when it is non-empty).
    """

    paths: np.ndarray
    depth: np.ndarray
    nonempty: np.ndarray
    points: np.ndarray

    @property
    def count(self) -> int:
        """Number of non-empty regions (at most Π_ℓ m_ℓ)."""
        return int(self.nonempty.sum())


def active_path_regions(model: _GatedFamily, params, k: int = 0, window: float = 1.0,
                        tol: float = 1e-9) -> PathRegions:
    """Decide for every path π whether R_π ∩ [-window, window]^d has interior, by one LP each.

    The LP (scipy ``linprog``, HiGHS): maximise t over (x, t) subject to v̂_(ℓ i_ℓ)·x + ĉ_(ℓ i_ℓ) >= t
    for ℓ = 1..L, |x_j| <= window, t <= 1.

    Examples
    --------
    >>> net = StackedDLGN(2, [3, 3])
    >>> regions = active_path_regions(net, net.init([0]))
    >>> regions.paths.shape, 0 < regions.count <= 9
    ((9, 2), True)

    References
    ----------
    ``shared/theory/dlgn.md`` §4 item 2 and §8 (path regions; check D8).
    """
    from scipy.optimize import linprog

    _check_family(model)
    window = check_positive("window", window)
    planes = [normalized_hyperplanes(v, c) for v, c in effective_hyperplanes(model, params, k)]
    d = model.input_dim
    paths = np.array(list(itertools.product(*[range(m) for m in model.widths])), dtype=int)
    depth = np.empty(len(paths))
    points = np.empty((len(paths), d))
    cost = np.zeros(d + 1)
    cost[-1] = -1.0
    bounds = [(-window, window)] * d + [(None, 1.0)]
    for p, path in enumerate(paths):
        a = np.array([np.append(-planes[ell][0][i], 1.0) for ell, i in enumerate(path)])
        b = np.array([planes[ell][1][i] for ell, i in enumerate(path)])
        res = linprog(cost, A_ub=a, b_ub=b, bounds=bounds, method="highs")
        if res.status != 0:
            raise RuntimeError(f"linprog failed on path {tuple(path)}: {res.message}")
        depth[p], points[p] = res.x[-1], res.x[:-1]
    return PathRegions(paths, depth, depth > tol, points)


def single_path_logistic_gradient(a: float, w: np.ndarray, x: np.ndarray, y: float, beta: float) -> np.ndarray:
    """-∇_(w_k) log(1 + e^(-y ŷ)) for one soft-gated path ŷ = a Π_ℓ φ(w_ℓ·x), φ = sigmoid(β ·); shape (L, d).

    -∇_(w_k) ℓ = sigmoid(-y ŷ) · y a · Λ_k(x) · φ'(w_k·x) · x, with Λ_k = Π_(κ≠k) φ(w_κ·x) and
    φ' = β φ (1 - φ): the gradient of one path expert, whose half-space k moves along x weighted by
    how much the other gates let the path through.

    Examples
    --------
    >>> g = single_path_logistic_gradient(2.0, np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([0.5, -0.5]), 1.0, 3.0)
    >>> g.shape
    (2, 2)

    References
    ----------
    ``shared/theory/dlgn.md`` §7 (single-path gradient, check D13).
    """
    w = np.atleast_2d(np.asarray(w, dtype=np.float64))
    x = np.asarray(x, dtype=np.float64)
    if w.shape[1] != x.shape[0]:
        raise ValueError(f"x has {x.shape[0]} coordinates: expected {w.shape[1]} like the rows of w")
    beta = check_positive("beta", beta)  # soft gates only
    phi = 1.0 / (1.0 + np.exp(-beta * (w @ x)))
    y_hat = a * np.prod(phi)
    out = np.empty_like(w)
    for k in range(len(w)):
        others = np.prod(np.delete(phi, k))
        out[k] = (1.0 / (1.0 + np.exp(y * y_hat))) * y * a * others * beta * phi[k] * (1 - phi[k]) * x
    return out
