"""Test manifolds in R^D, their tubes, and functions that depend on x only through π_M(x).

Each manifold M is a compact d-dimensional set M_0 ⊂ R^k with closed-form (or iterative)
nearest-point projection, placed in R^D (D >= k) by a seeded random orthonormal frame
Q ∈ R^(D×k) (the first k columns of a Haar rotation) and an origin b:
M = {b + Q y : y ∈ M_0}.  Then π_M(x) = b + Q π_0(Qᵀ(x - b)), dist and reach are unchanged,
and the tube {x : dist(x, M) < qτ} extends in all D - k extra directions
(intrinsic_dimension.md §6).

Every manifold has `project`, `distance`, `reach`, `tangent_basis`, `coordinates` (intrinsic
coordinates of the foot point) and `embed` (their inverse), uniform sampling on M (`sample`),
tube sampling uniform in the normal disc's volume or in the radius (`sample_tube`), coordinate
grids with a covering radius (`grid`, the r-nets of the constructions), covering numbers by a
greedy cover (`covering_number`) and the sample reach estimator of (G1) (`estimate_reach`).
The projections are written once, in torch (float64), so that they are differentiable for the
adversarial search of :func:`relunet.verify.measure.sup_error`; numpy arrays go in and out of
the public methods.

Manifolds: :class:`AffineSubspace` (a cube patch; reach ∞), :class:`Circle`, :class:`Sphere`
(S^d), :class:`Torus` (in R^3), :class:`FlatTorus` (S¹ × S¹ ⊂ R^4), :class:`SwissRoll` (with
boundary; projection by Newton/Gauss-Newton iterations; reach estimated by (G1)).

Targets: :class:`HolderFunction` g on M (given on the core coordinates, with its Hölder
exponent α and its Hölder constant in the ambient metric on M), :class:`ManifoldTarget`
f = g ∘ π_M and :class:`DistanceTarget` f = h(dist(x, M_1), ..., dist(x, M_K)).  Both targets
duck-type :class:`relunet.constructions.targets.Target` (``dim``, ``numpy``, ``torch``) without
exact evaluation.

References
----------
A. Cloninger, T. Klock, "A deep network construction that adapts to intrinsic dimensionality
beyond the domain", Neural Networks 141 (2021) 404-419: the models f = g ∘ π_M on a tube and
f = g(dist(x, M_1), ...).
H. Federer, "Curvature measures", Trans. AMS 93 (1959), Thms 4.8, 4.18 (reach, projection).
E. Aamari, J. Kim, F. Chazal, B. Michel, A. Rinaldo, L. Wasserman, "Estimating the reach of a
manifold", Electron. J. Statist. 13 (2019) (the sample reach estimator).
``shared/theory/intrinsic_dimension.md`` §2, §4, §6.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from .validation import check_int, check_positive, check_real, check_seed

__all__ = [
    "MANIFOLDS",
    "AffineSubspace",
    "Circle",
    "CoordinateGrid",
    "DistanceTarget",
    "FlatTorus",
    "HolderFunction",
    "Manifold",
    "ManifoldTarget",
    "Sphere",
    "SwissRoll",
    "Torus",
    "TubeSample",
    "make_manifold",
    "random_frame",
]

TUBE_LAWS = ("volume", "radius")
# estimate_reach holds three (rows, n, k) float64 arrays of pairs at a time: about 3 x 8 x this many bytes
_REACH_BLOCK_ENTRIES = 1 << 21


def random_frame(ambient_dim: int, k: int, seed: int) -> np.ndarray:
    """The first k columns of a Haar-random rotation of R^D, from ``default_rng(seed)``.

    QR of a Gaussian matrix with the signs of R's diagonal moved into Q (Mezzadri 2007).

    >>> q = random_frame(5, 2, seed=0)
    >>> np.allclose(q.T @ q, np.eye(2))
    True
    """
    rng = np.random.default_rng(check_seed(seed))
    gauss = rng.standard_normal((ambient_dim, k))
    q, r = np.linalg.qr(gauss)
    return q * np.sign(np.diag(r))


def _check_alpha(alpha) -> float:
    """The Hölder exponent of a kink function: 0 < α <= 1 (|t|^α is α-Hölder, with the constants
    the kink functions record, only there; α <= 0 would put a pole or a jump at the kink)."""
    return check_real("alpha", alpha, 0, 1, low_open=True)


def _t(x) -> torch.Tensor:
    return torch.as_tensor(np.ascontiguousarray(x, dtype=np.float64))


def _norm(y: torch.Tensor) -> torch.Tensor:
    return torch.linalg.vector_norm(y, dim=-1, keepdim=True)


def _unit(y: torch.Tensor, fallback: torch.Tensor) -> torch.Tensor:
    """y/|y|, and `fallback` where y = 0 (a point of the medial axis: every direction is nearest)."""
    n = _norm(y)
    return torch.where(n > 0, y / n.clamp_min(1e-300), fallback.expand_as(y))


def _householder_complement(p: torch.Tensor) -> torch.Tensor:
    """(n, k, k-1): an orthonormal basis of the complement of the unit vectors p (n, k).

    The reflection H = I - 2 v vᵀ / |v|² with v = p ∓ e_k maps e_k to ±p, so its first k - 1
    columns are orthonormal and orthogonal to p; the sign keeps |v|² >= 2.
    """
    k = p.shape[-1]
    e = torch.zeros(k, dtype=p.dtype)
    e[-1] = 1.0
    sign = torch.where(p[..., -1:] > 0, 1.0, -1.0)
    v = p + sign * e
    eye = torch.eye(k, dtype=p.dtype)[:, : k - 1]
    return eye - 2.0 * v[..., :, None] * v[..., None, : k - 1] / (v * v).sum(-1)[..., None, None]


@dataclass(frozen=True)
class TubeSample:
    """Points x = p + t ν of a tube: foot points p on M, unit normals ν, radii t."""

    x: np.ndarray
    foot: np.ndarray
    normal: np.ndarray
    radius: np.ndarray


@dataclass(frozen=True)
class CoordinateGrid:
    """Points of M on a grid of intrinsic coordinates, with a covering radius.

    Attributes
    ----------
    points : (N, D) array
    coords : (N, d) array
    covering_radius : float
        Every point of M lies within this ambient distance of a grid point.
    exact : bool
        True when `covering_radius` is the exact covering radius, False when it is an upper
        bound (from the metric coefficients of the chart).
    """

    points: np.ndarray
    coords: np.ndarray
    covering_radius: float
    exact: bool


@dataclass(frozen=True)
class HolderFunction:
    """g on M, given on core points p ∈ M_0 ⊂ R^k, with its Hölder class.

    Attributes
    ----------
    fn : callable
        torch (n, k) -> (n,), float64, differentiable away from its kinks.
    alpha : float
        Hölder exponent.
    constant : float or None
        L with |g(p) - g(p')| <= L |p - p'|^α for p, p' on M (ambient metric); None if unknown.
    sup : float
        sup |g| on M.
    name : str
    """

    fn: Callable[[torch.Tensor], torch.Tensor]
    alpha: float
    constant: float | None
    sup: float
    name: str


class Manifold:
    """A compact d-manifold M_0 ⊂ R^k placed in R^D by a random frame: M = b + Q M_0.

    Subclasses set ``d``, ``k`` and implement the core methods on torch tensors of core points
    y ∈ R^k: ``_project_core``, ``_coords_core``, ``_embed_core``, ``_tangent_core``,
    ``_sample_core``, ``_grid_core``, and the properties ``reach`` and ``volume``.

    Parameters
    ----------
    ambient_dim : int
        D >= k (D >= d + 1 for an affine subspace).
    seed : int
        Seed of the random frame.
    origin : array_like of shape (D,), optional
        b; zero by default.
    """

    d: int
    k: int
    name: str = "manifold"
    has_boundary: bool = False

    def __init__(self, ambient_dim: int, seed: int = 0, origin=None):
        lowest = max(self.k, self.d + 1)
        self.D = check_int("ambient_dim", ambient_dim, lowest)
        self.seed = check_int("seed", seed, 0, 2**63 - 1)
        self.frame = random_frame(self.D, self.k, self.seed)
        self.origin = np.zeros(self.D) if origin is None else np.asarray(origin, dtype=np.float64)
        if self.origin.shape != (self.D,):
            raise ValueError(f"origin has shape {self.origin.shape}: expected ({self.D},)")
        self._frame_t = torch.as_tensor(self.frame)
        self._origin_t = torch.as_tensor(self.origin)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.describe()}, D={self.D}, seed={self.seed})"

    def describe(self) -> str:
        return self.name

    # -- the core (in R^k), implemented by subclasses ---------------------------------------------
    def _project_core(self, y: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _coords_core(self, p: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _embed_core(self, u: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _tangent_core(self, p: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _sample_core(self, rng: np.random.Generator, n: int) -> np.ndarray:
        raise NotImplementedError

    def _grid_core(self, spacing: float) -> tuple[np.ndarray, float, bool]:
        """(coords (N, d), covering radius, exact) of a coordinate grid of about this spacing."""
        raise NotImplementedError

    @property
    def reach(self) -> float:
        raise NotImplementedError

    @property
    def volume(self) -> float:
        """d-dimensional volume of M."""
        raise NotImplementedError

    @property
    def tube_scale(self) -> float:
        """The radius that q multiplies: the reach (a patch's half-width when the reach is ∞)."""
        return self.reach

    def kink_function(self, alpha: float) -> HolderFunction:
        """A g on M that is exactly α-Hölder along a kink (|sin θ|^α and its relatives), 0 < α <= 1."""
        raise NotImplementedError

    # -- coordinates ------------------------------------------------------------------------------
    def _points(self, x, name: str = "x") -> np.ndarray:
        arr = np.asarray(x, dtype=np.float64)
        if arr.ndim == 1:
            arr = arr[None, :]
        if arr.ndim != 2 or arr.shape[1] != self.D:
            raise ValueError(f"{name} has shape {np.shape(x)}: expected (n, {self.D})")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} has {int(np.sum(~np.isfinite(arr)))} NaN or inf entries: points must be finite")
        return arr

    def to_core(self, x: torch.Tensor) -> torch.Tensor:
        """Qᵀ(x - b) for a tensor of points (n, D)."""
        return (x - self._origin_t.to(x.dtype)) @ self._frame_t.to(x.dtype)

    def from_core(self, y: torch.Tensor) -> torch.Tensor:
        """b + Q y for core points (n, k)."""
        return self._origin_t.to(y.dtype) + y @ self._frame_t.to(y.dtype).T

    # -- projection and distance ---------------------------------------------------------------------
    def project_torch(self, x: torch.Tensor) -> torch.Tensor:
        """π_M on a tensor (n, D), differentiable where π is."""
        return self.from_core(self._project_core(self.to_core(x)))

    def project(self, x) -> np.ndarray:
        """Nearest points π_M(x), shape (n, D).

        On the medial axis (e.g. the centre of a circle) every point of a set is nearest; the
        subclasses document which one they return.
        """
        with torch.no_grad():
            return self.project_torch(_t(self._points(x))).numpy()

    def clip_to_tube(self, x: torch.Tensor, radius: float) -> torch.Tensor:
        """The nearest point of the closed tube {dist <= radius} for points x (n, D) of the
        tube of reach (π(x) + ν min(1, radius/|ν|), ν = x - π(x)); used to keep an adversarial
        search inside the tube."""
        with torch.no_grad():
            foot = self.project_torch(x)
            nu = x - foot
            length = _norm(nu)
            return foot + nu * torch.clamp(radius / length.clamp_min(1e-300), max=1.0)

    def distance(self, x) -> np.ndarray:
        """dist(x, M) = |x - π_M(x)|, shape (n,)."""
        pts = self._points(x)
        return np.linalg.norm(pts - self.project(pts), axis=1)

    def coordinates(self, x) -> np.ndarray:
        """Intrinsic coordinates of π_M(x), shape (n, d)."""
        with torch.no_grad():
            y = self._project_core(self.to_core(_t(self._points(x))))
            return self._coords_core(y).numpy()

    def embed(self, u) -> np.ndarray:
        """Points of M with intrinsic coordinates u (n, d), shape (n, D).

        A 1-D u is one point (d,), or n coordinates (n,) when d = 1; any other width raises
        ValueError (no reshaping).
        """
        arr = np.asarray(u, dtype=np.float64)
        if arr.ndim <= 1 and (self.d == 1 or arr.size == self.d):
            arr = arr.reshape(-1, self.d)
        if arr.ndim != 2 or arr.shape[1] != self.d:
            raise ValueError(f"u has shape {np.shape(u)}: expected (n, {self.d}) intrinsic coordinates")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"u has {int(np.sum(~np.isfinite(arr)))} NaN or inf entries: coordinates must be finite")
        with torch.no_grad():
            return self.from_core(self._embed_core(_t(arr))).numpy()

    def tangent_basis(self, p) -> np.ndarray:
        """Orthonormal bases of the tangent spaces at points p of M, shape (n, D, d)."""
        with torch.no_grad():
            core = self.to_core(_t(self._points(p, "p")))
            return (self._frame_t @ self._tangent_core(core)).numpy()

    # -- sampling -------------------------------------------------------------------------------------
    def sample(self, n: int, seed: int = 0) -> np.ndarray:
        """n points uniform on M (with respect to its volume), shape (n, D)."""
        n = check_int("n", n, 1)
        rng = np.random.default_rng(check_seed(seed))
        with torch.no_grad():
            return self.from_core(_t(self._sample_core(rng, n))).numpy()

    def tube_radius(self, q: float) -> float:
        """qτ (q times the tube scale), checking that q is a finite number >= 0 (NumPy scalars count)."""
        try:
            q = check_real("q", q, 0)
        except ValueError as err:
            raise ValueError(f"{err} (q < 1 for the tube of the theory)") from None
        return q * self.tube_scale

    def sample_tube(self, n: int, q: float, law: str = "volume", seed: int = 0) -> TubeSample:
        """n points p + t ν of the tube M(qτ): p uniform on M, ν uniform on the unit sphere of N_pM.

        Parameters
        ----------
        n : int
        q : float
            Tube radius as a fraction of the reach (q >= 1 is allowed, for negative controls:
            the tube then holds points of the medial axis).
        law : {"volume", "radius"}
            "volume": t = qτ U^(1/(D-d)), uniform in the volume of the normal disc (ignoring the
            curvature Jacobian), so that in high codimension most points sit near the outer
            radius; "radius": t = qτ U, uniform in the radius.
        seed : int

        References
        ----------
        intrinsic_dimension.md §6 ("Tube sampling").
        """
        if law not in TUBE_LAWS:
            raise ValueError(f"law = {law!r} is not allowed: use one of {TUBE_LAWS}")
        radius = self.tube_radius(q)
        foot = self.sample(n, seed)
        rng = np.random.default_rng([int(seed), 1])
        normal = self.normal_directions(foot, rng)
        u = rng.random(foot.shape[0])
        t = radius * (u ** (1.0 / (self.D - self.d)) if law == "volume" else u)
        return TubeSample(foot + t[:, None] * normal, foot, normal, t)

    def normal_directions(self, p: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Unit vectors uniform on the unit sphere of N_pM: projected Gaussians, normalised."""
        basis = self.tangent_basis(p)
        g = rng.standard_normal(p.shape)
        g -= np.einsum("nij,nj->ni", basis, np.einsum("nij,ni->nj", basis, g))
        return g / np.linalg.norm(g, axis=1, keepdims=True)

    # -- nets and covers ---------------------------------------------------------------------------------
    def grid(self, spacing: float) -> CoordinateGrid:
        """Points of M on a grid of intrinsic coordinates of about this ambient spacing."""
        coords, radius, exact = self._grid_core(check_positive("spacing", spacing))
        return CoordinateGrid(self.embed(coords), coords, float(radius), bool(exact))

    def grid_with(self, count: int) -> CoordinateGrid:
        """The coarsest grid with at least `count` points (a net for a given budget)."""
        count = check_int("count", count, 1)
        spacing = (self.volume / count) ** (1.0 / self.d)
        for _ in range(200):
            grid = self.grid(spacing)
            if grid.points.shape[0] >= count:
                return grid
            spacing *= 0.97
        raise ValueError(f"count = {count}: no grid of that size found")

    def covering_number(self, eta: float) -> int:
        """Size of a greedy η-cover of M: an upper bound on the covering number N(M, η).

        A grid of covering radius at most η/4 is covered greedily by balls of radius 3η/4
        centred on grid points, so the centres cover M at radius η.
        """
        from scipy.spatial import cKDTree

        eta = check_positive("eta", eta)
        grid = self.grid(eta / 4)
        spacing = eta / 4
        while grid.covering_radius > eta / 4:
            spacing *= 0.8
            grid = self.grid(spacing)
        with torch.no_grad():
            pts = self.to_core(_t(grid.points)).numpy()  # distances are those of the core
        tree = cKDTree(pts)
        covered = np.zeros(len(pts), dtype=bool)
        count = 0
        for i in range(len(pts)):
            if not covered[i]:
                count += 1
                covered[tree.query_ball_point(pts[i], 0.75 * eta)] = True
        return count

    def estimate_reach(self, n: int = 2000, seed: int = 0) -> float:
        """(G1) estimator: inf over sample pairs of |y - p|² / (2 dist(y - p, T_pM)).

        Converges to the reach from above as the sample grows (an infimum over fewer pairs).  The
        n² pairs are taken in blocks of rows (about 2^21 pair coordinates at a time), so the memory
        is O(n k) per row rather than O(n² k); the result is the all-pairs minimum, bit for bit.

        References
        ----------
        Aamari et al. 2019; intrinsic_dimension.md §4 (G1) and check 3.
        """
        with torch.no_grad():
            core = self.to_core(_t(self.sample(check_int("n", n, 2), seed)))
            basis = self._tangent_core(core).numpy()
        p = core.numpy()
        rows = max(1, _REACH_BLOCK_ENTRIES // (p.shape[0] * p.shape[1]))  # memory O(n k rows), not O(n² k)
        return min(_reach_ratio_min(p, basis, slice(start, start + rows)) for start in range(0, p.shape[0], rows))


def _reach_ratio_min(p: np.ndarray, basis: np.ndarray, rows: slice) -> float:
    """min over the pairs (p_i, y_j), i in `rows`, of |y_j - p_i|² / (2 dist(y_j - p_i, T_(p_i)M)) (inf if none)."""
    sq, normal = _normal_parts(p, basis, rows)
    # pairs closer than ~2e-4 τ cannot resolve the curvature above the rounding of the points
    mask = normal > 1e-4 * np.sqrt(sq)
    ratio = np.where(mask, sq / (2 * np.where(mask, normal, 1.0)), np.inf)
    return float(ratio.min())


def _normal_parts(p: np.ndarray, basis: np.ndarray, rows: slice = slice(None)) -> tuple[np.ndarray, np.ndarray]:
    """|y_j - p_i|² and dist(y_j - p_i, T_(p_i)M) for pairs of core points (n, k), bases (n, k, d).

    All pairs by default, shape (n, n); the feet p_i of `rows` only (a block of rows of the same
    arrays, entry for entry) otherwise.  The normal part is formed as a vector, diff - V Vᵀ diff,
    not as sqrt(|diff|² - |Vᵀ diff|²), whose cancellation loses relative accuracy ~ u |diff|²/dist²
    for close pairs.
    """
    diff = p[None, :, :] - p[rows, None, :]  # diff[i, j] = y_j - p_i
    tangential = np.einsum("ikd,ijk->ijd", basis[rows], diff)
    normal = diff - np.einsum("ikd,ijd->ijk", basis[rows], tangential)
    return np.einsum("ijk,ijk->ij", diff, diff), np.sqrt(np.einsum("ijk,ijk->ij", normal, normal))


# -- the manifolds -------------------------------------------------------------------------------------


class AffineSubspace(Manifold):
    """A cube patch M = {b + Q u : |u|_∞ <= half_width} of a d-dimensional affine subspace; reach ∞.

    M is the patch, not the whole subspace: π(x) = b + Q clamp(Qᵀ(x - b), -s, s) (s the
    half-width) is the nearest point of the patch, and `distance` and `coordinates` are those of
    that foot point, so a point of the subspace beyond the patch is at its distance from the patch
    (and g ∘ π stays within ``g.sup``).  The patch is convex, so π is 1-Lipschitz everywhere and
    the reach is ∞.  Where a coordinate is clamped the foot lies on the patch's boundary and x - π(x)
    has a tangential part (x is not on a normal fibre); tube samples have interior feet.  g ∘ π
    depends on x only through Qᵀ(x - b): a multi-index model.  Sampling and grids use the patch,
    and the tube radius q scales with `half_width` (the reach being infinite).  `embed` maps any
    coordinates to the subspace: those outside the patch give points off M.
    """

    name, has_boundary = "subspace", True

    def __init__(self, d: int, ambient_dim: int, half_width: float = 1.0, seed: int = 0, origin=None):
        self.d = self.k = check_int("d", d, 1)
        self.half_width = check_positive("half_width", half_width)
        super().__init__(ambient_dim, seed, origin)

    def describe(self) -> str:
        return f"subspace d={self.d}"

    def _project_core(self, y):
        return y.clamp(-self.half_width, self.half_width)

    def _coords_core(self, p):
        return p

    def _embed_core(self, u):
        return u

    def _tangent_core(self, p):
        return torch.eye(self.d, dtype=p.dtype).expand(p.shape[0], self.d, self.d)

    def _sample_core(self, rng, n):
        return self.half_width * (2 * rng.random((n, self.d)) - 1)

    def _grid_core(self, spacing):
        m = max(1, math.ceil(2 * self.half_width / spacing))
        axis = -self.half_width + (np.arange(m) + 0.5) * (2 * self.half_width / m)
        coords = np.stack(np.meshgrid(*[axis] * self.d, indexing="ij"), -1).reshape(-1, self.d)
        return coords, math.sqrt(self.d) * self.half_width / m, True

    @property
    def reach(self) -> float:
        return math.inf

    @property
    def volume(self) -> float:
        return (2 * self.half_width) ** self.d

    @property
    def tube_scale(self) -> float:
        return self.half_width

    def kink_function(self, alpha: float) -> HolderFunction:
        """g(u) = |u_1 / s|^α on the patch of half-width s: constant L = s^(-α)."""
        s, alpha = self.half_width, _check_alpha(alpha)
        return HolderFunction(lambda p: (p[:, 0].abs() / s) ** alpha, alpha, s ** (-alpha), 1.0,
                              f"|u1/{s:g}|^{alpha:g}")


class Circle(Manifold):
    """The circle of radius R in a plane: π(x) = R Px/|Px|, reach R, medial axis {Px = 0}.

    At the centre (Px = 0) `project` returns the point at angle 0.
    """

    d, k, name = 1, 2, "circle"

    def __init__(self, ambient_dim: int, radius: float = 1.0, seed: int = 0, origin=None):
        self.radius = check_positive("radius", radius)
        super().__init__(ambient_dim, seed, origin)

    def describe(self) -> str:
        return f"circle R={self.radius:g}"

    def _project_core(self, y):
        fallback = torch.tensor([1.0, 0.0], dtype=y.dtype)
        return self.radius * _unit(y, fallback)

    def _coords_core(self, p):
        return torch.atan2(p[:, 1], p[:, 0])[:, None]

    def _embed_core(self, u):
        return self.radius * torch.cat([torch.cos(u), torch.sin(u)], dim=1)

    def _tangent_core(self, p):
        unit = p / _norm(p)
        return torch.stack([-unit[:, 1], unit[:, 0]], dim=1)[:, :, None]

    def _sample_core(self, rng, n):
        theta = rng.uniform(-math.pi, math.pi, n)
        return self.radius * np.stack([np.cos(theta), np.sin(theta)], axis=1)

    def _grid_core(self, spacing):
        m = max(3, math.ceil(2 * math.pi * self.radius / spacing))
        theta = -math.pi + (np.arange(m) + 0.5) * (2 * math.pi / m)
        return theta[:, None], 2 * self.radius * math.sin(math.pi / (2 * m)), True

    @property
    def reach(self) -> float:
        return self.radius

    @property
    def volume(self) -> float:
        return 2 * math.pi * self.radius

    def kink_function(self, alpha: float) -> HolderFunction:
        """g = |sin θ|^α = |p_2/R|^α, exactly α-Hölder at θ = 0, π; L = R^(-α) (|p_2 - p_2'| <= |p - p'|)."""
        radius, alpha = self.radius, _check_alpha(alpha)
        return HolderFunction(lambda p: (p[:, 1].abs() / radius) ** alpha, alpha, radius ** (-alpha),
                              1.0, f"|sin theta|^{alpha:g}")


class Sphere(Manifold):
    """The sphere S^d of radius R in R^(d+1): π(x) = R Px/|Px|, reach R.

    Intrinsic coordinates are hyperspherical angles φ_1..φ_(d-1) ∈ [0, π], φ_d ∈ (-π, π].  At
    the centre `project` returns R e_1.
    """

    name = "sphere"

    def __init__(self, d: int, ambient_dim: int, radius: float = 1.0, seed: int = 0, origin=None):
        self.d = check_int("d", d, 1)
        self.k = self.d + 1
        self.radius = check_positive("radius", radius)
        super().__init__(ambient_dim, seed, origin)

    def describe(self) -> str:
        return f"sphere S^{self.d} R={self.radius:g}"

    def _project_core(self, y):
        fallback = torch.zeros(self.k, dtype=y.dtype)
        fallback[0] = 1.0
        return self.radius * _unit(y, fallback)

    def _coords_core(self, p):
        angles = []
        for j in range(self.d - 1):
            rest = torch.linalg.vector_norm(p[:, j + 1:], dim=1)
            angles.append(torch.atan2(rest, p[:, j]))
        angles.append(torch.atan2(p[:, -1], p[:, -2]))
        return torch.stack(angles, dim=1)

    def _embed_core(self, u):
        cols, running = [], torch.ones(u.shape[0], dtype=u.dtype)
        for j in range(self.d):
            cols.append(running * torch.cos(u[:, j]))
            running = running * torch.sin(u[:, j])
        cols.append(running)
        return self.radius * torch.stack(cols, dim=1)

    def _tangent_core(self, p):
        return _householder_complement(p / _norm(p))

    def _sample_core(self, rng, n):
        g = rng.standard_normal((n, self.k))
        return self.radius * g / np.linalg.norm(g, axis=1, keepdims=True)

    def _grid_core(self, spacing):
        h = spacing / self.radius
        axes, steps = [], []
        for j in range(self.d):
            lo, hi = (0.0, math.pi) if j < self.d - 1 else (-math.pi, math.pi)
            m = max(2, math.ceil((hi - lo) / h))
            axes.append(lo + (np.arange(m) + 0.5) * (hi - lo) / m)
            steps.append((hi - lo) / m)
        coords = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, self.d)
        # ds² = R²(dφ1² + sin²φ1 dφ2² + ...): every metric coefficient is <= 1
        return coords, self.radius * math.sqrt(sum((s / 2) ** 2 for s in steps)), self.d == 1

    @property
    def reach(self) -> float:
        return self.radius

    @property
    def volume(self) -> float:
        return 2 * math.pi ** ((self.d + 1) / 2) * self.radius**self.d / math.gamma((self.d + 1) / 2)

    def kink_function(self, alpha: float) -> HolderFunction:
        """g = |p_(d+1)/R|^α, a kink along a great sphere; L = R^(-α)."""
        radius, alpha = self.radius, _check_alpha(alpha)
        return HolderFunction(lambda p: (p[:, -1].abs() / radius) ** alpha, alpha, radius ** (-alpha),
                              1.0, f"|x_(d+1)/R|^{alpha:g}")


class Torus(Manifold):
    """The torus of revolution in R^3 with radii R > r: reach min(r, R - r), area 4π²Rr.

    π(x) = c + r (x - c)/|x - c| with c = R (x_1, x_2, 0)/ρ; coordinates (u, v) with
    Φ(u, v) = ((R + r cos v) cos u, (R + r cos v) sin u, r sin v).  On the axis ρ = 0, c is
    taken at u = 0; at x = c, the point at v = 0.
    """

    d, k, name = 2, 3, "torus"

    def __init__(self, ambient_dim: int, major: float = 2.0, minor: float = 1.0, seed: int = 0,
                 origin=None):
        self.major, self.minor = check_positive("major", major), check_positive("minor", minor)
        if not self.minor < self.major:
            raise ValueError(f"minor = {minor!r} is out of range: the torus needs minor < major = {major!r}")
        super().__init__(ambient_dim, seed, origin)

    def describe(self) -> str:
        return f"torus R={self.major:g} r={self.minor:g}"

    def _ring(self, y):
        planar = torch.cat([y[:, :2], torch.zeros_like(y[:, 2:])], dim=1)
        fallback = torch.tensor([1.0, 0.0, 0.0], dtype=y.dtype)
        return self.major * _unit(planar, fallback)

    def _project_core(self, y):
        c = self._ring(y)
        diff = y - c
        length = _norm(diff)
        direction = torch.where(length > 0, diff / length.clamp_min(1e-300), c / self.major)
        return c + self.minor * direction

    def _coords_core(self, p):
        u = torch.atan2(p[:, 1], p[:, 0])
        rho = torch.linalg.vector_norm(p[:, :2], dim=1)
        return torch.stack([u, torch.atan2(p[:, 2], rho - self.major)], dim=1)

    def _embed_core(self, uv):
        u, v = uv[:, 0], uv[:, 1]
        ring = self.major + self.minor * torch.cos(v)
        return torch.stack([ring * torch.cos(u), ring * torch.sin(u), self.minor * torch.sin(v)], dim=1)

    def _tangent_core(self, p):
        uv = self._coords_core(p)
        u, v = uv[:, 0], uv[:, 1]
        zero = torch.zeros_like(u)
        e_u = torch.stack([-torch.sin(u), torch.cos(u), zero], dim=1)
        e_v = torch.stack([-torch.sin(v) * torch.cos(u), -torch.sin(v) * torch.sin(u), torch.cos(v)], dim=1)
        return torch.stack([e_u, e_v], dim=2)

    def _sample_core(self, rng, n):
        big, small = self.major, self.minor
        out = np.empty((0, 2))
        while out.shape[0] < n:  # area element (R + r cos v) du dv: rejection on v
            u = rng.uniform(-math.pi, math.pi, 2 * n)
            v = rng.uniform(-math.pi, math.pi, 2 * n)
            keep = rng.random(2 * n) * (big + small) <= big + small * np.cos(v)
            out = np.concatenate([out, np.stack([u[keep], v[keep]], axis=1)])
        with torch.no_grad():
            return self._embed_core(_t(out[:n])).numpy()

    def _grid_core(self, spacing):
        mu = max(3, math.ceil(2 * math.pi * (self.major + self.minor) / spacing))
        mv = max(3, math.ceil(2 * math.pi * self.minor / spacing))
        u = -math.pi + (np.arange(mu) + 0.5) * 2 * math.pi / mu
        v = -math.pi + (np.arange(mv) + 0.5) * 2 * math.pi / mv
        coords = np.stack(np.meshgrid(u, v, indexing="ij"), -1).reshape(-1, 2)
        # ds² = (R + r cos v)² du² + r² dv²
        radius = math.hypot((self.major + self.minor) * math.pi / mu, self.minor * math.pi / mv)
        return coords, radius, False

    @property
    def reach(self) -> float:
        return min(self.minor, self.major - self.minor)

    @property
    def volume(self) -> float:
        return 4 * math.pi**2 * self.major * self.minor

    def kink_function(self, alpha: float) -> HolderFunction:
        """g = |sin u|^α = |p_2/ρ|^α; L = (2/(R - r))^α since |a/|a| - b/|b|| <= 2|a - b|/max(|a|, |b|)."""
        alpha = _check_alpha(alpha)

        def fn(p):
            return (p[:, 1].abs() / torch.linalg.vector_norm(p[:, :2], dim=1)) ** alpha

        return HolderFunction(fn, alpha, (2 / (self.major - self.minor)) ** alpha, 1.0, f"|sin u|^{alpha:g}")


class FlatTorus(Manifold):
    """S¹(r1) × S¹(r2) ⊂ R^4: each coordinate pair normalised; reach min(r1, r2), area 4π² r1 r2.

    No boundary and the same geometry everywhere: the preferred d = 2 test.  Where a pair is
    zero `project` takes its angle 0.
    """

    d, k, name = 2, 4, "flat_torus"

    def __init__(self, ambient_dim: int, r1: float = 1.0, r2: float = 1.0, seed: int = 0, origin=None):
        self.r1, self.r2 = check_positive("r1", r1), check_positive("r2", r2)
        super().__init__(ambient_dim, seed, origin)

    def describe(self) -> str:
        return f"flat torus r1={self.r1:g} r2={self.r2:g}"

    def _project_core(self, y):
        e = torch.tensor([1.0, 0.0], dtype=y.dtype)
        return torch.cat([self.r1 * _unit(y[:, :2], e), self.r2 * _unit(y[:, 2:], e)], dim=1)

    def _coords_core(self, p):
        return torch.stack([torch.atan2(p[:, 1], p[:, 0]), torch.atan2(p[:, 3], p[:, 2])], dim=1)

    def _embed_core(self, uv):
        u, v = uv[:, 0], uv[:, 1]
        return torch.stack([self.r1 * torch.cos(u), self.r1 * torch.sin(u),
                            self.r2 * torch.cos(v), self.r2 * torch.sin(v)], dim=1)

    def _tangent_core(self, p):
        uv = self._coords_core(p)
        u, v = uv[:, 0], uv[:, 1]
        zero = torch.zeros_like(u)
        e_u = torch.stack([-torch.sin(u), torch.cos(u), zero, zero], dim=1)
        e_v = torch.stack([zero, zero, -torch.sin(v), torch.cos(v)], dim=1)
        return torch.stack([e_u, e_v], dim=2)

    def _sample_core(self, rng, n):
        uv = rng.uniform(-math.pi, math.pi, (n, 2))
        with torch.no_grad():
            return self._embed_core(_t(uv)).numpy()

    def _grid_core(self, spacing):
        m1 = max(3, math.ceil(2 * math.pi * self.r1 / spacing))
        m2 = max(3, math.ceil(2 * math.pi * self.r2 / spacing))
        u = -math.pi + (np.arange(m1) + 0.5) * 2 * math.pi / m1
        v = -math.pi + (np.arange(m2) + 0.5) * 2 * math.pi / m2
        coords = np.stack(np.meshgrid(u, v, indexing="ij"), -1).reshape(-1, 2)
        radius = math.hypot(2 * self.r1 * math.sin(math.pi / (2 * m1)), 2 * self.r2 * math.sin(math.pi / (2 * m2)))
        return coords, radius, True

    @property
    def reach(self) -> float:
        return min(self.r1, self.r2)

    @property
    def volume(self) -> float:
        return 4 * math.pi**2 * self.r1 * self.r2

    def kink_function(self, alpha: float) -> HolderFunction:
        """g = (|sin u|^α + |sin v|^α)/2; L = (r1^(-α) + r2^(-α))/2."""
        r1, r2, alpha = self.r1, self.r2, _check_alpha(alpha)

        def fn(p):
            return 0.5 * ((p[:, 1].abs() / r1) ** alpha + (p[:, 3].abs() / r2) ** alpha)

        return HolderFunction(fn, alpha, 0.5 * (r1 ** (-alpha) + r2 ** (-alpha)), 1.0,
                              f"(|sin u|^{alpha:g} + |sin v|^{alpha:g})/2")


class SwissRoll(Manifold):
    """The Swiss roll Φ(t, s) = (t cos t, s, t sin t), t ∈ [t0, t1], s ∈ [0, height].

    It has a boundary.  The projection onto this closed set is computed by Newton iterations
    on t (Gauss-Newton steps where the curvature term would make the step ascend), clamped to
    [t0, t1], started on every turn of the spiral at the polar angle of x and at both ends,
    keeping the best; s decouples (the roll is a cylinder over the spiral) and is clamped to
    [0, height].  Points whose foot lies on the boundary are not on a normal fibre; tube
    samples have interior feet.  The reach has no closed form: it is the (G1) estimate of
    :meth:`estimate_reach` on 1500 points (seed 0; computed once per shape), below the curvature radius
    (1 + t0²)^(3/2)/(t0² + 2) and about half the gap 2π between turns.
    """

    d, k, name, has_boundary = 2, 3, "swiss_roll", True

    def __init__(self, ambient_dim: int, t_range: Sequence[float] = (1.5 * math.pi, 4.5 * math.pi),
                 height: float = 10.0, seed: int = 0, origin=None, iterations: int = 60):
        t0, t1 = (float(v) for v in t_range)
        if not 0 < t0 < t1 or not math.isfinite(t1):
            raise ValueError(f"t_range = {tuple(t_range)!r} is out of range: need 0 < t0 < t1 < inf")
        self.t0, self.t1 = t0, t1
        self.height = check_positive("height", height)
        self.iterations = check_int("iterations", iterations, 1)
        super().__init__(ambient_dim, seed, origin)

    def describe(self) -> str:
        return f"swiss roll t in [{self.t0:.3g}, {self.t1:.3g}]"

    def _spiral(self, t):
        return torch.stack([t * torch.cos(t), t * torch.sin(t)], dim=-1)

    def _foot_parameter(self, z: torch.Tensor) -> torch.Tensor:
        """argmin_t |c(t) - z| over [t0, t1] for planar points z (n, 2), without gradient (numpy)."""
        zz = z.detach().numpy()[:, None, :]
        theta = np.arctan2(zz[:, 0, 1], zz[:, 0, 0])
        turns = np.arange(math.floor((self.t0 - math.pi) / (2 * math.pi)),
                          math.ceil((self.t1 + math.pi) / (2 * math.pi)) + 1)
        starts = theta[:, None] + 2 * math.pi * turns[None, :]
        ends = np.broadcast_to(np.array([self.t0, self.t1]), (len(theta), 2))
        t = np.clip(np.concatenate([starts, ends], axis=1), self.t0, self.t1)
        for _ in range(self.iterations):
            c, s = np.cos(t), np.sin(t)
            r1, r2 = t * c - zz[..., 0], t * s - zz[..., 1]
            d1x, d1y = c - t * s, s + t * c
            grad = d1x * r1 + d1y * r2
            gn = d1x * d1x + d1y * d1y
            newton = gn + (-2 * s - t * c) * r1 + (2 * c - t * s) * r2
            step = np.where(newton > 0.1 * gn, grad / newton, grad / gn)
            t_new = np.clip(t - step, self.t0, self.t1)
            done = np.max(np.abs(t_new - t)) <= 1e-15 * self.t1
            t = t_new
            if done:
                break
        dist = (t * np.cos(t) - zz[..., 0]) ** 2 + (t * np.sin(t) - zz[..., 1]) ** 2
        return torch.as_tensor(t[np.arange(len(t)), dist.argmin(axis=1)], dtype=z.dtype)

    def _project_core(self, y):
        z = torch.stack([y[:, 0], y[:, 2]], dim=1)
        with torch.no_grad():
            t = self._foot_parameter(z)
        if y.requires_grad:  # one differentiable Gauss-Newton step from the foot (for autograd)
            d1 = torch.stack([torch.cos(t) - t * torch.sin(t), torch.sin(t) + t * torch.cos(t)], dim=-1)
            inside = (t > self.t0) & (t < self.t1)
            step = ((z - self._spiral(t)) * d1).sum(-1) / (d1 * d1).sum(-1)
            t = t + torch.where(inside, step - step.detach(), torch.zeros_like(step))
        s = y[:, 1].clamp(0.0, self.height)
        return torch.stack([t * torch.cos(t), s, t * torch.sin(t)], dim=1)

    def _coords_core(self, p):
        t = torch.linalg.vector_norm(torch.stack([p[:, 0], p[:, 2]], dim=1), dim=1)
        return torch.stack([t, p[:, 1]], dim=1)

    def _embed_core(self, ts):
        t, s = ts[:, 0], ts[:, 1]
        return torch.stack([t * torch.cos(t), s, t * torch.sin(t)], dim=1)

    def _tangent_core(self, p):
        t = self._coords_core(p)[:, 0]
        c, s = torch.cos(t), torch.sin(t)
        zero = torch.zeros_like(t)
        e_t = torch.stack([c - t * s, zero, s + t * c], dim=1) / torch.sqrt(1 + t * t)[:, None]
        e_s = torch.stack([zero, torch.ones_like(t), zero], dim=1)
        return torch.stack([e_t, e_s], dim=2)

    def _sample_core(self, rng, n):
        out = np.empty(0)
        top = math.sqrt(1 + self.t1**2)
        while out.shape[0] < n:  # area element sqrt(1 + t²) dt ds: rejection on t
            t = rng.uniform(self.t0, self.t1, 2 * n)
            out = np.concatenate([out, t[rng.random(2 * n) * top <= np.sqrt(1 + t * t)]])
        ts = np.stack([out[:n], rng.uniform(0, self.height, n)], axis=1)
        with torch.no_grad():
            return self._embed_core(_t(ts)).numpy()

    def _grid_core(self, spacing):
        mt = max(2, math.ceil(self.volume / self.height / spacing))
        ms = max(2, math.ceil(self.height / spacing))
        ht, hs = (self.t1 - self.t0) / mt, self.height / ms
        t = self.t0 + (np.arange(mt) + 0.5) * ht
        s = (np.arange(ms) + 0.5) * hs
        coords = np.stack(np.meshgrid(t, s, indexing="ij"), -1).reshape(-1, 2)
        # ds² = (1 + t²) dt² + ds²
        return coords, math.hypot(math.sqrt(1 + self.t1**2) * ht / 2, hs / 2), False

    @property
    def reach(self) -> float:
        return _swiss_roll_reach(self.t0, self.t1, self.height)

    @property
    def volume(self) -> float:
        def arc(t):
            return 0.5 * (t * math.sqrt(1 + t * t) + math.asinh(t))

        return self.height * (arc(self.t1) - arc(self.t0))

    def kink_function(self, alpha: float) -> HolderFunction:
        """g = |sin t|^α, a kink along every line t ∈ πZ; the ambient Hölder constant is not derived."""
        alpha = _check_alpha(alpha)

        def fn(p):
            t = torch.linalg.vector_norm(torch.stack([p[:, 0], p[:, 2]], dim=1), dim=1)
            return torch.sin(t).abs() ** alpha

        return HolderFunction(fn, alpha, None, 1.0, f"|sin t|^{alpha:g}")


@lru_cache(maxsize=32)
def _swiss_roll_reach(t0: float, t1: float, height: float) -> float:
    """(G1) estimate on 1500 points (seed 0) of the roll in R^3 (the reach does not depend on D)."""
    return SwissRoll(3, (t0, t1), height, seed=0).estimate_reach(1500, seed=0)


def _fixed_dimension(cls: type[Manifold]) -> Callable[..., Manifold]:
    """A builder (D, seed, d, **kwargs) for a manifold of one dimension d (d, if given, must be it)."""
    def build(ambient_dim: int, seed: int = 0, d: int = cls.d, **kwargs) -> Manifold:
        if check_int("d", d, 1) != cls.d:
            raise ValueError(f"d = {d!r} is out of range: the {cls.name} {cls.__name__} has d = {cls.d}")
        return cls(ambient_dim, seed=seed, **kwargs)

    build.manifold_class = cls
    return build


def _subspace(ambient_dim: int, seed: int = 0, d: int = 1, **kwargs) -> Manifold:
    return AffineSubspace(d, ambient_dim, seed=seed, **kwargs)


def _sphere(ambient_dim: int, seed: int = 0, d: int = 2, **kwargs) -> Manifold:
    return Sphere(d, ambient_dim, seed=seed, **kwargs)


_subspace.manifold_class, _sphere.manifold_class = AffineSubspace, Sphere

MANIFOLDS: dict[str, Callable[..., Manifold]] = {
    "subspace": _subspace,
    "circle": _fixed_dimension(Circle),
    "sphere": _sphere,
    "torus": _fixed_dimension(Torus),
    "flat_torus": _fixed_dimension(FlatTorus),
    "swiss_roll": _fixed_dimension(SwissRoll),
}


def _keywords(builder: Callable[..., Manifold]) -> list[str]:
    """The keyword arguments a builder of MANIFOLDS takes besides D and seed: d and its class's."""
    own = inspect.signature(builder.manifold_class.__init__).parameters
    return sorted({"d"} | set(own) - {"self", "d", "ambient_dim", "seed"})


def make_manifold(name: str, ambient_dim: int, seed: int = 0, **kwargs) -> Manifold:
    """Build a test manifold by name (``MANIFOLDS``) in R^D with default sizes.

    `kwargs` are ``d`` (for "subspace" and "sphere"; the others accept only their own d) and the
    keyword arguments of the manifold's class (``radius``, ``major``, ``half_width``, ...); any
    other raises ValueError naming the allowed ones.

    >>> make_manifold("circle", 10, seed=3).reach
    1.0
    >>> make_manifold("torus", 5, major=3.0).reach
    1.0
    """
    if name not in MANIFOLDS:
        raise ValueError(f"name = {name!r} is not a test manifold: use one of {sorted(MANIFOLDS)}")
    allowed = _keywords(MANIFOLDS[name])
    for key, value in kwargs.items():
        if key not in allowed:
            raise ValueError(f"{key} = {value!r} is not a parameter of the {name!r} manifold: use one of {allowed}")
    return MANIFOLDS[name](ambient_dim, seed=seed, **kwargs)


# -- targets -------------------------------------------------------------------------------------------


class ManifoldTarget:
    """f(x) = g(π_M(x)): constant on normal fibres, the projection model.

    Duck-types :class:`relunet.constructions.targets.Target` for
    :func:`relunet.verify.measure.sup_error` (``dim``, ``numpy``, ``torch``); it has no exact
    evaluation (call sup_error with ``exact=False, polish=False``).

    Parameters
    ----------
    manifold : Manifold
    g : HolderFunction
        g on the core points of M.

    Examples
    --------
    >>> m = Circle(3, seed=1)
    >>> f = ManifoldTarget(m, m.kink_function(1.0))
    >>> p = m.embed(np.array([[0.5]]))
    >>> x = p + 0.3 * m.normal_directions(p, np.random.default_rng(0))
    >>> bool(np.isclose(f.numpy(x)[0], np.sin(0.5)))
    True
    """

    def __init__(self, manifold: Manifold, g: HolderFunction):
        self.manifold, self.g = manifold, g
        self.dim = manifold.D
        self.name = f"{g.name} o pi[{manifold.describe()}]"

    def __repr__(self) -> str:
        return f"ManifoldTarget({self.name!r}, dim={self.dim})"

    def on_core(self, p: torch.Tensor) -> torch.Tensor:
        """g at core points of M_0."""
        return self.g.fn(p)

    def torch(self, x: torch.Tensor) -> torch.Tensor:
        """f on a tensor (n, D), differentiable where π and g are."""
        m = self.manifold
        return self.g.fn(m._project_core(m.to_core(x.to(torch.float64))))

    def numpy(self, x) -> np.ndarray:
        """f on points (n, D), float64."""
        with torch.no_grad():
            return self.torch(_t(self.manifold._points(x))).numpy()

    def on_manifold(self, p) -> np.ndarray:
        """g at points p of M (n, D)."""
        return self.numpy(p)


class DistanceTarget:
    """f(x) = h(dist(x, M_1), ..., dist(x, M_K)): the distance model.

    Parameters
    ----------
    manifolds : sequence of Manifold
        All in the same R^D.
    h : callable
        torch (n, K) -> (n,).
    name : str

    Examples
    --------
    >>> c = Circle(3, seed=0)
    >>> f = DistanceTarget([c], lambda r: r[:, 0] ** 2)
    >>> round(float(f.numpy(np.zeros((1, 3)))[0]), 12)
    1.0
    """

    def __init__(self, manifolds: Sequence[Manifold], h: Callable[[torch.Tensor], torch.Tensor],
                 name: str = "h(dist)"):
        if not manifolds:
            raise ValueError("manifolds = [] is empty: the distance model needs at least one set")
        dims = {m.D for m in manifolds}
        if len(dims) > 1:
            raise ValueError(f"manifolds live in R^D for D in {sorted(dims)}: they must share one D")
        self.manifolds, self.h, self.name = list(manifolds), h, name
        self.dim = manifolds[0].D

    def distances_torch(self, x: torch.Tensor) -> torch.Tensor:
        """(n, K) distances, differentiable away from the medial axes."""
        cols = [torch.linalg.vector_norm(x - m.project_torch(x), dim=1) for m in self.manifolds]
        return torch.stack(cols, dim=1)

    def torch(self, x: torch.Tensor) -> torch.Tensor:
        return self.h(self.distances_torch(x.to(torch.float64)))

    def numpy(self, x) -> np.ndarray:
        with torch.no_grad():
            return self.torch(_t(self.manifolds[0]._points(x))).numpy()
