"""Explicit ReLU networks for f = g ∘ π_M on a tube and for the distance model, and baselines.

:func:`projection_net` builds variant (a) of intrinsic_dimension.md §5.2 as one pure-ReLU
:class:`~relunet.constructions.network.ReluNet`:

1. centres c_1..c_N on an r-net of M (a coordinate grid with a known covering radius r);
2. localisation by affine comparisons (G3): a_i(x) = |c_i - b|² - 2⟨c_i - b, x - b⟩ equals
   |x - c_i|² - |x - b|², so the gaps e_i(x) = a_i(x) - min_j a_j(x) = |x - c_i|² - min_j
   |x - c_j|² are exact ReLU functions (an affine map and a min tree, depth ⌈log2 N⌉);
3. ramps ρ_i = σ(κ r² - e_i)/(κ r²) with ρ = 1 at the nearest centre, so B = Σ ρ_i >= 1;
4. constant local pieces g(c_i) (enough for α <= 1), A = Σ g(c_i) ρ_i;
5. the partition of unity w_i = ρ_i / B: f̂ = A · (1/B), with 1/B a piecewise-linear net on
   geometric knots of [1, K] (K bounds the number of active centres) and the product by
   Yarotsky's product gate.

By (G2) the active centres lie within r sqrt((κ + 1 + q)/(1 - q)) of π(x) on the whole tube, so
the error is at most L (r sqrt((κ + 1 + q)/(1 - q)))^α plus the arithmetic error of steps 5
(:func:`relunet.bounds.intrinsic.projection_net_error`).  The net reads x only through N
affine maps: N·D weights, times a constant, so its size is linear in D and its error does not
depend on D.  ``mode="semi"`` gives :class:`SemiExplicitProjectionNet`, the same construction
with exact min, division and (for ``pieces="affine"``, local pieces g(c_i) + ⟨γ_i, V_iᵀ(x -
c_i)⟩ on the local affine charts) exact products, for debugging; its ``size()`` lists those
operations.

:func:`distance_net` builds §5.3: the squared distance to an η-net of M as |x|² (Yarotsky
squares of the coordinates) plus an exact min of affine functions, then a piecewise-linear
square root on a graded grid.  :class:`GridApproximant` is the D-variate contrast: a
piecewise-constant table on a grid of the bounding box (semi-explicit).  :func:`train_mlps`
trains StackedMLPs on tube data with the batched trainer.

Variant (b) (fixed charts and foot-point iteration, for α > 1) is
:class:`relunet.constructions.foot_point.FootPointNet` (round spheres, semi-explicit).

References
----------
A. Cloninger, T. Klock, "A deep network construction that adapts to intrinsic dimensionality
beyond the domain", Neural Networks 141 (2021) 404-419 (the model; the paper's own
construction is not known to relunet).
D. Yarotsky, "Error bounds for approximations with deep ReLU networks", Neural Networks 94
(2017), Propositions 2-3 (squares and products).
``shared/theory/intrinsic_dimension.md`` §4 (G2, G3), §5.2 variant (a), §5.3.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sparse
import torch

from relunet.bounds import intrinsic as intrinsic_bounds

from .manifolds import CoordinateGrid, HolderFunction, Manifold, ManifoldTarget
from .models import ArrayModule, StackedMLP
from .network import NetSize, ReluNet, compose, parallel
from .primitives import piecewise_linear, product_gate, yarotsky_square
from .training import BatchedTrainer
from .validation import check_int, check_positive, check_real

__all__ = [
    "GridApproximant",
    "ProjectionNet",
    "SemiExplicitProjectionNet",
    "DistanceNet",
    "TrainedMLPs",
    "distance_net",
    "graded_sqrt_knots",
    "min_tree_layers",
    "projection_net",
    "reciprocal_knots",
    "train_mlps",
]


class _Layers:
    """Float64 layers built stage by stage: units = σ(A v + a), then v = R units + c.

    `v` is the vector of values the construction tracks; each stage says which units it needs
    as an affine map of the current values and how the new values read the units.  A and R
    may be scipy.sparse matrices: a product with a sparse factor is stored as a CSR layer of
    the ReluNet (the min trees and carries have O(N) nonzeros in N x N matrices).
    """

    def __init__(self, readout, offset: np.ndarray):
        self.layers: list[tuple] = []
        self.readout, self.offset = readout, offset

    def stage(self, a_mat, a_vec, r_mat, r_vec) -> None:
        weight = a_mat @ self.readout
        if sparse.issparse(weight):
            weight = sparse.csr_matrix(weight)
        bias = np.asarray(a_mat @ self.offset).reshape(-1) + a_vec
        self.layers.append((weight, bias))
        self.readout, self.offset = r_mat, np.asarray(r_vec, dtype=np.float64)

    def net(self, name: str) -> ReluNet:
        readout = sparse.csr_matrix(self.readout) if sparse.issparse(self.readout) else self.readout
        return ReluNet(self.layers + [(readout, self.offset)], name=name)



def min_tree_layers(n: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Levels of a min tree over n values that are >= 0: (A, R, keep) per level.

    A pair (s, t) uses the units σ(s) and σ(s - t), and min(s, t) = σ(s) - σ(s - t) for s >= 0;
    an odd value is carried by σ(t) = t.  A maps the level's values to its units and R its
    units to the next values.  ⌈log2 n⌉ levels, n + n/2 + ... units.

    >>> levels = min_tree_layers(3)
    >>> [a.shape for a, _, _ in levels]
    [(3, 3), (2, 2)]
    """
    levels, width = [], n
    while width > 1:
        pairs, odd = width // 2, width % 2
        units = 2 * pairs + odd
        j = np.arange(pairs)
        a_mat = np.zeros((units, width))
        r_mat = np.zeros((pairs + odd, units))
        a_mat[2 * j, 2 * j] = 1.0
        a_mat[2 * j + 1, 2 * j], a_mat[2 * j + 1, 2 * j + 1] = 1.0, -1.0
        r_mat[j, 2 * j], r_mat[j, 2 * j + 1] = 1.0, -1.0
        if odd:
            a_mat[-1, -1] = 1.0
            r_mat[-1, -1] = 1.0
        levels.append((a_mat, r_mat, pairs + odd))
        width = pairs + odd
    return levels


MAX_KNOTS = 10**7


def _check_knot_count(count: float, detail: str) -> int:
    """`count` knots as an int, if it is at most MAX_KNOTS (else the arguments ask for too fine a grid)."""
    if not count <= MAX_KNOTS:
        raise ValueError(f"{detail} need about {count:.3g} knots: at most {MAX_KNOTS:.0e} are built "
                         "(ask for a larger error or a smaller upper)")
    return int(count)


def reciprocal_knots(upper: float, relative_error: float) -> np.ndarray:
    """Geometric knots 1 = t_0 < ... < t_J >= upper with PL interpolation of 1/t within
    `relative_error` of 1/t on [1, upper].

    On [a, a(1 + h)] the interpolation error of 1/t is at most (a h)² max|f''|/8 = h²/(4a),
    which is h²(1 + h)/4 relative to 1/t; h = sqrt(2 relative_error) keeps it below.  `upper`
    must be a finite number >= 1 and the grid at most ``MAX_KNOTS`` knots (else ValueError).

    References
    ----------
    intrinsic_dimension.md §5.2 step 5 (the reciprocal 1/B, B ∈ [1, K]).

    >>> k = reciprocal_knots(4.0, 1e-3)
    >>> bool(k[0] == 1.0 and k[-1] >= 4.0), len(k)
    (True, 33)
    """
    upper = check_real("upper", upper, 1)
    h = math.sqrt(2 * check_positive("relative_error", relative_error))
    count = max(1.0, math.ceil(math.log(max(upper, 1.0 + 1e-12)) / math.log1p(h)))
    count = _check_knot_count(count, f"upper = {upper!r} and relative_error = {relative_error!r}")
    return (1.0 + h) ** np.arange(count + 1)


def graded_sqrt_knots(upper: float, error: float) -> np.ndarray:
    """Knots on [0, upper] with PL interpolation of sqrt within `error`.

    The first piece [0, 16 ε²] errs by sqrt(16 ε²)/4 = ε; on [a, b] the error is at most
    (b - a)² a^(-3/2)/32, so b = a + sqrt(32 ε) a^(3/4).  About 4 upper^(1/4)/sqrt(32 ε) knots:
    O(sqrt(R/ε)) for upper = R², not the O(R²/ε²) of a uniform grid.  `upper` must be a finite
    number >= 0 and the grid at most ``MAX_KNOTS`` knots (else ValueError).

    References
    ----------
    intrinsic_dimension.md §5.3 step 2 (graded grid).

    >>> k = graded_sqrt_knots(4.0, 1e-3)
    >>> bool(k[-1] >= 4.0), len(k) < 60
    (True, True)
    """
    upper, eps = check_real("upper", upper, 0), check_positive("error", error)
    _check_knot_count(2 + 4 * upper**0.25 / math.sqrt(32 * eps), f"upper = {upper!r} and error = {error!r}")
    knots = [0.0, 16 * eps * eps]
    while knots[-1] < upper:
        knots.append(knots[-1] + math.sqrt(32 * eps) * knots[-1] ** 0.75)
    return np.array(knots)


def _pl_units(knots: np.ndarray, values: np.ndarray, outside: str = "constant"):
    """(W1, b1, W2, b2) of relunet's one-hidden-layer PL interpolant, in float64."""
    net = piecewise_linear(list(map(float, knots)), list(map(float, values)), outside=outside)
    (w1, b1), (w2, b2) = zip(net.weights, net.biases)
    return w1[:, 0], b1, w2[0], float(b2[0])


def _gate_steps(accuracy: float) -> int:
    """Steps m of the product gate on [-1, 1]² with error 4^(-m) <= accuracy."""
    return max(1, math.ceil(math.log(1 / accuracy, 4)))


@dataclass(frozen=True)
class ProjectionNet:
    """A projection network and what it was built from.

    Attributes
    ----------
    net : ReluNet or SemiExplicitProjectionNet
    centres : CoordinateGrid
        The r-net on M (``centres.covering_radius`` is r).
    q, kappa : float
        Tube fraction it is built for and the ramp width in units of r².
    overlap : int
        K: the most centres that can be active at once (a bound from the centres).
    arithmetic_error : float
        Bound on the error of the reciprocal and the product gate (0 for the semi-explicit net).
    error_bound : float or None
        L (r sqrt((κ + 1 + q)/(1 - q)))^α + arithmetic_error, evaluated from the Bound
        :func:`relunet.bounds.intrinsic.projection_net_error` (None when L is unknown or `values`
        replace g).
    domain_radius : float
        The net is the construction on the ball |x - b| <= domain_radius (it holds the tube).
    """

    net: object
    centres: CoordinateGrid
    q: float
    kappa: float
    overlap: int
    arithmetic_error: float
    error_bound: float | None
    domain_radius: float

    def size(self) -> NetSize:
        return self.net.size()


def _overlap(points: np.ndarray, radius: float) -> int:
    """max over centres c of #{c' : |c' - c| <= radius}: a bound on the active centres."""
    from scipy.spatial import cKDTree

    tree = cKDTree(points)
    return int(max(len(v) for v in tree.query_ball_point(points, radius)))


def _check_q(q) -> float:
    """The tube fraction: a number in [0, 1) (NumPy scalars count)."""
    try:
        return check_real("q", q, 0, 1, high_open=True)
    except ValueError as err:
        raise ValueError(f"{err} (for q >= 1 the tube meets the medial axis)") from None


def _centre_grid(manifold: Manifold, centres) -> CoordinateGrid:
    """The r-net: `centres` itself, or the coarsest coordinate grid with at least `centres` points."""
    if isinstance(centres, CoordinateGrid):
        return centres
    return manifold.grid_with(check_int("centres", centres, 1, why=" (a budget), or a CoordinateGrid"))


def projection_net(manifold: Manifold, g: HolderFunction, centres: CoordinateGrid | int, q: float, *,
                   kappa: float = 1.0, accuracy: float | None = None, mode: str = "pure",
                   pieces: str = "constant", values: np.ndarray | None = None) -> ProjectionNet:
    """Variant (a) network for f = g ∘ π_M on the tube M(qτ) (module docstring, steps 1-5).

    Parameters
    ----------
    manifold : Manifold
    g : HolderFunction
        The function on M; its Hölder constant enters the error bound.
    centres : CoordinateGrid or int
        The r-net, or a budget: the coarsest coordinate grid with at least that many points.
    q : float
        0 <= q < 1: the tube the net is built for (it sets K).
    kappa : float
        Ramp width: a centre is switched off once its gap e_i exceeds κ r².
    accuracy : float, optional
        Budget for the arithmetic error (reciprocal and product gate); by default 1% of
        L r^α (1e-4 when L is unknown).
    mode : {"pure", "semi"}
        "pure": a ReluNet; "semi": :class:`SemiExplicitProjectionNet` (exact min, division,
        products).
    pieces : {"constant", "affine"}
        Local pieces g(c_i), or g(c_i) + ⟨γ_i, u_i(x)⟩ on the chart u_i(x) = V_iᵀ(x - c_i) with
        γ_i the tangential gradient of g at c_i ("semi" mode only: the products of the ramps
        with the charts are exact there).
    values : array of shape (N,), optional
        Local values to use instead of g(c_i) (negative controls; fitting the values); the
        error bound then no longer applies and is None.

    References
    ----------
    intrinsic_dimension.md §5.2 variant (a); (G2) and (G3) of §4.

    Examples
    --------
    >>> from relunet.constructions.manifolds import Circle, ManifoldTarget
    >>> m = Circle(5, seed=0)
    >>> g = m.kink_function(1.0)
    >>> built = projection_net(m, g, 16, q=0.5)
    >>> x = m.sample_tube(200, 0.5, seed=1).x
    >>> err = np.abs(built.net(x)[:, 0] - ManifoldTarget(m, g).numpy(x)).max()
    >>> bool(err <= built.error_bound)
    True
    """
    q = _check_q(q)
    kappa = check_positive("kappa", kappa)
    if mode not in ("pure", "semi"):
        raise ValueError(f"mode = {mode!r} is not allowed: use 'pure' or 'semi'")
    if pieces not in ("constant", "affine"):
        raise ValueError(f"pieces = {pieces!r} is not allowed: use 'constant' or 'affine'")
    if pieces == "affine" and mode == "pure":
        raise ValueError("pieces = 'affine' needs products of the ramps with the charts: use mode='semi' "
                         "(the pure-ReLU net uses constant pieces, enough for alpha <= 1)")
    grid = _centre_grid(manifold, centres)
    r = grid.covering_radius
    own = values is None
    values = ManifoldTarget(manifold, g).on_manifold(grid.points) if own else np.asarray(values, dtype=np.float64)
    if values.shape != (grid.points.shape[0],) or not np.all(np.isfinite(values)):
        raise ValueError(f"values has shape {values.shape}: expected {grid.points.shape[0]} finite numbers")
    active = r * math.sqrt((kappa + 1 + q) / (1 - q))
    overlap = _overlap(grid.points, active + r)
    scale = g.constant * r**g.alpha if g.constant is not None else None
    budget = check_positive("accuracy", accuracy) if accuracy is not None else (
        0.01 * scale if scale is not None else 1e-4)
    domain = 2 * (float(np.max(np.linalg.norm(grid.points - manifold.origin, axis=1))) + r
                  + q * manifold.tube_scale) + 1
    if mode == "semi":
        net = SemiExplicitProjectionNet(manifold, g, grid, values, r, kappa, pieces)
        arithmetic = 0.0
    else:
        net, arithmetic = _pure_projection(manifold.origin, grid.points, values, r, kappa, overlap,
                                           budget, domain)
    # the Bound intrinsic.net.error, so that the claims measure against the package's formula
    bound = float(intrinsic_bounds.projection_net_error().evaluate(
        L=g.constant, r=r, kappa=kappa, q=q, alpha=g.alpha, e=arithmetic)) if (g.constant is not None and own) else None
    return ProjectionNet(net, grid, q, kappa, overlap, arithmetic, bound, domain)


def _pure_projection(origin: np.ndarray, points: np.ndarray, values: np.ndarray, r: float,
                     kappa: float, overlap: int, budget: float, domain: float) -> tuple[ReluNet, float]:
    """The pure-ReLU net of steps 2-5; returns it and its arithmetic error bound."""
    n = points.shape[0]
    centred = points - origin
    shifted = np.sum(centred**2, axis=1) + 2 * centred @ origin + domain**2  # a_i + R² >= 0
    first = -2 * centred
    builder = _Layers(np.vstack([first, first]), np.concatenate([shifted, shifted]))
    eye = sparse.identity(n, format="csr")
    for a_mat, r_mat, width in min_tree_layers(n):  # min of the a_i, carrying the a_i (>= 0)
        units = a_mat.shape[0]
        builder.stage(sparse.block_diag([sparse.csr_matrix(a_mat), eye], format="csr"), np.zeros(units + n),
                      sparse.block_diag([sparse.csr_matrix(r_mat), eye], format="csr"), np.zeros(width + n))
    width = kappa * r * r
    ramp = sparse.hstack([sparse.csr_matrix(np.ones((n, 1))), -eye], format="csr")  # σ(κ r² + min - a_i)
    builder.stage(ramp, np.full(n, width), np.vstack([values, np.ones(n)]) / width, np.zeros(2))
    vmax = max(float(np.max(np.abs(values))), 1e-300)
    m_a = vmax * overlap  # |A| <= vmax B <= vmax K
    # read A and B once (units σ(A + m_a) >= 0 and σ(B)), so that the reciprocal's units do not
    # each read the N ramps
    builder.stage(np.eye(2), np.array([m_a, 0.0]), np.eye(2), np.zeros(2))
    rel = budget / (2 * vmax)
    knots = reciprocal_knots(overlap, rel)
    w1, b1, w2, b2 = _pl_units(knots, 1 / knots)
    units = np.zeros((1 + len(b1), 2))
    units[0, 0], units[1:, 1] = 1.0, w1
    read = np.zeros((2, units.shape[0]))
    read[0, 0], read[1, 1:] = 1 / m_a, w2
    builder.stage(units, np.concatenate([[0.0], b1]), read, np.array([-1.0, b2]))
    steps = _gate_steps(budget / (2 * m_a))
    gate = ReluNet([(w, b) for w, b in zip(product_gate(steps).weights, product_gate(steps).biases)])
    net = compose(gate.scale(m_a), builder.net("localisation"))
    net.name = f"projection[N={n}]"
    rel_error = (math.sqrt(2 * rel)) ** 2 * (1 + math.sqrt(2 * rel)) / 4
    return net, vmax * rel_error + m_a * 4.0 ** (-steps)


class SemiExplicitProjectionNet(ArrayModule):
    """The projection construction with exact min, division and products (for debugging).

    Not a pure ReLU network: ``size()`` lists the other operations.  The first layer (the
    affine maps a_i) is a ``torch.nn.Linear``; the rest is computed exactly in float64.
    """

    def __init__(self, manifold: Manifold, g: HolderFunction, grid: CoordinateGrid, values: np.ndarray,
                 r: float, kappa: float, pieces: str):
        super().__init__()
        centred = grid.points - manifold.origin
        self.first = torch.nn.Linear(manifold.D, len(values), dtype=torch.float64)
        with torch.no_grad():
            self.first.weight.copy_(torch.as_tensor(-2 * centred))
            self.first.bias.copy_(torch.as_tensor(np.sum(centred**2, 1) + 2 * centred @ manifold.origin))
        self.first.requires_grad_(False)  # a construction, not a model to train
        self.register_buffer("values", torch.as_tensor(values))
        self.width, self.pieces, self.D = kappa * r * r, pieces, manifold.D
        if pieces == "affine":
            basis = torch.as_tensor(manifold.tangent_basis(grid.points))  # (N, D, d)
            self.register_buffer("charts", basis)
            self.register_buffer("centres", torch.as_tensor(grid.points))
            self.register_buffer("slopes", _tangential_gradients(manifold, g, grid.points))

    def weights(self, x: torch.Tensor) -> torch.Tensor:
        """The partition of unity w_i(x), shape (n, N)."""
        a = self.first(x)
        rho = torch.relu(self.width - (a - a.min(dim=1, keepdim=True).values)) / self.width
        return rho / rho.sum(dim=1, keepdim=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """f̂ at points x (n, D): shape (n, 1); one point x (D,) gives shape (1,), as a ReluNet does."""
        if x.ndim == 1 and x.shape[0] == self.D:
            return self.forward(x[None])[0]
        if x.ndim != 2 or x.shape[1] != self.D:
            raise ValueError(f"x has shape {tuple(x.shape)}: expected (n, {self.D}) or ({self.D},)")
        w = self.weights(x)
        local = self.values.expand_as(w)
        if self.pieces == "affine":
            u = torch.einsum("nDd,knD->knd", self.charts, x[:, None, :] - self.centres[None])
            local = local + (u * self.slopes[None]).sum(-1)
        return (w * local).sum(dim=1, keepdim=True)

    def size(self) -> NetSize:
        n = self.values.shape[0]
        nonzero = int(torch.count_nonzero(self.first.weight)) + int(torch.count_nonzero(self.first.bias)) + 2 * n
        other = ("min over centres (exact)", "division (exact)")
        if self.pieces == "affine":
            nonzero += int(torch.count_nonzero(self.charts)) + int(torch.count_nonzero(self.slopes))
            other += ("products of weights and charts (exact)",)
        return NetSize(depth=2, widths=(n, n), nonzero=nonzero, dense=nonzero,
                       max_abs_weight=float(self.first.weight.abs().max()), input_dim=self.D, output_dim=1,
                       other_operations=other)


def _tangential_gradients(manifold: Manifold, g: HolderFunction, points: np.ndarray) -> torch.Tensor:
    """γ_i = V_iᵀ ∇g(c_i) in chart coordinates (autograd on the core function)."""
    core = manifold.to_core(torch.as_tensor(points)).requires_grad_(True)
    (grad,) = torch.autograd.grad(g.fn(core).sum(), core)
    if not torch.all(torch.isfinite(grad)):
        raise ValueError("pieces = 'affine' needs g differentiable at the centres: g has a kink there")
    basis = manifold._tangent_core(core.detach())  # (N, k, d)
    return torch.einsum("nkd,nk->nd", basis, grad)


# -- the distance model ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DistanceNet:
    """The distance network of §5.3 and its error budget.

    Attributes
    ----------
    net : ReluNet
        x in [-X, X]^D -> approximate dist(x, M).
    eta : float
        Covering radius of the net {z_j}.
    squares_error : float
        ε_sq: bound on the error of the approximate squared distance.
    sqrt_error : float
        ε_sqrt of the piecewise-linear square root.
    error_bound : float
        η + sqrt(ε_sq) + ε_sqrt (the Bound :func:`relunet.bounds.intrinsic.distance_net_error`).
    centres : int
    """

    net: ReluNet
    eta: float
    squares_error: float
    sqrt_error: float
    error_bound: float
    centres: int

    def size(self) -> NetSize:
        return self.net.size()


def distance_net(manifold: Manifold, eta: float, half_width: float, accuracy: float | None = None) -> DistanceNet:
    """ReLU net for dist(x, M) on the box b + [-X, X]^D (§5.3), b the origin of M.

    dist² = |x - b|² + min_j (|z_j|² - 2⟨z_j, x - b⟩) over a grid {z_j} of M (in coordinates
    centred at b) with covering radius η: the min of affine functions is exact, |x - b|² uses
    D Yarotsky squares with error ε_sq <= η²/4 (or accuracy²), and the square root a graded PL
    net with error ε_sqrt = η/4 (or accuracy).

    References
    ----------
    intrinsic_dimension.md §5.3; the error bound is
    :func:`relunet.bounds.intrinsic.distance_net_error`.

    Examples
    --------
    >>> from relunet.constructions.manifolds import Circle
    >>> m = Circle(3, seed=0)
    >>> built = distance_net(m, 0.1, half_width=2.0)
    >>> x = np.random.default_rng(0).uniform(-2, 2, (500, 3))
    >>> bool(np.abs(built.net(x)[:, 0] - m.distance(x)).max() <= built.error_bound)
    True
    """
    half_width = check_positive("half_width", half_width)
    grid = manifold.grid(check_positive("eta", eta))
    spacing = eta
    while grid.covering_radius > eta:
        spacing *= 0.8
        grid = manifold.grid(spacing)
    dim = manifold.D
    sq_target = eta * eta / 4 if accuracy is None else check_positive("accuracy", accuracy) ** 2
    steps = max(1, math.ceil(math.log(dim * half_width**2 / sq_target, 4) - 1))
    eps_sq = dim * half_width**2 * 4.0 ** (-steps - 1)
    z = grid.points - manifold.origin
    norms = np.linalg.norm(z, axis=1)
    shift = float(np.max(norms)) ** 2 + 2 * math.sqrt(dim) * half_width * float(np.max(norms))
    tree = _min_of_affine(-2 * z, np.sum(z**2, 1) + 2 * z @ manifold.origin + shift)
    squares = _sum_of_squares(steps, half_width, manifold.origin)
    depth = max(tree.depth, squares.depth)
    both = parallel(_pad(tree, depth), _pad(squares, depth))
    sq_dist = compose(ReluNet([(np.ones((1, 2)), np.array([-shift]))]), both)
    radius = math.sqrt(dim) * half_width + float(np.max(norms))
    eps_sqrt = eta / 4 if accuracy is None else float(accuracy)
    knots = graded_sqrt_knots(radius**2 + eps_sq, eps_sqrt)
    w1, b1, w2, b2 = _pl_units(knots, np.sqrt(knots))
    root = ReluNet([(w1[:, None], b1), (w2[None, :], np.array([b2]))])
    clip = ReluNet([(np.ones((1, 1)), np.zeros(1)), (np.ones((1, 1)), np.zeros(1))])  # σ(s): s >= 0
    full = compose(root, compose(clip, sq_dist))
    full.name = f"distance[N={len(z)}]"
    bound = float(intrinsic_bounds.distance_net_error().evaluate(eta=grid.covering_radius, eps_sq=eps_sq,
                                                                 eps_sqrt=eps_sqrt))
    return DistanceNet(full, grid.covering_radius, eps_sq, eps_sqrt, bound, len(z))


def _min_of_affine(weight: np.ndarray, bias: np.ndarray) -> ReluNet:
    """x -> min_j (weight_j x + bias_j) for values >= 0 on the domain (float64 min tree)."""
    builder = _Layers(weight, bias)
    for a_mat, r_mat, width in min_tree_layers(len(bias)):
        builder.stage(sparse.csr_matrix(a_mat), np.zeros(a_mat.shape[0]), sparse.csr_matrix(r_mat), np.zeros(width))
    return builder.net("min-affine")


def _sum_of_squares(steps: int, half_width: float, origin: np.ndarray) -> ReluNet:
    """x -> Σ_l X² f_m(|x_l - b_l|/X): Yarotsky squares, error D X² 4^(-m-1) on b + [-X, X]^D.

    The square's first units σ(t - c), c >= 0, at t = |x|/X are σ(x/X - c) + σ(-x/X - c), so the
    first layer doubles and no layer is spent on |x|.
    """
    dim = len(origin)
    sq = yarotsky_square(steps)
    w0, b0 = sq.weights[0], sq.biases[0]
    first_w = np.kron(np.eye(dim), np.vstack([w0, -w0]) / half_width)
    layers = [(first_w, np.tile(np.concatenate([b0, b0]), dim) - first_w @ origin)]
    fold = np.hstack([np.eye(len(b0)), np.eye(len(b0))])
    rest = list(zip(sq.weights[1:], sq.biases[1:]))
    for i, (w, b) in enumerate(rest):
        w = w @ fold if i == 0 else w
        if i == len(rest) - 1:
            layers.append((np.tile(w, (1, dim)) * half_width**2, np.array([b[0] * dim * half_width**2])))
        else:
            layers.append((np.kron(np.eye(dim), w), np.tile(b, dim)))
    return ReluNet(layers, name="sum-of-squares")


def _pad(net: ReluNet, depth: int) -> ReluNet:
    """Deepen a net with one output >= 0 by carrying it with σ(t) = t (one unit per layer)."""
    extra = depth - net.depth
    if extra == 0:
        return net
    carry = ReluNet([(np.ones((1, 1)), np.zeros(1))] * (extra + 1))
    return compose(carry, net)


# -- the ambient contrast -------------------------------------------------------------------------


class GridApproximant(ArrayModule):
    """Piecewise-constant D-variate approximant on a grid of a box (semi-explicit contrast).

    f̂(x) = f(centre of the cell holding x), cells of side h on the box; it uses nothing of M,
    so its error against its size (the number of cells) decays like size^(-α/D).  The cell
    lookup (floor) is not a ReLU operation and ``size()`` says so; the affine rescaling
    x -> (x - lo)/h is a ``torch.nn.Linear``.

    Parameters
    ----------
    target : object with ``dim`` and ``numpy``
    box : (D, 2) array
    cells : int
        Cells per dimension.

    Examples
    --------
    >>> from relunet.constructions.targets import Target
    >>> approx = GridApproximant(Target("x1", 1), np.array([[0.0, 1.0]]), 4)
    >>> approx(np.array([[0.3]])).ravel().tolist()
    [0.375]
    """

    def __init__(self, target, box: np.ndarray, cells: int):
        super().__init__()
        cells, dim = check_int("cells", cells, 1), target.dim
        box = _check_box(box, dim)
        self.cells, self.dim = cells, dim
        side = (box[:, 1] - box[:, 0]) / cells
        self.scale = torch.nn.Linear(dim, dim, dtype=torch.float64)
        with torch.no_grad():
            self.scale.weight.copy_(torch.diag(torch.as_tensor(1 / side)))
            self.scale.bias.copy_(torch.as_tensor(-box[:, 0] / side))
        self.scale.requires_grad_(False)
        axes = [box[i, 0] + (np.arange(cells) + 0.5) * side[i] for i in range(dim)]
        mesh = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, dim)
        self.register_buffer("table", torch.as_tensor(target.numpy(mesh)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        idx = torch.floor(self.scale(x)).long().clamp(0, self.cells - 1)
        flat = torch.zeros(idx.shape[0], dtype=torch.long)
        for i in range(self.dim):
            flat = flat * self.cells + idx[:, i]
        return self.table[flat][:, None] + 0.0 * x.sum(dim=1, keepdim=True)

    def size(self) -> NetSize:
        values = self.cells**self.dim
        return NetSize(depth=1, widths=(values,), nonzero=values + 2 * self.dim, dense=values + 2 * self.dim,
                       max_abs_weight=float(self.table.abs().max()), input_dim=self.dim, output_dim=1,
                       other_operations=("cell lookup (floor)",))


def _check_box(box, dim: int) -> np.ndarray:
    """The box as a (D, 2) float array of finite rows lo < hi."""
    arr = np.asarray(box, dtype=np.float64)
    if arr.shape != (dim, 2):
        raise ValueError(f"box has shape {arr.shape}: expected ({dim}, 2), one row [lo, hi] per input coordinate")
    if not (np.all(np.isfinite(arr)) and np.all(arr[:, 0] < arr[:, 1])):
        raise ValueError(f"box = {arr.tolist()} is out of range: every row must be finite with lo < hi")
    return arr


# -- trained networks -------------------------------------------------------------------------------


@dataclass
class TrainedMLPs:
    """K trained StackedMLPs and how they were chosen.

    Attributes
    ----------
    model : StackedMLP
    params : dict of (K, ...) tensors
        Each model's parameters at its best validation loss (its last ones without validation).
    val_loss : numpy array (K,)
        The best validation MSE (mean |f - y|²; nan without validation).
    steps : numpy array (K,)
        Steps taken when the kept parameters were reached.
    """

    model: StackedMLP
    params: dict
    val_loss: np.ndarray
    steps: np.ndarray

    def predict(self, k: int, x) -> np.ndarray:
        """Model k at points x (n, D)."""
        with torch.no_grad():
            one = {name: p[k:k + 1] for name, p in self.params.items()}
            return self.model.forward(one, torch.as_tensor(np.asarray(x, dtype=np.float64))[None])[0, :, 0].numpy()

    def module(self, k: int) -> torch.nn.Module:
        """Model k as an ordinary torch module."""
        return self.model.single(self.params, k)


DEFAULT_SCHEDULE = ((3e-3, 200),) * 4 + ((1e-3, 200), (3e-4, 200))


def train_mlps(xs: Sequence[np.ndarray], ys: Sequence[np.ndarray], *, width: int, depth: int = 2,
               schedule: Sequence[tuple[float, int]] = DEFAULT_SCHEDULE, weight_decay=0.0,
               batch_size: int | None = 64, val: Sequence[tuple[np.ndarray, np.ndarray]] | None = None,
               seeds: Sequence[int] | None = None, device: str = "cpu", seed: int = 0) -> TrainedMLPs:
    """Train one StackedMLP per data set at once with the batched trainer (Adam on the MSE).

    Data sets of different sizes are padded and masked.  Training runs in chunks of the
    `schedule` (learning rate, steps); after each chunk every model's validation MSE is taken
    and its best parameters are kept (early stopping by validation).  Adam's moments restart
    at each chunk.

    Parameters
    ----------
    xs, ys : sequences of arrays (n_k, D) and (n_k,)
        One training set per model.
    width, depth : int
        Architecture of every model (standard parameterization, biases).
    schedule : sequence of (lr, steps)
    weight_decay : float or sequence of K floats
        Decoupled weight decay of each model.
    batch_size : int, optional
        Minibatch size (capped by the smallest set); None for full batch.
    val : sequence of (x, y), optional
        One validation set per model.
    seeds : sequence of int, optional
        Initialisation seeds (default 0, 1, ...).

    Returns
    -------
    TrainedMLPs

    Raises
    ------
    ValueError
        Naming the argument: sets of different D or of x and y of different lengths, x not 2-D,
        NaN or inf values, an empty schedule, or a schedule entry that is not (lr > 0, steps >= 1).

    References
    ----------
    intrinsic_dimension.md §7 (the trained nets of the ERM claims).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> xs = [rng.normal(size=(40, 3)), rng.normal(size=(60, 3))]
    >>> fit = train_mlps(xs, [x[:, 0] for x in xs], width=8, schedule=[(1e-2, 50)], batch_size=None,
    ...                  val=[(x, x[:, 0]) for x in xs])
    >>> fit.val_loss.shape, bool(np.all(fit.val_loss < 1.0))
    ((2,), True)
    """
    xs, ys = _check_sets(xs, ys, "xs", "ys")
    if val is not None:
        if len(val) != len(xs) or any(not isinstance(v, (tuple, list)) or len(v) != 2 for v in val):
            raise ValueError(f"val has {len(val)} entries: give one (x, y) validation pair per training set "
                             f"({len(xs)})")
        val = list(zip(*_check_sets([v[0] for v in val], [v[1] for v in val], "val x", "val y",
                                    dim=xs[0].shape[1])))
    schedule = _check_schedule(schedule)
    dim, k = xs[0].shape[1], len(xs)
    x, y, mask = _padded(xs, ys)
    model = StackedMLP(dim, width, depth, parameterization="standard")
    if batch_size is not None:
        batch_size = min(check_int("batch_size", batch_size, 1), min(len(xi) for xi in xs))
    params, taken = None, 0
    best = np.full(k, np.inf)
    kept, at = None, np.zeros(k, dtype=int)
    for i, (lr, steps) in enumerate(schedule):
        trainer = BatchedTrainer(model, optimizer="adam", lr=lr, steps=int(steps), batch_size=batch_size,
                                 record_every=int(steps), metrics=("loss",), device=device, seed=seed + i,
                                 weight_decay=weight_decay)
        init = list(seeds) if seeds is not None else list(range(k))
        start = {"seeds": init} if params is None else {"params": params}
        params = trainer.fit(x, y, mask=mask, **start).params_
        taken += int(steps)
        losses = _val_losses(model, params, val) if val is not None else np.full(k, np.nan)
        better = losses < best if val is not None else np.ones(k, dtype=bool)
        kept = {n: p.clone() for n, p in params.items()} if kept is None else {
            n: torch.where(torch.as_tensor(better).view((-1,) + (1,) * (p.ndim - 1)), p, kept[n])
            for n, p in params.items()}
        best = np.where(better, losses, best)
        at = np.where(better, taken, at)
    return TrainedMLPs(model, kept, best if val is not None else np.full(k, np.nan), at)


def _check_sets(xs, ys, x_name: str, y_name: str, dim: int | None = None) -> tuple[list, list]:
    """Data sets as float arrays x (n_k, D) with one D and finite y (n_k,); raises ValueError naming the set."""
    if len(xs) != len(ys) or not len(xs):
        raise ValueError(f"{x_name} has {len(xs)} sets and {y_name} {len(ys)}: give one y per x, at least one")
    out_x, out_y = [], []
    for i, (xi, yi) in enumerate(zip(xs, ys)):
        xi, yi = np.asarray(xi, dtype=np.float64), np.asarray(yi, dtype=np.float64)
        dim = xi.shape[1] if dim is None and xi.ndim == 2 else dim
        if xi.ndim != 2 or len(xi) == 0 or xi.shape[1] != dim:
            raise ValueError(f"{x_name}[{i}] has shape {xi.shape}: expected (n, {dim if dim else 'D'}) with n >= 1"
                             + (", the D of the first set" if i else ""))
        if yi.shape not in ((len(xi),), (len(xi), 1)):
            raise ValueError(f"{y_name}[{i}] has shape {yi.shape}: expected ({len(xi)},), one label per row of "
                             f"{x_name}[{i}]")
        if not (np.all(np.isfinite(xi)) and np.all(np.isfinite(yi))):
            raise ValueError(f"{x_name}[{i}] or {y_name}[{i}] has NaN or inf entries: the data must be finite")
        out_x.append(xi)
        out_y.append(yi.reshape(-1))
    return out_x, out_y


def _check_schedule(schedule) -> list[tuple[float, int]]:
    """The training schedule as (lr, steps) pairs with lr > 0 and steps >= 1, at least one."""
    entries = list(schedule)
    if not entries:
        raise ValueError("schedule = [] is empty: give at least one (lr, steps) chunk")
    out = []
    for i, entry in enumerate(entries):
        if np.ndim(entry) != 1 or len(entry) != 2:
            raise ValueError(f"schedule[{i}] = {entry!r} is not allowed: each entry is a pair (lr, steps)")
        out.append((check_real(f"schedule[{i}] lr", entry[0], 0, low_open=True),
                    check_int(f"schedule[{i}] steps", entry[1], 1)))
    return out


def _padded(xs, ys):
    k, n_max, dim = len(xs), max(len(x) for x in xs), xs[0].shape[1]
    x = np.zeros((k, n_max, dim))
    y = np.zeros((k, n_max, 1))
    mask = np.zeros((k, n_max), dtype=bool)
    for i, (xi, yi) in enumerate(zip(xs, ys)):
        x[i, : len(xi)], y[i, : len(xi), 0], mask[i, : len(xi)] = xi, yi, True
    return torch.as_tensor(x), torch.as_tensor(y), torch.as_tensor(mask)


def _val_losses(model: StackedMLP, params: dict, val) -> np.ndarray:
    with torch.no_grad():
        out = []
        for k, (xv, yv) in enumerate(val):
            one = {name: p[k:k + 1] for name, p in params.items()}
            pred = model.forward(one, torch.as_tensor(np.asarray(xv, dtype=np.float64))[None])[0, :, 0].numpy()
            out.append(float(np.mean((pred - yv) ** 2)))
    return np.array(out)
