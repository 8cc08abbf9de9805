"""Claims: the framework's rules, the first claims, and that the checks can fail."""

import math
from pathlib import Path

import numpy as np
import pytest

import relunet.verify.claims.approximation as approx_claims
from relunet.bounds.core import Domain
from relunet.constructions import product_gate, yarotsky_square
from relunet.verify import Claim, Control, Outcome, Param, Verdict, check, get_claim
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


def test_loose_product_bound_fails(monkeypatch):
    """The bound M^2 2^(-2m) is attained (at x = y = M/2^m): a bound twice as large must fail the claim."""
    from relunet.bounds import approximation as ab

    real = ab.product_gate_error

    def doubled():
        b = real()
        return ab.Bound(b.name, 2 * b.expr, b.kind, b.quantity, b.source, b.variables, b.conditions)

    monkeypatch.setattr(ab, "product_gate_error", doubled)
    with pytest.raises(AssertionError) as info:
        check("approx.product.error", m=2, M=0.75)
    assert info.value.verdicts[0].status == "fail"


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


CTL = Control("c", failed=True)
D1 = Domain(lower=0, integer=True)


def _toy(cid, unit, aggregate=None, params=None, **kw):
    return Claim(cid, "test", "toy", params if params is not None else [Param("k", 1, D1)], unit, aggregate, **kw)


@pytest.mark.parametrize("returned, field", [
    ({"status": "pass"}, "dict"),
    (None, "NoneType"),
    (("pass", 1.0), "tuple"),
    (Outcome("pass", "abc", 1.0, control=CTL), "predicted"),
    (Outcome("pass", 1.0, np.array([1, 2]), control=CTL), "measured"),
    (Outcome("pass", 1.0, 1.0, control=CTL, ci=0.5), "ci"),
    (Outcome("pass", 1.0, 1.0, control=CTL, ci=(1.0,)), "ci"),
    (Outcome("pass", 1.0, 1.0, control={"failed": True}), "control"),
    (Outcome("pass", 1.0, 1.0, control=CTL, figures=Path("x.png")), "figures"),
    (Outcome("pass", 1.0, 1.0, control=CTL, figures="x.png"), "figures"),
    (Outcome("pass", 1.0, 1.0, control=CTL, data={"x": object()}), "data"),
    (Outcome("pass", 1.0, 1.0, control=CTL, data=[1]), "data"),
])
def test_malformed_unit_outcome_is_an_error_verdict(returned, field):
    for claim in (_toy("toy.bad", lambda p, c: returned),
                  _toy("toy.badagg", lambda p, c: Outcome("pass", 1, 1, control=CTL), lambda v, u, c: returned)):
        v = claim.run()[-1]
        if returned is None and claim.aggregate is not None:
            assert v.kind == "unit"  # an aggregate may return None: too few units
            continue
        assert v.status == "error" and claim.id in v.message and field in v.message
        Verdict.from_json(v.to_json()).summary()


def test_wellformed_numpy_outcome_is_converted():
    out = Outcome("pass", np.float64(1.0), np.array(1.0), ci=np.array([0.5, 1.5]), control=CTL,
                  data={"x": np.arange(3), "y": (np.int64(2), math.inf)}, figures=(Path("a.png"),))
    v = _toy("toy.np", lambda p, c: out).run()[0]
    assert v.status == "pass" and v.measured == 1.0 and v.ci == (0.5, 1.5) and v.figures == ["a.png"]
    assert v.data == {"x": [0, 1, 2], "y": [2, math.inf]} and type(v.data["y"][0]) is int


def test_control_failed_must_be_a_bool():
    with pytest.raises(TypeError, match="failed = 'False'"):
        Control("c", "False")
    assert Control("c", np.bool_(True)).failed is True
    ctl = Control("c", True)
    ctl.failed = "False"  # set after construction: still refused where the verdict is built
    v = _toy("toy.ctlstr", lambda p, c: Outcome("pass", 1, 1, control=ctl)).run()[0]
    assert v.status == "error" and "control" in v.message
    v = _toy("toy.ctlstr2", lambda p, c: Outcome("pass", 1, 1, control=Control("c", "False"))).run()[0]
    assert v.status == "error" and "TypeError" in v.message


def test_register_checks_ids_and_duplicates(monkeypatch):
    from relunet.verify import claim as claim_module
    from relunet.verify import register

    monkeypatch.setattr(claim_module, "_REGISTRY", dict(_REGISTRY))
    unit = lambda p, c: Outcome("pass", 1, 1, control=CTL)  # noqa: E731
    for bad in ("", "a..b", "a b", "a|b", "<a>", "a\nb", ".a"):
        with pytest.raises(ValueError, match="claim id"):
            register(_toy(bad, unit))
    with pytest.raises(ValueError, match="claim id"):
        register(_toy(123, unit))
    with pytest.raises(TypeError, match="register a Claim"):
        register("approx.x")
    with pytest.raises(ValueError, match="already registered.*replace=True"):
        register(_toy("approx.square.error", unit))
    assert get_claim("approx.square.size").id == "approx.square.size"
    assert get_claim("approx.square.error").source != "test"
    mine = _toy("toy.mine", unit)
    assert register(mine) is mine and register(mine) is mine
    with pytest.raises(ValueError, match="importlib.reload"):
        register(_toy("toy.mine", unit))
    again = register(_toy("toy.mine", unit), replace=True)
    assert get_claim("toy.mine") is again


def test_register_loads_builtins_first(monkeypatch):
    """A user id clashing with a built-in is refused on the user's call, and the registry stays usable."""
    from relunet.verify import claim as claim_module
    from relunet.verify import register

    monkeypatch.setattr(claim_module, "_REGISTRY", {})
    monkeypatch.setattr(claim_module, "_LOADED", False)
    import sys

    import relunet.verify

    for name in [m for m in sys.modules if m.startswith("relunet.verify.claims")]:
        monkeypatch.delitem(sys.modules, name)  # restored after the test
    monkeypatch.delattr(relunet.verify, "claims", raising=False)
    with pytest.raises(ValueError, match="already registered"):
        register(_toy("approx.square.error", lambda p, c: None))
    assert get_claim("approx.square.size").id == "approx.square.size"
    assert len(claim_module.all_claims()) > 5


@pytest.mark.parametrize("params, match", [
    ({"n": 1}, "params"),
    ([Param("n", 1, D1), Param("n", 5, D1)], "twice"),
    ([Param("n", 1, D1), "m"], "params"),
])
def test_claim_declarations_are_checked(params, match):
    with pytest.raises((TypeError, ValueError), match=match):
        _toy("toy.decl", lambda p, c: None, params=params)


@pytest.mark.parametrize("make, match", [
    (lambda: Param("seed", 1, D1), "reserved"),
    (lambda: Param("profile", 1, D1), "reserved"),
    (lambda: Param("device", 1, D1), "reserved"),
    (lambda: Param("n", 1, D1, kind="str"), "kind = 'str'"),
    (lambda: Param("n", 0, Domain(lower=1, integer=True)), "default"),
    (lambda: Param("n", [1, 0], Domain(lower=1, integer=True), sweep=True), "default"),
    (lambda: Param("n", [1, 2], D1), "sweep=True"),
    (lambda: Param("n", 1, D1, full=-1), "full"),
    (lambda: Param("x", 0.5, Domain(lower=0)), "kind='float'"),
])
def test_param_declarations_are_checked(make, match):
    with pytest.raises((TypeError, ValueError), match=match):
        make()


def test_int_param_refuses_non_integer_values():
    p = Param("x", 1, Domain(lower=0))
    with pytest.raises(ValueError, match=r"x = 0\.75.*kind='float'"):
        p.validate(0.75)
    with pytest.raises(ValueError, match=r"x = 0\.75.*kind='float'"):
        p.parse("0.75")
    assert p.validate(2.0) == 2 and type(p.validate(2.0)) is int and p.parse("2") == 2
    assert Param("x", 0.5, Domain(lower=0), kind="float").validate(0.75) == 0.75


def test_canonical_errors_name_the_claim():
    unit = lambda p, c: Outcome("pass", 1, 1, control=CTL)  # noqa: E731
    with pytest.raises(ValueError, match="toy.canon0.*ZeroDivisionError"):
        _toy("toy.canon0", unit, canonical=lambda p: 1 / 0).run()
    with pytest.raises(TypeError, match="toy.canonnone.*dict"):
        _toy("toy.canonnone", unit, canonical=lambda p: None).run()
    with pytest.raises(ValueError, match=r"toy.canonneg.*outside the declared domain.*k = -1"):
        _toy("toy.canonneg", unit, canonical=lambda p: {**p, "k": -1}).run()
    with pytest.raises(ValueError, match=r"toy.canonextra.*added \['j'\]"):
        _toy("toy.canonextra", unit, canonical=lambda p: {**p, "j": 1}).run()
    with pytest.raises(ValueError, match=r"toy.canonlist.*one value"):
        _toy("toy.canonlist", unit, canonical=lambda p: {**p, "k": [1, 2]}).run()


def test_sweep_verdict_reports_the_values_its_units_ran_with():
    """canonical moves k = 1, 3, 5 to 2, 4, 6: the sweep's verdict says 2, 4, 6, not what was asked."""
    unit = lambda p, c: Outcome("pass", 1, 1, control=CTL)  # noqa: E731
    agg = lambda values, units, c: Outcome("pass", 1, 1, control=CTL)  # noqa: E731
    claim = _toy("toy.asrun", unit, agg, params=[Param("k", [1, 3, 5], D1, sweep=True), Param("j", 7, D1)],
                 canonical=lambda p: {**p, "k": p["k"] + 1})
    verdicts = claim.run()
    assert verdicts[-1].kind == "aggregate" and verdicts[-1].params == {"k": [2, 4, 6], "j": 7}
    assert "k=2,4,6 j=7" in verdicts[-1].summary()


def test_run_context_streams_are_reproducible_and_do_not_overlap_between_seeds():
    from relunet.verify import RunContext

    a = RunContext(seed=7).rng(3).random(1000)
    assert np.array_equal(a, RunContext(seed=7).rng(3).random(1000))
    # seed + offset schemes share draws between neighbouring seeds: (seed 7, key 3) vs (seed 8, key 2) must not
    assert not np.isin(a, RunContext(seed=8).rng(2).random(1000)).any()
    assert not np.isin(a, RunContext(seed=7).rng(4).random(1000)).any()
    with pytest.raises(ValueError, match="key = -1 is out of range"):
        RunContext(seed=7).rng(-1)
