"""The `relunet` command line.

    relunet list [CLAIM-OR-PREFIX ...] [--json]
    relunet verify [CLAIM-OR-PREFIX ...] [--profile quick|full] [--set NAME=VALUE ...]
                   [--seed N | a..b | a,b,c] [--device auto|cpu|cuda] [--store PATH] [--report DIR] [--json]
    relunet bound [NAME] [--set NAME=VALUE ...] [--json]
    relunet figures [--out DIR] [--profile quick|full]

Exit status: 0 when every claim run passed, 1 when any did not, 2 for bad usage or bad input
(one line naming what is wrong, no traceback), 130 when interrupted and 141 when the reader of
stdout goes away (`relunet bound | head`), as for a Unix tool stopped by SIGPIPE.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

# The claims run many small torch ops; OpenMP threads that spin while waiting make them 10-30x
# slower when another process competes for the cores.  Set before torch is first imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__all__ = ["main"]

EXACT_SHOWN = 100  # longer exact values are left to --json
MAX_SEEDS = 1000  # seeds one --seed a..b may expand to
SEED_LIMIT = 2**63 - 1  # the store keeps seeds as SQLite INTEGERs


class UsageError(Exception):
    """Bad usage or bad input: exit status 2 with one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def _build_parser() -> argparse.ArgumentParser:
    from importlib.metadata import PackageNotFoundError, version

    try:
        release = version("relunet")
    except PackageNotFoundError:  # run from a source tree that is not installed
        release = "unknown"
    parser = _Parser(prog="relunet", description="Runnable theory of ReLU networks.")
    parser.add_argument("--version", action="version", version=f"relunet {release}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    p_list = sub.add_parser("list", help="list every claim with its source and parameters")
    p_list.add_argument("claims", nargs="*", metavar="CLAIM-OR-PREFIX",
                        help="claim ids or id prefixes, as for verify (default: every claim)")
    p_list.add_argument("--json", action="store_true", help="one JSON object per claim")
    _add_import_option(p_list)

    p_verify = sub.add_parser("verify", help="run claims and compare measurement with theory")
    p_verify.add_argument("claims", nargs="*", metavar="CLAIM-OR-PREFIX",
                          help="claim ids or id prefixes (default: every claim)")
    p_verify.add_argument("--profile", choices=("quick", "full"), default="quick",
                          help="parameter sizes: quick (CPU, minutes) or full (paper-sized)")
    p_verify.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                          dest="overrides", help="override a claim parameter (repeatable); sweeps take a..b or a,b,c")
    p_verify.add_argument("--seed", default="0", metavar="SEED",
                          help="the seed of every random draw (default 0); several (a..b or a,b,c) run the "
                               "claims once per seed and count each verdict's outcomes across them")
    p_verify.add_argument("--device", choices=("auto", "cpu", "cuda"), default="cpu",
                          help="where torch work runs (auto: cuda when available)")
    p_verify.add_argument("--store", default="relunet-results.sqlite", metavar="PATH",
                          help="SQLite results store; finished units found there are not rerun")
    p_verify.add_argument("--report", default=None, metavar="DIR",
                          help="write report.md and report.html with the figures to DIR")
    p_verify.add_argument("--json", action="store_true", help="one JSON object per verdict")
    _add_import_option(p_verify)

    p_bound = sub.add_parser("bound", help="evaluate a bound (without NAME: list them)")
    p_bound.add_argument("name", nargs="?", metavar="NAME", help="a bound's name, as `relunet bound` lists them")
    p_bound.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                         dest="overrides", help="fix a parameter (repeatable); all of them gives a value")
    p_bound.add_argument("--json", action="store_true", help="print one JSON object (per bound, for the list)")

    p_fig = sub.add_parser("figures", help="write the figure gallery")
    p_fig.add_argument("--out", default="docs/gallery", metavar="DIR",
                       help="folder for index.md and figures/ (default: docs/gallery under the current folder)")
    p_fig.add_argument("--profile", choices=("quick", "full"), default="quick",
                       help="parameter sizes: quick or full")
    p_fig.add_argument("--device", choices=("auto", "cpu", "cuda"), default="cpu",
                       help="where torch work runs (auto: cuda when available)")
    _add_import_option(p_fig)
    return parser


def _add_import_option(parser) -> None:
    parser.add_argument("--import", action="append", default=[], metavar="MODULE", dest="imports",
                        help="import MODULE first, so that the claims it registers can be run (repeatable; "
                             "looked up from the current folder too)")


def _import_user_modules(names: list[str]) -> None:
    """Import the modules of --import; their register() calls add the user's claims."""
    import importlib

    if names and "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # as `python -m` does; a console script's path lacks it
    for name in names:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            hint = f" (give the module's name, {name[:-3]}, not its file)" if name.endswith(".py") else ""
            raise UsageError(f"--import {name}: {exc}{hint}") from None
        except (ValueError, UsageError):
            raise
        except Exception as exc:  # the user's module failed while it ran: say where, in one line
            raise UsageError(f"--import {name} failed: {type(exc).__name__}: {exc}") from None


def _overrides(items: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--set {item!r} is not NAME=VALUE")
        if name.strip() in out:
            raise UsageError(f"--set {name.strip()} is given twice ({out[name.strip()]!r} and {value!r}): give it once"
                             " (a sweep takes a..b or a,b,c)")
        out[name.strip()] = value
    return out


def _seeds(text: str) -> list[int]:
    """The seeds of ``--seed``: N, an inclusive range a..b, or a list a,b,c (no repeats)."""
    allowed = f"an integer in [0, {SEED_LIMIT}], a range a..b or a list a,b,c"

    def one(item: str) -> int:
        try:
            value = int(item.strip())
        except ValueError:
            raise UsageError(f"--seed {text!r}: {item.strip()!r} is not an integer: --seed takes {allowed}") from None
        if not 0 <= value <= SEED_LIMIT:
            raise UsageError(f"--seed {text!r}: seed = {value} is out of range: --seed takes {allowed}")
        return value

    if ".." in text:
        low, _, high = text.partition("..")
        a, b = one(low), one(high)
        if b < a:
            raise UsageError(f"--seed {text!r} is an empty range: --seed takes {allowed}")
        if b - a >= MAX_SEEDS:
            raise UsageError(f"--seed {text!r} has {b - a + 1} seeds: one run takes at most {MAX_SEEDS}")
        return list(range(a, b + 1))
    seeds = [one(item) for item in text.split(",")]
    repeated = sorted({s for s in seeds if seeds.count(s) > 1})
    if repeated:
        raise UsageError(f"--seed {text!r} repeats {', '.join(map(str, repeated))}: give each seed once")
    return seeds


def _cmd_list(args) -> int:
    from .claim import select_claims

    _import_user_modules(args.imports)
    for claim in select_claims(args.claims):
        info = claim.describe()
        if args.json:
            print(json.dumps(info))
            continue
        print(f"{info['id']}\n    {info['statement']}\n    source: {info['source']}")
        for p in info["parameters"]:
            full = f", full {p['full']}" if p["full"] != p["quick"] else ""
            print(f"    --set {p['name']}=...  quick {p['quick']}{full}; {p['allowed']}"
                  + (f"; {p['help']}" if p["help"] else ""))
    return 0


def _cmd_verify(args) -> int:
    from .claim import _jsonable, select_claims
    from .report import write_report
    from .runner import run_claims
    from .store import ResultsStore

    for option, value in (("--store", args.store), ("--report", args.report)):
        if value is not None and not value.strip():
            raise UsageError(f"{option} {value!r} is empty: give a path")
    _import_user_modules(args.imports)
    claims = select_claims(args.claims)
    overrides = _overrides(args.overrides)
    seeds = _seeds(args.seed)
    store = ResultsStore(args.store)
    figure_dir = Path(args.report) / "figures" if args.report else None
    if args.report:
        try:
            Path(args.report).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"--report {args.report!r} cannot be created: {exc.strerror}") from None
    keys = ("claim", "params", "kind", "status", "predicted", "measured", "ci", "tolerance", "tolerance_reason",
            "control", "message", "seed", "device", "seconds", "figures", "source")

    def show(v) -> None:  # each verdict as it comes: an interrupted run has printed what it finished
        if args.json:
            d = v.to_dict()
            print(json.dumps(_jsonable({k: d[k] for k in keys})), flush=True)
        else:
            print(v.summary(), flush=True)

    verdicts = []
    try:
        for seed in seeds:
            several = len(seeds) > 1
            if several and not args.json:
                print(f"-- seed {seed}", flush=True)
            # each seed draws its own figures: one folder per seed keeps them apart
            figures = figure_dir / f"seed-{seed}" if figure_dir is not None and several else figure_dir
            verdicts += run_claims(claims, profile=args.profile, overrides=overrides, seed=seed,
                                   device=args.device, store=store, figure_dir=figures, on_verdict=show)
    finally:
        store.close()
    if args.report:
        md, page = write_report(verdicts, args.report)
        if not args.json:
            print(f"report: {md} and {page}")
    passed = sum(v.passed for v in verdicts)
    if not args.json:
        _print_tally(verdicts)
        if len(seeds) > 1:
            _print_across_seeds(verdicts, seeds)
    return 0 if passed == len(verdicts) else 1


def _print_tally(verdicts) -> None:
    """The count, and the verdicts that did not pass again in one line each: in a long run they
    have scrolled away."""
    from .report import params_text

    passed = sum(v.passed for v in verdicts)
    print(f"{passed} of {len(verdicts)} verdicts passed")
    others = [v for v in verdicts if not v.passed]
    several = len({v.seed for v in verdicts}) > 1
    if others:
        print("not passed:")
        for v in others:
            print(f"  {v.status.upper():<12}  {v.claim}  {params_text(v)}" + (f"  (seed {v.seed})" if several else ""))


def _print_across_seeds(verdicts, seeds: list[int]) -> None:
    """How often each verdict passed over the seeds: the measured pass rate of a statistical
    claim, to set beside its nominal level."""
    from .report import across_seeds, tally_text

    label = f"{seeds[0]}..{seeds[-1]}" if seeds == list(range(seeds[0], seeds[-1] + 1)) else ",".join(map(str, seeds))
    rows = across_seeds(verdicts)
    counts = [tally_text(tally) for _, tally in rows]
    width = max(map(len, counts))
    print(f"across {len(seeds)} seeds ({label}):")
    for (where, _), text in zip(rows, counts):
        print(f"  {text:<{width}}  {where}")


def _parse_number(name: str, text: str, allowed: str = ""):
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"{name} = {text!r} is not a number" + (f": {name} must be {allowed}" if allowed else "")) \
            from None
    return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value


def _cmd_bound(args) -> int:
    import numpy as np

    from relunet.bounds.catalogue import bound_names, get_bound

    if args.name is None:
        if args.overrides:
            raise UsageError("--set needs a bound NAME (relunet bound NAME --set ...); `relunet bound` lists them")
        names = bound_names()
        width = max(map(len, names))
        for name in names:
            b = get_bound(name)
            print(json.dumps({"name": name, "kind": b.kind, "quantity": b.quantity}) if args.json
                  else f"{name:{width}s}  {b.kind:6s} {b.quantity}")
        return 0
    bound = get_bound(args.name)
    values = {k: _parse_number(k, v, bound.conditions[k].describe() if k in bound.conditions else "")
              for k, v in _overrides(args.overrides).items()}
    shown = bound.subs(**values)  # checks names and ranges
    info = {"name": bound.name, "kind": bound.kind, "quantity": bound.quantity,
            "source": bound.source, "expr": str(bound.expr), "latex": bound.latex(),
            "parameters": list(bound.parameters), "set": values,
            "exponents": _exponents(bound, values)}
    if set(values) == set(bound.parameters):
        with np.errstate(all="ignore"):  # an overflow is reported as inf, not as a warning
            value = bound.evaluate(**values)
        info["value"] = value
        if all(isinstance(v, int) for v in values.values()):
            try:
                info["exact"] = str(bound.exact(**values))
            except ValueError:  # more digits than Python prints (sys.get_int_max_str_digits)
                info["exact"] = None
    else:
        info["expr_with_values"] = str(shown.expr)
    if args.json:
        value = info.get("value")
        if isinstance(value, float) and not math.isfinite(value):  # strict JSON has no inf or nan: as verdicts do
            info["value"] = repr(value)
        print(json.dumps(info))
        return 0
    print(bound)
    for var, e in info["exponents"].items():
        print(f"  exponent in {var}: {e}")
    if "value" in info:
        where = ", ".join(f"{k}={v}" for k, v in values.items())
        exact = info.get("exact")
        if exact is None and "exact" in info:
            exact_text = " (the exact rational has too many digits to print)"
        elif exact and len(exact) > EXACT_SHOWN:
            exact_text = f" (exactly a rational of {len(exact)} characters: --json gives it)"
        else:
            exact_text = f" = {exact}" if exact and exact != repr(info["value"]) else ""
        print(f"  at {where}: {info['value']!r}{exact_text}")
    elif values:
        print(f"  with {', '.join(f'{k}={v}' for k, v in values.items())}: {info['expr_with_values']}")
    return 0


def _exponents(bound, values: dict) -> dict[str, str]:
    """Power-law exponents in the asymptotic variables not fixed by --set, with the set values put in.

    A bound exponential in a variable (the square's 2^(-2m-2)) has no power-law exponent;
    where sympy cannot take the limit, the exponent is left out rather than guessed.
    """
    out = {}
    for var in bound.variables:
        if var in values:
            continue
        try:
            if bound.log_slope(var) != 0:
                continue
            exponent = bound.exponent(var)
            fixed = {bound.sym(k): v for k, v in values.items() if bound.sym(k) in exponent.free_symbols}
            out[var] = str(exponent.subs(fixed) if fixed else exponent)
        except (NotImplementedError, TypeError, ValueError):
            continue
    return out


def _cmd_figures(args) -> int:
    from .claim import all_claims
    from .report import params_text
    from .runner import run_claims

    out = Path(args.out)
    _import_user_modules(args.imports)  # first: a failed import leaves no empty gallery behind
    try:
        (out / "figures").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {args.out!r} cannot be created: {exc.strerror}") from None
    verdicts = run_claims(all_claims(), profile=args.profile, device=args.device, store=None,
                          figure_dir=out / "figures", on_verdict=lambda v: print(v.summary(), flush=True))
    lines = ["# relunet figure gallery", "",
             f"Written by `relunet figures --profile {args.profile}`.", ""]
    for v in verdicts:
        for f in v.figures:
            rel = Path(f).relative_to(out) if Path(f).is_relative_to(out) else Path(f)
            where = f" ({params_text(v)})" if v.params else ""
            lines += [f"## {v.claim}{where}: {v.status}", "", f"![{v.claim}]({rel.as_posix()})", ""]
    (out / "index.md").write_text("\n".join(lines))
    _print_tally(verdicts)
    print(f"wrote {sum(len(v.figures) for v in verdicts)} figures and {out / 'index.md'}")
    return 0 if all(v.passed for v in verdicts) else 1


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `relunet` console script."""
    parser = _build_parser()
    args = None
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 2
        handler = {"list": _cmd_list, "verify": _cmd_verify, "bound": _cmd_bound,
                   "figures": _cmd_figures}[args.command]
        return handler(args)
    except UsageError as exc:
        print(f"relunet: error: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:  # bad input: parameter values, unknown names, store paths
        print(f"relunet: error: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        stored = args is not None and args.command == "verify"
        print("relunet: interrupted" + ("; finished units are in the store" if stored else ""), file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of stdout went away (`relunet list | head`): stop quietly, as a Unix tool
        # killed by SIGPIPE would, and keep the interpreter's final flush from raising again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
