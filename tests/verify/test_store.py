"""The results store: round trips, schema versions, and resuming after SIGKILL."""

import json
import math
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from relunet.verify import ResultsStore, Verdict
from relunet.verify.store import SCHEMA_VERSION, StoreError, unit_key


def _verdict(status="pass", **params):
    return Verdict(claim="demo.claim", params=params, status=status, predicted=1.0, measured=1.0,
                   ci=(0.5, 1.5), tolerance=0.1, tolerance_reason="r", message="", seed=0,
                   seconds=0.1, device="cpu", data={"x": [1, 2]})


def test_round_trip_and_no_duplicates(tmp_path):
    store = ResultsStore(tmp_path / "s.sqlite")
    v = _verdict(m=3)
    key = unit_key(v.claim, v.params, v.seed)
    assert store.get(key) is None
    assert store.put(key, v) is True
    assert store.put(key, _verdict(status="fail", m=3)) is False
    got = store.get(key)
    assert got == v and got.ci == (0.5, 1.5)
    assert store.count() == 1 and store.schema_version == SCHEMA_VERSION
    store.close()
    assert ResultsStore(tmp_path / "s.sqlite").verdicts("demo.claim") == [v]


def test_other_schema_version_is_refused(tmp_path):
    path = tmp_path / "s.sqlite"
    ResultsStore(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match="schema version 999"):
        ResultsStore(path)


def test_unit_key_is_canonical():
    assert unit_key("c", {"a": 1, "b": 2}, 0) == unit_key("c", {"b": 2, "a": 1}, 0)
    assert unit_key("c", {"a": 1}, 0) != unit_key("c", {"a": 1}, 1)
    assert unit_key("c", {"a": 1}, 0) != unit_key("c", {"a": 1}, 0, "aggregate")


def test_unit_key_ends_with_the_relunet_version(monkeypatch):
    # results of another relunet version are not reused: the version is part of the key
    from relunet.verify import store as store_module
    from relunet.verify.environment import versions

    key = unit_key("c", {"a": 1}, 0)
    assert key.endswith(f"|relunet={versions()['relunet']}") and versions()["relunet"]
    monkeypatch.setattr(store_module, "versions", lambda: {"relunet": "9.9.9"})
    other = unit_key("c", {"a": 1}, 0)
    assert other.endswith("|relunet=9.9.9") and other != key


def test_store_path_expands_the_home_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    store = ResultsStore("~/r.sqlite")
    assert store.path == str(tmp_path / "r.sqlite") and (tmp_path / "r.sqlite").is_file()
    store.close()


@pytest.mark.parametrize("key", ["", None, 3])
def test_put_refuses_a_key_that_is_not_a_non_empty_string(key):
    with ResultsStore(":memory:") as store:
        with pytest.raises(StoreError, match="is not a unit key"):
            store.put(key, _verdict(m=1))
        assert store.count() == 0


def _rows(path):
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT unit_key, verdict, recorded_at FROM verdicts ORDER BY id").fetchall()


def test_sweep_killed_with_sigkill_resumes_without_loss_or_duplicates(tmp_path):
    path = tmp_path / "s.sqlite"
    cmd = [sys.executable, "-m", "relunet.verify.cli", "verify", "approx.square.size",
           "--set", "m=1..120", "--store", str(path)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    recorded = 0
    while time.time() < deadline:
        if path.exists():
            try:
                recorded = len(_rows(path))
            except sqlite3.OperationalError:
                recorded = 0
        if recorded >= 10 or proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = _rows(path)
    assert 10 <= len(before) < 120, "the sweep should be killed part-way"

    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    after = _rows(path)
    keys = [r[0] for r in after]
    assert len(keys) == len(set(keys)) == 120
    assert after[: len(before)] == before  # nothing recorded before the kill changed
    ms = sorted(json.loads(r[1])["params"]["m"] for r in after)
    assert ms == list(range(1, 121))


def test_report_after_a_plain_run_still_gets_its_figures(tmp_path):
    """A unit stored without figures is rerun (same seed) when a report asks for figures; one
    stored with them is reused and its files are copied into the new report's folder."""
    from pathlib import Path

    from relunet.verify.claim import get_claim
    from relunet.verify.runner import run_claims

    claims = [get_claim("approx.square.error")]
    params = {"m": [1, 2, 3]}
    with ResultsStore(tmp_path / "s.sqlite") as store:
        plain = run_claims(claims, overrides=params, store=store)
        assert not any(v.figures for v in plain)
        first = run_claims(claims, overrides=params, store=store, figure_dir=tmp_path / "a")
        drawn = [f for v in first for f in v.figures]
        assert drawn and all(Path(f).is_file() for f in drawn)
        assert [v.measured for v in first] == [v.measured for v in plain]  # the rerun measures the same
        again = run_claims(claims, overrides=params, store=store, figure_dir=tmp_path / "b")
        copied = [f for v in again for f in v.figures]
        assert [Path(f).parent for f in copied] == [tmp_path / "b"] * len(drawn)
        assert all(Path(f).is_file() for f in copied)
        assert [v.seconds for v in again] == [v.seconds for v in first]  # reused, not rerun
        assert len(store.verdicts()) == len(plain)  # replaced in place, nothing added or lost


def _flaky_claim(state):
    """A claim whose unit k=2 errors while state["flaky"]; the sweep passes iff every unit passed."""
    from relunet.bounds.core import Domain
    from relunet.verify import Claim, Control, Outcome, Param

    ctl = Control("c", failed=True)

    def unit(p, ctx):
        if state["flaky"] and p["k"] == 2:
            raise RuntimeError("transient failure")
        measured = 99.0 if ctx.profile == "full" else float(p["k"])
        return Outcome("pass", measured, measured, control=ctl, ci=(math.nan, math.inf),
                       data={"err": math.inf, "v": [math.nan, "nan", 1.0]})

    def aggregate(values, units, ctx):
        status = "pass" if all(u.status == "pass" for u in units) else "fail"
        ok = all(isinstance(u.measured, float) and isinstance(u.ci[1], float) for u in units if u.passed)
        return Outcome(status if ok else "error", 0.0, float(len(units)), control=ctl)

    return Claim("toy.flaky", "test", "toy", [Param("k", [1, 2, 3], Domain(lower=0, integer=True), sweep=True)],
                 unit, aggregate)


def test_sweep_verdict_over_errored_units_is_not_stored(tmp_path):
    from relunet.verify.runner import run_claims

    state = {"flaky": True}
    claims = [_flaky_claim(state)]
    with ResultsStore(tmp_path / "s.sqlite") as store:
        first = run_claims(claims, store=store)
        assert [v.status for v in first] == ["pass", "error", "pass", "fail"]
        assert store.count() == 2  # neither the errored unit nor the sweep built on it
        state["flaky"] = False
        second = run_claims(claims, store=store)
        assert [v.status for v in second] == ["pass"] * 4
        assert store.count() == 4


def test_non_finite_floats_survive_the_store(tmp_path):
    from relunet.verify.runner import run_claims

    claims = [_flaky_claim({"flaky": False})]
    with ResultsStore(tmp_path / "s.sqlite") as store:
        fresh = run_claims(claims, store=store)
        resumed = run_claims(claims, store=store)
        assert [v.status for v in resumed] == ["pass"] * 4
        got = store.verdicts()[0]
        assert json.loads(store._conn.execute("SELECT verdict FROM verdicts").fetchone()[0])["data"]["err"] == "inf"
    assert math.isnan(got.ci[0]) and got.ci[1] == math.inf and got.data["err"] == math.inf
    assert math.isnan(got.data["v"][0]) and math.isnan(got.data["v"][1]) and got.data["v"][2] == 1.0
    assert fresh[0].data["err"] == math.inf  # a fresh run sees floats too
    v = Verdict.from_json(_verdict(m=1).to_json().replace('"measured": 1.0', '"measured": "-inf"'))
    assert v.measured == -math.inf


def test_store_key_includes_profile_and_device(tmp_path):
    from relunet.verify.runner import run_claims

    assert unit_key("c", {"a": 1}, 0, profile="quick") != unit_key("c", {"a": 1}, 0, profile="full")
    assert unit_key("c", {"a": 1}, 0, device="cpu") != unit_key("c", {"a": 1}, 0, device="cuda")
    with pytest.raises(ValueError, match="profile = 'paper'"):
        unit_key("c", {}, 0, profile="paper")
    claims = [_flaky_claim({"flaky": False})]
    with ResultsStore(tmp_path / "s.sqlite") as store:
        run_claims(claims, store=store, overrides={"k": [1]})
        full = run_claims(claims, store=store, profile="full", overrides={"k": [1]})
    assert full[0].measured == 99.0


def test_unit_key_serialises_canonical_values_like_units(tmp_path):
    from fractions import Fraction

    from relunet.bounds.core import Domain
    from relunet.verify import Claim, Control, Outcome, Param
    from relunet.verify.runner import run_claims

    assert unit_key("c", {"n": Fraction(1, 2)}, 0) == unit_key("c", {"n": "1/2"}, 0)
    # canonical values go through the Param, so a Fraction reaches the unit (and its key) as a float
    claim = Claim("toy.frac", "t", "s", [Param("n", 1.0, Domain(lower=0), kind="float")],
                  lambda p, c: Outcome("pass", 1, p["n"], control=Control("c", True)),
                  canonical=lambda p: {**p, "n": Fraction(1, 2)})
    with ResultsStore(tmp_path / "s.sqlite") as store:
        assert [v.measured for v in run_claims([claim], store=store)] == [0.5]
        assert [v.status for v in run_claims([claim], store=store)] == ["pass"]
        assert store.count() == 1


def test_each_verdict_is_handed_on_as_soon_as_it_is_known(tmp_path):
    """The CLI prints verdicts through on_verdict: each one before the next unit starts, so an
    interrupted run has shown all it finished, stored and fresh alike."""
    from relunet.bounds.core import Domain
    from relunet.verify import Claim, Control, Outcome, Param
    from relunet.verify.runner import run_claims

    shown = []

    def unit(p, ctx):
        assert len(shown) == p["k"] - 1  # the earlier units were shown before this one ran
        return Outcome("pass", 1, 1, control=Control("c", True))

    def aggregate(values, units, ctx):
        assert len(shown) == 3
        return Outcome("pass", 1, 1, control=Control("c", True))

    claim = Claim("toy.stream", "t", "s", [Param("k", [1, 2, 3], Domain(lower=1, integer=True), sweep=True)],
                  unit, aggregate)
    with ResultsStore(tmp_path / "s.sqlite") as store:
        verdicts = run_claims([claim], store=store, on_verdict=shown.append)
        assert shown == verdicts and [v.kind for v in shown] == ["unit"] * 3 + ["aggregate"]
        shown.clear()
        assert run_claims([claim], store=store, on_verdict=shown.append) == shown and len(shown) == 4


def test_a_stored_verdict_prints_like_the_one_that_ran(tmp_path):
    from relunet.verify import Verdict

    v = Verdict("c", {"zeta": 1, "alpha": 2}, "pass", 1.0, 1.0, None, 0.0, "", "", 0, 0.1, "cpu")
    with ResultsStore(tmp_path / "s.sqlite") as store:
        store.put("k", v)
        assert list(store.get("k").params) == ["zeta", "alpha"] and store.get("k").summary() == v.summary()
