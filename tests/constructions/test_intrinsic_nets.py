"""Explicit networks for g ∘ π_M and the distance model, the grid contrast and trained MLPs."""

import math

import numpy as np
import pytest
import torch

from relunet.constructions import BatchedTrainer, StackedMLP
from relunet.constructions.intrinsic_nets import (
    GridApproximant,
    distance_net,
    graded_sqrt_knots,
    min_tree_layers,
    projection_net,
    reciprocal_knots,
    train_mlps,
)
from relunet.constructions.manifolds import Circle, FlatTorus, ManifoldTarget, Sphere
from relunet.constructions.network import ReluNet


def _tree_net(n: int) -> ReluNet:
    layers, readout = [], np.eye(n)
    for a_mat, r_mat, _ in min_tree_layers(n):
        layers.append((a_mat @ readout, np.zeros(a_mat.shape[0])))
        readout = r_mat
    return ReluNet(layers + [(readout, np.zeros(readout.shape[0]))]) if layers else None


@pytest.mark.parametrize("n", [2, 3, 5, 8, 13])
def test_min_tree_is_exact_on_nonnegative_values(n):
    x = np.random.default_rng(n).integers(0, 320, (200, n)) / 64  # dyadic: float arithmetic is exact here
    net = _tree_net(n)
    np.testing.assert_array_equal(net(x)[:, 0], x.min(axis=1))
    assert net.depth == math.ceil(math.log2(n))


def test_reciprocal_knots_meet_their_relative_error():
    for upper, rel in ((3.0, 1e-3), (40.0, 1e-5)):
        knots = reciprocal_knots(upper, rel)
        t = np.linspace(1, upper, 20001)
        pl = np.interp(t, knots, 1 / knots)
        assert np.max(np.abs(pl - 1 / t) * t) <= rel


def test_graded_sqrt_knots_meet_their_error_with_few_pieces():
    for upper, eps in ((4.0, 1e-3), (100.0, 1e-4)):
        knots = graded_sqrt_knots(upper, eps)
        t = np.concatenate([np.linspace(0, knots[2], 5001), np.linspace(0, upper, 20001)])
        assert np.max(np.abs(np.interp(t, knots, np.sqrt(knots)) - np.sqrt(t))) <= eps * (1 + 1e-9)
        # O(sqrt(R/ε)) knots (≈ 4 upper^(1/4)/sqrt(32 ε) plus the first few), not the R²/(16 ε²) of a uniform grid
        assert len(knots) < 2 * 4 * upper**0.25 / math.sqrt(32 * eps) + 10
        assert len(knots) < 1e-3 * upper / (16 * eps * eps)


@pytest.mark.parametrize(("manifold", "count", "q"), [(Circle(6, seed=1), 24, 0.5), (Circle(6, seed=1), 40, 0.9),
                                                      (FlatTorus(7, seed=2), 49, 0.5),
                                                      (Sphere(2, 5, seed=3), 60, 0.25)])
def test_projection_net_stays_under_its_bound_on_the_tube(manifold, count, q):
    g = manifold.kink_function(0.5 if count == 40 else 1.0)
    built = projection_net(manifold, g, count, q)
    target = ManifoldTarget(manifold, g)
    x = np.concatenate([manifold.sample_tube(3000, q, law, seed=4).x for law in ("volume", "radius")])
    err = np.abs(built.net(x)[:, 0] - target.numpy(x))
    assert err.max() <= built.error_bound
    assert err.max() >= 0.1 * (built.error_bound - built.arithmetic_error)  # the bound is not vacuous
    assert built.size().other_operations == ()


def test_pure_and_semi_explicit_nets_agree_to_the_arithmetic_error():
    m = Circle(8, seed=0)
    g = m.kink_function(1.0)
    pure = projection_net(m, g, 32, 0.5)
    semi = projection_net(m, g, 32, 0.5, mode="semi")
    x = m.sample_tube(2000, 0.5, seed=1).x
    diff = np.abs(pure.net(x)[:, 0] - semi.net(x)[:, 0])
    assert diff.max() <= pure.arithmetic_error
    assert semi.size().other_operations  # says what is not ReLU
    weights = semi.net.weights(torch.as_tensor(x))
    np.testing.assert_allclose(weights.sum(dim=1).numpy(), 1.0, atol=1e-14)  # a partition of unity


def test_the_net_sees_only_the_manifold_s_span():
    """Moving x orthogonally to span(Q) changes |x - c|² equally for every centre: the output is unchanged."""
    m = Circle(40, seed=2)
    built = projection_net(m, m.kink_function(1.0), 32, 0.5)
    x = m.sample_tube(500, 0.5, seed=3).x
    w = np.random.default_rng(4).normal(size=x.shape)
    w -= (w @ m.frame) @ m.frame.T
    w *= 0.3 / np.linalg.norm(w, axis=1, keepdims=True)
    np.testing.assert_allclose(built.net(x + w), built.net(x), atol=1e-11)


def test_error_does_not_depend_on_d_and_size_grows_at_most_linearly():
    errors, sizes = [], []
    for dim in (2, 20, 200):
        m = Circle(dim, seed=5)
        g = m.kink_function(1.0)
        built = projection_net(m, g, 32, 0.5)
        core = Circle(2, seed=0).sample_tube(2000, 0.5, seed=6).x  # the same core points in every D
        x = m.origin + core @ np.eye(2) @ m.frame.T
        errors.append(np.abs(built.net(x)[:, 0] - ManifoldTarget(m, g).numpy(x)).max())
        sizes.append(built.size().nonzero)
    np.testing.assert_allclose(errors, errors[0], rtol=1e-9)
    assert sizes[2] / sizes[1] <= 10.0 and sizes[1] / sizes[0] <= 10.0


def test_affine_pieces_reduce_the_error_on_the_manifold_for_smooth_g():
    from relunet.constructions.manifolds import HolderFunction

    m = Circle(4, seed=0)
    smooth = HolderFunction(lambda p: torch.sin(2 * torch.atan2(p[:, 1], p[:, 0])), 1.0, 2.0, 1.0, "sin 2θ")
    on_m = m.sample(2000, seed=1)
    errs = {}
    for pieces in ("constant", "affine"):
        built = projection_net(m, smooth, 64, 0.0, mode="semi", pieces=pieces)
        errs[pieces] = np.abs(built.net(on_m)[:, 0] - ManifoldTarget(m, smooth).numpy(on_m)).max()
    assert errs["affine"] < 0.2 * errs["constant"]


@pytest.mark.parametrize(("kwargs", "word"), [({"q": 1.0}, "q"), ({"q": 0.5, "kappa": 0.0}, "kappa"),
                                              ({"q": 0.5, "mode": "exact"}, "mode"),
                                              ({"q": 0.5, "pieces": "affine"}, "pieces"),
                                              ({"q": 0.5, "values": np.zeros(3)}, "values")])
def test_projection_net_rejects_bad_input(kwargs, word):
    m = Circle(3, seed=0)
    with pytest.raises(ValueError, match=word):
        projection_net(m, m.kink_function(1.0), 16, **kwargs)


def test_distance_net_meets_its_bound_and_its_size_follows_the_cover():
    m = Circle(6, seed=0)
    x = np.concatenate([np.random.default_rng(1).uniform(-2, 2, (3000, 6)), m.sample_tube(2000, 0.9, seed=2).x])
    x = x[np.max(np.abs(x - m.origin), axis=1) <= 2.0]
    sizes = []
    for eta in (0.2, 0.1, 0.05):
        built = distance_net(m, eta, half_width=2.0)
        assert np.abs(built.net(x)[:, 0] - m.distance(x)).max() <= built.error_bound
        sizes.append((built.centres, built.net.weights[0].shape[0]))
    centres = np.array([c for c, _ in sizes], dtype=float)
    assert np.log(centres[-1] / centres[0]) / np.log(4) == pytest.approx(1.0, abs=0.05)  # N(M, η) ∝ 1/η


def test_grid_approximant():
    from relunet.constructions.targets import Target

    approx = GridApproximant(Target("x1 + 2*x2", 2), np.array([[0.0, 1.0], [0.0, 1.0]]), 10)
    x = np.random.default_rng(0).random((500, 2))
    assert np.abs(approx(x)[:, 0] - (x[:, 0] + 2 * x[:, 1])).max() <= 0.15 + 1e-12  # 3 h/2
    assert approx.size().nonzero == 104 and approx.size().other_operations


def test_train_mlps_keeps_the_best_validation_parameters():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3))
    y = np.sin(x[:, 0])
    fit = train_mlps([x, x[:120]], [y, y[:120]], width=16, schedule=[(1e-2, 60)] * 3, batch_size=None,
                     val=[(x[:50], y[:50])] * 2, weight_decay=[0.0, 0.1])
    again = [float(np.mean((fit.predict(k, x[:50]) - y[:50]) ** 2)) for k in range(2)]
    np.testing.assert_allclose(again, fit.val_loss, rtol=1e-10)
    assert np.all(fit.val_loss < np.var(y))
    assert isinstance(fit.module(0), torch.nn.Module)


def test_trainer_weight_decay_is_decoupled_and_zero_changes_nothing():
    mlp = StackedMLP(3, 8, 1)
    x = torch.randn(2, 20, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    y = x[..., :1] ** 2
    plain = BatchedTrainer(mlp, lr=0.1, steps=5).fit(x, y, seeds=[0, 1])
    zero = BatchedTrainer(mlp, lr=0.1, steps=5, weight_decay=0.0).fit(x, y, seeds=[0, 1])
    for name in plain.params_:
        assert torch.equal(plain.params_[name], zero.params_[name])
    one = BatchedTrainer(mlp, lr=0.1, steps=1, weight_decay=[0.5, 0.0]).fit(x, y, seeds=[0, 1])
    base = BatchedTrainer(mlp, lr=0.1, steps=1).fit(x, y, seeds=[0, 1])
    start = mlp.init([0, 1])
    for name in start:  # one GD step: p - lr (grad + λ p)
        expected = base.params_[name][0] - 0.1 * 0.5 * start[name][0]
        torch.testing.assert_close(one.params_[name][0], expected, rtol=0, atol=1e-14)
        torch.testing.assert_close(one.params_[name][1], base.params_[name][1], rtol=0, atol=0)
    with pytest.raises(ValueError, match="weight_decay"):
        BatchedTrainer(mlp, weight_decay=-1.0)


def test_projection_net_meets_its_bound_beyond_the_edge_of_a_subspace_patch():
    """Audit W2: points of the tube beyond the patch got the unclamped foot, so g ∘ π left [0, g.sup]
    and the net missed it by more than error_bound."""
    from relunet.constructions.manifolds import AffineSubspace

    m = AffineSubspace(2, 6, half_width=1.0, seed=0)
    g = m.kink_function(1.0)
    built = projection_net(m, g, 256, q=0.5)
    rng = np.random.default_rng(1)
    u = rng.uniform(-1.5, 1.5, (4000, 2))
    x = m.embed(u) + 0.3 * m.normal_directions(m.embed(np.clip(u, -1, 1)), rng) * rng.random((4000, 1))
    x = x[m.distance(x) < 0.5 * m.tube_scale]  # the tube M(q s) around the patch
    assert np.mean(np.abs(u).max(axis=1) > 1.0) > 0.3 and len(x) > 1000
    target = ManifoldTarget(m, g).numpy(x)
    assert target.max() <= g.sup
    assert np.abs(built.net(x)[:, 0] - target).max() <= built.error_bound


def test_numpy_scalars_count_as_numbers_in_projection_net():
    """Audit U2: q = np.int64(0) was refused."""
    m = Circle(5, seed=0)
    g = m.kink_function(1.0)
    a, b = projection_net(m, g, 16, q=np.int64(0)), projection_net(m, g, np.int64(16), q=0.0)
    x = m.sample(50, seed=1)
    np.testing.assert_array_equal(a.net(x), b.net(x))
    assert projection_net(m, g, 16.0, q=np.float32(0.5)).q == 0.5


@pytest.mark.parametrize(("centres", "word"), [(16.5, "centres = 16.5 is not an integer"), ("16", "centres = '16'"),
                                               (0, "centres = 0 is out of range")])
def test_projection_net_names_bad_centres(centres, word):
    """Audit U5: centres = 16.0-like values gave AttributeError: 'float' object has no attribute 'covering_radius'."""
    m = Circle(5, seed=0)
    with pytest.raises(ValueError, match=word):
        projection_net(m, m.kink_function(1.0), centres, q=0.5)


@pytest.mark.parametrize(("call", "word"), [
    (lambda: graded_sqrt_knots(math.inf, 1e-3), "upper = inf is out of range"),
    (lambda: graded_sqrt_knots(math.nan, 1e-3), "upper = nan is out of range"),
    (lambda: graded_sqrt_knots(-1.0, 1e-3), r"upper = -1.0 is out of range: upper must be a finite number >= 0"),
    (lambda: graded_sqrt_knots(4.0, 1e-170), "need about .* knots"),  # 16 ε² underflows: the grid never grew
    (lambda: graded_sqrt_knots(4.0, math.nan), "error = nan"),
    (lambda: reciprocal_knots(math.inf, 1e-3), "upper = inf is out of range"),
    (lambda: reciprocal_knots(math.nan, 1e-3), "upper = nan is out of range"),
    (lambda: reciprocal_knots(0.5, 1e-3), r"upper = 0.5 is out of range: upper must be a finite number >= 1"),
    (lambda: reciprocal_knots(4.0, 1e-300), "need about .* knots"),
])
def test_knots_refuse_non_finite_or_too_fine_grids(call, word):
    """Audit C3: graded_sqrt_knots(inf) never returned, nan and -1 gave 2 knots, reciprocal_knots raw errors."""
    with pytest.raises(ValueError, match=word):
        call()


def test_semi_explicit_net_takes_one_point_as_a_relu_net_does():
    """Audit U5: a 1-D x gave IndexError."""
    m = Circle(5, seed=0)
    g = m.kink_function(1.0)
    semi, pure = (projection_net(m, g, 16, q=0.5, mode=mode).net for mode in ("semi", "pure"))
    p = m.sample(1, seed=2)
    assert semi(p[0]).shape == pure(p[0]).shape == (1,)
    np.testing.assert_allclose(semi(p[0]), semi(p)[0], rtol=0, atol=0)
    with pytest.raises(ValueError, match=r"x has shape \(4,\): expected \(n, 5\) or \(5,\)"):
        semi(np.zeros(4))


@pytest.mark.parametrize(("box", "word"), [(np.array([[0.0, 1.0]]), r"box has shape \(1, 2\): expected \(2, 2\)"),
                                           (np.zeros((2, 3)), r"box has shape \(2, 3\)"),
                                           (np.array([[0.0, 1.0], [1.0, 1.0]]), "lo < hi"),
                                           (np.array([[0.0, 1.0], [0.0, np.inf]]), "finite")])
def test_grid_approximant_checks_its_box(box, word):
    """Audit U5: a box of the wrong shape gave IndexError."""
    from relunet.constructions.targets import Target

    with pytest.raises(ValueError, match=word):
        GridApproximant(Target("x1 + x2", 2), box, 4)
    with pytest.raises(ValueError, match="cells = 2.5"):
        GridApproximant(Target("x1 + x2", 2), np.array([[0.0, 1.0], [0.0, 1.0]]), 2.5)


def _sets():
    rng = np.random.default_rng(0)
    xs = [rng.normal(size=(40, 3)), rng.normal(size=(60, 3))]
    return xs, [x[:, 0] for x in xs]


@pytest.mark.parametrize(("change", "word"), [
    ({"schedule": [(1e-2, 0)]}, r"schedule\[0\] steps = 0 is out of range"),
    ({"schedule": [(0.0, 5)]}, r"schedule\[0\] lr = 0.0 is out of range"),
    ({"schedule": [1e-2]}, r"schedule\[0\] = 0.01 is not allowed: each entry is a pair \(lr, steps\)"),
    ({"schedule": []}, r"schedule = \[\] is empty"),
    ({"xs": lambda xs: [xs[0], xs[1][:, :2]]}, r"xs\[1\] has shape \(60, 2\): expected \(n, 3\)"),
    ({"ys": lambda ys: [ys[0], ys[1][:5]]}, r"ys\[1\] has shape \(5,\): expected \(60,\)"),
    ({"xs": lambda xs: [xs[0][:, 0], xs[1]]}, r"xs\[0\] has shape \(40,\): expected \(n, D\)"),
    ({"ys": lambda ys: [ys[0], np.full(60, np.nan)]}, r"xs\[1\] or ys\[1\] has NaN or inf"),
    ({"val": lambda xs: [(xs[0], xs[0][:, 0]), (xs[1][:, :2], xs[1][:, 0])]}, r"val x\[1\] has shape \(60, 2\)"),
    ({"batch_size": "a"}, "batch_size = 'a'"),
])
def test_train_mlps_names_bad_arguments(change, word):
    """Audit U4: 0 steps said 'record_every = 0', shape mismatches gave numpy broadcast errors, 1-D x an
    IndexError, and schedule = [] returned params=None."""
    xs, ys = _sets()
    args = {"xs": xs, "ys": ys, "width": 4, "schedule": [(1e-2, 5)], "batch_size": None}
    for key, value in change.items():
        if key == "val":
            args["val"] = value(xs)
        else:
            args[key] = value(args[key]) if callable(value) else value
    with pytest.raises(ValueError, match=word):
        train_mlps(args.pop("xs"), args.pop("ys"), **args)


def test_error_bounds_are_the_bounds_of_relunet_bounds_intrinsic(monkeypatch):
    """Review: error_bound evaluates the Bounds intrinsic.net.error and intrinsic.distance.error (they were
    private copies of the formulas, so a change to a Bound did not reach the claims)."""
    from relunet.bounds import intrinsic as bi

    m = Circle(3, seed=0)
    g = m.kink_function(1.0)
    before = projection_net(m, g, 16, 0.5).error_bound, distance_net(m, 0.2, half_width=1.5).error_bound
    for name in ("projection_net_error", "distance_net_error"):
        right = getattr(bi, name)
        monkeypatch.setattr(bi, name, lambda right=right: _doubled(right()))
    after = projection_net(m, g, 16, 0.5).error_bound, distance_net(m, 0.2, half_width=1.5).error_bound
    np.testing.assert_allclose(after, 2 * np.array(before), rtol=1e-12)


def _doubled(bound):
    from relunet.bounds.core import Bound

    return Bound(bound.name, 2 * bound.expr, bound.kind, bound.quantity, bound.source, variables=bound.variables,
                 conditions=bound.conditions)
