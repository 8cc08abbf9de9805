"""Sparse layers and filtered exact evaluation give the same results as the dense, full paths."""

from fractions import Fraction

import numpy as np
import pytest
import scipy.sparse as sparse
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from relunet.constructions import ReluNet, absolute_value, affine_net, compose, cube_bump, deepen, network, parallel
from relunet.constructions.deepening import deepen_interpolant
from relunet.constructions.estimators import partition_estimator
from relunet.constructions.exact import evaluate_filtered
from relunet.constructions.network import linear_combination
from relunet.constructions.regression import RegressionProblem, holder_target
from relunet.constructions.targets import Target
from relunet.verify.measure import sup_error
from relunet.verify.strategies import relu_nets


def _sparse_net(widths, seed, density=0.4):
    rng = np.random.default_rng(seed)
    layers = []
    for a, b in zip(widths[:-1], widths[1:]):
        w = sparse.random(b, a, density=density, random_state=rng, format="csr")
        w.data = np.round((w.data - 0.5) * 16) / 8  # dyadic, so dense float evaluation is exact-ish
        layers.append((w, np.round(rng.normal(size=b) * 8) / 8))
    return ReluNet(layers, name="sparse")


def _dense_copy(net):
    return ReluNet([(w.toarray(), b) for w, b in zip(net.weights, net.biases)])


@settings(max_examples=40)
@given(net=relu_nets(max_depth=3, max_width=6), seed=st.integers(0, 10**6))
def test_filtered_exact_equals_full_exact_on_rational_nets(net, seed):
    rng = np.random.default_rng(seed)
    pts = [[Fraction(int(k), 8) for k in rng.integers(-24, 25, net.input_dim)] for _ in range(6)]
    full = net.evaluate_exact(pts)  # small dense nets take the full path
    assert (evaluate_filtered(net, np.array(pts, dtype=object)) == full).all()


@settings(max_examples=20)
@given(seed=st.integers(0, 10**6), widths=st.lists(st.integers(1, 30), min_size=1, max_size=3))
def test_sparse_nets_match_their_dense_copies(seed, widths):
    net = _sparse_net([3, *widths, 2], seed)
    dense = _dense_copy(net)
    x = np.random.default_rng(seed).normal(size=(20, 3))
    np.testing.assert_allclose(net(x), dense(x), rtol=1e-12, atol=1e-12)
    assert (net.evaluate_exact(x) == dense.evaluate_exact(x)).all()  # filtered vs full path
    assert net.size().nonzero == dense.size().nonzero and net.size().dense == dense.size().dense
    assert net.size().max_abs_weight == dense.size().max_abs_weight


def test_calculus_with_sparse_parts():
    net = _sparse_net([3, 40, 30, 2], 1)
    dense = _dense_copy(net)
    x = np.random.default_rng(2).normal(size=(30, 3))
    p = parallel(net, dense)
    assert p.is_sparse
    np.testing.assert_allclose(p(x), np.hstack([net(x), dense(x)]), rtol=1e-12, atol=1e-12)
    diff = compose(compose(absolute_value(), affine_net([[1, -1]])), net)
    np.testing.assert_allclose(diff(x)[:, 0], np.abs(net(x)[:, 0] - net(x)[:, 1]), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(linear_combination([2.0, -1.0], [net, dense])(x), net(x), rtol=1e-12, atol=1e-12)
    deep = deepen(net, 5)
    assert deep.depth == 5
    np.testing.assert_allclose(deep(x), net(x), rtol=1e-12, atol=1e-12)


def test_sparse_module_round_trip_and_training_keeps_the_pattern():
    net = _sparse_net([3, 25, 1], 3)
    module = net.to_module()
    x = torch.as_tensor(np.random.default_rng(4).normal(size=(10, 3)))
    np.testing.assert_allclose(module(x).detach().numpy(), net(x.numpy()), rtol=1e-12, atol=1e-12)
    back = ReluNet.from_module(module)
    assert back.is_sparse and (back.weights[0] != net.weights[0]).nnz == 0
    loss = module(x).pow(2).sum()
    loss.backward()
    assert module[0].values.grad.shape == module[0].values.shape


def test_wide_bump_sum_evaluates_exactly_at_its_centres():
    # 200 disjoint bumps: the net is wide (600 first-layer units), so evaluate_exact filters.
    centres = [Fraction(2 * k + 1, 400) for k in range(200)]
    bumps = [cube_bump([c], 0, Fraction(1, 400)) for c in centres]
    heights = [Fraction(k % 7 - 3, 5) for k in range(200)]
    net = linear_combination(heights, bumps)
    assert max(net.widths) > 256
    got = net.evaluate_exact([[c] for c in centres])[:, 0].tolist()
    assert got == heights


def test_exact_layers_refuses_huge_sparse_nets():
    w = sparse.identity(3000, format="csr")
    net = ReluNet([(w, np.zeros(3000)), (sparse.csr_matrix(np.ones((1, 3000))), np.zeros(1))])
    with pytest.raises(ValueError, match="too many"):
        net.exact_layers()
    assert net.evaluate_exact([[1.0] * 3000])[0, 0] == 3000


# -- local_affine unit by unit: no densifying (the README's interpolant has 24.7M dense entries) --


def _local_affine(net, point, row_wise: bool):
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ReluNet, "_row_wise", property(lambda self: row_wise))
        a, c = net.local_affine(point)
    return a.tolist(), c.tolist()


KINKS = st.sampled_from([Fraction(k, 4) for k in range(-8, 9)])  # where dyadic pre-activations hit 0


@settings(max_examples=60)
@given(net=relu_nets(max_depth=3, max_width=6), data=st.data())
def test_row_wise_local_affine_equals_the_dense_one(net, data):
    coord = st.one_of(KINKS, st.floats(-3, 3, allow_nan=False))
    point = data.draw(st.lists(coord, min_size=net.input_dim, max_size=net.input_dim))
    rows = _local_affine(net, point, row_wise=True)
    assert rows == _local_affine(net, point, row_wise=False)
    assert all(isinstance(v, Fraction) for v in [*np.ravel(rows[0]), *rows[1]])


def test_local_affine_of_huge_sparse_nets():
    w = sparse.identity(3000, format="csr")
    net = ReluNet([(w, np.zeros(3000)), (sparse.csr_matrix(np.ones((1, 3000))), np.zeros(1))])
    point = [1.0] * 1500 + [-1.0] * 1500
    a, c = net.local_affine(point)  # once: "too many for dense exact layers"
    assert a.tolist() == [[Fraction(1)] * 1500 + [Fraction(0)] * 1500] and c.tolist() == [Fraction(0)]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sparse_local_affine_matches_the_dense_copy(seed):
    net = _sparse_net([3, 20, 12, 2], seed)
    for p in np.random.default_rng(seed).normal(size=(10, 3)):
        want = [m.tolist() for m in _dense_copy(net).local_affine(p)]
        assert [m.tolist() for m in net.local_affine(p)] == want


def test_sup_error_polishes_a_sparse_interpolant_without_densifying(monkeypatch):
    x, y = RegressionProblem(holder_target(1, 2), sigma=0.1).sample(60, seed=0)
    wide = deepen_interpolant(partition_estimator(x, y, r=1), x, y).wide
    assert wide.is_sparse
    monkeypatch.setattr(network, "_DENSE_EXACT_LIMIT", 0)  # as if the net were README-sized
    target = Target("x1**2 + x2**2", 2)
    found = sup_error(wide, target, (0, 1), n_random=300, n_starts=3, ascent_steps=5)
    p = [Fraction(v) for v in found.point]
    assert found.exact_value == abs(wide.evaluate_exact([p])[0, 0] - target.exact(p))
    # a target with kinks (its Hessian holds DiracDelta) is searched, not solved for: no NameError
    kinked = sup_error(wide, holder_target(1, 2), (0, 1), n_random=300, n_starts=3, ascent_steps=5)
    assert kinked.exact_value is not None


def _small_sparse_net():
    w = sparse.csr_matrix(np.array([[0.1, 0.0], [0.0, -2.0]]))
    return ReluNet([(w, np.array([0.5, 0.0])), (sparse.csr_matrix(np.array([[1.0, 1.0]])), np.array([0.0]))])


def test_sparse_module_round_trips_float64_values_bit_for_bit():
    # 0.1 is not a float32: to_scipy and from_module must give back the float64 weights exactly
    net = _small_sparse_net()
    module = net.to_module()
    w, b = module[0].to_scipy()
    assert w.data.tolist() == [0.1, -2.0] and w.dtype == np.float64 and b.tolist() == [0.5, 0.0]
    back = ReluNet.from_module(module)
    assert back.weights[0].data.tolist() == [0.1, -2.0] and back.biases[0].tolist() == [0.5, 0.0]


def test_sparse_module_owns_its_parameters():
    # training the module (here: updating its parameters in place) leaves the source net unchanged
    net = _small_sparse_net()
    module = net.to_module()
    with torch.no_grad():
        for p in module.parameters():
            p.add_(1.0)
    assert net.weights[0].data.tolist() == [0.1, -2.0] and net.biases[0].tolist() == [0.5, 0.0]
    assert net.weights[1].data.tolist() == [1.0, 1.0] and net.biases[1].tolist() == [0.0]
    assert module[0].values.tolist() == [1.1, -1.0] and module[0].bias.tolist() == [1.5, 1.0]


def test_sparse_module_keeps_leading_batch_dimensions():
    # a (3, 4, in) batch gives (3, 4, out), with the net's values
    net = _small_sparse_net()
    module = net.to_module()
    x = torch.as_tensor(np.random.default_rng(5).normal(size=(3, 4, 2)))
    assert module[0](x).shape == (3, 4, 2)
    out = module(x)
    assert out.shape == (3, 4, 1)
    np.testing.assert_allclose(out.detach().numpy(), net(x.numpy()), rtol=1e-15, atol=0)


def test_filtered_exact_evaluation_is_right_where_float64_gets_the_sign_wrong():
    # relu(x0 + ... + x10 - (1 + 2^-52)) at x = (1, 2^-54, ..., 2^-54): float64 summation drops every
    # 2^-54 and gives -2^-52, but the exact pre-activation is 10 * 2^-54 - 2^-52 = 3 / 2^53 > 0.  The
    # float pass must not certify the unit inactive.
    k = 10
    bias = -(1 + 2.0**-52)
    net = ReluNet([(sparse.csr_matrix(np.ones((1, k + 1))), np.array([bias])),
                   (sparse.csr_matrix(np.ones((1, 1))), np.zeros(1))])
    x = [1.0] + [2.0**-54] * k
    assert net.is_sparse and net(np.array([x]))[0, 0] == 0.0  # float64 does get the sign wrong here
    want = Fraction(3, 2**53)
    assert want == 1 + k * Fraction(2) ** -54 + Fraction(bias)
    assert net.evaluate_exact([x])[0, 0] == want
    assert _dense_copy(net).evaluate_exact([x])[0, 0] == want
    a, c = net.local_affine(x)  # the unit is active: the map is x0 + ... + x10 + bias
    assert a.tolist() == [[1] * (k + 1)] and c.tolist() == [Fraction(bias)]


def test_row_wise_local_affine_at_a_kink_takes_the_inactive_side():
    # 2 relu(x1 - x2) + 3 relu(x1 + x2 - 1/2) + 1 at (1/2, 1/2): the first unit sits exactly on its kink
    # and is inactive, the second is active, so the map is 3 x1 + 3 x2 - 1/2 (as on the dense path)
    w = sparse.csr_matrix(np.array([[1.0, -1.0], [1.0, 1.0]]))
    net = ReluNet([(w, np.array([0.0, -0.5])), (sparse.csr_matrix(np.array([[2.0, 3.0]])), np.array([1.0]))])
    assert net._row_wise
    a, c = net.local_affine([0.5, 0.5])
    assert a.tolist() == [[3, 3]] and c.tolist() == [Fraction(-1, 2)]
    assert [m.tolist() for m in _dense_copy(net).local_affine([0.5, 0.5])] == [a.tolist(), c.tolist()]
