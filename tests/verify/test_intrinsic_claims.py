"""The geometry.* and intrinsic.* claims, run at small sizes (the quick profile runs from the CLI)."""

import pytest

import relunet.verify.claims.intrinsic  # noqa: F401  (registers intrinsic.* and geometry.*)
from relunet.verify import check
from relunet.verify.claim import get_claim, select_claims

IDS = ["intrinsic.footpoint.contraction", "intrinsic.approx.smooth",
       "geometry.projection", "geometry.lipschitz", "geometry.localisation", "geometry.invariance",
       "geometry.reach", "geometry.covering", "intrinsic.approx.rate", "intrinsic.approx.ambient",
       "intrinsic.tube.q", "intrinsic.erm.rate", "intrinsic.train_on_manifold", "intrinsic.dimension"]


def test_all_claims_are_registered_with_sources():
    found = {c.id for c in select_claims(["intrinsic", "geometry"])}
    assert found == set(IDS)
    for claim_id in IDS:
        claim = get_claim(claim_id)
        assert claim.source and claim.statement


@pytest.mark.parametrize("claim_id", ["geometry.projection", "geometry.lipschitz", "geometry.localisation",
                                      "geometry.invariance"])
def test_geometry_claims_pass(claim_id):
    check(claim_id, draws=10, points=60)


def test_reach_and_covering_claims_pass():
    check("geometry.reach", draws=10, reach_draws=5, reach_points=300)
    check("geometry.covering", manifold=[0], eta_min=0.1)


def test_approximation_rate_passes_on_the_circle():
    verdicts = check("intrinsic.approx.rate", manifold=[0], level=[0, 1, 2], n_tube=400, ascent_steps=10)
    agg = verdicts[-1]
    assert agg.kind == "aggregate" and agg.measured == pytest.approx(-1.0, abs=0.15)
    assert agg.data["grid_slope"] > -0.5  # the 3-variate contrast is far from -1


def test_tube_q_claim_and_its_medial_axis_control():
    verdicts = check("intrinsic.tube.q", q=[0.0, 0.9], centres=32, n_tube=400, ascent_steps=10)
    agg = verdicts[-1]
    assert agg.control["failed"] and agg.data["control_error"] >= 0.5  # osc(g)/2 near the centre


def test_ambient_claim_reports_equal_errors_across_d():
    verdicts = get_claim("intrinsic.approx.ambient").run(D=[10, 100], n_tube=400, ascent_steps=10)
    assert all(v.status == "pass" for v in verdicts[:-1])
    agg = verdicts[-1]
    assert agg.status == "pass"
    assert abs(agg.data["slopes"][0] - agg.data["slopes"][1]) <= 0.05
    assert agg.data["ratio"] <= 1.2 and max(agg.data["size_exponent"]) <= 1.05


def test_training_claims_run_end_to_end():
    """Tiny sizes: the pipeline runs and reports numbers; the verdicts need the quick profile's sizes."""
    erm = get_claim("intrinsic.erm.rate").run(D=[3], log2_n_min=7, log2_n_max=9, n_test=500, epochs=2,
                                              min_steps=30, replicates=2, max_krr=512)
    assert [v.status for v in erm] != ["error"] and all(v.status != "error" for v in erm)
    assert len(erm[0].data["risk"]) == 3 and len(erm[0].data["krr"]) == 3
    assert erm[0].data["steps"] == [30, 30, 30] and len(erm[0].data["decay"][0]) == 2
    manifold = get_claim("intrinsic.train_on_manifold").run(n=256, n_test=300, steps=60)
    assert manifold[0].status != "error" and len(manifold[0].data["risk_tube"]) == 3
    dim = get_claim("intrinsic.dimension").run(n_points=500, n_train=256, steps=60, D_net=50)
    assert dim[0].status != "error" and dim[0].data["clean_id"] == pytest.approx(1.0, abs=0.3)


@pytest.mark.slow
def test_quick_profile_of_the_explicit_claims():
    for claim_id in ("intrinsic.approx.rate", "intrinsic.tube.q"):
        check(claim_id)
    for claim_id in ("geometry.projection", "geometry.reach", "geometry.covering"):
        check(claim_id)


@pytest.mark.slow
def test_full_profile_of_the_approximation_rate():
    check("intrinsic.approx.rate", profile="full")


def test_foot_point_claims_pass_at_small_sizes():
    check("intrinsic.footpoint.contraction", manifold=[0], q=[0.25, 0.75], points=100)
    verdicts = check("intrinsic.approx.smooth", manifold=[0], pieces=[4, 8, 16], n_tube=300, ascent_steps=5)
    agg = verdicts[-1]
    assert agg.measured == pytest.approx(-2.0, abs=0.15) and agg.control["failed"]
