"""c-sweeps and run classification: chunked training is exact, λ0 is measured per model, the rules of §12.

References: catapult.md §10 (protocol), §12 (classifying a run).
"""

import numpy as np
import pytest
import torch

from relunet.constructions import spectral
from relunet.constructions.catapult import PhaseRules, classify_run, classify_sweep, lam_schedule, run_c_sweep
from relunet.constructions.catapult_data import random_low_dim
from relunet.constructions.catapult_models import StackedUV, homogeneous_mlp, top_ntk_eigenvalue
from relunet.constructions.training import BatchedTrainer


def test_lam_schedule():
    assert lam_schedule(5, dense=10, every=3) == [0, 1, 2, 3, 4, 5]
    assert lam_schedule(20, dense=2, every=7) == [0, 1, 2, 9, 16, 20]
    assert lam_schedule(0) == [0]
    with pytest.raises(ValueError, match="every = 0"):
        lam_schedule(10, every=0)


def test_chunked_sweep_equals_one_trainer_run_and_measures_lambda_per_model():
    model = homogeneous_mlp(3, 16, negative_slope=0.5)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(10, 3, generator=g, dtype=torch.float64)
    y = torch.randn(10, 1, generator=g, dtype=torch.float64)
    cs, seeds = [0.5, 1.5, 2.5, 3.5], [0, 1, 0, 1]
    res = run_c_sweep(model, x, y, cs, seeds=seeds, steps=30, lam_dense=4, lam_every=7)
    params0 = model.init(seeds)
    xk = x.expand(4, 10, 3).contiguous()
    lam0 = spectral.top_ntk_eigenvalues(model, params0, xk)[:, 0]
    np.testing.assert_allclose(res.lam0, lam0.numpy(), rtol=1e-12)
    np.testing.assert_allclose(res.eta, np.array(cs) / lam0.numpy(), rtol=1e-12)
    whole = BatchedTrainer(model, lr=torch.as_tensor(res.eta), steps=30, record_every=1, progress=False,
                           divergence_cap=res.cap).fit(xk, y.expand(4, 10, 1), params=params0)
    np.testing.assert_allclose(res.loss, whole.history_["loss"], rtol=1e-13, atol=0)
    np.testing.assert_allclose(res.weight_norm, whole.history_["weight_norm"], rtol=1e-13)
    assert res.lam_steps.tolist() == [0, 1, 2, 3, 4, 11, 18, 25, 30]
    lam_t = top_ntk_eigenvalue(model, whole.params_, xk).numpy()
    np.testing.assert_allclose(res.lam_final, lam_t, rtol=1e-11)
    assert res.sparsity.shape == (4, 1)


def test_lambda0_is_measured_on_given_weights_even_with_one_seed():
    """params0 that differ between models share one seed: each c must still use its own λ0 (§11)."""
    uv = StackedUV(50)
    params0 = uv.init([0, 1, 0])
    res = run_c_sweep(uv, [[1.0]], [0.0], [1.0, 1.0, 1.0], seeds=0, steps=1, params0=params0)
    lam0 = top_ntk_eigenvalue(uv, params0, torch.ones(3, 1, 1, dtype=torch.float64)).numpy()
    assert lam0[0] != lam0[1]
    np.testing.assert_allclose(res.lam0, lam0, rtol=1e-14)
    np.testing.assert_allclose(res.eta * lam0, [1.0, 1.0, 1.0], rtol=1e-14)


def test_divergent_models_are_frozen_without_disturbing_the_others():
    res = run_c_sweep(StackedUV(500), [[1.0]], [0.0], c=[1.0, 6.0, 3.0], seeds=2, steps=120)
    assert res.diverged.tolist() == [False, True, False]
    step = res.diverged_step[1]
    assert step > 0 and res.loss[step, 1] > res.cap and np.all(res.loss[step:, 1] == res.loss[step, 1])
    alone = run_c_sweep(StackedUV(500), [[1.0]], [0.0], c=[1.0, 3.0], seeds=2, steps=120)
    np.testing.assert_array_equal(res.loss[:, [0, 2]], alone.loss)
    assert res.cap == pytest.approx(1e3 * max(res.loss[0, 0], 1.0) * 500)


def test_sweep_rejects_bad_input():
    uv = StackedUV(10)
    with pytest.raises(ValueError, match="c = "):
        run_c_sweep(uv, [[1.0]], [0.0], c=[1.0, -1.0], steps=2)
    with pytest.raises(ValueError, match="seeds has 3 entries"):
        run_c_sweep(uv, [[1.0]], [0.0], c=[1.0, 2.0], seeds=[0, 1, 2], steps=2)
    with pytest.raises(ValueError, match="x has shape"):
        run_c_sweep(uv, [[1.0, 2.0]], [0.0], c=[1.0], steps=2)


def _loss(*values):
    return np.array(values, dtype=float)


def test_classification_rules_in_order():
    norms = np.full(5, 10.0)
    lazy = classify_run(0.5, _loss(1, 0.3, 0.1, 1e-4, 1e-8), 2.0, 2.0, 0.25, norms, 1e4)
    assert lazy[0] == "lazy"
    catapult = classify_run(3.0, _loss(1, 5, 50, 1e-3, 1e-9), 2.0, 0.3, 1.5, norms * [1, 1, 0.5, 0.3, 0.3], 1e4)
    assert catapult[0] == "catapult" and "t* = 2" in catapult[1]
    assert classify_run(4.5, _loss(1, 10, 1e9), 2.0, 5.0, 2.25, norms, 1e4)[0] == "divergent"  # L > 1e3 m
    assert classify_run(4.5, _loss(1, 2, 3), 2.0, 5.0, 2.25, norms * [1, 1e4, 1e7, 1, 1][:5], 1e4)[0] == "divergent"
    assert classify_run(4.5, _loss(1, 2, 3), 2.0, 5.0, 2.25, norms, 1e4, diverged=True)[0] == "divergent"
    assert classify_run(4.5, _loss(1, 2, np.inf), 2.0, 5.0, 2.25, norms, 1e4)[0] == "divergent"
    collapsed = classify_run(16.0, _loss(1, 9, 2, 1.0, 1.0), 1.0, 0.0, 16.0, norms, 1e3, sparsity=1.0)
    assert collapsed[0] == "collapsed"
    assert classify_run(16.0, _loss(1, 9, 2, 1.0, 1.0), 1.0, 0.0, 16.0, norms, 1e3, sparsity=0.7)[0] == "ambiguous"
    assert classify_run(2.05, _loss(1, 0.5, 1e-9), 2.0, 2.0, 1.0, norms, 1e4)[0] == "ambiguous"
    assert classify_run(3.95, _loss(1, 9, 1e-9), 2.0, 0.5, 2.0, norms, 1e4, c_max=4.0)[0] == "ambiguous"
    assert classify_run(2.1, _loss(1, 9, 1e-9), 2.0, 0.5, 1.05, norms, 1e4)[0] == "ambiguous"  # the band is closed
    # a spike that ends at eta lambda >= 2, or with lambda_T >= lambda_0, is not a catapult
    assert classify_run(3.0, _loss(1, 5, 1e-9), 2.0, 1.5, 1.5, norms, 1e4)[0] == "ambiguous"
    assert classify_run(3.0, _loss(1, 5, 1e-9), 2.0, 2.5, 1.5, norms, 1e4, rules=PhaseRules())[0] == "ambiguous"
    # a lazy run must keep its NTK: drift above 3/sqrt(m) is not lazy
    assert classify_run(0.5, _loss(1, 0.1, 1e-8), 2.0, 2.2, 0.25, norms, 1e4)[0] == "ambiguous"
    assert classify_run(0.5, _loss(1, 0.1, 1e-8), 2.0, 2.2, 0.25, norms, 1e4,
                        rules=PhaseRules(lazy_drift=0.2))[0] == "lazy"


def test_classify_sweep_on_the_uv_phases():
    res = run_c_sweep(StackedUV(2000), [[1.0]], [0.0], c=[0.5, 1.5, 2.5, 3.0, 3.5, 4.5, 6.0], seeds=3, steps=300)
    labels = [lab for lab, _ in classify_sweep(res, c_max=4.0)]
    assert labels == ["lazy", "lazy", "catapult", "catapult", "catapult", "divergent", "divergent"]
    assert np.all(res.eta_lam_final[2:5] < 2) and np.all(res.norm_ratio[2:5] < 1)
    assert np.all(res.peak_step[2:5] > 0) and np.all(res.max_loss[2:5] > 10 * res.loss[0, 2:5])


@pytest.mark.gpu
def test_sweep_on_cuda_equals_cpu():
    model = homogeneous_mlp(4, 64)
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(16, 4, generator=g, dtype=torch.float64), torch.randn(16, 1, generator=g, dtype=torch.float64)
    cs = [0.5, 2.5, 3.5, 6.0]
    cpu = run_c_sweep(model, x, y, cs, seeds=1, steps=60)
    gpu = run_c_sweep(model, x, y, cs, seeds=1, steps=60, device="cuda")
    np.testing.assert_allclose(gpu.lam0, cpu.lam0, rtol=1e-10)
    keep = ~cpu.diverged
    np.testing.assert_allclose(gpu.loss[:, keep], cpu.loss[:, keep], rtol=1e-8, atol=1e-12)
    assert gpu.diverged.tolist() == cpu.diverged.tolist()


# -- regressions from the API audit (C4, U1, U2) -------------------------------------------------------


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"steps": 0}, r"steps = 0 is out of range: steps must be an integer >= 1"),
    ({"steps": 2.5}, r"steps = 2.5"),
    ({"seeds": -1}, r"seeds = -1 is out of range"),
    ({"seeds": 1.5}, r"seeds = 1.5 is not an integer"),
    ({"seeds": [0, 1.5]}, r"seeds\[1\] = 1.5"),
    ({"seeds": [0, 2**64]}, r"seeds\[1\] = 18446744073709551616"),
    ({"width": "a"}, r"width = 'a'"),
    ({"divergence_factor": 0}, r"divergence_factor = 0"),
    ({"tol": float("nan")}, r"tol = nan"),
    ({"time_budget": -1}, r"time_budget = -1"),
    ({"c": ["a", 1.0]}, r"c = "),
])
def test_sweep_arguments_are_checked_before_training(kwargs, match):
    x, y = random_low_dim(8, 2, seed=0)
    args = {"c": [0.5, 1.0], "steps": 3, **kwargs}
    with pytest.raises(ValueError, match=match):
        run_c_sweep(homogeneous_mlp(2, 8), x, y, **args)


def test_sweep_takes_numpy_scalars():
    x, y = random_low_dim(8, 2, seed=0)
    plain = run_c_sweep(homogeneous_mlp(2, 8), x, y, c=[0.5], seeds=3, steps=4, lam_dense=2, lam_every=1)
    numpy = run_c_sweep(homogeneous_mlp(2, 8), x, y, c=np.array([0.5]), seeds=np.int64(3), steps=np.int64(4),
                        lam_dense=np.int64(2), lam_every=1.0)
    np.testing.assert_array_equal(plain.loss, numpy.loss)
    assert numpy.seeds == [3] and plain.lam_steps.tolist() == numpy.lam_steps.tolist() == [0, 1, 2, 3, 4]
