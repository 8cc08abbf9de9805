"""Test manifolds: projection, distance, tangents, coordinates, sampling, covers, reach, targets."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from relunet.constructions.manifolds import (
    AffineSubspace,
    Circle,
    DistanceTarget,
    FlatTorus,
    ManifoldTarget,
    Sphere,
    SwissRoll,
    Torus,
    make_manifold,
    random_frame,
)

CORE = ("subspace", "circle", "sphere", "torus", "flat_torus")
LOWEST = {"subspace": 2, "circle": 2, "sphere": 3, "torus": 3, "flat_torus": 4}


@st.composite
def tubes(draw, names=CORE):
    name = draw(st.sampled_from(names))
    dim = draw(st.integers(LOWEST[name], 60))
    seed = draw(st.integers(0, 2**31 - 1))
    q = draw(st.floats(0.0, 0.99))
    return make_manifold(name, dim, seed=seed), q, seed


def _scale(m, q):
    return 1 + 3 * q * (m.tube_scale if math.isfinite(m.tube_scale) else 1)


@given(tubes())
def test_projection_is_idempotent_and_returns_the_foot(case):
    m, q, seed = case
    tube = m.sample_tube(50, q, seed=seed)
    p = m.project(tube.x)
    np.testing.assert_allclose(m.project(p), p, atol=1e-12 * _scale(m, q))
    np.testing.assert_allclose(p, tube.foot, atol=1e-12 * _scale(m, q))
    np.testing.assert_allclose(m.distance(tube.x), tube.radius, atol=1e-12 * _scale(m, q))


@given(tubes())
def test_the_offset_is_normal_and_the_tangent_basis_orthonormal(case):
    m, q, seed = case
    x = m.sample_tube(50, q, law="radius", seed=seed).x
    p = m.project(x)
    basis = m.tangent_basis(p)
    assert basis.shape == (50, m.D, m.d)
    np.testing.assert_allclose(np.einsum("nid,nie->nde", basis, basis), np.broadcast_to(np.eye(m.d), (50, m.d, m.d)),
                               atol=1e-12)
    assert np.max(np.abs(np.einsum("nid,ni->nd", basis, x - p))) < 1e-10


@given(tubes(("circle", "sphere", "torus", "flat_torus")))
def test_coordinates_and_embed_are_inverse(case):
    m, q, seed = case
    p = m.sample(40, seed)
    np.testing.assert_allclose(m.embed(m.coordinates(p)), p, atol=1e-12)


@given(tubes())
def test_the_projection_is_lipschitz_with_constant_one_over_one_minus_q(case):
    m, q, seed = case
    x = m.sample_tube(60, q, seed=seed).x
    y = x[::-1]
    ratio = np.linalg.norm(m.project(x) - m.project(y), axis=1) / np.maximum(np.linalg.norm(x - y, axis=1), 1e-300)
    assert np.all(ratio <= (1 / (1 - q)) * (1 + 1e-12))


def test_frames_are_seeded_and_orthonormal():
    a, b = random_frame(50, 3, seed=4), random_frame(50, 3, seed=4)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(a.T @ a, np.eye(3), atol=1e-14)
    assert not np.allclose(a, random_frame(50, 3, seed=5))


def test_tube_laws():
    m = Circle(12, seed=0)
    volume = m.sample_tube(20_000, 0.5, law="volume", seed=1).radius / 0.5
    radius = m.sample_tube(20_000, 0.5, law="radius", seed=1).radius / 0.5
    # volume law: t/qτ = U^(1/(D-d)), so P(t/qτ <= s) = s^(D-d); radius law: uniform
    assert np.mean(volume <= 0.9) == pytest.approx(0.9**11, abs=0.02)
    assert np.mean(radius <= 0.9) == pytest.approx(0.9, abs=0.02)
    assert volume.max() <= 1.0 and radius.max() <= 1.0


def test_uniform_sampling_follows_the_area_element():
    torus = Torus(3, major=2.0, minor=1.0, seed=0)
    v = torus.coordinates(torus.sample(40_000, seed=2))[:, 1]
    # density of v ∝ R + r cos v: P(|v| < π/2) = (π R + 2 r)/(2π R)
    assert np.mean(np.abs(v) < math.pi / 2) == pytest.approx((2 * math.pi + 2) / (4 * math.pi), abs=0.01)


def test_grid_covering_radius_is_a_true_bound():
    for m in (Circle(3, seed=0), FlatTorus(5, seed=1), Sphere(2, 4, seed=2), Torus(4, seed=3)):
        grid = m.grid(0.3)
        x = m.sample(3000, seed=4)
        nearest = np.sqrt(((x[:, None, :] - grid.points[None]) ** 2).sum(-1).min(axis=1))
        assert nearest.max() <= grid.covering_radius * (1 + 1e-12)
        if grid.exact:
            assert nearest.max() >= 0.9 * grid.covering_radius


def test_grid_with_a_budget():
    grid = FlatTorus(4, seed=0).grid_with(100)
    assert grid.points.shape[0] >= 100
    assert grid.points.shape[0] <= 144


def test_covering_numbers_scale_like_eta_to_the_minus_d():
    circle, torus = Circle(3, seed=0), FlatTorus(4, seed=0)
    c1, c2 = circle.covering_number(0.1), circle.covering_number(0.05)
    assert c2 / c1 == pytest.approx(2, rel=0.15)
    t1, t2 = torus.covering_number(0.4), torus.covering_number(0.2)
    assert t2 / t1 == pytest.approx(4, rel=0.2)


def test_reach_estimator_approaches_the_reach():
    for m in (Circle(4, radius=1.5, seed=0), Sphere(2, 5, seed=1), FlatTorus(4, r1=1.0, r2=0.7, seed=2)):
        estimate = m.estimate_reach(500, seed=3)
        # pairs with normal part >= 1e-4 |y - p| only: rounding moves the ratio by < ~1e-8 relative
        assert m.reach * (1 - 1e-8) <= estimate <= m.reach * 1.05


def test_swiss_roll_projection_matches_brute_force():
    roll = SwissRoll(5, seed=1)
    tube = roll.sample_tube(200, 0.8, seed=2)
    np.testing.assert_allclose(roll.project(tube.x), tube.foot, atol=1e-10)
    grid = roll.grid(0.05)
    x = tube.x[:40]
    brute = np.sqrt(((x[:, None, :] - grid.points[None]) ** 2).sum(-1).min(axis=1))
    dist = roll.distance(x)
    assert np.all(dist <= brute + 1e-12) and np.all(brute <= dist + grid.covering_radius)
    assert 2.5 < roll.reach < math.pi + 0.1  # about half the gap between turns


def test_swiss_roll_boundary_projection_is_clamped():
    roll = SwissRoll(3, seed=0)
    t = 0.5 * (roll.t0 + roll.t1)
    up = roll.embed(np.array([[t, 1.0]])) - roll.embed(np.array([[t, 0.0]]))  # the s direction
    far = roll.embed(np.array([[t, roll.height]])) + 3 * up
    np.testing.assert_allclose(roll.coordinates(far), [[t, roll.height]], atol=1e-12)
    np.testing.assert_allclose(roll.distance(far), [3.0], atol=1e-12)


def test_medial_axis_has_a_documented_foot():
    m = Circle(3, seed=0)
    foot = m.project(np.zeros((1, 3)))
    assert np.linalg.norm(foot) == pytest.approx(1.0)


def test_manifold_target_is_constant_on_normal_fibres_with_tangential_gradient():
    m = FlatTorus(9, seed=3)
    f = ManifoldTarget(m, m.kink_function(1.0))
    tube = m.sample_tube(300, 0.9, seed=1)
    np.testing.assert_allclose(f.numpy(tube.x), f.numpy(tube.foot), atol=1e-13)
    x = torch.as_tensor(tube.x).requires_grad_(True)
    (grad,) = torch.autograd.grad(f.torch(x).sum(), x)
    basis = m.tangent_basis(tube.foot)
    g = grad.numpy()
    normal = g - np.einsum("nid,nd->ni", basis, np.einsum("nid,ni->nd", basis, g))
    assert np.max(np.linalg.norm(normal, axis=1) / np.linalg.norm(g, axis=1)) < 1e-8


def test_holder_constants_hold_on_sample_pairs():
    for m in (Circle(3, radius=2.0, seed=0), Sphere(2, 3, radius=0.5, seed=1), Torus(3, seed=2),
              FlatTorus(4, r1=1.0, r2=0.5, seed=3), AffineSubspace(2, 3, half_width=2.0, seed=4)):
        for alpha in (0.5, 1.0):
            g = m.kink_function(alpha)
            f = ManifoldTarget(m, g)
            p = m.sample(400, seed=5)
            y = p[np.random.default_rng(6).permutation(400)]
            lhs = np.abs(f.numpy(p) - f.numpy(y))
            rhs = g.constant * np.linalg.norm(p - y, axis=1) ** alpha
            assert np.all(lhs <= rhs * (1 + 1e-12) + 1e-15)


def test_distance_target():
    a, b = Circle(4, seed=0), Circle(4, radius=2.0, seed=0)
    f = DistanceTarget([a, b], lambda r: r.min(dim=1).values, name="nearest")
    x = np.random.default_rng(0).normal(size=(100, 4))
    np.testing.assert_allclose(f.numpy(x), np.minimum(a.distance(x), b.distance(x)), atol=1e-13)


@pytest.mark.parametrize(("build", "word"), [
    (lambda: Circle(1), "ambient_dim"),
    (lambda: FlatTorus(3), "ambient_dim"),
    (lambda: Circle(3, radius=-1.0), "radius"),
    (lambda: Torus(3, major=1.0, minor=2.0), "minor"),
    (lambda: Sphere(0, 3), "d"),
    (lambda: SwissRoll(3, t_range=(2.0, 1.0)), "t_range"),
    (lambda: make_manifold("klein_bottle", 5), "name"),
    (lambda: Circle(3).sample_tube(10, -0.5), "q"),
    (lambda: Circle(3).sample_tube(10, 0.5, law="shell"), "law"),
    (lambda: Circle(3).project(np.zeros((2, 4))), "x has shape"),
    (lambda: Circle(3).sample(0), "n"),
    (lambda: Circle(3).covering_number(0.0), "eta"),
])
def test_bad_input_names_the_parameter(build, word):
    with pytest.raises(ValueError, match=word):
        build()


def test_affine_subspace_projects_onto_its_patch():
    """Audit W2: M is the patch |u|_inf <= half_width, so π clamps the coordinates to it."""
    m = AffineSubspace(1, 3, half_width=1.0, seed=0)
    far = m.embed(np.array([[5.0]]))  # on the line, 4 beyond the patch
    np.testing.assert_allclose(m.distance(far), [4.0], atol=1e-12)
    np.testing.assert_allclose(m.coordinates(far), [[1.0]], atol=1e-12)
    np.testing.assert_allclose(m.project(far), m.embed(np.array([[1.0]])), atol=1e-12)
    g = m.kink_function(1.0)
    assert ManifoldTarget(m, g).numpy(far)[0] <= g.sup
    # a point of the patch and a point normal to it are unchanged; the projection is 1-Lipschitz
    square = AffineSubspace(2, 5, half_width=2.0, seed=1)
    tube = square.sample_tube(300, 0.9, seed=2)
    np.testing.assert_allclose(square.project(tube.x), tube.foot, atol=1e-12)
    x = np.random.default_rng(3).normal(scale=4.0, size=(400, 5))
    p = square.project(x)
    assert np.all(np.abs(square.coordinates(x)) <= 2.0)
    assert np.all(np.linalg.norm(p[1:] - p[:-1], axis=1) <= np.linalg.norm(x[1:] - x[:-1], axis=1) * (1 + 1e-12))
    clipped = square.clip_to_tube(torch.as_tensor(x), 0.5).numpy()
    assert np.all(square.distance(clipped) <= 0.5 * (1 + 1e-12))


def test_embed_refuses_coordinates_of_the_wrong_width():
    """Audit W6: (3, 2) coordinates for a curve were reshaped into 6 points."""
    with pytest.raises(ValueError, match=r"u has shape \(3, 2\): expected \(n, 1\)"):
        Circle(5, seed=0).embed(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="u has shape"):
        Torus(4, seed=0).embed(np.zeros(3))
    with pytest.raises(ValueError, match="NaN or inf"):
        Circle(5, seed=0).embed(np.array([[np.nan]]))
    assert Circle(5, seed=0).embed(np.zeros(3)).shape == (3, 5)  # n angles of a curve
    assert Torus(4, seed=0).embed(np.zeros(2)).shape == (1, 4)  # one point (d,)


def _reach_all_pairs(m, n, seed):
    """The (G1) estimate from all pairs at once: the algorithm before the row blocks."""
    from relunet.constructions.manifolds import _normal_parts

    with torch.no_grad():
        core = m.to_core(torch.as_tensor(m.sample(n, seed)))
        basis = m._tangent_core(core).numpy()
    sq, normal = _normal_parts(core.numpy(), basis)
    mask = normal > 1e-4 * np.sqrt(sq)
    return float(np.where(mask, sq / (2 * np.where(mask, normal, 1.0)), np.inf).min())


def test_estimate_reach_in_row_blocks_is_bit_identical_and_small_in_memory(monkeypatch):
    """Audit C7: the pairs were three dense (n, n, k) arrays (8.8 GB at n = 10^4)."""
    import tracemalloc

    import relunet.constructions.manifolds as manifolds

    # values of the all-pairs algorithm, recorded before the change
    recorded = [(Torus(4, seed=2), 1.0000000079312232), (Sphere(2, 5, seed=1), 0.9999999999973341),
                (SwissRoll(3, seed=0), 3.1167413826044235), (Circle(3, seed=0), 0.9999999973599835)]
    monkeypatch.setattr(manifolds, "_REACH_BLOCK_ENTRIES", 1000)  # many blocks of a few rows
    for m, value in recorded:
        assert m.estimate_reach(300, seed=3) == value == _reach_all_pairs(m, 300, 3)
    monkeypatch.setattr(manifolds, "_REACH_BLOCK_ENTRIES", 1 << 16)
    m = Torus(4, seed=0)
    m.estimate_reach(10, seed=0)
    tracemalloc.start()
    try:
        m.estimate_reach(1500, seed=0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20e6  # all pairs at once: 3 arrays of 1500² x 3 float64 = 162 MB


def test_numpy_scalars_count_as_numbers():
    """Audit U2: np.int64(0) was refused as a tube fraction."""
    m = Circle(5, seed=np.int64(2))
    assert m.seed == 2 and m.tube_radius(np.int64(0)) == 0.0 and m.tube_radius(np.float32(0.5)) == 0.5
    np.testing.assert_array_equal(m.sample_tube(10, np.int64(0)).radius, np.zeros(10))
    assert m.kink_function(np.float32(0.5)).alpha == 0.5


def test_make_manifold_passes_keyword_arguments_or_names_the_allowed_ones():
    """Audit U5: make_manifold("torus", 5, radius=2) gave '<lambda>() got an unexpected keyword argument'."""
    assert make_manifold("torus", 5, major=3.0).reach == 1.0
    assert make_manifold("circle", 4, radius=2.0).reach == 2.0
    assert make_manifold("sphere", 5, d=3, radius=0.5).d == 3
    assert make_manifold("subspace", 5, d=2, half_width=2.0).tube_scale == 2.0
    with pytest.raises(ValueError, match=r"radius = 2 is not a parameter of the 'torus' manifold: use one of "
                                         r"\['d', 'major', 'minor', 'origin'\]"):
        make_manifold("torus", 5, radius=2)
    with pytest.raises(ValueError, match="d = 2 is out of range"):
        make_manifold("circle", 5, d=2)


@pytest.mark.parametrize("alpha", [-1.0, 0.0, float("nan"), float("inf"), 1.5, "1"])
@pytest.mark.parametrize("build", [lambda: Circle(3), lambda: Sphere(2, 4), lambda: Torus(3), lambda: FlatTorus(4),
                                   lambda: AffineSubspace(1, 3), lambda: SwissRoll(3)])
def test_kink_functions_refuse_exponents_outside_zero_one(build, alpha):
    """Audit U5: alpha = -1 or nan was accepted and gave inf at the kink."""
    with pytest.raises(ValueError, match=r"alpha = .* is out of range: alpha must be a finite number > 0 and <= 1"):
        build().kink_function(alpha)
