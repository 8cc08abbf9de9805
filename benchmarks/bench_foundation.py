"""Benchmarks of the foundation: vectorised bound evaluation and exact-network evaluation.

Measures

(a) ``relunet.bounds.minimax_lower_bound().evaluate`` on 10^6 parameter points against a Python
    loop of sympy substitutions (``expr.subs(...).evalf()``) on a subset, extrapolated per point;
    checks that the two agree to 1e-12 relative on the subset;
(b) ``relunet.constructions.yarotsky_square(10)`` evaluated in float64 by ``net(x)`` on 10^7
    points of [0, 1], and the same through ``net.to_module()`` in torch float64 under
    ``torch.no_grad``;
(c) the start-up of the ``relunet`` command: ``relunet --help`` and ``relunet bound`` (which
    load neither torch nor the claims) against the same ``bound`` call in a process that first
    imports torch and the claims, as every call did before ``relunet.verify`` loaded its names
    lazily.

and writes a markdown file with the machine and the figures.

Usage::

    python benchmarks/bench_foundation.py [--out benchmarks/results/foundation.md] [--quick]

``--quick`` uses 100x fewer points (a smoke test; its figures are not the reference ones).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import sympy as sp
import torch

from relunet.bounds import minimax_lower_bound
from relunet.constructions import yarotsky_square

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "results" / "foundation.md"
SEED = 20240611


def machine() -> dict:
    """CPU model, cores, library versions and the date."""
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {
        "CPU": cpu,
        "cores (os.cpu_count / usable)": f"{os.cpu_count()} / {usable}",
        "torch threads": str(torch.get_num_threads()),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "sympy": sp.__version__,
        "date (UTC)": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M"),
    }


def best_of(fn, repeats: int) -> tuple[float, object]:
    """Smallest wall time of `repeats` calls of fn(), and the last result."""
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def bench_bound(n_points: int, n_sympy: int, repeats: int = 5) -> dict:
    """(a) Bound.evaluate on n_points against sympy subs/evalf on n_sympy of them."""
    rng = np.random.default_rng(SEED)
    params = {
        "n": rng.integers(1, 10**6, size=n_points, endpoint=True).astype(np.float64),
        "r": rng.uniform(0.1, 5.0, size=n_points),
        "d": rng.integers(1, 20, size=n_points, endpoint=True).astype(np.float64),
        "c": rng.uniform(0.1, 10.0, size=n_points),
    }
    bound = minimax_lower_bound()
    t0 = time.perf_counter()
    bound.evaluate(**{k: v[:10] for k, v in params.items()})  # builds the cached lambdify
    first_call = time.perf_counter() - t0
    t_eval, values = best_of(lambda: bound.evaluate(**params), repeats)

    syms = {name: bound.sym(name) for name in params}
    expr = bound.expr

    def sympy_value(i: int) -> float:
        mapping = {
            syms["n"]: int(params["n"][i]),
            syms["r"]: float(params["r"][i]),
            syms["d"]: int(params["d"][i]),
            syms["c"]: float(params["c"][i]),
        }
        return float(expr.subs(mapping).evalf())

    sympy_value(0)  # warm-up
    t0 = time.perf_counter()
    reference = np.array([sympy_value(i) for i in range(n_sympy)])
    t_sympy = (time.perf_counter() - t0) / n_sympy
    rel = np.abs(values[:n_sympy] - reference) / np.abs(reference)
    per_point_eval = t_eval / n_points
    return {
        "points": n_points,
        "sympy points": n_sympy,
        "first call (lambdify, 10 points) s": first_call,
        "evaluate best-of-5 s": t_eval,
        "evaluate per point s": per_point_eval,
        "sympy per point s": t_sympy,
        "ratio": t_sympy / per_point_eval,
        "max rel diff": float(rel.max()),
        "agree": bool(rel.max() <= 1e-12),
        "under 0.2 s": t_eval < 0.2,
    }


def bench_net(n_points: int, repeats: int = 3) -> dict:
    """(b) yarotsky_square(10) on n_points by net(x) and by net.to_module() in torch."""
    rng = np.random.default_rng(SEED + 1)
    x = rng.random(n_points)  # float64 in [0, 1)
    net = yarotsky_square(10)
    net(x[:1000])  # warm-up
    t_np, y_np = best_of(lambda: net(x), repeats)

    module = net.to_module(dtype=torch.float64)
    xt = torch.from_numpy(x).reshape(-1, 1)

    def run_torch():
        with torch.no_grad():
            return module(xt)

    module(xt[:1000])  # warm-up
    t_torch, y_torch = best_of(run_torch, repeats)
    y_torch = y_torch.numpy().reshape(-1)
    err = float(np.max(np.abs(y_np - x * x)))
    return {
        "points": n_points,
        "net(x) best-of-3 s": t_np,
        "net(x) points/s": n_points / t_np,
        "torch best-of-3 s": t_torch,
        "torch points/s": n_points / t_torch,
        "net(x) / torch speed": t_torch / t_np,
        "max |net - torch|": float(np.max(np.abs(y_np - y_torch))),
        "max |net(x) - x^2|": err,
        "bound 2^-22": 2.0**-22,
    }


def bench_chunks(n_points: int, chunks=(1024, 4096, 16384, 65536), repeats: int = 3) -> dict:
    """net(x) time against the row-chunk size it evaluates in (network._CHUNK), restored after."""
    from relunet.constructions import network

    rng = np.random.default_rng(SEED + 2)
    x = rng.random(n_points)
    net = yarotsky_square(10)
    default = network._CHUNK
    out = {"points": n_points, "default": default, "seconds": {}}
    try:
        for chunk in sorted(set(chunks) | {default}):
            network._CHUNK = chunk
            out["seconds"][chunk] = best_of(lambda: net(x), repeats)[0]
    finally:
        network._CHUNK = default
    return out


CLI_CASES = {
    "relunet --help": "import sys; from relunet.verify.cli import main; sys.argv[0] = 'relunet';"
                      " main(['--help'])",
    "relunet bound approx.square.error --set m=5": "from relunet.verify.cli import main;"
                                                   " main(['bound', 'approx.square.error', '--set', 'm=5'])",
    "the same bound, torch and the claims imported first": "import torch, relunet.verify.claim;"
                                                            " from relunet.verify.cli import main;"
                                                            " main(['bound', 'approx.square.error', '--set', 'm=5'])",
}


CLI_BOUND, CLI_BOUND_EAGER = list(CLI_CASES)[1:]


def bench_cli(repeats: int) -> dict:
    """(c) median wall time of a fresh Python process for each case of CLI_CASES."""
    out = {}
    for label, code in CLI_CASES.items():
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=False, capture_output=True)
            times.append(time.perf_counter() - t0)
        out[label] = statistics.median(times)
    return out


def render(info: dict, a: dict, b: dict, chunks: dict, cli: dict, quick: bool) -> str:
    def row(k, v):
        return f"| {k} | {v} |"

    lines = [
        "# Foundation benchmarks",
        "",
        "Written by `python benchmarks/bench_foundation.py"
        + (" --quick`: reduced sizes, a smoke test only." if quick else "`."),
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        *(row(k, v) for k, v in info.items()),
        "",
        "## (a) Bound evaluation: `minimax_lower_bound().evaluate` vs sympy",
        "",
        f"c n^(-2r/(2r+d)) at {a['points']:,} points (seed {SEED}): n integer in [1, 10^6], "
        "r in [0.1, 5], d integer in [1, 20], c in [0.1, 10].  sympy: "
        f"`expr.subs(...).evalf()` in a Python loop over the first {a['sympy points']:,} "
        "points, extrapolated per point.",
        "",
        "| figure | value |",
        "|---|---|",
        row("first call (builds the lambdify), 10 points",
            f"{a['first call (lambdify, 10 points) s']:.4f} s"),
        row(f"evaluate, {a['points']:,} points, best of 5", f"{a['evaluate best-of-5 s']:.4f} s"),
        row("evaluate, per point", f"{a['evaluate per point s'] * 1e9:.1f} ns"),
        row("sympy subs + evalf, per point", f"{a['sympy per point s'] * 1e6:.1f} µs"),
        row("speed-up per point (target >= 1000x)",
            f"{a['ratio']:,.0f}x ({'met' if a['ratio'] >= 1000 else 'NOT met'})"),
        row("evaluate under 0.2 s (target)", "yes" if a["under 0.2 s"] else "NO"),
        row("max relative difference on the subset (target <= 1e-12)",
            f"{a['max rel diff']:.2e} ({'agree' if a['agree'] else 'DISAGREE'})"),
        "",
        "## (b) Network evaluation: `yarotsky_square(10)`, float64",
        "",
        f"{b['points']:,} uniform points of [0, 1); best of 3 for each.",
        "",
        "| figure | value |",
        "|---|---|",
        row("`net(x)` (numpy)",
            f"{b['net(x) best-of-3 s']:.3f} s, {b['net(x) points/s']:.3e} points/s"),
        row("`net.to_module()` (torch float64, no_grad)",
            f"{b['torch best-of-3 s']:.3f} s, {b['torch points/s']:.3e} points/s"),
        row("ratio: numpy speed / torch speed", f"{b['net(x) / torch speed']:.2f}"),
        row("max abs difference numpy vs torch", f"{b['max |net - torch|']:.2e}"),
        row("max abs error vs x^2 (bound 2^-22 = 2.38e-07)", f"{b['max |net(x) - x^2|']:.3e}"),
        "",
        "### Sensitivity of `net(x)` to its chunk size",
        "",
        f"`net(x)` evaluates in row chunks of `relunet.constructions.network._CHUNK` "
        f"(default {chunks['default']:,}); here set temporarily, {chunks['points']:,} points, "
        "best of 3.",
        "",
        "| chunk | seconds | points/s |",
        "|---|---|---|",
        *(f"| {c:,}{' (default)' if c == chunks['default'] else ''} | {t:.3f} | "
          f"{chunks['points'] / t:.3e} |" for c, t in chunks["seconds"].items()),
        "",
        "## (c) Start-up of the `relunet` command",
        "",
        "Median wall time of a fresh Python process running the command through "
        "`relunet.verify.cli.main`.",
        "",
        "| command | seconds |",
        "|---|---|",
        *(row(f"`{k}`" if k.startswith("relunet") else k, f"{v:.2f}") for k, v in cli.items()),
        row("ratio: with torch and the claims / without", f"{cli[CLI_BOUND_EAGER] / cli[CLI_BOUND]:.1f}"),
        "",
    ]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="markdown file to write")
    parser.add_argument("--quick", action="store_true", help="100x fewer points (smoke test)")
    args = parser.parse_args(argv)
    scale = 100 if args.quick else 1
    info = machine()
    a = bench_bound(10**6 // scale, max(2000 // scale, 50))
    b = bench_net(10**7 // scale)
    chunks = bench_chunks(10**6 // scale)
    cli = bench_cli(3 if args.quick else 7)
    text = render(info, a, b, chunks, cli, args.quick)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)
    print(f"written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
