"""Benchmark of the deepening construction: how long building F takes.

Measures, for the partition base estimator and the wide realisation:

(a) n = 10^5, d = 4 with float64 weights (``exact=False``): build time of f0 and of F, size, and
    the float64 interpolation residual on 1000 samples;
(b) exact rational weights (``exact=True``, the default) for n = 10^3 and 10^4, d = 4: build time;
(c) the quick-profile rate sweep's unit cost: n = 2^13, d = 2, float build plus a 2*10^4-point
    excess-risk estimate.

Usage::

    python benchmarks/bench_erm.py [--out benchmarks/results/erm-cpu.md] [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_foundation import machine  # noqa: E402

from relunet.constructions.deepening import deepen_interpolant  # noqa: E402
from relunet.constructions.estimators import partition_estimator  # noqa: E402
from relunet.constructions.regression import RegressionProblem, holder_target  # noqa: E402


def build(n: int, d: int, exact: bool):
    prob = RegressionProblem(holder_target(1, d), sigma=0.1)
    x, y = prob.sample(n, 0)
    t0 = time.perf_counter()
    f0 = partition_estimator(x, y, 1, bound=d * 0.5 + 0.4)
    t1 = time.perf_counter()
    F = deepen_interpolant(f0, x, y, exact=exact)
    t2 = time.perf_counter()
    return prob, F, t1 - t0, t2 - t1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE / "results" / "erm-cpu.md")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    big = 10_000 if args.quick else 100_000
    lines = ["# Deepening construction benchmarks", "", "Written by `python benchmarks/bench_erm.py`"
             + (" --quick" if args.quick else "") + ".", "", "## Machine", "", "| | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in machine().items()]

    prob, F, t_f0, t_F = build(big, 4, exact=False)
    size = F.wide.size()
    sample = np.random.default_rng(1).choice(len(F.centres), 1000, replace=False)
    t0 = time.perf_counter()
    res = float(np.abs(F.wide(F.centres[sample]).ravel() - F.labels[sample]).max())
    t_eval = time.perf_counter() - t0
    lines += ["", f"## (a) Float64 weights, n = {big:,}, d = 4", "", "| figure | value |", "|---|---|",
              f"| build f0 (partition estimator) | {t_f0:.2f} s |", f"| build F = f0 + bumps | {t_F:.2f} s |",
              f"| F: depth, first-layer width, nonzero parameters | {size.depth}, {size.widths[0]:,}, "
              f"{size.nonzero:,} |",
              f"| largest weight 2/tau | {size.max_abs_weight:g} |",
              f"| evaluate F at 1000 samples (network) | {t_eval:.2f} s |",
              f"| max interpolation residual there / envelope | {res:.2e} / {F.rounding_envelope():.2e} |"]
    print("\n".join(lines[-8:]), flush=True)

    lines += ["", "## (b) Exact rational weights, d = 4", "", "| n | build f0 | build F (exact c_i) |", "|---|---|---|"]
    for n in ([1000] if args.quick else [1000, 10_000]):
        _, _, a, b = build(n, 4, exact=True)
        lines.append(f"| {n:,} | {a:.2f} s | {b:.2f} s |")
        print(lines[-1], flush=True)

    n = 2**13
    t0 = time.perf_counter()
    prob, F, _, _ = build(n, 2, exact=False)
    risk = prob.excess_risk(F, n_test=20_000, seed=0)
    unit = time.perf_counter() - t0
    lines += ["", "## (c) One rate-sweep unit", "",
              f"n = 2^13, d = 2: float build and a 20,000-point excess-risk estimate ({risk.value:.3e}): "
              f"{unit:.2f} s."]
    print(lines[-1], flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
