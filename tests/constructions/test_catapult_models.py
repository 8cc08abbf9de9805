"""Catapult models: uv, quadratic (pure, linear part, teacher-student), NQM, homogeneous MLPs, NTKs, sparsity.

References: catapult.md §3 (models and closed forms), §5 (homogeneity), §6 (bound inputs), §11 (λ0).
"""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from relunet.constructions import spectral
from relunet.constructions.catapult_models import (
    NeuralQuadraticModel,
    QuadraticFeatures,
    QuadraticModel,
    StackedUV,
    homogeneous_mlp,
    ntk_matrix,
    sparsity,
    top_ntk_eigenvalue,
)
from relunet.constructions.models import StackedMLP
from relunet.constructions.training import BatchedTrainer

F64 = torch.float64


def _rand(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=F64)


def test_uv_equals_the_linear_two_layer_mlp():
    uv = StackedUV(30)
    params = uv.init([0, 1, 2])
    mlp = StackedMLP(1, 30, 1, activation="identity", bias=False)
    as_mlp = {"w0": params["u"].unsqueeze(-1), "w1": params["v"].unsqueeze(1)}
    x = _rand(3, 5, 1)
    torch.testing.assert_close(uv.forward(params, x), mlp.forward(as_mlp, x), rtol=1e-14, atol=1e-14)
    torch.testing.assert_close(uv.ntk(params, x), spectral.ntk_dense(uv, params, x), rtol=1e-12, atol=1e-14)
    lam = spectral.uv_ntk(params["u"], params["v"], x[..., 0])
    torch.testing.assert_close(top_ntk_eigenvalue(uv, params, x), lam, rtol=1e-12, atol=0)
    assert uv.homogeneity == 2
    assert torch.equal(uv.init([1])["u"][0], params["u"][1])  # model k is the same alone or among others
    with pytest.raises(ValueError, match="width = 0"):
        StackedUV(0)


def test_features_are_symmetric_with_paired_eigenvalues_in_range():
    feats = QuadraticFeatures.draw(3, 10, 4, eigenvalue_range=(1.0, 2.0), seed=3)
    assert feats.W.shape == (3, 10, 10) and feats.U.shape == (3, 4)
    for w in feats.W:
        torch.testing.assert_close(w, w.T, rtol=0, atol=0)
        ev = torch.linalg.eigvalsh(w)
        torch.testing.assert_close(ev, -ev.flip(0), rtol=0, atol=1e-12)
        assert bool(((ev.abs() >= 1 - 1e-12) & (ev.abs() <= 2 + 1e-12)).all())
    x = _rand(5, 3)
    torch.testing.assert_close(feats.psi(x), torch.einsum("ai,imn->amn", x, feats.W) / math.sqrt(3))
    torch.testing.assert_close(feats.phi(x), x @ feats.U / math.sqrt(12))
    tanh = QuadraticFeatures.draw(1, 4, activation="tanh", seed=0)
    torch.testing.assert_close(tanh.psi(x[:, :1]), torch.tanh(x[:, :1, None] * tanh.W[0]))
    assert torch.equal(QuadraticFeatures.draw(3, 10, 4, eigenvalue_range=(1.0, 2.0), seed=3).W, feats.W)


@pytest.mark.parametrize("kwargs, match", [
    ({"input_dim": 1, "rank": 3}, "rank = 3 is odd"),
    ({"input_dim": 0, "rank": 4}, "input_dim = 0"),
    ({"input_dim": 1, "rank": 4, "eigenvalue_range": (2.0, 1.0)}, "eigenvalue_range"),
    ({"input_dim": 1, "rank": 4, "activation": "gelu"}, "activation = 'gelu'"),
])
def test_features_reject_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        QuadraticFeatures.draw(**kwargs)


@pytest.mark.parametrize("linear", [0, 3])
@pytest.mark.parametrize("masked", [0, 4])
def test_quadratic_model_forward_and_ntk(linear, masked):
    feats = QuadraticFeatures.draw(2, 12, linear, activation="tanh", seed=1)
    model = QuadraticModel(feats)
    if masked:
        model = model.student(masked, min(1, linear), seed=2)
    assert model.rank == 12 - masked and model.zeta == pytest.approx(math.sqrt(2 / model.rank))
    assert model.homogeneity == (2 if model.linear_features == 0 else None)
    params = model.init([0, 1, 2])
    x = _rand(3, 6, 2, seed=4)
    out = model.forward(params, x)
    psi = feats.psi(x)[..., model.keep_quadratic, :][..., model.keep_quadratic]
    want = 0.5 * model.zeta * torch.einsum("kn,kanm,km->ka", params["theta"], psi, params["theta"])
    if model.linear_features:
        want = want + torch.einsum("kaf,kf->ka", feats.phi(x)[..., model.keep_linear], params["theta_f"])
    torch.testing.assert_close(out[..., 0], want, rtol=1e-13, atol=1e-14)
    for xs in (x, x[:1].expand(3, 6, 2).contiguous()):  # distinct and shared inputs (cached ψ)
        torch.testing.assert_close(model.ntk(params, xs), spectral.ntk_dense(model, params, xs), rtol=1e-12, atol=1e-14)
        torch.testing.assert_close(model.ntk(params, xs), spectral.ntk_dense(model, params, xs), rtol=1e-12, atol=1e-14)


def test_quadratic_one_sample_ntk_closed_form():
    """One sample: λ0 = ζ²|ψ(x)θ|² (catapult.md §3.2)."""
    feats = QuadraticFeatures.draw(1, 40, eigenvalue_range=(1.0, 2.0), seed=5)
    model = QuadraticModel(feats)
    params = model.init([7])
    x = torch.ones(1, 1, 1, dtype=F64)
    lam = model.zeta**2 * ((feats.W[0] @ params["theta"][0]) ** 2).sum()
    torch.testing.assert_close(top_ntk_eigenvalue(model, params, x)[0], lam, rtol=1e-13, atol=0)


def test_bound_inputs_against_explicit_constructions():
    feats = QuadraticFeatures.draw(2, 8, 3, eigenvalue_range=(0.5, 1.5), activation="tanh", seed=6)
    model = QuadraticModel(feats)
    params = model.init([0, 1])
    x = (torch.rand(4, 2, generator=torch.Generator().manual_seed(0), dtype=F64) - 0.5)[None].expand(2, 4, 2)
    x = x.contiguous()
    got = model.bound_inputs(params, x)
    H = spectral.ntk_dense(model, params, x)
    evals, evecs = torch.linalg.eigh(H)
    torch.testing.assert_close(got["lam0"], evals[:, -1], rtol=1e-12, atol=0)
    psi = feats.psi(x[0])  # (n, N, N)
    n, N = psi.shape[0], psi.shape[1]
    omega = torch.zeros(n * N, n * N, dtype=F64)
    for a in range(n):
        for b in range(n):
            omega[a * N:(a + 1) * N, b * N:(b + 1) * N] = model.zeta**2 / n * psi[a] @ psi[b]
    torch.testing.assert_close(got["omega_top"], torch.linalg.eigvalsh(omega)[-1].expand(2), rtol=1e-12, atol=0)
    for k in range(2):
        u = evecs[k, :, -1]
        psi_eff = torch.einsum("a,amn->mn", u, psi) / math.sqrt(n)
        assert got["psi_eff_sq"][k] == pytest.approx(float(torch.linalg.eigvalsh(psi_eff @ psi_eff)[-1]), rel=1e-12)
        phi_eff = u @ feats.phi(x[0]) / math.sqrt(n)
        assert got["phi_eff_sq"][k] == pytest.approx(float(phi_eff @ phi_eff), rel=1e-12)
        assert got["overlap_sq"][k] == pytest.approx(float(phi_eff @ params["theta_f"][k]) ** 2, rel=1e-10)
        theta_sq = float((params["theta"][k] ** 2).sum() + (params["theta_f"][k] ** 2).sum())
        assert got["theta_sq"][k] == pytest.approx(theta_sq, rel=1e-14)


def test_student_masks_and_rejects_bad_masks():
    model = QuadraticModel(QuadraticFeatures.draw(1, 10, 4, seed=0))
    student = model.student(3, 2, seed=5)
    assert student.rank == 7 and student.linear_features == 2
    assert set(student.keep_quadratic.tolist()) < set(range(10))
    assert student.keep_quadratic.tolist() == model.student(3, 2, seed=5).keep_quadratic.tolist()
    with pytest.raises(ValueError, match="masked_quadratic = 10"):
        model.student(10)
    with pytest.raises(ValueError, match="keep_quadratic"):
        QuadraticModel(model.features, keep_quadratic=[0, 0])
    with pytest.raises(ValueError, match="zeta = -1"):
        QuadraticModel(model.features, zeta=-1)


@pytest.mark.parametrize("base", [StackedUV(16),
                                  QuadraticModel(QuadraticFeatures.draw(2, 8, activation="tanh", seed=0))])
def test_nqm_equals_models_that_are_quadratic_in_their_weights(base):
    nqm = NeuralQuadraticModel.around_init(base, [0, 1])
    far = {k: v + 0.7 * _rand(*v.shape, seed=3) for k, v in nqm.anchor.items()}
    x = _rand(2, 4, base.input_dim, seed=1)
    torch.testing.assert_close(nqm.forward(far, x), base.forward(far, x), rtol=1e-12, atol=1e-12)


def test_nqm_value_gradient_and_ntk_at_the_anchor_are_the_base_ones():
    base = homogeneous_mlp(3, 32)
    nqm = NeuralQuadraticModel.around_init(base, [4, 5])
    x = _rand(2, 6, 3, seed=2)
    torch.testing.assert_close(nqm.forward(nqm.anchor, x), base.forward(nqm.anchor, x), rtol=1e-14, atol=1e-14)
    torch.testing.assert_close(spectral.ntk_dense(nqm, nqm.anchor, x), spectral.ntk_dense(base, nqm.anchor, x),
                               rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(top_ntk_eigenvalue(nqm, nqm.anchor, x), top_ntk_eigenvalue(base, nqm.anchor, x),
                               rtol=1e-10, atol=0)


def test_nqm_is_the_second_order_taylor_model():
    """Two-layer ReLU nets are piecewise quadratic in their weights, so the NQM equals them for small moves; a
    three-layer net has cubic terms, so the gap shrinks like |Δ|³."""
    x = _rand(1, 5, 3, seed=8)
    two = homogeneous_mlp(3, 16)
    nqm2 = NeuralQuadraticModel.around_init(two, [0])
    small = {k: v + 1e-4 * _rand(*v.shape, seed=9) for k, v in nqm2.anchor.items()}
    torch.testing.assert_close(nqm2.forward(small, x), two.forward(small, x), rtol=1e-12, atol=1e-14)
    three = homogeneous_mlp(3, 16, depth=2, negative_slope=1.0)  # linear: f is a cubic polynomial in θ
    nqm3 = NeuralQuadraticModel.around_init(three, [0])
    direction = {k: _rand(*v.shape, seed=10) for k, v in nqm3.anchor.items()}
    gaps = []
    for s in (1e-1, 5e-2, 2.5e-2):
        w = {k: v + s * direction[k] for k, v in nqm3.anchor.items()}
        gaps.append(float((nqm3.forward(w, x) - three.forward(w, x)).abs().max()))
    ratios = np.array(gaps[:-1]) / np.array(gaps[1:])
    np.testing.assert_allclose(ratios, 8.0, rtol=1e-6)  # exactly cubic: the gap is s³ times a constant


def test_nqm_trains_with_the_batched_trainer_and_rejects_mismatches():
    base = homogeneous_mlp(2, 8)
    nqm = NeuralQuadraticModel.around_init(base, [0, 0])
    x, y = _rand(6, 2, seed=1), _rand(2, 6, 1, seed=2)
    trainer = BatchedTrainer(nqm, lr=[0.1, 0.5], steps=20, progress=False).fit(x, y, params=nqm.anchor)
    assert bool((trainer.loss_ < trainer.history_["loss"][0]).all())
    assert torch.equal(nqm.init([0, 0])["w0"], nqm.anchor["w0"])
    with pytest.raises(ValueError, match="anchored at seeds"):
        nqm.init([1, 2])
    with pytest.raises(ValueError, match="anchored at K = 2"):
        nqm.forward({k: v[:1] for k, v in nqm.anchor.items()}, x[None])
    with pytest.raises(ValueError, match="base = dict"):
        NeuralQuadraticModel({}, nqm.anchor)


@pytest.mark.parametrize("slope, activation", [(0.0, "relu"), (1.0, "identity"), (0.5, "leaky_relu")])
def test_homogeneous_mlp_and_two_layer_closed_form(slope, activation):
    mlp = homogeneous_mlp(4, 24, negative_slope=slope)
    assert mlp.activation == activation and not mlp.bias and mlp.homogeneity == 2
    params = mlp.init([0, 1])
    x = _rand(2, 7, 4, seed=3)
    torch.testing.assert_close(ntk_matrix(mlp, params, x), spectral.ntk_dense(mlp, params, x), rtol=1e-12, atol=1e-14)
    closed = top_ntk_eigenvalue(mlp, params, x, method="closed")
    torch.testing.assert_close(closed, top_ntk_eigenvalue(mlp, params, x, method="lanczos"), rtol=1e-10, atol=0)
    assert homogeneous_mlp(4, 8, depth=3).homogeneity == 4
    with pytest.raises(ValueError, match="negative_slope"):
        homogeneous_mlp(4, 8, negative_slope=float("nan"))
    with pytest.raises(ValueError, match="method = 'dense'"):
        top_ntk_eigenvalue(mlp, params, x, method="dense")


def test_sparsity_counts_negative_preactivations():
    mlp = homogeneous_mlp(2, 3, depth=2)
    params = {"w0": torch.tensor([[[1.0, 0.0], [0.0, -1.0], [1.0, 1.0]]], dtype=F64),
              "w1": torch.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]]], dtype=F64),
              "w2": torch.ones(1, 1, 3, dtype=F64)}
    x = torch.tensor([[[1.0, 1.0], [-1.0, 2.0]]], dtype=F64)
    # layer 1 pre-activations (scaled by 1/sqrt 2): (1, -1, 2) and (-1, -2, 1) -> 3 of 6 negative
    # layer 2 inputs relu: (1, 0, 2)/√2 and (0, 0, 1)/√2 -> pre (1, 0, -1) and (0, 0, 0) scaled -> 1 negative of 6
    got = sparsity(mlp, params, x)
    torch.testing.assert_close(got, torch.tensor([[0.5, 1 / 6]], dtype=F64))
    assert sparsity(mlp, params, x, per_unit=True).shape == (1, 2, 3)
    with pytest.raises(ValueError, match="StackedMLP"):
        sparsity(StackedUV(3), StackedUV(3).init([0]), x[..., :1])


def _homogeneous_family(name: str, width: int, slope: float, seed: int):
    """(model, degree k, input dim) for a k-homogeneous family."""
    if name == "uv":
        return StackedUV(width), 2, 1
    if name == "quadratic":
        feats = QuadraticFeatures.draw(2, 2 * max(1, width // 8), eigenvalue_range=(0.5, 1.5), activation="tanh",
                                       seed=seed % 1000)
        return QuadraticModel(feats), 2, 2
    if name == "three-layer":
        return homogeneous_mlp(3, max(2, width // 4), depth=2, negative_slope=slope), 3, 3
    return homogeneous_mlp(3, width, negative_slope=slope), 2, 3


@settings(deadline=None)
@given(st.integers(0, 2**31 - 1), st.sampled_from(["uv", "quadratic", "two-layer", "three-layer"]),
       st.sampled_from([2, 16, 128]), st.sampled_from([0.0, 0.5, 0.75, 1.0]), st.integers(1, 10), st.booleans(),
       st.floats(0.1, 3.9))
def test_euler_and_norm_identity_for_every_homogeneous_family(seed, name, width, slope, n, zero_targets, c):
    """θ·∇f = k f and one GD step changes |θ|² by −(2kη/n)Σε f + η²|∇L|², to 1e-12 (catapult.md §5)."""
    model, k, d = _homogeneous_family(name, width, slope, seed)
    params = model.init([seed])
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(1, n, d, generator=g, dtype=F64) - 0.5
    y = torch.zeros(1, n, 1, dtype=F64) if zero_targets else torch.randn(1, n, 1, generator=g, dtype=F64)
    J = spectral.jacobian(model, params, x)[0]
    f = model.forward(params, x)[0, :, 0]
    terms = J * spectral.flatten_params(params)[0]
    scale = (terms.abs().sum(-1) + k * f.abs()).clamp_min(1e-300)
    assert float(((terms.sum(-1) - k * f).abs() / scale).max()) <= 1e-12
    lam = float(top_ntk_eigenvalue(model, params, x)[0])
    if lam == 0.0:  # every unit dead on every sample: nothing moves
        return
    eta = c / lam
    trainer = BatchedTrainer(model, lr=eta, steps=1, record_every=1, metrics=("loss", "weight_norm", "grad_norm"),
                             progress=False).fit(x, y, params=params)
    w0, w1 = trainer.history_["weight_norm"][:, 0]
    grad_sq = trainer.history_["grad_norm"][0, 0] ** 2
    eps = f - y[0, :, 0]
    rhs = -(2 * k * eta / n) * float((eps * f).sum()) + eta**2 * grad_sq
    assert abs((w1 - w0) - rhs) <= 1e-12 * w0


@settings(deadline=None)
@given(st.integers(0, 2**31 - 1), st.sampled_from([1, 4, 16, 128]), st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0]),
       st.integers(1, 12), st.booleans())
def test_euler_and_norm_identity_for_homogeneous_nets(seed, width, slope, n, zero_targets):
    """θ·∇f = 2f and one GD step changes |θ|² by −(4η/n)Σε f + η²|∇L|², to 1e-12 (catapult.md §5)."""
    model = homogeneous_mlp(3, width, negative_slope=slope)
    params = model.init([seed])
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(1, n, 3, generator=g, dtype=F64)
    y = torch.zeros(1, n, 1, dtype=F64) if zero_targets else torch.randn(1, n, 1, generator=g, dtype=F64)
    J = spectral.jacobian(model, params, x)[0]
    theta = spectral.flatten_params(params)[0]
    f = model.forward(params, x)[0, :, 0]
    terms = J * theta
    scale = (terms.abs().sum(-1) + 2 * f.abs()).clamp_min(1e-300)  # a sample with every unit dead has f = 0 = θ·∇f
    assert float(((terms.sum(-1) - 2 * f).abs() / scale).max()) <= 1e-12
    eta = float(torch.rand((), generator=g, dtype=F64)) * 3.0 / float(top_ntk_eigenvalue(model, params, x)[0])
    trainer = BatchedTrainer(model, lr=eta, steps=1, record_every=1, metrics=("loss", "weight_norm", "grad_norm"),
                             progress=False).fit(x, y, params=params)
    w0, w1 = trainer.history_["weight_norm"][:, 0]
    grad_sq = trainer.history_["grad_norm"][0, 0] ** 2
    eps = f - y[0, :, 0]
    rhs = -(4 * eta / n) * float((eps * f).sum()) + eta**2 * grad_sq
    assert abs((w1 - w0) - rhs) <= 1e-12 * w0
    H = ntk_matrix(model, params, x)[0]
    lam = float(torch.linalg.eigvalsh(H)[-1])
    assert abs(grad_sq - float(eps @ H @ eps) / n) <= 1e-12 * (lam * float(eps @ eps) / n + grad_sq)


# -- regressions from the API audit (U1, U2) -----------------------------------------------------------


@pytest.mark.parametrize(("call", "match"), [
    (lambda: QuadraticFeatures.draw(1, 4, seed=-1), r"seed = -1 is out of range"),
    (lambda: QuadraticFeatures.draw(1, 4, seed=1.5), r"seed = 1.5 is not an integer"),
    (lambda: QuadraticFeatures.draw(1, 4, eigenvalue_range=("a", 1.0)), r"eigenvalue_range = \('a', 1.0\)"),
    (lambda: QuadraticModel(QuadraticFeatures.draw(1, 4, seed=0)).student(1, seed=2**64),
     r"seed = 18446744073709551616"),
    (lambda: QuadraticModel(QuadraticFeatures.draw(1, 4, seed=0), zeta=float("nan")), r"zeta = nan"),
    (lambda: NeuralQuadraticModel.around_init(StackedUV(4), [-1]), r"seeds\[0\] = -1"),
    (lambda: StackedUV(4).init([0, 0.5]), r"seeds\[1\] = 0.5"),
    (lambda: homogeneous_mlp(2, 4, negative_slope=float("inf")), r"negative_slope = inf"),
])
def test_seeds_and_numbers_are_checked(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_numpy_scalars_are_numbers():
    assert homogeneous_mlp(2, 4, negative_slope=np.float32(0.5)).negative_slope == 0.5
    feats = QuadraticFeatures.draw(np.int64(1), np.int64(4), seed=np.int64(3))
    assert torch.equal(feats.W, QuadraticFeatures.draw(1, 4, seed=3).W)
    assert QuadraticModel(feats, zeta=np.float32(0.5)).zeta == 0.5
    nqm = NeuralQuadraticModel.around_init(StackedUV(4), np.array([2]))
    assert torch.equal(nqm.init([2])["u"], StackedUV(4).init([2])["u"])
