"""Benchmarks of the DLGN families and the exact path tools.

Measures, side by side in one run:

(a) One Adam step (forward, backward, update) of the batched trainer for a DLGN, a DLGN-SF and a
    ReLU net of the same shape (d = 20, L = 4, m = 20, minibatch 1000, float32): the cost of the
    ``dlgn.accuracy`` quick profile.  The theory page says a DLGN's forward pass costs less than
    twice a ReLU net's (two L-layer products instead of one); the ratio is reported.  Measured at
    one and at two intra-op threads, K = 1 and K = 8 stacked models.
(b) The path sum Σ_π g_π f_π(x) by explicit enumeration against the forward pass, for m^L from
    10^2 to 10^4 paths (d = 3, n = 64 points, float64): what ``dlgn.pathsum`` pays for its
    reference computation.
(c) ``active_path_regions`` (one HiGHS LP per path) for m^L = 8 .. 512 in d = 2.

Usage::

    python benchmarks/bench_dlgn.py [--out PATH] [--quick]

``--quick`` shrinks every size (a smoke test, not reference figures).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_foundation import machine  # noqa: E402

from relunet.constructions.dlgn import StackedDLGN, StackedDLGNSF, relu_baseline  # noqa: E402
from relunet.constructions.dlgn_paths import active_path_regions, path_sum  # noqa: E402
from relunet.constructions.training import BatchedTrainer  # noqa: E402


def _best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def bench_steps(quick: bool) -> list[tuple]:
    d, L, m = 20, 4, 20
    n, batch, steps = (2000, 200, 20) if quick else (20_000, 1000, 100)
    rng = np.random.default_rng(0)
    x = torch.as_tensor(rng.normal(size=(n, d)), dtype=torch.float32)
    y = torch.as_tensor(np.sign(rng.normal(size=n)), dtype=torch.float32)
    dlgn = StackedDLGN(d, m, L, beta=3.0)
    rows = []
    before = torch.get_num_threads()
    try:
        for threads in (1, 2):
            torch.set_num_threads(threads)
            for k in (1, 8):
                per = {}
                for name, model in (("DLGN", dlgn), ("DLGN-SF", StackedDLGNSF(d, m, L)), ("ReLU", relu_baseline(dlgn))):
                    trainer = BatchedTrainer(model, optimizer="adam", lr=0.01, loss="logistic", steps=steps,
                                             batch_size=batch, record_every=steps, dtype=torch.float32)
                    per[name] = _best(lambda t=trainer, k=k: t.fit(x, y, seeds=range(k)), 2) / steps
                rows.append((threads, k, per))
    finally:
        torch.set_num_threads(before)
    return rows


def bench_pathsum(quick: bool) -> list[tuple]:
    torch.set_num_threads(1)
    rows = []
    rng = np.random.default_rng(1)
    x = rng.normal(size=(64, 3))
    shapes = [(10, 2), (20, 2)] if quick else [(10, 2), (5, 4), (22, 3), (100, 2), (10, 4)]
    for m, L in shapes:
        model = StackedDLGN(3, m, L, gating_bias=True, bias_init=0.5)
        params = model.init([0])
        xt = torch.as_tensor(x)[None]
        with torch.no_grad():
            t_fwd = _best(lambda model=model, params=params, xt=xt: model.forward(params, xt), 5)
        t_sum = _best(lambda model=model, params=params: path_sum(model, params, x), 3)
        rows.append((m, L, m**L, t_fwd, t_sum))
    return rows


def bench_regions(quick: bool) -> list[tuple]:
    rows = []
    for m, L in ([(2, 3), (4, 2)] if quick else [(2, 3), (4, 3), (8, 3)]):
        model = StackedDLGN(2, m, L, gating_bias=True, bias_init=0.5)
        params = model.init([0])
        t = _best(lambda model=model, params=params: active_path_regions(model, params), 1)
        rows.append((m, L, m**L, t, active_path_regions(model, params).count))
    return rows


def report(quick: bool) -> str:
    torch.set_num_threads(1)
    lines = ["# DLGN benchmarks", "", "Written by `python benchmarks/bench_dlgn.py`"
             + (" --quick (smoke test, not reference figures)." if quick else "."), "", "## Machine", "",
             "| | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in machine().items()]
    lines += ["", "## (a) One Adam step of the batched trainer (d = 20, L = 4, m = 20, minibatch 1000, float32)", "",
              "Best of 2 runs of 100 steps, per step; K models stacked.  Two threads on two cores are "
              "oversubscribed whenever anything else runs (as on the CI machine): the claims train with one.", "",
              "| threads | K | DLGN | DLGN-SF | ReLU | DLGN / ReLU |", "|---|---|---|---|---|---|"]
    for threads, k, per in bench_steps(quick):
        lines.append(f"| {threads} | {k} | {per['DLGN'] * 1e3:.2f} ms | {per['DLGN-SF'] * 1e3:.2f} ms | "
                     f"{per['ReLU'] * 1e3:.2f} ms | {per['DLGN'] / per['ReLU']:.2f} |")
    lines += ["", "## (b) Path sum by enumeration vs the forward pass (d = 3, 64 points, float64)", "",
              "| m | L | paths m^L | forward | path sum | ratio |", "|---|---|---|---|---|---|"]
    for m, L, paths, t_fwd, t_sum in bench_pathsum(quick):
        lines.append(f"| {m} | {L} | {paths:,} | {t_fwd * 1e3:.3f} ms | {t_sum * 1e3:.2f} ms | {t_sum / t_fwd:.0f}x |")
    lines += ["", "## (c) Active path regions: one LP (scipy HiGHS) per path, d = 2", "",
              "| m | L | paths | time | non-empty in [-1, 1]^2 |", "|---|---|---|---|---|"]
    for m, L, paths, t, count in bench_regions(quick):
        lines.append(f"| {m} | {L} | {paths} | {t:.2f} s | {count} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(HERE / "results" / "dlgn.md"))
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    text = report(args.quick)
    Path(args.out).write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
