"""The command line: exit statuses, one-line errors, JSON output, reports."""

import json
import subprocess
import sys

import pytest

from relunet.verify.cli import main

KEYS = {"claim", "params", "kind", "status", "predicted", "measured", "ci", "tolerance", "tolerance_reason",
        "control", "message", "seed", "device", "seconds", "figures", "source"}


def run_cli(*args, cwd=None):
    proc = subprocess.run([sys.executable, "-m", "relunet.verify.cli", *args],
                          capture_output=True, text=True, cwd=cwd, timeout=300)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["verify", "no.such.claim"], "no.such.claim"),
        (["verify", "approx.square.error", "--set", "m=abc"], "m = 'abc'"),
        (["verify", "approx.square.error", "--set", "m=0"], "m = 0"),
        (["verify", "approx.square.error", "--set", "zeta=1"], "zeta"),
        (["verify", "approx.square.error", "--set", "m"], "NAME=VALUE"),
        (["verify", "approx.square.error", "--store", "/no/such/folder/x.sqlite"], "store"),
        (["verify", "--profile", "huge"], "profile"),
        (["bound", "approx.square.error", "--set", "m=-2"], "m = -2"),
        (["bound", "no.such.bound"], "no.such.bound"),
        (["bound", "approx.square.error", "--set", "q=1"], "q"),
        (["bound", "--set", "m=3"], "needs a bound NAME"),
        (["verify", "approx.square.error", "--set", "m=3", "--set", "m=4"], "given twice"),
        (["verify", "approx.square.error", "--store", ""], "--store '' is empty"),
        (["verify", "approx.square.error", "--report", " "], "--report ' ' is empty"),
        (["verify", "approx.square.error", "--seed", "-1"], "seed = -1"),
        (["verify", "approx.square.error", "--seed", str(2**70)], "seed = "),
        (["verify", "approx.square.error", "--seed", "x"], "'x' is not an integer"),
        (["verify", "approx.square.error", "--seed", "5..2"], "--seed '5..2' is an empty range"),
        (["verify", "approx.square.error", "--seed", "1,2,1"], "repeats 1"),
        (["verify", "approx.square.error", "--seed", "0..100000"], "has 100001 seeds"),
        (["verify", "approx.square.error", "--seed", "3..-1"], "seed = -1"),
        (["verify", "approx.square.error", "--set", "m=1,1,2"], "m = [1, 1, 2] repeats 1"),
        (["verify", "approx.square.error", "--set", "m=1..3,5"], "mixes a range and a list"),
        (["verify", "approx.product.error", "--set", "M=1..2"], "a range a..b needs an integer parameter"),
        (["list", "approx.sq"], "claim = 'approx.sq' is unknown"),
        (["verify", "approx.square.error", "--import", "my_claims.py"], "give the module's name, my_claims"),
        (["verify", "approx.square.error", "--set", "m=1..1e10"], "m = 10000000000"),  # checked before the list
        (["verify", "approx.square.error", "--set", "m=1..inf"], "m = inf"),
        (["verify", "approx.square.error", "--set", "m=1..nan"], "m = nan"),
        (["verify", "approx.square.error", "--set", "m=1..2.5"], "m = 2.5"),
    ],
)
def test_bad_input_exits_2_with_one_line(args, fragment, tmp_path, monkeypatch, capsys):
    # in-process (main() is what the console script calls); one case runs in a real process below
    monkeypatch.chdir(tmp_path)
    code = main(args)
    err = capsys.readouterr().err
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert fragment in lines[0]


def test_bad_input_in_a_real_process_exits_2_with_one_line(tmp_path):
    code, out, err = run_cli("verify", "approx.square.error", "--set", "m=abc", cwd=tmp_path)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith("relunet: error: m = 'abc' is not a number")


def test_store_path_that_is_a_folder_exits_2(tmp_path):
    code, _, err = run_cli("verify", "approx.square.size", "--set", "m=1", "--store", str(tmp_path),
                           cwd=tmp_path)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "store" in err


def test_cuda_requested_without_cuda_exits_2(tmp_path, monkeypatch, capsys):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    code = main(["verify", "approx.square.size", "--set", "m=1", "--device", "cuda",
                 "--store", str(tmp_path / "s.sqlite")])
    assert code == 2
    assert "cuda" in capsys.readouterr().err


def test_verify_json_and_exit_0(tmp_path, capsys):
    code = main(["verify", "approx.square.error", "--set", "m=3", "--json",
                 "--store", str(tmp_path / "s.sqlite")])
    out = capsys.readouterr().out.strip().splitlines()
    assert code == 0
    rows = [json.loads(line) for line in out]
    assert len(rows) == 1 and set(rows[0]) == KEYS
    assert rows[0]["status"] == "pass" and rows[0]["params"] == {"m": 3}
    assert rows[0]["predicted"] == rows[0]["measured"] == 2.0**-8


def test_verify_exit_1_when_a_claim_fails(tmp_path, capsys, monkeypatch):
    import relunet.verify.claims.approximation as mod
    from relunet.constructions import yarotsky_square

    # A mutant construction: one step short.  The check must notice.
    monkeypatch.setattr(mod, "yarotsky_square", lambda m: yarotsky_square(m - 1))
    code = main(["verify", "approx.square.error", "--set", "m=4", "--store",
                 str(tmp_path / "s.sqlite")])
    assert code == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("FAIL          approx.square.error  m=4")
    # the ones that did not pass are listed again after the count (a long run has scrolled them away)
    assert out[-3:] == ["0 of 1 verdicts passed", "not passed:", "  FAIL          approx.square.error  m=4"]


def test_report_and_human_output(tmp_path, capsys):
    report = tmp_path / "rep"
    code = main(["verify", "approx.square.error", "--set", "m=1..4", "--store",
                 str(tmp_path / "s.sqlite"), "--report", str(report)])
    out = capsys.readouterr().out
    assert code == 0
    assert "5 of 5 verdicts passed" in out
    md = (report / "report.md").read_text()
    page = (report / "report.html").read_text()
    assert md.count("| approx.square.error |") == 5
    assert "figures/approx.square.error.png" in md and (report / "figures" / "approx.square.error.png").is_file()
    assert "<table>" in page and page.count('<tr class="pass">') == 5


def test_several_seeds_run_once_each_and_are_counted_across(tmp_path, capsys):
    from relunet.verify.store import ResultsStore

    report, store = tmp_path / "rep", tmp_path / "s.sqlite"
    code = main(["verify", "approx.square.error", "--set", "m=1..3", "--seed", "7..9", "--store", str(store),
                 "--report", str(report)])
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert [line for line in out if line.startswith("-- seed")] == ["-- seed 7", "-- seed 8", "-- seed 9"]
    assert "12 of 12 verdicts passed" in out  # three units and their sweep at each of 3 seeds
    across = out[out.index("across 3 seeds (7..9):") + 1:]
    assert across == ["  3 pass  approx.square.error m=1", "  3 pass  approx.square.error m=2",
                      "  3 pass  approx.square.error m=3", "  3 pass  approx.square.error sweep m=1,2,3"]
    assert sorted({v.seed for v in ResultsStore(store).verdicts()}) == [7, 8, 9]
    md = (report / "report.md").read_text()
    assert "| claim | parameters | seed | status |" in md and "| approx.square.error | m=2 | 8 | pass |" in md
    assert "## Across 3 seeds" in md and "- approx.square.error m=1: 3 pass" in md
    # each seed draws its own figure, in its own folder, and the report shows all three
    for seed in (7, 8, 9):
        assert (report / "figures" / f"seed-{seed}" / "approx.square.error.png").is_file()
        assert f"(figures/seed-{seed}/approx.square.error.png)" in md
    assert '<td class="status">pass</td>' in (report / "report.html").read_text()


def test_several_seeds_count_every_outcome(tmp_path, capsys, monkeypatch):
    import relunet.verify.claims.approximation as mod
    from relunet.constructions import yarotsky_square

    # a construction that is one step short at odd seeds only: the count must show both outcomes
    seed_now = {}
    monkeypatch.setattr(mod, "yarotsky_square", lambda m: yarotsky_square(m - seed_now["odd"]))
    real_run_unit = mod.Claim.run_unit

    def run_unit(self, params, ctx):
        seed_now["odd"] = ctx.seed % 2
        return real_run_unit(self, params, ctx)

    monkeypatch.setattr(mod.Claim, "run_unit", run_unit)
    code = main(["verify", "approx.square.error", "--set", "m=4", "--seed", "2,3,5", "--store",
                 str(tmp_path / "s.sqlite")])
    out = capsys.readouterr().out.splitlines()
    assert code == 1
    assert out[-6:] == ["1 of 3 verdicts passed", "not passed:", "  FAIL          approx.square.error  m=4  (seed 3)",
                        "  FAIL          approx.square.error  m=4  (seed 5)",
                        "across 3 seeds (2,3,5):", "  1 pass, 2 fail  approx.square.error m=4"]


def test_list_shows_every_claim(capsys):
    from relunet.verify import all_claims

    assert main(["list"]) == 0
    text = capsys.readouterr().out
    for claim in all_claims():
        assert claim.id in text and claim.source in text
    assert main(["list", "--json"]) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert {r["id"] for r in rows} == {c.id for c in all_claims()}
    assert all(r["parameters"] for r in rows)


def test_list_takes_prefixes_and_says_which_parameters_take_ranges(capsys):
    assert main(["list", "approx.product"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("approx.product.") and "approx.square" not in text
    assert "an integer in [1, 20] (or a list: a..b, a,b,c); steps of each square" in text
    assert "--set M=...  quick 1.0; a number > 0 (or a list: a,b,c)" in text  # no a..b for a real parameter


def test_figures_with_a_failed_import_leave_no_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["figures", "--import", "no_such_module_here"]) == 2
    assert "no_such_module_here" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_bound_command(capsys):
    assert main(["bound", "approx.square.error", "--set", "m=5"]) == 0
    out = capsys.readouterr().out
    assert "2**(-2*m - 2)" in out and "1/4096" in out and "Yarotsky" in out
    assert main(["bound", "stat.minimax.holder", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["exponents"] == {"n": "-2*r/(d + 2*r)"}
    assert main(["bound"]) == 0
    assert "approx.product.error" in capsys.readouterr().out


def test_closed_stdout_pipe_ends_quietly(tmp_path):
    # `relunet bound | head -1`: the reader leaves after one line; no traceback, SIGPIPE's status
    proc = subprocess.Popen([sys.executable, "-m", "relunet.verify.cli", "bound"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=tmp_path)
    with proc.stdout, proc.stderr:
        first = proc.stdout.readline()
        proc.stdout.close()
        err = proc.stderr.read().decode()
        assert proc.wait(timeout=120) == 141
    assert first.startswith(b"approx.") and err == ""


def test_bound_json_is_strict_and_exponents_take_the_set_values(capsys):
    assert main(["bound", "approx.square.dense", "--set", "m=1e308", "--json"]) == 0
    out, err = capsys.readouterr()
    info = json.loads(out, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))
    assert info["value"] == "inf" and err == ""  # as verdicts write inf; no overflow warning
    assert main(["bound", "stat.minimax.holder", "--set", "r=1", "--set", "d=2"]) == 0
    assert "exponent in n: -1/2" in capsys.readouterr().out
    assert main(["bound", "approx.square.error", "--set", "m=100000"]) == 0  # 2^-200002: too long to print
    assert "too many digits" in capsys.readouterr().out
    assert main(["bound", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {"name", "kind", "quantity"} == set(rows[0]) and len(rows) > 50


def test_cli_sets_its_environment_before_torch_is_imported():
    # OMP_WAIT_POLICY is read once, when torch loads its OpenMP runtime: the CLI module must
    # not import torch (or sympy) itself, and `relunet bound` needs neither torch nor the claims
    code = ("import os, sys; os.environ.pop('OMP_WAIT_POLICY', None); import relunet.verify.cli;"
            "print('torch' in sys.modules, 'sympy' in sys.modules, os.environ['OMP_WAIT_POLICY']);"
            "relunet.verify.cli.main(['bound', 'approx.square.error', '--set', 'm=2']);"
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[:3] == ["False", "False", "PASSIVE"] and out[-1] == "False"


def test_lazy_package_names_all_resolve():
    import relunet.verify as verify

    for name in verify.__all__:
        assert getattr(verify, name) is not None and name in dir(verify)
    with pytest.raises(AttributeError, match="no_such_name"):
        verify.no_such_name  # noqa: B018


def test_interrupt_ends_with_one_line_and_status_130(tmp_path):
    import signal
    import time

    # a run of several seconds, so that the signal always arrives before it ends (a `relunet list` could
    # finish first on a fast machine, and the test then skipped): at 0.5 s it lands in the imports of torch
    # and the claims, where a traceback used to come from
    # A shell's background job ignores SIGINT, and Python then installs no KeyboardInterrupt handler: the
    # child gets the default disposition back, as a command typed at a terminal has.
    proc = subprocess.Popen([sys.executable, "-m", "relunet.verify.cli", "verify", "approx.square.error",
                             "--set", "m=1..16", "--store", str(tmp_path / "s.sqlite")], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, cwd=tmp_path, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    err = proc.communicate(timeout=120)[1]
    # (before the arguments are parsed there is no store to speak of)
    assert proc.returncode == 130 and err in ("relunet: interrupted; finished units are in the store\n",
                                              "relunet: interrupted\n")


def test_bound_leaves_a_long_exact_value_to_json(capsys):
    assert main(["bound", "approx.bump.integral", "--set", "d=200", "--set", "tau=100"]) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    assert last.startswith("  at d=200, tau=100: 1.0137116446727217e+83 (exactly a rational of") and len(last) < 120
    assert main(["bound", "approx.bump.integral", "--set", "d=200", "--set", "tau=100", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["exact"]) > 300


USER_CLAIMS = '''
from relunet.bounds import Domain
from relunet.verify import Claim, Control, Outcome, Param, register


def half(params, ctx):
    value = 1 / (2 * params["n"])
    return Outcome("pass", predicted=value, measured=value, tolerance=0.0, tolerance_reason="exact",
                   control=Control("1/n is not 1/(2n)", failed=1 / params["n"] != value))


register(Claim("user.half", "a user's test", "f(n) = 1/(2n)", [Param("n", 2, Domain(lower=1, integer=True))], half))
'''


def test_import_runs_a_users_own_claims(tmp_path):
    (tmp_path / "user_claims.py").write_text(USER_CLAIMS)
    code, out, err = run_cli("verify", "user.half", "--set", "n=4", "--import", "user_claims", "--json",
                             "--store", str(tmp_path / "s.sqlite"), cwd=tmp_path)
    verdict = json.loads(out)
    assert code == 0 and verdict["claim"] == "user.half" and verdict["measured"] == 0.125
    assert verdict["kind"] == "unit" and verdict["control"]["failed"] is True and verdict["tolerance_reason"]
    code, out, _ = run_cli("list", "--import", "user_claims", cwd=tmp_path)
    assert code == 0 and "user.half" in out
    code, _, err = run_cli("verify", "user.half", cwd=tmp_path)  # control: without --import it is unknown
    assert code == 2 and "user.half" in err


def test_import_errors_are_one_line(tmp_path):
    (tmp_path / "broken_claims.py").write_text("raise RuntimeError('my module is broken')\n")
    for module, fragment in (("no_such_module", "--import no_such_module: No module named"),
                             ("broken_claims", "--import broken_claims failed: RuntimeError: my module is broken")):
        code, _, err = run_cli("list", "--import", module, cwd=tmp_path)
        assert code == 2 and err.count("\n") == 1 and fragment in err
