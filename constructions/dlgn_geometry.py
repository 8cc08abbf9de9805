"""Geometry of gating hyperplanes: distances, clustering statistics, and cells of 2-D arrangements.

* :func:`hyperplane_distance`: dist(v, z) = min(|v̂ - ẑ|, |v̂ + ẑ|) = sqrt(2 - 2 |cos∠(v, z)|),
  which ignores orientation (the follow-up's metric); random pairs in high dimension are at
  about sqrt(2).
* :func:`closest_distances` and :func:`counts_within`: how near the trained hyperplanes come to
  given ones (the nodes of an oblique tree).
* :func:`layer_statistics`: per gating layer, the within-layer nearest-neighbour distances, the
  fraction of neurons with a neighbour within r, DBSCAN clusters and the stable rank.
* 2-D arrangements: :func:`window_cell_formula` (1 + lines meeting the window + intersection
  points inside it, for lines in general position), :func:`plane_cells` (the cells themselves,
  by splitting the window polygon line by line, an independent count),
  :func:`clip_polygon` (a convex polygon cut by half-planes: the drawn shape of a path region),
  :func:`grid_pattern_count` (distinct sign patterns on a grid: a lower bound) and
  :func:`relu_pattern_count` (distinct activation patterns of a ReLU net on the same grid).

References
----------
Banerjee et al., ICLR 2025 (hyperplane distance, closest-distance tables).  Yadav, Ramaswamy,
Lakshminarayanan, arXiv:2404.04312 (clustering of later-layer neurons).  T. Zaslavsky, "Facing
up to arrangements", Mem. AMS 154 (1975); R. C. Buck, "Partition of space", Amer. Math.
Monthly 50 (1943) (cells of arrangements).  ``shared/theory/dlgn.md`` §4 item 3, §8, §11.
"""

from __future__ import annotations

import numpy as np

from .validation import check_int, check_positive

__all__ = [
    "clip_polygon",
    "closest_distances",
    "counts_within",
    "grid_pattern_count",
    "hyperplane_distance",
    "layer_statistics",
    "plane_cells",
    "polygon_area",
    "relu_pattern_count",
    "stable_rank",
    "window_cell_formula",
]


def _unit_rows(a) -> np.ndarray:
    a = np.atleast_2d(np.asarray(a, dtype=np.float64))
    norms = np.linalg.norm(a, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise ValueError("a hyperplane has a zero normal: it has no direction")
    return a / norms


def hyperplane_distance(a, b=None) -> np.ndarray:
    """sqrt(2 - 2 |cos|) between the rows of a (p, d) and of b (q, d) (default b = a): shape (p, q).

    Orientation is ignored (v and -v give the same hyperplane through the origin); for
    hyperplanes with offsets pass homogeneous rows (v, c).

    >>> hyperplane_distance([[1.0, 0.0]], [[-1.0, 0.0], [0.0, 2.0]]).round(6).tolist()
    [[0.0, 1.414214]]

    References
    ----------
    Banerjee et al., ICLR 2025; ``shared/theory/dlgn.md`` §4 item 3.
    """
    ua = _unit_rows(a)
    ub = ua if b is None else _unit_rows(b)
    if ua.shape[1] != ub.shape[1]:
        raise ValueError(f"b has {ub.shape[1]} columns: expected {ua.shape[1]} like a")
    cos = np.clip(np.abs(ua @ ub.T), 0.0, 1.0)
    return np.sqrt(np.maximum(2.0 - 2.0 * cos, 0.0))


def closest_distances(targets, hyperplanes) -> np.ndarray:
    """For each target row, the distance to the nearest of the hyperplanes: shape (targets,)."""
    return hyperplane_distance(targets, hyperplanes).min(axis=1)


def counts_within(targets, hyperplanes, radii=(0.1, 0.2, 0.3)) -> np.ndarray:
    """How many hyperplanes lie within each radius of each target: shape (targets, len(radii)).

    >>> counts_within([[1.0, 0.0]], [[1.0, 0.01], [0.0, 1.0]], radii=(0.1, 2.0)).tolist()
    [[1, 2]]
    """
    dist = hyperplane_distance(targets, hyperplanes)
    return np.stack([(dist < r).sum(axis=1) for r in radii], axis=1)


def stable_rank(matrix) -> float:
    """|A|_F^2 / |A|_2^2, between 1 and rank(A).

    >>> stable_rank(np.eye(3))
    3.0
    """
    a = np.asarray(matrix, dtype=np.float64)
    s = np.linalg.svd(a, compute_uv=False)
    if s[0] == 0:
        raise ValueError("matrix is zero: its stable rank is undefined")
    return float(np.sum(s**2) / s[0] ** 2)


def layer_statistics(normals, radii=(0.1, 0.2, 0.3), eps: float = 0.2, min_samples: int = 2) -> dict:
    """Clustering statistics of one gating layer's hyperplanes (rows of `normals`).

    Returns a dict with ``nn`` (each neuron's distance to its nearest other neuron in the layer),
    ``within`` (the fraction of neurons with a neighbour closer than each radius),
    ``clusters`` and ``largest`` (DBSCAN under the hyperplane distance with `eps` and
    `min_samples`: the number of clusters and the size of the largest, noise excluded),
    ``stable_rank`` (of the matrix of unit normals: the gates depend only on directions) and
    ``pair`` (all within-layer pairwise distances).

    References
    ----------
    ``shared/theory/dlgn.md`` §11 items 1-5.
    """
    from sklearn.cluster import DBSCAN

    eps, min_samples = check_positive("eps", eps), check_int("min_samples", min_samples, 1)
    unit = _unit_rows(normals)
    if unit.shape[0] < 2:
        raise ValueError(f"normals has {unit.shape[0]} row: need at least 2 neurons for within-layer statistics")
    dist = hyperplane_distance(unit)
    off = dist + np.diag(np.full(len(dist), np.inf))
    nn = off.min(axis=1)
    labels = DBSCAN(eps=eps, min_samples=min_samples, metric="precomputed").fit(dist).labels_
    sizes = np.bincount(labels[labels >= 0]) if np.any(labels >= 0) else np.zeros(0, dtype=int)
    return {
        "nn": nn,
        "within": {float(r): float(np.mean(nn < r)) for r in radii},
        "clusters": int(len(sizes)),
        "largest": int(sizes.max()) if len(sizes) else 0,
        "stable_rank": stable_rank(unit),
        "pair": dist[np.triu_indices(len(dist), 1)],
    }


# -- 2-D arrangements -------------------------------------------------------------------------------


def _check_lines(lines) -> np.ndarray:
    arr = np.atleast_2d(np.asarray(lines, dtype=np.float64))
    if arr.shape[1] != 3:
        raise ValueError(f"lines has shape {arr.shape}: expected (N, 3) rows (a, b, c) of a x + b y + c = 0")
    if np.any(np.hypot(arr[:, 0], arr[:, 1]) == 0):
        raise ValueError("lines: a row has a = b = 0, which is not a line")
    return arr / np.hypot(arr[:, 0], arr[:, 1])[:, None]


def _check_window(window) -> float:
    return check_positive("window", window)


def _square(window: float) -> np.ndarray:
    w = window
    return np.array([[-w, -w], [w, -w], [w, w], [-w, w]])


def polygon_area(poly: np.ndarray) -> float:
    """Area of a polygon given by its vertices in order (shoelace).

    >>> polygon_area(np.array([[0, 0], [1, 0], [1, 1], [0, 1]]))
    1.0
    """
    if len(poly) < 3:
        return 0.0
    x, y = poly[:, 0], poly[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2)


def _clip(poly: np.ndarray, line: np.ndarray) -> np.ndarray:
    """The part of a convex polygon where a x + b y + c >= 0 (Sutherland-Hodgman, one edge)."""
    if len(poly) == 0:
        return poly
    vals = poly @ line[:2] + line[2]
    out = []
    for i in range(len(poly)):
        p, q, vp, vq = poly[i], poly[(i + 1) % len(poly)], vals[i], vals[(i + 1) % len(poly)]
        if vp >= 0:
            out.append(p)
        if (vp >= 0) != (vq >= 0):
            t = vp / (vp - vq)
            out.append(p + t * (q - p))
    return np.array(out) if out else np.zeros((0, 2))


def clip_polygon(poly, halfplanes) -> np.ndarray:
    """A convex polygon intersected with half-planes a x + b y + c >= 0 (rows (a, b, c)).

    >>> clip_polygon(np.array([[0.0, 0.0], [2.0, 0.0], [2.0, 2.0], [0.0, 2.0]]), [[-1.0, 0.0, 1.0]]).tolist()
    [[0.0, 0.0], [1.0, 0.0], [1.0, 2.0], [0.0, 2.0]]
    """
    out = np.asarray(poly, dtype=np.float64)
    for line in np.atleast_2d(np.asarray(halfplanes, dtype=np.float64)):
        out = _clip(out, line)
    return out


def plane_cells(lines, window: float = 1.0, min_area: float = 1e-12) -> list[np.ndarray]:
    """The cells of a line arrangement inside the square [-window, window]^2, as convex polygons.

    The square is split by one line at a time; a piece is kept when its area exceeds
    `min_area` (so a line that only grazes a cell does not add a sliver).  An independent count
    of what :func:`window_cell_formula` predicts.

    >>> len(plane_cells([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]))
    4

    References
    ----------
    ``shared/theory/dlgn.md`` §8 (exact 2-D count).
    """
    arr, w = _check_lines(lines), _check_window(window)
    cells = [_square(w)]
    for line in arr:
        nxt = []
        for poly in cells:
            pos, neg = _clip(poly, line), _clip(poly, -line)
            pieces = [piece for piece in (pos, neg) if polygon_area(piece) > min_area]
            nxt.extend(pieces if pieces else [poly])
        cells = nxt
    return cells


def window_cell_formula(lines, window: float = 1.0) -> dict:
    """1 + (lines meeting the open square) + (pairwise intersection points inside it).

    Exact for lines in general position (no two parallel, no three through one point); the
    returned dict also gives ``lines``, ``points`` and ``min_gap``, the smallest distance between
    two intersection points inside the window (0 means a triple point), so a caller can see
    whether general position holds.

    >>> window_cell_formula([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 1.0, -0.5]])["cells"]
    7

    References
    ----------
    Zaslavsky 1975; ``shared/theory/dlgn.md`` §8.
    """
    arr, w = _check_lines(lines), _check_window(window)
    corners = _square(w)
    vals = corners @ arr[:, :2].T + arr[:, 2]
    meeting = int(np.sum((vals.min(axis=0) < 0) & (vals.max(axis=0) > 0)))
    pts = []
    for i in range(len(arr)):
        for j in range(i + 1, len(arr)):
            a = np.array([arr[i, :2], arr[j, :2]])
            det = np.linalg.det(a)
            if abs(det) < 1e-14:
                continue
            p = np.linalg.solve(a, -np.array([arr[i, 2], arr[j, 2]]))
            if np.all(np.abs(p) < w):
                pts.append(p)
    pts = np.array(pts).reshape(-1, 2)
    gaps = np.linalg.norm(pts[:, None] - pts[None], axis=-1)[np.triu_indices(len(pts), 1)]
    return {"cells": 1 + meeting + len(pts), "lines": meeting, "points": len(pts),
            "min_gap": float(gaps.min()) if len(gaps) else float("inf")}


def _grid(window: float, resolution: int) -> np.ndarray:
    resolution = check_int("resolution", resolution, 2)
    # cell centres of a resolution^2 grid, so no point lies on the window's edge
    t = (np.arange(resolution) + 0.5) / resolution * 2 * window - window
    gx, gy = np.meshgrid(t, t, indexing="xy")
    return np.stack([gx.ravel(), gy.ravel()], axis=1)


def _count_patterns(signs: np.ndarray) -> int:
    """Distinct rows of a boolean matrix: one integer key per row (up to 63 columns), else byte strings."""
    if signs.shape[1] <= 63:
        keys = signs.astype(np.int64) @ (np.int64(1) << np.arange(signs.shape[1], dtype=np.int64))
        return int(len(np.unique(keys)))
    packed = np.ascontiguousarray(np.packbits(signs.astype(np.uint8), axis=1))
    return int(len(np.unique(packed.view(np.dtype((np.void, packed.shape[1]))))))


def grid_pattern_count(lines, window: float = 1.0, resolution: int = 1000) -> int:
    """The number of distinct sign patterns of the lines on a resolution^2 grid: a lower bound on the cells.

    >>> grid_pattern_count([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], resolution=10)
    4
    """
    arr, w = _check_lines(lines), _check_window(window)
    pts = _grid(w, resolution)
    return _count_patterns(pts @ arr[:, :2].T + arr[:, 2] >= 0)


def relu_pattern_count(mlp, params, k: int = 0, window: float = 1.0, resolution: int = 1000) -> int:
    """Distinct activation patterns of ReLU net k (a 2-input StackedMLP) on a resolution^2 grid.

    A lower bound on its number of activation regions inside the window (its linear regions
    are unions of these).
    """
    import torch

    if mlp.input_dim != 2:
        raise ValueError(f"mlp input_dim = {mlp.input_dim}: the grid count is for 2-D inputs")
    w = _check_window(window)
    k = check_int("k", k, 0, next(iter(params.values())).shape[0] - 1)
    pts = torch.as_tensor(_grid(w, resolution))
    one = {name: p[k:k + 1].detach().to(torch.float64) for name, p in params.items()}
    with torch.no_grad():
        pre = mlp.preactivations(one, pts.unsqueeze(0))
    signs = torch.cat([h[0] > 0 for h in pre], dim=1).numpy()
    return _count_patterns(signs)
