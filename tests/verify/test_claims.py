"""Claims: the framework's rules, the first claims, and that the checks can fail."""

import pytest

import relunet.verify.claims.approximation as approx_claims
from relunet.bounds.core import Domain
from relunet.constructions import product_gate, yarotsky_square
from relunet.verify import Claim, Control, Outcome, Param, check, get_claim
from relunet.verify.claim import _REGISTRY, select_claims

FIRST_CLAIMS = ["approx.square.error", "approx.square.size", "approx.product.error",
                "approx.product.size", "approx.bump.integrals"]


def test_first_claims_are_registered():
    for cid in FIRST_CLAIMS:
        assert get_claim(cid).id == cid
    assert {c.id for c in select_claims(["approx.square"])} == {"approx.square.error",
                                                                 "approx.square.size"}
    with pytest.raises(ValueError, match="did you mean"):
        get_claim("approx.square.eror")


def test_check_returns_passing_verdicts_with_negative_control():
    verdicts = check("approx.square.error", m=7)
    assert [v.status for v in verdicts] == ["pass"]
    v = verdicts[0]
    assert v.measured == v.predicted == 2.0**-16
    assert v.control["failed"] is True
    assert v.environment["numpy"] and v.seed == 0


@pytest.mark.parametrize("cid, params", [
    ("approx.square.error", {"m": [2, 3, 4, 5]}),
    ("approx.square.size", {"m": [1, 2, 9]}),
    ("approx.product.size", {"m": [1, 4], "M": 2.5}),
    ("approx.product.error", {"m": [1, 2, 3], "M": 0.75}),
    ("approx.bump.integrals", {"d": [1, 3, 5], "n_mc": 20000}),
])
def test_claims_pass_and_their_controls_fail(cid, params):
    verdicts = check(cid, **params)
    assert all(v.status == "pass" for v in verdicts)
    assert all(v.control is not None and v.control["failed"] for v in verdicts)


def test_sweep_aggregate_fits_slope_minus_two():
    verdicts = check("approx.square.error", m=[3, 4, 5, 6])
    agg = [v for v in verdicts if v.kind == "aggregate"]
    assert len(agg) == 1
    assert agg[0].predicted == -2 and abs(agg[0].measured + 2) < 1e-9


def test_mutant_square_fails(monkeypatch):
    monkeypatch.setattr(approx_claims, "yarotsky_square", lambda m: yarotsky_square(max(m - 1, 0)))
    with pytest.raises(AssertionError) as info:
        check("approx.square.error", m=5)
    assert info.value.verdicts[0].status == "fail"


def test_mutant_product_gate_fails(monkeypatch):
    # A gate with coarser squares exceeds the m-step bound.
    monkeypatch.setattr(approx_claims, "product_gate",
                        lambda m, big=1: product_gate(max(m - 1, 1), big) if m > 1 else product_gate(1, big))
    with pytest.raises(AssertionError):
        check("approx.product.error", m=3)


def test_wrong_size_formula_fails(monkeypatch):
    import sympy as sp

    from relunet.bounds import approximation as ab

    real = ab.square_size

    def wrong():
        sizes = real()
        m = sizes["nonzero"].sym("m")
        sizes["nonzero"] = ab.Bound("approx.square.nonzero", 15 * m - 6, "size", "nonzero",
                                    "wrong", ("m",), {"m": Domain(lower=1, integer=True)})
        return sizes

    monkeypatch.setattr(ab, "square_size", wrong)
    with pytest.raises(AssertionError):
        check("approx.square.size", m=3)
    assert sp.Integer(1)  # sympy imported for the Bound above


def test_bad_parameters_name_the_parameter():
    claim = get_claim("approx.square.error")
    with pytest.raises(ValueError, match="m = 99"):
        claim.resolve("quick", {"m": 99})
    with pytest.raises(ValueError, match="m = 2.5"):
        claim.resolve("quick", {"m": "2.5"})
    with pytest.raises(ValueError, match="'zeta' is not a parameter"):
        claim.resolve("quick", {"zeta": 1})
    with pytest.raises(ValueError, match="profile"):
        claim.resolve("paper")
    assert claim.resolve("quick", {"m": "3..5"}) == {"m": [3, 4, 5]}
    assert claim.resolve("quick", {"m": "2,7"}) == {"m": [2, 7]}
    assert len(claim.units(claim.resolve("full"))) == 20


@pytest.fixture
def toy_claims(monkeypatch):
    monkeypatch.setattr("relunet.verify.claim._REGISTRY", dict(_REGISTRY))

    def make(cid, unit):
        from relunet.verify import register

        return register(Claim(cid, "test", "toy", [Param("k", 1, Domain(lower=0, integer=True))],
                              unit))

    return make


def test_framework_rules(toy_claims):
    def no_control(p, ctx):
        return Outcome("pass", 1, 1)

    def control_passes(p, ctx):
        return Outcome("pass", 1, 1, control=Control("must fail", failed=False))

    def raises(p, ctx):
        raise RuntimeError("boom")

    def fails(p, ctx):
        return Outcome("fail", 1, 2, control=Control("c", failed=True))

    assert toy_claims("toy.nocontrol", no_control).run()[0].status == "error"
    v = toy_claims("toy.control", control_passes).run()[0]
    assert v.status == "fail" and "negative control passed" in v.message
    v = toy_claims("toy.raises", raises).run()[0]
    assert v.status == "error" and "RuntimeError: boom" in v.message
    toy_claims("toy.fails", fails)
    with pytest.raises(AssertionError) as info:
        check("toy.fails")
    assert info.value.verdicts[0].measured == 2


def test_units_with_the_same_canonical_parameters_run_once():
    """A claim that rounds k to even values measures 2, 4 and 6 once each, under the rounded k."""
    seen = []

    def unit(p, ctx):
        seen.append(p["k"])
        return Outcome("pass", p["k"], p["k"], control=Control("c", failed=True))

    claim = Claim("toy.canonical", "test", "toy", [Param("k", [1, 2, 3, 4, 5, 6], Domain(lower=0, integer=True),
                                                         sweep=True)],
                  unit, canonical=lambda p: {**p, "k": 2 * ((p["k"] + 1) // 2)})
    assert [u["k"] for u in claim.units(claim.resolve())] == [2, 4, 6]
    assert [v.params["k"] for v in claim.run()] == [2, 4, 6] and seen == [2, 4, 6]
    assert len(get_claim("erm.deepening.rate").units(get_claim("erm.deepening.rate").resolve("full"))) == 19
