"""DLGN families: shapes, seeded init, gates, value inputs, variants, conversion, baselines and training.

References: dlgn.md §2 (the DLGN), §3 (forward form), §5 (DLGN-SF, DLGN-VT), §7 (hard = β -> ∞).
"""

import math

import numpy as np
import pytest
import torch

from relunet.constructions.dlgn import (
    StackedDLGN,
    StackedDLGNSF,
    StackedDLGNVT,
    deep_linear_baseline,
    dlgn_to_sf,
    linear_baseline,
    relu_baseline,
)
from relunet.constructions.dlgn_paths import model_gates, path_features, path_gates
from relunet.constructions.training import BatchedTrainer

FAMILIES = (StackedDLGN, StackedDLGNSF, StackedDLGNVT)


def _x(k, n, d, seed=0):
    return torch.randn(k, n, d, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("cls", FAMILIES)
@pytest.mark.parametrize("value_input", ["one", "x"])
@pytest.mark.parametrize("bias", [False, True])
def test_shapes_and_forward(cls, value_input, bias):
    net = cls(3, [4, 2, 5], output_dim=2, value_input=value_input, gating_bias=bias, bias_init=0.3)
    params = net.init([0, 1, 2])
    for name, shape in net.parameter_shapes().items():
        assert tuple(params[name].shape) == (3,) + shape
    assert net.parameter_count() == sum(math.prod(s) for s in net.parameter_shapes().values())
    out = net.forward(params, _x(3, 7, 3))
    assert out.shape == (3, 7, 2) and torch.all(torch.isfinite(out))
    assert net.n_paths == 40 * (3 if value_input == "x" else 1)


@pytest.mark.parametrize("cls", FAMILIES)
def test_model_k_is_the_same_alone_or_stacked(cls):
    net = cls(4, 3, depth=3)
    both = net.init([5, 9])
    alone = net.init([9])
    for name in both:
        assert torch.equal(both[name][1], alone[name][0])


def test_dlgn_forward_matches_the_definition():
    net = StackedDLGN(2, [3, 2], value_input="x", gating_bias=True, bias_init=0.5, beta=2.0)
    p = {k: v[0] for k, v in net.init([3]).items()}
    x = torch.tensor([0.3, -0.7], dtype=torch.float64)
    eta1 = p["gw1"] @ x + p["gb1"]
    eta2 = p["gw2"] @ eta1 + p["gb2"]
    h1 = torch.sigmoid(2 * eta1) * (p["v1"] @ x)
    h2 = torch.sigmoid(2 * eta2) * (p["v2"] @ h1)
    want = p["out"] @ h2
    got = net.forward({k: v[None] for k, v in p.items()}, x[None, None])[0, 0]
    assert torch.allclose(got, want, rtol=1e-14, atol=0)


def test_hard_gates_and_with_beta():
    net = StackedDLGN(2, 3, depth=2, gating_bias=True, bias_init=0.5)
    params = net.init([0])
    x = _x(1, 50, 2)
    hard = net.with_beta(math.inf)
    assert hard.hard and not net.hard and net.beta == 3.0
    gates = hard.gates(params, x)
    assert all(set(torch.unique(g).tolist()) <= {0.0, 1.0} for g in gates)
    pre = hard.gating_preactivations(params, x)
    assert all(torch.equal(g, (e >= 0).double()) for g, e in zip(gates, pre))
    # a very large beta agrees with the hard gates away from the hyperplanes
    sharp = net.with_beta(1e6).forward(params, x)
    assert torch.allclose(sharp, hard.forward(params, x), atol=1e-9)


def test_vt_contraction_equals_the_explicit_path_features():
    for value_input in ("one", "x"):
        vt = StackedDLGNVT(3, [2, 3, 4], output_dim=2, value_input=value_input, gating_bias=True, bias_init=0.4)
        p = vt.init([1])
        x = _x(1, 6, 3)[0].numpy()
        feats = path_features(model_gates(vt, p, 0, x), x if value_input == "x" else None)
        want = feats @ p["g"][0].reshape(2, -1).numpy().T
        got = vt.forward(p, torch.as_tensor(x)[None])[0].numpy()
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13)
    g = path_gates([np.ones((1, 2)), np.full((1, 3), 0.5)])
    assert g.shape == (1, 2, 3) and np.all(g == 0.5)


def test_dlgn_to_sf_is_exact_and_rejects_others():
    net = StackedDLGN(4, [3, 5, 2], gating_bias=True, bias_init=0.7, value_input="x")
    p = net.init([0, 1])
    sf, q = dlgn_to_sf(net, p)
    assert isinstance(sf, StackedDLGNSF) and sorted(q) == sorted(sf.parameter_shapes())
    x = _x(2, 20, 4)
    for beta in (0.5, 5.0, math.inf):
        a, b = net.with_beta(beta).forward(p, x), sf.with_beta(beta).forward(q, x)
        assert torch.allclose(a, b, rtol=1e-12, atol=1e-13)
    with pytest.raises(ValueError, match="dlgn_to_sf converts a StackedDLGN"):
        dlgn_to_sf(sf, q)


def test_baselines_have_the_same_shape():
    net = StackedDLGN(20, 10, depth=4, output_dim=2)
    relu, deep, lin = relu_baseline(net), deep_linear_baseline(net), linear_baseline(net)
    assert (relu.width, relu.depth, relu.activation) == (10, 4, "relu")
    assert (deep.width, deep.depth, deep.activation, deep.bias) == (10, 4, "identity", False)
    assert lin.depth == 0 and lin.output_dim == 2
    # the deep linear baseline is a linear map: f(a x + b y) = a f(x) + b f(y)
    p = deep.init([0])
    x, y = _x(1, 5, 20, 1), _x(1, 5, 20, 2)
    assert torch.allclose(deep.forward(p, 2 * x - 3 * y), 2 * deep.forward(p, x) - 3 * deep.forward(p, y))
    with pytest.raises(ValueError, match="needs equal widths"):
        relu_baseline(StackedDLGN(3, [2, 3]))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"input_dim": 0, "width": 2, "depth": 1}, "input_dim = 0"),
     ({"input_dim": 2, "width": 2}, "depth = None"),
     ({"input_dim": 2, "width": [2, 0]}, "width = 0"),
     ({"input_dim": 2, "width": [2, 3], "depth": 3}, "depth = 3 does not match"),
     ({"input_dim": 2, "width": 2, "depth": 1, "value_input": "ones"}, "value_input = 'ones'"),
     ({"input_dim": 2, "width": 2, "depth": 1, "beta": 0.0}, "beta = 0.0"),
     ({"input_dim": 2, "width": 2, "depth": 1, "beta": float("nan")}, "beta = nan"),
     ({"input_dim": 2, "width": 2, "depth": 1, "init_scale": 0}, "init_scale = 0"),
     ({"input_dim": 2, "width": 2, "depth": 1, "bias_init": -1.0}, "bias_init = -1.0")],
)
def test_bad_input_names_the_parameter(kwargs, match):
    with pytest.raises(ValueError, match=match):
        StackedDLGN(**kwargs)


def test_vt_refuses_large_tensors():
    with pytest.raises(ValueError, match="max_paths = 1000"):
        StackedDLGNVT(2, 11, depth=3, max_paths=1000)


@pytest.fixture
def one_thread():
    """Tiny models: two intra-op threads on two shared cores only add contention (benchmarks/results/dlgn.md)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("cls", FAMILIES)
def test_batched_trainer_trains_dlgn_families(cls, one_thread):
    """Logistic loss falls, and a stacked run of two models equals the two runs alone."""
    g = np.random.default_rng(0)
    x = g.uniform(-1, 1, size=(100, 2))
    y = np.where(np.linalg.norm(x, axis=1) < 0.7, 1.0, -1.0)
    net = cls(2, 4, depth=2, gating_bias=True, bias_init=0.5)
    kwargs = dict(optimizer="adam", lr=0.05, loss="logistic", steps=40, record_every=40)
    both = BatchedTrainer(net, **kwargs).fit(x, y, seeds=[0, 1])
    assert np.all(both.history_["loss"][-1] < both.history_["loss"][0] * 0.9)
    alone = BatchedTrainer(net, **kwargs).fit(x, y, seeds=[1])
    for name in alone.params_:
        assert torch.allclose(both.params_[name][1], alone.params_[name][0], rtol=1e-10, atol=1e-12)


# -- regressions from the API audit (U1, U2, U3) -------------------------------------------------------


def test_numpy_scalars_are_numbers():
    net = StackedDLGN(np.int64(3), np.int64(4), depth=np.int64(2), beta=np.float32(2), init_scale=np.float32(0.5),
                      bias_init=np.float64(0.25), gating_bias=True)
    ref = StackedDLGN(3, 4, depth=2, beta=2.0, init_scale=0.5, bias_init=0.25, gating_bias=True)
    assert net.beta == 2.0 and net.init_scale == 0.5 and net.bias_init == 0.25
    assert StackedDLGN(3, np.array([4, 2])).widths == (4, 2)
    assert net.with_beta(np.float64(math.inf)).hard
    p, q = net.init(np.arange(2)), ref.init([0, 1])
    assert all(torch.equal(p[k], q[k]) for k in q)


@pytest.mark.parametrize(("call", "match"), [
    (lambda: StackedDLGN(3, 4, depth=2, beta=np.float32("nan")), r"beta = np.float32\(nan\)"),
    (lambda: StackedDLGN(3, 4, depth=2, init_scale=np.float32(0)), r"init_scale = np.float32\(0.0\)"),
    (lambda: StackedDLGN(3, 4, depth=2, bias_init=math.inf), r"bias_init = inf"),
    (lambda: StackedDLGN(3, 4, depth=2).init([-1]), r"seeds\[0\] = -1"),
    (lambda: StackedDLGNSF(3, 4, depth=2).init([2**64]), r"seeds\[0\] = 18446744073709551616"),
    (lambda: StackedDLGN(3, 4, depth=2).forward(StackedDLGN(3, 4, depth=2).init([0]), _x(2, 5, 3)),
     r"x has shape \(2, 5, 3\): expected \(K=1, n, 3\)"),
])
def test_bad_numbers_and_seeds_name_the_parameter(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("family", FAMILIES)
def test_forward_shares_a_two_dimensional_x(family):
    net = family(3, [2, 3], value_input="x")
    p = net.init([0, 1])
    x = _x(1, 5, 3)[0]
    torch.testing.assert_close(net.forward(p, x), net.forward(p, x.expand(2, 5, 3)), rtol=0, atol=0)
