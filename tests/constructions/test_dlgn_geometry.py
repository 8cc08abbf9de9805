"""Hyperplane distances, clustering statistics and 2-D cell counts (dlgn.md §4 item 3, §8, §11; check D14)."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from relunet.bounds.dlgn import arrangement_cells_affine
from relunet.constructions.dlgn_geometry import (
    clip_polygon,
    closest_distances,
    counts_within,
    grid_pattern_count,
    hyperplane_distance,
    layer_statistics,
    plane_cells,
    polygon_area,
    relu_pattern_count,
    stable_rank,
    window_cell_formula,
)
from relunet.constructions.models import StackedMLP


def test_hyperplane_distance_properties():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(5, 4)), rng.normal(size=(6, 4))
    dist = hyperplane_distance(a, b)
    # sign and scale of the normals do not matter; the formula min(|a-b|, |a+b|) of unit vectors
    np.testing.assert_allclose(hyperplane_distance(-3 * a, 0.5 * b), dist, atol=1e-12)
    ua, ub = a / np.linalg.norm(a, axis=1, keepdims=True), b / np.linalg.norm(b, axis=1, keepdims=True)
    direct = np.minimum(np.linalg.norm(ua[:, None] - ub[None], axis=-1),
                        np.linalg.norm(ua[:, None] + ub[None], axis=-1))
    np.testing.assert_allclose(dist, direct, atol=1e-12)
    assert np.all(dist <= math.sqrt(2) + 1e-12)
    np.testing.assert_allclose(np.diag(hyperplane_distance(a)), 0.0, atol=1e-7)
    with pytest.raises(ValueError, match="zero normal"):
        hyperplane_distance(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="b has 3 columns"):
        hyperplane_distance(a, np.ones((1, 3)))


def test_random_hyperplanes_in_high_dimension_are_near_sqrt2():
    x = np.random.default_rng(1).normal(size=(200, 2000))
    pairs = hyperplane_distance(x)[np.triu_indices(200, 1)]
    assert abs(np.median(pairs) - math.sqrt(2)) < 0.02


def test_closest_distances_and_counts():
    targets = np.eye(3)
    planes = np.array([[1.0, 0.01, 0.0], [0.0, 1.0, 0.2], [1.0, 1.0, 0.0]])
    cd = closest_distances(targets, planes)
    assert cd[0] < 0.02 and cd[2] > 0.9
    assert counts_within(targets, planes, radii=(0.05, 0.3)).tolist() == [[1, 1], [0, 1], [0, 0]]


def test_layer_statistics_find_clusters_and_stable_rank():
    rng = np.random.default_rng(2)
    base = rng.normal(size=(2, 10))
    clustered = np.repeat(base, 5, axis=0) + 0.01 * rng.normal(size=(10, 10))
    spread = rng.normal(size=(10, 10))
    c, s = layer_statistics(clustered), layer_statistics(spread)
    assert c["clusters"] == 2 and c["largest"] == 5 and c["within"][0.1] == 1.0
    assert s["clusters"] == 0 and s["within"][0.1] == 0.0
    assert c["stable_rank"] < 2.05 < s["stable_rank"]
    assert len(c["pair"]) == 45
    assert stable_rank(np.diag([3.0, 1.0])) == pytest.approx(10 / 9)
    with pytest.raises(ValueError, match="need at least 2"):
        layer_statistics(np.ones((1, 3)))


def test_polygons():
    square = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    assert polygon_area(square) == 1.0
    tri = clip_polygon(square, [[-1.0, -1.0, 1.0]])  # x + y <= 1
    assert polygon_area(tri) == pytest.approx(0.5)
    assert polygon_area(clip_polygon(square, [[1.0, 0.0, -2.0]])) == 0.0


def _random_lines(seed: int, n: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    theta = rng.uniform(0, np.pi, size=n)
    return np.column_stack([np.cos(theta), np.sin(theta), rng.uniform(-1.2, 1.2, size=n)])


@settings(max_examples=25)
@given(st.integers(0, 10**6), st.integers(1, 12))
def test_polygon_count_equals_the_window_formula(seed, n):
    """D14: 1 + lines + points = the cells found by splitting the square; within the Zaslavsky bound."""
    lines = _random_lines(seed, n)
    formula = window_cell_formula(lines)
    cells = plane_cells(lines)
    assert formula["min_gap"] > 1e-9  # random lines: general position
    assert len(cells) == formula["cells"] <= int(arrangement_cells_affine().exact(N=n, d=2))
    assert sum(polygon_area(c) for c in cells) == pytest.approx(4.0, rel=1e-12)


def test_grid_count_is_a_lower_bound_that_resolves_at_fine_grids():
    lines = _random_lines(3, 10)
    exact = len(plane_cells(lines))
    coarse, fine = grid_pattern_count(lines, resolution=20), grid_pattern_count(lines, resolution=800)
    assert coarse <= fine <= exact
    assert fine == exact


def test_central_lines_give_two_cells_per_line():
    theta = np.linspace(0.1, 3.0, 7)
    lines = np.column_stack([np.cos(theta), np.sin(theta), np.zeros(7)])
    assert len(plane_cells(lines)) == 14


def test_relu_pattern_count():
    mlp = StackedMLP(2, 1, 1, bias=True)
    params = {"w0": torch.tensor([[[1.0, 0.0]]]), "b0": torch.tensor([[0.0]]),
              "w1": torch.tensor([[[1.0]]]), "b1": torch.tensor([[0.0]])}
    assert relu_pattern_count(mlp, params, resolution=10) == 2
    with pytest.raises(ValueError, match="input_dim = 3"):
        relu_pattern_count(StackedMLP(3, 2, 1), StackedMLP(3, 2, 1).init([0]))


@pytest.mark.parametrize(("call", "match"), [
    (lambda: plane_cells([[0.0, 0.0, 1.0]]), "a = b = 0"),
    (lambda: plane_cells([[1.0, 0.0]]), "expected"),
    (lambda: window_cell_formula([[1.0, 0.0, 0.0]], window=-1), "window = -1"),
    (lambda: grid_pattern_count([[1.0, 0.0, 0.0]], resolution=1), "resolution = 1"),
])
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# -- regressions from the API audit (U2) ---------------------------------------------------------------


def test_numpy_scalars_count_as_numbers():
    lines = [[1.0, 0.0, 0.1], [0.0, 1.0, -0.2], [1.0, 1.0, 0.0]]
    assert window_cell_formula(lines, window=np.float32(1.0)) == window_cell_formula(lines)
    assert len(plane_cells(lines, window=np.int64(2))) == len(plane_cells(lines, window=2.0))
    assert grid_pattern_count(lines, resolution=np.int64(50)) == grid_pattern_count(lines, resolution=50)
    mlp = StackedMLP(2, 3, 1)
    p = mlp.init([0, 1])
    assert relu_pattern_count(mlp, p, k=np.int64(1), resolution=np.int32(40)) == relu_pattern_count(
        mlp, p, k=1, resolution=40)
    normals = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]])
    assert layer_statistics(normals, eps=np.float32(0.2), min_samples=np.int64(2))["clusters"] == \
        layer_statistics(normals)["clusters"]


@pytest.mark.parametrize(("call", "match"), [
    (lambda: relu_pattern_count(StackedMLP(2, 3, 1), StackedMLP(2, 3, 1).init([0]), k=1), r"k = 1 is out of range"),
    (lambda: grid_pattern_count([[1.0, 0.0, 0.0]], resolution=2.5), r"resolution = 2.5"),
    (lambda: layer_statistics(np.eye(2), eps=0), r"eps = 0"),
    (lambda: layer_statistics(np.eye(2), min_samples=0), r"min_samples = 0"),
])
def test_bad_numbers_name_the_parameter(call, match):
    with pytest.raises(ValueError, match=match):
        call()
