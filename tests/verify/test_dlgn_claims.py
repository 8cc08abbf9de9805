"""The dlgn.* claims: registered, passing at small sizes, with negative controls that fail.

The training claims (dlgn.accuracy, dlgn.hyperplane_attraction) are checked at the paper's n in
the slow tier; by default only their machinery runs, at a size too small to decide the claim.
"""

import math

import pytest

import relunet.verify.claims.dlgn as claims  # noqa: F401  (registers the claims)
from relunet.verify import check
from relunet.verify.claim import get_claim

IDS = ("dlgn.pathsum", "dlgn.halfspaces", "dlgn.piecewise", "dlgn.soft_to_hard", "dlgn.kernel", "dlgn.regions",
       "dlgn.accuracy", "dlgn.hyperplane_attraction")


@pytest.mark.parametrize("claim_id", IDS)
def test_registered_with_sources_and_parameters(claim_id):
    claim = get_claim(claim_id)
    info = claim.describe()
    assert info["source"] and info["statement"] and info["parameters"]
    for p in claim.params:
        p.validate(p.value_for("quick"))
        p.validate(p.value_for("full"))


def _controls_failed(verdicts):
    return all(v.control is not None and v.control["failed"] for v in verdicts)


@pytest.mark.parametrize(("claim_id", "params"), [
    ("dlgn.pathsum", {"L": [1, 2, 4], "shapes": 2, "max_paths": 2000, "points": 8}),
    ("dlgn.halfspaces", {"L": [2, 3], "models": 1}),
    ("dlgn.piecewise", {"d": [2, 3], "points": 400}),
    ("dlgn.kernel", {"L": [1, 2], "n": 20, "n_test": 5}),
])
def test_identity_claims_pass_with_failing_controls(claim_id, params):
    verdicts = check(claim_id, **params)
    assert _controls_failed(verdicts)
    for v in verdicts:
        assert v.measured <= v.tolerance and v.tolerance_reason


def test_soft_to_hard_units_and_beta_zero_aggregate():
    verdicts = check("dlgn.soft_to_hard", beta=[2.0, 300.0], models=3, points=30)
    assert len(verdicts) == 3 and verdicts[-1].kind == "aggregate"
    assert all(v.measured <= 1.0 for v in verdicts[:-1])
    agg = verdicts[-1]
    assert abs(agg.measured - 1.0) <= 0.05 and agg.ci[0] <= agg.measured <= agg.ci[1]
    # the β -> 0 bound is attained to first order by the one-neuron nets, and holds
    assert all(0.99 < agg.data["bound_ratio"][f"{vi}, one neuron"] <= 1.0 for vi in ("one", "x"))
    assert _controls_failed(verdicts)


def test_beta_zero_bound_is_checked_where_it_is_attained(monkeypatch):
    """The β -> 0 bound L β η_max S / 4 is tested on one-neuron nets, where error / bound -> 1.

    On the L = 3 nets alone error / bound is below 0.08, so a bound with a constant 2x too small passed.
    """
    import dataclasses

    right = claims.bd.beta_zero_error
    monkeypatch.setattr(claims.bd, "beta_zero_error", lambda: dataclasses.replace(right(), expr=right().expr / 2))
    wrong = get_claim("dlgn.soft_to_hard").run(beta=[2.0], models=1, points=5)
    assert wrong[-1].status == "fail" and "everywhere: False" in wrong[-1].message, wrong[-1].message


def test_clustering_criterion_needs_clustering_that_training_adds():
    """An untrained DLGN already has the depth trend (products of random matrices concentrate), so the
    trend alone cannot fail; the criterion also asks for a within-0.3 gain over init growing with depth."""
    from relunet.constructions.dlgn import StackedDLGN

    net = StackedDLGN(20, 20, depth=4)
    init = claims._layer_trend(claims._normals(net, net.init([0])))
    assert init["rho_nn"] <= -0.8 and init["rho_rank"] <= -0.8  # the depth trend, with no training at all
    assert not claims._clustering(init, init)["ok"]
    trained = {"rho_nn": -1.0, "rho_rank": -1.0, "within_0.3": [0.0, 0.0, 0.3, 0.4]}
    assert claims._clustering(init, trained)["ok"]
    early = {"rho_nn": -1.0, "rho_rank": -1.0, "within_0.3": [0.2, 0.1, 0.0, 0.0]}  # gain in early layers only
    assert not claims._clustering(init, early)["ok"]


def test_regions_counts_and_circle(tmp_path):
    claim = get_claim("dlgn.regions")
    verdicts = claim.run(figure_dir=tmp_path, m=[2, 3], resolution=200, circle_steps=30)
    assert [v.status for v in verdicts] == ["pass"] * 3, [v.message for v in verdicts]
    for v in verdicts[:-1]:
        assert v.data["cells"] == v.data["formula"]["cells"] <= v.data["affine_bound"]
        assert v.data["central_cells"] == v.data["central_bound"] == 2 * v.data["N"]
    circle = verdicts[-1].data["circle"]
    assert circle["after"]["regions"] <= circle["after"]["paths"] == 64
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "dlgn.regions.counts.png", "dlgn.regions.lines.png", "dlgn.regions.paths.png"]


SMALL_TRAINING = {"d": 15, "n": 600, "n_test": 200, "m": 6, "steps": 40, "batch": 100}


def test_accuracy_machinery_at_a_small_size():
    claim = get_claim("dlgn.accuracy")
    (verdict,) = claim.run(tabular=0, **SMALL_TRAINING)
    assert verdict.status in ("pass", "fail"), verdict.message
    acc = verdict.data["accuracy"]
    assert sorted(acc) == ["deep_linear", "dlgn", "linear", "relu", "sf"]
    assert all(0.0 <= a <= 1.0 for a in acc.values())
    assert verdict.predicted is None and "96.1" in verdict.message and verdict.control is not None


def test_attraction_machinery_at_a_small_size():
    claim = get_claim("dlgn.hyperplane_attraction")
    (verdict,) = claim.run(**SMALL_TRAINING)
    assert verdict.status in ("pass", "fail"), verdict.message
    assert len(verdict.data["init"]) == len(verdict.data["trained"]) == 15
    assert len(verdict.data["trend"]["stable_rank"]) == 4
    assert len(verdict.data["clustering"]["gain"]) == 4 and "rho_gain" in verdict.data["sf_clustering"]
    # the decoy tree (random directions) is never attracted
    assert verdict.data["decoy_ratio"] > 0.5
    assert all(0 < d <= math.sqrt(2) for d in verdict.data["init"])


@pytest.mark.slow
def test_accuracy_at_the_papers_size():
    """COB-ODT d = 20, n = 20k (SDI): DLGN >> linear models, comparable to ReLU (about 2 minutes on 2 cores)."""
    (verdict,) = check("dlgn.accuracy")
    assert verdict.data["accuracy"]["dlgn"] >= 0.85


@pytest.mark.slow
def test_hyperplane_attraction_at_the_quick_size():
    (verdict,) = check("dlgn.hyperplane_attraction")
    assert verdict.data["ratio"] <= 0.5 and verdict.data["root_most"]


def test_regions_control_is_a_count_the_cells_refute_even_without_crossings():
    import relunet.verify.claims.dlgn as dc

    # three lines in the window and no crossing: 1 + lines = 4 is right, so the bound is the wrong count
    quiet = dc._regions_control({"lines": 3, "points": 0}, naive=4, affine_bound=22, cells=4)
    assert quiet.failed and "Zaslavsky" in quiet.description
    crossing = dc._regions_control({"lines": 3, "points": 2}, naive=4, affine_bound=22, cells=6)
    assert crossing.failed and "ignoring" in crossing.description
    # seed 2*10^6, m = 2: no two lines cross in the window; the unit used to fail on its control
    check("dlgn.regions", m=[2], seed=2 * 10**6)
