"""Variant (b): fixed charts and foot-point iteration on round spheres."""

import numpy as np
import pytest
import torch

from relunet.bounds.intrinsic import foot_point_factor
from relunet.constructions.foot_point import FootPointNet, smooth_function
from relunet.constructions.manifolds import Circle, FlatTorus, ManifoldTarget, Sphere


@pytest.mark.parametrize("manifold", [Circle(7, seed=1), Sphere(2, 6, seed=2)], ids=["circle", "S2"])
@pytest.mark.parametrize("q", [0.0, 0.5, 0.9])
def test_iteration_reaches_the_foot_point_on_every_active_chart(manifold, q):
    net = FootPointNet(manifold, smooth_function(manifold), 2, q, iterations=200, chart_radius=0.2)
    x = manifold.sample_tube(150, q, "radius", seed=3).x
    rows, charts = net.active(x)
    h = net.iterates(x, rows, charts)
    exact = net.exact_coordinates(x, rows, charts)
    assert np.abs(h[-1].numpy() - exact).max() <= 1e-12
    if q > 0:  # the affine chart alone is off by about q r
        assert np.abs(h[0].numpy() - exact).max() > 1e-4


def test_the_factor_bound_covers_every_used_chart():
    m = Circle(5, seed=0)
    for q in (0.25, 0.5, 0.75):
        net = FootPointNet(m, smooth_function(m), 2, q, chart_radius=0.1)
        bound = foot_point_factor().evaluate(q=q, s=net.radius_used / m.reach)
        assert bound < 1  # the default atlas contracts for q <= 0.75


def test_error_is_of_order_two_in_the_local_grid():
    m = Circle(12, seed=4)
    g = smooth_function(m)
    target = ManifoldTarget(m, g)
    x = m.sample_tube(2000, 0.5, "volume", seed=5).x
    errs = [np.abs(FootPointNet(m, g, k, 0.5)(x)[:, 0] - target.numpy(x)).max() for k in (8, 16, 32)]
    ratios = np.array(errs[:-1]) / np.array(errs[1:])
    assert np.all((ratios > 3.2) & (ratios < 4.8)), ratios  # 4 for an order-2 interpolant


def test_forward_is_differentiable_and_numpy_in_numpy_out():
    m = Sphere(2, 4, seed=0)
    net = FootPointNet(m, smooth_function(m), 4, 0.5)
    x = torch.as_tensor(m.sample_tube(20, 0.5, seed=1).x).requires_grad_(True)
    net(x).sum().backward()
    assert torch.isfinite(x.grad).all()
    assert isinstance(net(x.detach().numpy()), np.ndarray)
    assert net.size()["charts"] == len(net.centres) and net.input_dim == 4


@pytest.mark.parametrize("kwargs, word", [({"pieces": 0}, "pieces"), ({"q": 1.0}, "q"),
                                          ({"iterations": -1}, "iterations"), ({"chart_radius": 0.6}, "chart_radius"),
                                          ({"kappa": 0}, "kappa")])
def test_bad_input_names_the_parameter(kwargs, word):
    m = Circle(3)
    args = {"pieces": 4, "q": 0.5} | kwargs
    with pytest.raises(ValueError, match=word):
        FootPointNet(m, smooth_function(m), **args)


def test_other_manifolds_are_refused():
    with pytest.raises(ValueError, match="manifold"):
        smooth_function(FlatTorus(5))


def test_numpy_scalars_count_as_numbers():
    """Audit U2: q = np.float32(0.5) was refused ("q = 0.5 is out of range")."""
    m = Circle(3, seed=0)
    a = FootPointNet(m, smooth_function(m), np.int64(4), np.float32(0.5), kappa=np.float64(0.5),
                     chart_radius=np.float32(0.125), iterations=np.int64(20))
    b = FootPointNet(m, smooth_function(m), 4, 0.5, kappa=0.5, chart_radius=0.125, iterations=20)
    assert a.q == b.q == 0.5 and a.iterations == 20
    x = m.sample_tube(30, 0.5, seed=1).x
    np.testing.assert_array_equal(a(x), b(x))
    assert a(x[0]).shape == (1,) and a(x[0])[0] == a(x)[0, 0]  # one point (D,), as a ReluNet takes it
    with pytest.raises(ValueError, match=r"x has shape \(2,\): expected \(n, 3\) or \(3,\)"):
        a(np.zeros(2))
