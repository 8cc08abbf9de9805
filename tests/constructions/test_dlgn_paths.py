"""Reading a DLGN exactly: effective half-spaces, path sums, kernels, path regions (checks D1-D4, D7-D8, D11, D13).

Identities are tested in float64 to 1e-12 relative to the size of the terms, or exactly in sympy
rationals (dlgn.md §12).
"""

import math
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from relunet.constructions.dlgn import StackedDLGN, StackedDLGNSF, StackedDLGNVT
from relunet.constructions.dlgn_geometry import clip_polygon, polygon_area
from relunet.constructions.dlgn_paths import (
    active_path_regions,
    cell_slopes,
    effective_hyperplanes,
    effective_hyperplanes_exact,
    exact_preactivations,
    exact_rank,
    margin,
    matrix_form,
    model_gates,
    neuron_jump,
    normalized_hyperplanes,
    npk,
    one_model,
    overlap_kernel,
    path_features,
    path_sum,
    path_values,
    path_weight_sum,
    rational,
    single_path_logistic_gradient,
)

RTOL = 1e-12


def _fwd(model, params, x, k=0):
    with torch.no_grad():
        return model.forward(one_model(params, k), torch.as_tensor(x, dtype=torch.float64)[None])[0].numpy()


@st.composite
def dlgns(draw, families=("dlgn", "sf", "vt"), max_paths=10**4):
    L = draw(st.integers(1, 4))
    cap = max(1, int(round(max_paths ** (1 / L))))
    while cap**L > max_paths:
        cap -= 1
    widths = draw(st.lists(st.integers(1, min(cap, 12)), min_size=L, max_size=L))
    d = draw(st.integers(1, 4))
    cls = {"dlgn": StackedDLGN, "sf": StackedDLGNSF, "vt": StackedDLGNVT}[draw(st.sampled_from(families))]
    beta = draw(st.sampled_from([0.5, 3.0, 30.0, math.inf]))
    bias = draw(st.booleans())
    model = cls(d, widths, output_dim=draw(st.integers(1, 2)), value_input=draw(st.sampled_from(["one", "x"])),
                beta=beta, gating_bias=bias, bias_init=0.5 if bias else 0.0)
    params = model.init([draw(st.integers(0, 10**6)), draw(st.integers(0, 10**6))])
    x = np.random.default_rng(draw(st.integers(0, 10**6))).normal(size=(9, d))
    return model, params, x


@settings(max_examples=40)
@given(dlgns(), st.integers(0, 1))
def test_path_sum_equals_forward_and_matrix_form(case, k):
    """D1, including m^L up to 10^4 and DLGN-VT."""
    model, params, x = case
    y, scale = path_sum(model, params, x, k)
    fwd = _fwd(model, params, x, k)
    assert np.all(np.abs(y - fwd) <= RTOL * scale)
    if not isinstance(model, StackedDLGNVT):
        assert np.all(np.abs(matrix_form(model, params, x, k) - fwd) <= RTOL * scale)
    assert path_values(model, params, k).size == model.n_paths * model.output_dim


def test_path_sum_at_ten_thousand_paths():
    model = StackedDLGN(3, 10, depth=4, value_input="x", gating_bias=True, bias_init=0.5)
    params = model.init([0])
    x = np.random.default_rng(1).normal(size=(5, 3))
    y, scale = path_sum(model, params, x)
    assert model.n_paths == 3 * 10**4
    assert np.all(np.abs(y - _fwd(model, params, x)) <= RTOL * scale)


@settings(max_examples=25)
@given(dlgns(families=("dlgn", "sf")))
def test_effective_hyperplanes_float_and_exact(case):
    """D2: V^ℓ x + c^ℓ equals the gating pre-activation (float 1e-12; exactly in rationals)."""
    model, params, x = case
    with torch.no_grad():
        etas = [e[0].numpy() for e in model.gating_preactivations(one_model(params, 0), torch.as_tensor(x)[None])]
    exact = effective_hyperplanes_exact(model, params)
    # the same products with |weights| bound the terms each entry sums: the rounding scale, which a
    # tolerance relative to the entry itself misses where terms cancel (hypothesis found c = 7e-5)
    scales = effective_hyperplanes(model, {name: p.abs() for name, p in params.items()})
    for (v, c), eta, (ve, ce), (sv, sc) in zip(effective_hyperplanes(model, params), etas, exact, scales):
        assert np.all(np.abs(x @ v.T + c - eta) <= RTOL * (np.abs(x) @ np.abs(v).T + np.abs(c)))
        assert np.all(np.abs(np.array(ve, dtype=float) - v) <= RTOL * sv)
        assert np.all(np.abs(np.array(ce, dtype=float)[:, 0] - c) <= RTOL * sc)
    point = [Fraction(3, 7)] * model.input_dim
    xs = sp.Matrix([sp.Rational(3, 7)] * model.input_dim)
    for (ve, ce), eta in zip(exact, exact_preactivations(model, params, point)):
        assert ve * xs + ce == eta


def test_exact_extraction_on_a_hand_example():
    net = StackedDLGN(2, [2, 1], gating_bias=True)
    p = {"gw1": torch.tensor([[[1.0, 2.0], [0.5, -1.0]]]), "gb1": torch.tensor([[0.25, 1.0]]),
         "gw2": torch.tensor([[[2.0, -4.0]]]), "gb2": torch.tensor([[0.5]]),
         "v1": torch.ones(1, 2), "v2": torch.ones(1, 1, 2), "out": torch.ones(1, 1, 1)}
    (v1, c1), (v2, c2) = effective_hyperplanes_exact(net, p)
    assert v2 == sp.Matrix([[0, 8]]) and c2 == sp.Matrix([[sp.Rational(-3, 1)]])
    assert exact_preactivations(net, p, [1, Fraction(1, 2)])[1] == sp.Matrix([[1]])
    assert rational(0.1) == sp.Rational(3602879701896397, 36028797018963968)


def test_rank_nesting_exact():
    """D4: rank(V^ℓ) non-increasing and rowspace(V^ℓ) ⊆ rowspace(V^(ℓ-1)); not so for DLGN-SF."""
    for seed in range(5):
        net = StackedDLGN(6, [3, 5, 4, 2], gating_bias=True)
        planes = effective_hyperplanes_exact(net, net.init([seed]))
        ranks = [exact_rank(v) for v, _ in planes]
        assert ranks == sorted(ranks, reverse=True) and ranks[0] == 3
        for i in range(1, len(planes)):
            assert exact_rank(planes[i - 1][0].col_join(planes[i][0])) == ranks[i - 1]
    sf = StackedDLGNSF(6, [3, 5])
    (v1, _), (v2, _) = effective_hyperplanes_exact(sf, sf.init([0]))
    assert exact_rank(v1.col_join(v2)) > exact_rank(v1)


def test_exact_rank_sees_what_floats_would_round():
    eps = sp.Rational(1, 2**80)
    assert exact_rank(sp.Matrix([[1, 1], [1, 1 + eps]])) == 2
    assert exact_rank(sp.zeros(2, 3)) == 0


def test_normalized_hyperplanes_and_margin():
    vh, ch = normalized_hyperplanes(np.array([[0.0, 2.0], [3.0, 4.0]]), np.array([1.0, -5.0]))
    np.testing.assert_allclose(np.linalg.norm(vh, axis=1), 1.0)
    np.testing.assert_allclose(ch, [0.5, -1.0])
    with pytest.raises(ValueError, match="zero rows"):
        normalized_hyperplanes(np.zeros((1, 2)))
    net = StackedDLGN(2, [2], gating_bias=False)
    p = {"gw1": torch.tensor([[[1.0, 0.0], [0.0, 2.0]]]), "v1": torch.ones(1, 2), "out": torch.ones(1, 1, 2)}
    assert margin(net, p, np.array([[0.5, -0.1], [3.0, 1.0]])).tolist() == [0.2, 2.0]


@settings(max_examples=20)
@given(dlgns(families=("dlgn", "sf")))
def test_path_weight_sum_is_the_sum_of_absolute_path_values(case):
    model, params, x = case
    g = np.abs(path_values(model, params))
    s = path_weight_sum(model, params, 0, x if model.value_input == "x" else None)
    if model.value_input == "one":
        np.testing.assert_allclose(s, g.reshape(g.shape[0], -1).sum(-1), rtol=1e-12)
    else:
        want = np.abs(x) @ g.reshape(g.shape[0], g.shape[1], -1).sum(-1).T
        np.testing.assert_allclose(s, want, rtol=1e-12)


@pytest.mark.parametrize("value_input", ["one", "x"])
def test_neuron_jump_and_cell_slopes(value_input):
    """D6-D7 on one network: the output jumps by the sum over the paths through the crossed neuron."""
    net = StackedDLGN(3, [3, 2, 3], value_input=value_input, gating_bias=True, bias_init=0.5, beta=math.inf)
    p = net.init([4])
    rng = np.random.default_rng(0)
    (v, c) = effective_hyperplanes(net, p)[1]
    vh, ch = normalized_hyperplanes(v, c)
    x0 = rng.normal(size=3)
    x0 = x0 - (vh[1] @ x0 + ch[1]) * vh[1]
    plus, minus = x0 + 1e-7 * vh[1], x0 - 1e-7 * vh[1]
    jump = neuron_jump(net, p, 2, 1, x0[None])[0]
    scale = float(np.max(path_weight_sum(net, p, 0, x0[None] if value_input == "x" else None)))
    if value_input == "one":
        found = _fwd(net, p, plus[None])[0] - _fwd(net, p, minus[None])[0]
    else:
        slopes = cell_slopes(net, p, np.stack([plus, minus]))
        found = (slopes[0] - slopes[1]) @ x0
        xs = rng.normal(size=(20, 3))
        np.testing.assert_allclose(np.einsum("nod,nd->no", cell_slopes(net, p, xs), xs), _fwd(net, p, xs),
                                   rtol=0, atol=1e-12 * scale)
    assert np.all(np.abs(found - jump) <= RTOL * scale)
    with pytest.raises(ValueError, match="layer = 4"):
        neuron_jump(net, p, 4, 0, x0[None])
    with pytest.raises(ValueError, match="neuron = 2"):
        neuron_jump(net, p, 2, 2, x0[None])


@settings(max_examples=20)
@given(dlgns(families=("vt",), max_paths=300))
def test_overlap_kernel_identity_and_psd(case):
    """D11: Σ_π f_π f_π' = Π_ℓ ⟨G^ℓ, G^ℓ'⟩; NPK = ⟨x, x'⟩ · overlap; Gram matrices PSD."""
    model, params, x = case
    gates = model_gates(model, params, 0, x)
    f = path_features(gates)
    k = overlap_kernel(gates, gates)
    assert np.all(np.abs(f @ f.T - k) <= RTOL * (f @ f.T))
    fx = path_features(gates, x)
    kx = npk(gates, x, gates, x)
    assert np.all(np.abs(fx @ fx.T - kx) <= RTOL * (np.abs(fx) @ np.abs(fx).T))
    for gram in (k, kx):
        assert np.linalg.eigvalsh(gram).min() >= -1e-10 * max(np.trace(gram), 1e-300)


def test_overlap_kernel_rejects_mismatched_layers():
    with pytest.raises(ValueError, match="gates_b has 1 layers"):
        overlap_kernel([np.ones((1, 2))] * 2, [np.ones((1, 2))])


def test_active_path_regions_agree_with_polygon_clipping():
    """D8 in 2-D: the LP says R_π meets the square iff clipping the square by its half-planes leaves area."""
    square = np.array([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]])
    for seed in range(4):
        net = StackedDLGN(2, [3, 2, 3], gating_bias=True, bias_init=0.6)
        p = net.init([seed])
        regions = active_path_regions(net, p)
        planes = effective_hyperplanes(net, p)
        assert regions.count <= 18 and regions.paths.shape == (18, 3)
        for path, nonempty, depth, point in zip(regions.paths, regions.nonempty, regions.depth, regions.points):
            half = [np.append(planes[ell][0][i], planes[ell][1][i]) for ell, i in enumerate(path)]
            area = polygon_area(clip_polygon(square, half))
            if abs(depth) > 1e-6:
                assert (area > 1e-9) == bool(nonempty)
            if nonempty:  # the LP's point is inside every half-space of the path
                gates = model_gates(net, p, 0, point[None], math.inf)
                assert all(gates[ell][0, i] == 1.0 for ell, i in enumerate(path))
    with pytest.raises(ValueError, match="window = 0"):
        active_path_regions(net, p, window=0)


def test_unbiased_regions_all_meet_the_origin_box():
    net = StackedDLGN(3, [2, 2], gating_bias=False)
    regions = active_path_regions(net, net.init([0]))
    # without biases every half-space contains 0, so R_π ∩ box is non-empty; interior is generic
    assert np.all(regions.depth >= -1e-9)


def test_single_path_gradient_equals_autograd():
    """D13: one path of a DLGN-SF with widths 1 and value input 1 is ŷ = a Π_ℓ sigmoid(β w_ℓ·x)."""
    sf = StackedDLGNSF(3, [1, 1, 1], beta=2.5)
    p = {k: v.clone().requires_grad_(True) for k, v in sf.init([7]).items()}
    x = torch.tensor([[[0.4, -1.1, 0.7]]], dtype=torch.float64)
    y = -1.0
    out = sf.forward(p, x)[0, 0, 0]
    loss = torch.nn.functional.softplus(-y * out)
    grads = torch.autograd.grad(loss, [p[f"gv{ell}"] for ell in (1, 2, 3)])
    a = float((p["v1"][0, 0] * p["v2"][0, 0, 0] * p["v3"][0, 0, 0] * p["out"][0, 0, 0]).detach())
    w = np.stack([p[f"gv{ell}"][0, 0].detach().numpy() for ell in (1, 2, 3)])
    want = single_path_logistic_gradient(a, w, x[0, 0].numpy(), y, 2.5)
    got = -np.stack([g[0, 0].numpy() for g in grads])
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-14)
    with pytest.raises(ValueError, match="beta = inf"):
        single_path_logistic_gradient(a, w, x[0, 0].numpy(), y, math.inf)


def test_bad_inputs_name_the_parameter():
    net = StackedDLGN(2, 2, depth=1)
    p = net.init([0])
    with pytest.raises(ValueError, match="k = 3"):
        one_model(p, 3)
    with pytest.raises(ValueError, match=r"x has shape \(4, 3\)"):
        path_sum(net, p, np.zeros((4, 3)))
    with pytest.raises(ValueError, match="point has 3 coordinates"):
        exact_preactivations(net, p, [1, 2, 3])
    with pytest.raises(ValueError, match="model = "):
        effective_hyperplanes(object(), p)
    with pytest.raises(ValueError, match="value_input = 'one'"):
        cell_slopes(net, p, np.zeros((1, 2)))


# -- regressions from the API audit (U2) ---------------------------------------------------------------


def test_numpy_integers_and_floats_count_as_numbers():
    net = StackedDLGN(3, 4, depth=2)
    p = net.init([0, 1])
    np.testing.assert_array_equal(path_values(net, p, k=np.int64(1)), path_values(net, p, k=1))
    assert one_model(p, np.int32(1))["gw1"].shape == (1, 4, 3)
    x = np.array([[0.3, -0.2, 0.5], [0.1, 0.4, -0.6]])
    np.testing.assert_array_equal(neuron_jump(net, p, np.int64(2), np.int64(3), x, k=np.int64(1)),
                                  neuron_jump(net, p, 2, 3, x, k=1))
    small = StackedDLGN(2, [2, 2], gating_bias=True, bias_init=0.3)
    q = small.init([0])
    assert active_path_regions(small, q, window=np.float32(1.0)).count == active_path_regions(small, q).count
    want = single_path_logistic_gradient(1.0, np.eye(2), np.array([0.5, -0.5]), 1.0, 3.0)
    np.testing.assert_array_equal(single_path_logistic_gradient(1.0, np.eye(2), np.array([0.5, -0.5]), 1.0,
                                                                np.float32(3.0)), want)


@pytest.mark.parametrize(("call", "match"), [
    (lambda net, p: path_values(net, p, k=1.5), r"k = 1.5 is not an integer: k must be an integer in \[0, 1\]"),
    (lambda net, p: path_values(net, p, k=np.int64(2)), r"k = np.int64\(2\) is out of range"),
    (lambda net, p: neuron_jump(net, p, 1.5, 0, np.zeros((1, 3))), r"layer = 1.5"),
    (lambda net, p: active_path_regions(net, p, window=np.float64(math.inf)), r"window = np.float64\(inf\)"),
])
def test_bad_indices_name_the_parameter(call, match):
    net = StackedDLGN(3, 2, depth=2)
    with pytest.raises(ValueError, match=match):
        call(net, net.init([0, 1]))
