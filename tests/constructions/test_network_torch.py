"""ReluNet <-> torch.nn.Module: the module computes what the net computes, and reads back exactly."""

from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from relunet.constructions import ReluNet, product_gate, yarotsky_square

DYADIC = st.builds(Fraction, st.integers(-12, 12), st.sampled_from([1, 2, 4]))


@st.composite
def nets_and_points(draw):
    dims = [draw(st.integers(1, 3))]
    dims += [draw(st.integers(1, 5)) for _ in range(draw(st.integers(0, 3)))]
    dims.append(draw(st.integers(1, 3)))
    generic = draw(st.booleans())
    weight = st.floats(-3, 3, allow_nan=False, width=64) if generic else DYADIC
    layers = []
    for fan_in, fan_out in zip(dims[:-1], dims[1:], strict=True):
        w = np.array([[float(draw(weight)) for _ in range(fan_in)] for _ in range(fan_out)])
        b = np.array([float(draw(weight)) for _ in range(fan_out)])
        layers.append((w, b))
    n = draw(st.integers(1, 6))
    x = draw(hnp.arrays(np.float64, (n, dims[0]), elements=st.floats(-8, 8, width=64)))
    return ReluNet(layers), x


def magnitude(net, x):
    h = np.abs(x)
    for w, b in zip(net.weights, net.biases, strict=True):
        h = h @ np.abs(w).T + np.abs(b)
    return h


@given(nets_and_points())
def test_module_float64_equals_numpy_forward(case):
    net, x = case
    module = net.to_module(dtype=torch.float64)
    assert all(p.dtype == torch.float64 for p in module.parameters())
    with torch.no_grad():
        got = module(torch.as_tensor(x)).numpy()
    want = net(x)
    assert got.shape == want.shape
    assert np.all(np.abs(got - want) <= 1e-12 * (np.abs(want) + magnitude(net, x)) + 1e-300)


def test_module_default_dtype_is_float64_and_layout():
    net = yarotsky_square(3)
    module = net.to_module()
    assert all(p.dtype == torch.float64 for p in module.parameters())
    kinds = [type(m).__name__ for m in module]
    assert kinds == ["Linear", "ReLU"] * 3 + ["Linear"]
    n_params = sum(int(torch.count_nonzero(p)) for p in module.parameters())
    assert n_params == net.size().nonzero


def test_module_of_exact_construction_is_exact_at_dyadic_points():
    net = yarotsky_square(6)
    x = np.arange(0, 65, dtype=float)[:, None] / 64
    with torch.no_grad():
        got = net.to_module()(torch.as_tensor(x)).numpy()
    assert got.ravel().tolist() == (x.ravel() ** 2).tolist()


@given(nets_and_points())
def test_from_module_round_trips_weights_exactly(case):
    net, _ = case
    back = ReluNet.from_module(net.to_module(dtype=torch.float64), name="back")
    assert back.name == "back"
    assert len(back.weights) == len(net.weights)
    for (w0, b0), (w1, b1) in zip(zip(net.weights, net.biases, strict=True),
                                  zip(back.weights, back.biases, strict=True), strict=True):
        assert w1.dtype == np.float64 and np.array_equal(w0, w1)
        assert np.array_equal(b0, b1)
    assert back.size() == net.size()


def test_from_module_round_trips_a_primitive():
    net = product_gate(3, Fraction(3, 2))
    back = ReluNet.from_module(net.to_module())
    x = np.array([[0.3, -1.2], [1.5, 1.5], [-0.7, 0.0]])
    assert back(x).tolist() == net(x).tolist()
    assert back.size() == net.size()


def test_from_module_reads_linear_without_bias_and_float32():
    module = torch.nn.Sequential(torch.nn.Linear(2, 3, bias=False, dtype=torch.float32),
                                 torch.nn.ReLU(), torch.nn.Linear(3, 1, dtype=torch.float32))
    net = ReluNet.from_module(module)
    assert net.biases[0].tolist() == [0.0, 0.0, 0.0]
    assert np.array_equal(net.weights[0], module[0].weight.detach().double().numpy())
    x = np.array([[0.5, -0.25]])
    with torch.no_grad():
        want = module(torch.as_tensor(x, dtype=torch.float32)).double().numpy()
    assert np.allclose(net(x), want, rtol=1e-6, atol=1e-6)


BAD_MODULES = [
    (lambda: torch.nn.Sequential(torch.nn.Linear(1, 2), torch.nn.Tanh(), torch.nn.Linear(2, 1)),
     r"module\[1\] is Tanh"),
    (lambda: torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Linear(1, 1)), r"module\[0\] is ReLU"),
    (lambda: torch.nn.Sequential(torch.nn.Linear(1, 2), torch.nn.Linear(2, 1)),
     r"module\[1\] is Linear"),
    (lambda: torch.nn.Sequential(torch.nn.Linear(1, 2), torch.nn.ReLU(), torch.nn.ReLU(),
                                 torch.nn.Linear(2, 1)), r"module\[2\] is ReLU"),
    (lambda: torch.nn.Sequential(torch.nn.Linear(1, 2), torch.nn.ReLU()), "ends with ReLU"),
    (lambda: torch.nn.Sequential(torch.nn.Linear(1, 2), torch.nn.ReLU(), torch.nn.Linear(3, 1)),
     r"layers\[1\]: W expects 3 inputs"),
    (lambda: torch.nn.Sequential(torch.nn.Conv1d(1, 1, 1)), r"module\[0\] is Conv1d"),
    (lambda: torch.nn.Sequential(), "module has no layers: a ReluNet needs at least one Linear layer"),
    (lambda: torch.nn.ReLU(), "module is a ReLU: expected a torch.nn.Sequential of Linear and ReLU layers"),
    (lambda: 3, "module is a int: expected a torch.nn.Sequential"),
]


@pytest.mark.parametrize(("make", "text"), BAD_MODULES)
def test_from_module_rejects_bad_modules(make, text):
    with pytest.raises(ValueError, match=text):
        ReluNet.from_module(make())


def test_from_module_reads_a_single_linear_as_an_affine_net():
    linear = torch.nn.Linear(2, 3, dtype=torch.float64)
    net = ReluNet.from_module(linear)
    assert net.depth == 0 and (net.input_dim, net.output_dim) == (2, 3)
    x = np.array([[0.5, -0.25], [1.0, 2.0]])
    with torch.no_grad():
        assert net(x).tolist() == linear(torch.as_tensor(x)).numpy().tolist()
    assert ReluNet.from_module(net.to_module()).size() == net.size()
