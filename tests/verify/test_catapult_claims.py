"""Catapult claims: registered, pass at small sizes with failing negative controls, and can fail.

References: catapult.md §12 (classification), §13 (checks), and the claims of relunet.verify.claims.catapult.
"""

import numpy as np
import pytest
import torch

import relunet.verify.claims.catapult as cc
from relunet.constructions.catapult import PhaseRules, SweepResult
from relunet.verify import check, get_claim

CLAIMS = ["catapult.identity.euler", "catapult.identity.norm", "catapult.uv.recurrence", "catapult.phases.uv",
          "catapult.phases.quadratic", "catapult.phases.quadratic_linear", "catapult.phases.leaky",
          "catapult.phases.relu", "catapult.final_sharpness", "catapult.width_scaling", "catapult.relu.sparsity",
          "catapult.eos"]


def test_claims_are_registered_with_sources_and_profiles():
    for cid in CLAIMS:
        claim = get_claim(cid)
        assert claim.source and claim.statement
        quick, full = claim.resolve("quick"), claim.resolve("full")
        assert set(quick) == set(full)


def _passed(verdicts):
    for v in verdicts:
        assert v.status == "pass", v.summary()
        assert v.control is not None and v.control["failed"] is True, v.summary()
    return verdicts


@pytest.mark.parametrize("cid, params", [
    ("catapult.identity.euler", {"width": [8, 64], "draws": 2}),
    ("catapult.identity.norm", {"width": [8], "steps": 6}),
    ("catapult.uv.recurrence", {"width": [100, 3000], "steps": 30}),
    ("catapult.phases.quadratic_linear", {"setting": [0], "steps": 300}),
    ("catapult.phases.leaky", {"slope": [0.5], "width": 256, "steps": 300}),
    ("catapult.width_scaling", {"width": [100, 1000, 10000], "seeds": 6, "steps": 100}),
    ("catapult.eos", {"eta": [0.1], "samples": 128, "width": 32, "steps": 120, "every": 40}),
])
def test_claims_pass_at_small_sizes(cid, params):
    verdicts = _passed(check(cid, **params))
    assert all(v.measured is not None for v in verdicts)


def test_uv_phases_and_final_sharpness_share_a_sweep():
    """At width 1000 the uv edge is still at 4: 3.95 converges and 4.05 diverges (catapult.md §13)."""
    v = _passed(check("catapult.phases.uv", width=1000, seeds=2, steps=300))[0]
    labels = dict(zip(zip(v.data["c"], v.data["seeds"]), v.data["labels"]))
    assert labels[(4.05, 0)] == labels[(4.05, 1)] == "divergent"
    assert labels[(3.0, 0)] == "catapult" and labels[(0.5, 1)] == "lazy"
    assert v.measured == 3.95 and v.predicted == 4.0


def test_relu_digits_sparsity_rises_and_phases_label_every_run():
    sparse = _passed(check("catapult.relu.sparsity", width=64, steps=120))[0]
    assert sparse.measured > 0.8 and abs(sparse.data["sparsity_c1"] - 0.5) < 0.15
    relu = _passed(check("catapult.phases.relu", data=[1], width=64, steps=120))[0]
    assert set(relu.data["labels"]) <= {"lazy", "catapult", "divergent", "collapsed", "ambiguous"}
    assert relu.data["c"] == sparse.data["c"]  # the same cached sweep


def test_final_sharpness_for_the_nqm_family():
    v = _passed(check("catapult.final_sharpness", family=[5], nqm_width=32, nqm_steps=150))[0]
    assert v.measured < 2 and v.data["family"] == "NQM"
    # the NQM runs at the width asked for, not at the profile's default (a bug once dropped the override)
    wider = check("catapult.final_sharpness", family=[5], nqm_width=48, nqm_steps=150)[0]
    assert wider.data["eta_lam_final"] != v.data["eta_lam_final"]


def test_euler_residual_detects_biases():
    model, params = cc._biased_params(16, [0, 1])
    x = torch.randn(2, 5, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert cc.euler_residual(model, params, x, 2).max() > 1e-3
    zero = {k: (torch.zeros_like(v) if k.startswith("b") else v) for k, v in params.items()}
    assert cc.euler_residual(model, zero, x, 2).max() < 1e-12  # zero biases keep the identity


def test_euler_residual_in_chunks_equals_one_pass(monkeypatch):
    model, params = cc._biased_params(16, [0, 1])
    x = torch.randn(2, 7, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    whole = cc.euler_residual(model, params, x, 2)
    monkeypatch.setattr(cc, "JACOBIAN_CHUNK", 1)  # one sample at a time
    assert np.array_equal(cc.euler_residual(model, params, x, 2), whole)


def test_norm_identity_check_detects_a_wrong_degree():
    model = cc.homogeneous_mlp(3, 16, depth=2, negative_slope=0.5)  # 3-homogeneous
    x = torch.randn(6, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    y = torch.zeros(6, 1, dtype=torch.float64)
    good = cc.norm_identity_check(model, x, y, [0.5, 2.5], k=3, steps=5, seeds=0)
    wrong = cc.norm_identity_check(model, x, y, [0.5, 2.5], k=2, steps=5, seeds=0)
    assert good.identity < 1e-12 < wrong.identity


def test_uv_recurrence_residuals_detect_a_wrong_recurrence():
    model = cc.StackedUV(200)
    x3 = torch.ones(3, 1, 1, dtype=torch.float64)
    res = cc.run_c_sweep(model, [[1.0]], [0.0], [1.5, 3.0, 3.5], seeds=0, steps=25, lam_dense=25,
                         observe=cc._uv_observe(model, x3))
    rf, rl = cc.uv_recurrence_residuals(res, 200, 1.0, 0.0)
    assert np.nanmax(rf) < 1e-12 and np.nanmax(rl) < 1e-12
    wrong_m, _ = cc.uv_recurrence_residuals(res, 100, 1.0, 0.0)  # the width off by 2
    assert np.nanmax(wrong_m) > 1e-6


def test_uv_recurrence_claim_tests_the_packaged_recurrence(monkeypatch):
    """The claim checks relunet.bounds.catapult.uv_recurrence itself (not a private copy): a wrong
    coefficient there (-3 f_t in place of -4 f_t in the λ step) must fail it."""
    import relunet.bounds.catapult as cbm

    model = cc.StackedUV(200)
    res = cc.run_c_sweep(model, [[1.0]], [0.0], [1.5, 3.0], seeds=0, steps=10, lam_dense=10,
                         observe=cc._uv_observe(model, torch.ones(2, 1, 1, dtype=torch.float64)))
    right = cbm.uv_recurrence()
    s = cbm.UV_SYMBOLS
    wrong = {"f": right["f"], "lam": right["lam"] + s["eta"] * (s["f"] - s["y"]) * s["x"] ** 2 * s["f"] / s["m"]}
    monkeypatch.setattr(cbm, "uv_recurrence", lambda: wrong)
    cbm._uv_step_functions.cache_clear()
    try:
        _, rl = cc.uv_recurrence_residuals(res, 200, 1.0, 0.0)
    finally:
        cbm._uv_step_functions.cache_clear()
    assert np.nanmax(rl) > 1e-6


def _fake_run(labels, c, upper, hard=True, c_max=None):
    k = len(c)
    res = SweepResult(c=np.array(c), lam0=np.ones(k), eta=np.array(c), seeds=[0] * k, steps=np.arange(3),
                      loss=np.tile([[1.0], [5.0], [1e-12]], (1, k)), weight_norm=np.tile([[1.0], [0.8], [0.5]], (1, k)),
                      lam_steps=np.array([0, 2]), lam=np.vstack([np.ones(k), 0.5 * np.ones(k)]),
                      diverged=np.array([lab == "divergent" for lab in labels]), diverged_step=np.full(k, -1),
                      params0={}, params={}, width=100.0, cap=1e5, seconds=0.0)
    fam = cc.Family("fake", None, None, None, c, [0] * k, 2, PhaseRules(), c_max, hard, "")
    return cc.PhaseRun(fam, res, [(lab, "") for lab in labels], np.full(k, upper))


def test_phase_expectations_flag_wrong_labels():
    ok = _fake_run(["lazy", "catapult", "divergent"], [1.0, 3.0, 4.5], upper=4.0, c_max=4.0)
    assert cc._phase_expectations(ok)[0] == []
    bad = _fake_run(["ambiguous", "lazy", "catapult"], [1.0, 3.0, 4.5], upper=4.0, c_max=4.0)
    violations, checked = cc._phase_expectations(bad)
    assert checked == 3 and len(violations) == 3


@pytest.mark.slow
@pytest.mark.parametrize("cid", CLAIMS)
def test_full_profile(cid, request):
    """Paper-sized runs (long on CPU; GPU when present): only with ``-m slow``."""
    if "slow" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("paper-sized run: select it with -m slow")
    _passed(check(cid, profile="full", device="auto"))


def test_norm_identity_is_judged_at_the_rounding_scale_of_a_catapult_step():
    # seed 10^6: the three-layer net at c = 3.5 multiplies |θ|² by about 6000 in one step (505 to 3.0e6).
    # Relative to |θ_t|² alone the rounding of |θ_t+1|² read as 1.8e-12 and failed a true identity.
    fams = {name: (model, k, x) for name, model, k, x in cc._identity_families(8, 10**6)}
    model, k, x = fams["three-layer a=0.5"]
    y = torch.randn(8, 1, generator=torch.Generator().manual_seed(10**6 + 1), dtype=torch.float64)
    norms = cc.run_c_sweep(model, x, y, [3.5], seeds=10**6, steps=8, lam_dense=8).weight_norm[:, 0]
    assert (norms[1:] / norms[:-1]).max() > 1000
    assert cc.norm_identity_check(model, x, y, [3.5], k=k, steps=8, seeds=10**6).identity <= 1e-14
