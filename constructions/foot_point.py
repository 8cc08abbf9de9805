"""Variant (b) of the projection construction: fixed charts and foot-point iteration (α > 1).

Variant (a) (:func:`relunet.constructions.intrinsic_nets.projection_net`) reads the position on
M from an affine chart per centre, whose error q r + r²/(2τ) caps it at Hölder order α <= 1.
Variant (b) of intrinsic_dimension.md §5.2 keeps a *fixed* atlas of charts (covering radius
0.1-0.25 τ), whatever the accuracy, and recovers the exact chart coordinate of the foot point
π(x) by a fixed-point iteration; the local functions G_i(h) = g(Φ_i(h)) are then approximated to
the accuracy α allows (here multilinear interpolation on a grid, order 2).

For a round sphere S^d of radius R (the circle is d = 1) the graph chart at a centre c with
tangent basis V and outer unit normal ν_c is Φ(h) = c + V h + ν_c ψ(h), ψ(h) = sqrt(R² - |h|²)
- R, and the foot point's coordinate h* = Vᵀ(π(x) - c) is the fixed point of

    T_x(h) = Vᵀ(x - c) + Dψ(h)ᵀ (ν_cᵀ(x - c) - ψ(h)),   Dψ(h) = -h / sqrt(R² - |h|²)

(the condition J(h)ᵀ(x - Φ(h)) = 0 with J = V + ν_c Dψ).  Write t for the component of x - π(x)
along the sphere's outer normal at π(x) (components outside the sphere's (d+1)-dimensional span
do not enter).  At the fixed point the Jacobian of T_x has the eigenvalues -t/R (across h*, when
d >= 2) and -(t R + |h*|²)/(R² - |h*|²) (along h*), so the iteration converges geometrically with
the factor

    λ(x) = max(|t|/R, |t R + |h*|²| / (R² - |h*|²)) <= (q + ρ²/R²) / (1 - ρ²/R²)

on the tube M(qR) for charts used within |h| <= ρ (:func:`relunet.bounds.intrinsic.
foot_point_factor`, with s = ρ/R): the "q + O(r/τ)" of the theory page, made exact for spheres.

:class:`FootPointNet` is semi-explicit (exact square roots, divisions and products in float64,
as ``mode="semi"`` of variant (a)), the form in which the construction is measured.  A pure-ReLU
version would replace ψ, Dψ, the products and the division by the primitives of
:mod:`relunet.constructions.primitives`; its atlas, and so its D-dependent part, would not grow
as ε falls.  It is not built.

References
----------
A. Cloninger, T. Klock, Neural Networks 141 (2021) 404-419 (the model; the construction here is
relunet's own, following ``shared/theory/intrinsic_dimension.md`` §5.2 variant (b) and check 10).
H. Federer, "Curvature measures", Trans. AMS 93 (1959) (reach of the sphere: R).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from relunet.bounds.intrinsic import foot_point_factor

from .manifolds import Circle, HolderFunction, Manifold, Sphere
from .models import ArrayModule
from .validation import check_int, check_real

__all__ = ["FootPointNet", "smooth_function"]


def _tensor(x) -> torch.Tensor:
    return x if torch.is_tensor(x) else torch.as_tensor(np.asarray(x, dtype=np.float64))


def _check_sphere(manifold: Manifold) -> None:
    if not isinstance(manifold, (Circle, Sphere)):
        raise ValueError(f"manifold = {manifold!r} is not supported: variant (b) is built for round spheres "
                         "(Circle, Sphere), whose graph charts are closed-form")


def smooth_function(manifold: Manifold) -> HolderFunction:
    """g(p) = ⟨p - b, e_1⟩⟨p - b, e_2⟩ / R² in core coordinates: smooth (Hölder order 2, and more).

    On the circle this is sin(2θ)/2.  Its Hölder-2 constant (the Lipschitz constant of the
    gradient along M) is recorded as None: the claims use only the order.
    """
    _check_sphere(manifold)
    radius = manifold.radius
    return HolderFunction(lambda p: p[:, 0] * p[:, 1] / radius**2, 2.0, None, 0.5, "p1 p2 / R^2")


class FootPointNet(ArrayModule):
    """f̂(x) = Σ_i w_i(x) Ĝ_i(h_i^(K)(x)): fixed charts, K foot-point iterations, local grids.

    Parameters
    ----------
    manifold : Circle or Sphere
    g : HolderFunction
        The function on M.
    pieces : int
        Grid cells per axis of each chart's local interpolant (the accuracy knob; the atlas is
        fixed).
    q : float
        0 <= q < 1, the tube the net is built for.
    iterations : int, optional
        K >= 0 foot-point iterations (K = 0 is the affine chart of variant (a)).  By default
        enough for the Bound's factor λ to bring the error below 1e-15 of its start
        (log(1e-15)/log λ, at most 500), or 200 where the Bound is >= 1.
    chart_radius : float
        Covering radius of the atlas as a fraction of the reach.  With the default 0.1 the
        Bound (q + ρ²/τ²)/(1 - ρ²/τ²) is below 1 up to q = 0.75 (the measured factors stayed
        below 0.8 at q = 0.9 too).
    kappa : float
        Ramp width of the localisation, as in variant (a): a chart is switched off once
        |x - c_i|² - min_j |x - c_j|² exceeds κ r².

    Attributes
    ----------
    centres : (N, D) array
    radius_used : float
        ρ, the largest |h| any active chart can see on the tube (by (G2)); the local grids
        cover [-ρ, ρ]^d.
    factor_bound : float
        The Bound (q + ρ²/R²)/(1 - ρ²/R²) on the iteration's contraction factor.
    """

    def __init__(self, manifold: Manifold, g: HolderFunction, pieces: int, q: float, iterations: int | None = None,
                 chart_radius: float = 0.1, kappa: float = 0.5):
        super().__init__()
        _check_sphere(manifold)
        pieces = check_int("pieces", pieces, 1)
        iterations = None if iterations is None else check_int("iterations", iterations, 0)
        q = check_real("q", q, 0, 1, high_open=True)
        chart_radius = check_real("chart_radius", chart_radius, 0, 0.5, low_open=True, high_open=True)
        kappa = check_real("kappa", kappa, 0, low_open=True)
        self.manifold, self.g, self.q = manifold, g, q
        self.input_dim = manifold.D
        self.pieces, self.kappa = pieces, kappa
        radius = manifold.radius
        spacing = chart_radius * radius
        grid = manifold.grid(spacing)
        while grid.covering_radius > chart_radius * radius:
            spacing *= 0.9
            grid = manifold.grid(spacing)
        self.r = grid.covering_radius
        # (G2): active centres lie within r sqrt((κ + 1 + q)/(1 - q)) of π(x); their chart
        # coordinates |h| = |Vᵀ(π(x) - c)| are at most that distance.
        self.radius_used = min(self.r * math.sqrt((kappa + 1 + q) / (1 - q)), 0.9 * radius)
        self.centres = grid.points
        self.factor_bound = float(foot_point_factor().evaluate(q=self.q, s=self.radius_used / radius))
        self.iterations = int(iterations) if iterations is not None else (
            min(500, math.ceil(math.log(1e-15) / math.log(self.factor_bound))) if 0 < self.factor_bound < 1 else 200)
        d = manifold.d
        self.register_buffer("_c", torch.as_tensor(grid.points))
        self.register_buffer("_V", torch.as_tensor(manifold.tangent_basis(grid.points)))  # (N, D, d)
        self.register_buffer("_nu", (self._c - torch.as_tensor(manifold.origin)) / radius)  # outer normals
        self._knots = torch.linspace(-self.radius_used, self.radius_used, self.pieces + 1, dtype=torch.float64)
        mesh = torch.stack(torch.meshgrid(*([self._knots] * d), indexing="ij"), dim=-1).reshape(-1, d)
        with torch.no_grad():
            values = torch.stack([g.fn(manifold.to_core(self._chart(i, mesh))) for i in range(len(grid.points))])
        self.register_buffer("_values", values.reshape((len(grid.points),) + (self.pieces + 1,) * d))

    # -- the chart and its iteration ------------------------------------------------------------------
    def _psi(self, h: torch.Tensor) -> torch.Tensor:
        radius = self.manifold.radius
        s = torch.sqrt(torch.clamp(radius**2 - (h**2).sum(-1), min=0.0))
        return s - radius

    def _chart(self, i: int, h: torch.Tensor) -> torch.Tensor:
        """Φ_i(h) for h (m, d): points of M (ambient coordinates)."""
        return self._c[i] + h @ self._V[i].T + self._psi(h)[:, None] * self._nu[i]

    def active(self, x) -> tuple[torch.Tensor, torch.Tensor]:
        """The (point, chart) pairs with a positive weight: two index tensors of equal length."""
        return torch.nonzero(self.weights(_tensor(x)) > 0, as_tuple=True)

    def iterates(self, x, rows: torch.Tensor | None = None, charts: torch.Tensor | None = None) -> torch.Tensor:
        """Foot-point iterates h^(0..K) of the pairs (rows[j], charts[j]) (default: the active
        pairs), shape (K + 1, P, d); h^(0) = V_iᵀ(x - c_i) is the affine chart of variant (a)."""
        x = _tensor(x)
        if rows is None or charts is None:
            rows, charts = self.active(x)
        offset = x[rows] - self._c[charts]  # (P, D)
        a = torch.einsum("pD,pDd->pd", offset, self._V[charts])
        b = torch.einsum("pD,pD->p", offset, self._nu[charts])
        radius, cap = self.manifold.radius, self.radius_used
        h, out = a, [a]
        for _ in range(self.iterations):
            s = torch.sqrt(torch.clamp(radius**2 - (h**2).sum(-1), min=1e-300))
            h = a - h / s[:, None] * (b - (s - radius))[:, None]
            # keep the iterate in the chart (|h| <= ρ), where the local grid lives
            norm = h.norm(dim=-1, keepdim=True)
            h = h * torch.clamp(cap / norm.clamp_min(1e-300), max=1.0)
            out.append(h)
        return torch.stack(out)

    def exact_coordinates(self, x, rows: torch.Tensor, charts: torch.Tensor) -> np.ndarray:
        """h* = V_iᵀ(π(x) - c_i) of the pairs (rows[j], charts[j]), shape (P, d)."""
        foot = torch.as_tensor(self.manifold.project(np.asarray(x, dtype=np.float64)))
        return torch.einsum("pD,pDd->pd", foot[rows] - self._c[charts], self._V[charts]).numpy()

    def weights(self, x: torch.Tensor) -> torch.Tensor:
        """Partition of unity w_i(x) (n, N), exact (the localisation of variant (a)).

        The gaps |x - c_i|² - min_j |x - c_j|² come from the affine a_i(x) = |c_i - b|² -
        2⟨c_i - b, x - b⟩ (no (n, N, D) tensor, and no |x|² to cancel)."""
        origin = torch.as_tensor(self.manifold.origin, dtype=x.dtype)
        centred = self._c - origin
        a = (centred**2).sum(-1)[None, :] - 2 * (x - origin) @ centred.T
        gaps = a - a.min(dim=1, keepdim=True).values
        ramps = torch.relu(self.kappa * self.r**2 - gaps) / (self.kappa * self.r**2)
        return ramps / ramps.sum(dim=1, keepdim=True)

    # -- local interpolants -------------------------------------------------------------------------------
    def _interpolate(self, h: torch.Tensor, charts: torch.Tensor) -> torch.Tensor:
        """Multilinear interpolation of chart charts[j]'s grid values at h[j] (P, d): shape (P,)."""
        d, m = h.shape[-1], self.pieces
        t = (torch.clamp(h, -self.radius_used, self.radius_used) + self.radius_used) / (2 * self.radius_used) * m
        cell = torch.clamp(torch.floor(t), max=m - 1)
        frac = t - cell
        cell = cell.long()
        total = torch.zeros(h.shape[0], dtype=h.dtype)
        for corner in range(2**d):
            weight = torch.ones(h.shape[0], dtype=h.dtype)
            index = [charts]
            for j in range(d):
                bit = (corner >> j) & 1
                weight = weight * (frac[:, j] if bit else 1 - frac[:, j])
                index.append(cell[:, j] + bit)
            total = total + weight * self._values[tuple(index)]
        return total

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """f̂(x) for x (n, D): shape (n, 1), or (1,) for one point x (D,); only the active (point,
        chart) pairs are computed."""
        if x.ndim == 1 and x.shape[0] == self.input_dim:
            return self.forward(x[None])[0]
        if x.ndim != 2 or x.shape[1] != self.input_dim:
            raise ValueError(f"x has shape {tuple(x.shape)}: expected (n, {self.input_dim}) or ({self.input_dim},)")
        w = self.weights(x)
        rows, charts = torch.nonzero(w > 0, as_tuple=True)
        h = self.iterates(x, rows, charts)[-1]
        local = w[rows, charts] * self._interpolate(h, charts)
        return torch.zeros(x.shape[0], dtype=local.dtype).index_add(0, rows, local)[:, None]

    def size(self) -> dict:
        """What the net is made of: charts N, local grid values, the D-dependent weights."""
        count, dim, d = self._V.shape
        return {"charts": count, "local_values": int(self._values.numel()), "iterations": self.iterations,
                "ambient_weights": count * dim * (d + 1), "pieces": self.pieces}
