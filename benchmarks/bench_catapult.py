"""Benchmark of the catapult c-sweeps: all learning rates as one batched program.

Measures, in one run:

(a) the quick profile's digits sweep (catapult.phases.relu, data 1): a two-layer bias-free ReLU net of width
    256 on 128 digits 0/1, 14 values of c from 0.5 to 16, 200 full-batch GD steps, λ_max(H_t) on the
    schedule of the claims, float64 -- as one batched ``run_c_sweep`` and as 14 sweeps of one model each;
(b) the quick profile's uv sweep (catapult.phases.uv): width 10^4, 15 values of c x 3 seeds, 400 steps;
(c) (CUDA only) the paper-sized MNIST-like sweep of Meltzer and Liu's figure 3: width 1024, n = 128,
    d = 784 non-negative inputs, 24 values of c from 0.5 to 12, 1000 steps, λ_max(H_t) every 10 steps, in
    float64 and in float32.

Usage::

    python benchmarks/bench_catapult.py [--device cpu|cuda] [--out PATH] [--quick] [--threads N]

``--quick`` shrinks every size (a smoke test, not reference figures).  Randomness comes from fixed seeds.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_foundation import machine  # noqa: E402

from relunet.constructions.catapult import PhaseRules, classify_sweep, run_c_sweep  # noqa: E402
from relunet.constructions.catapult_data import image_two_class  # noqa: E402
from relunet.constructions.catapult_models import StackedUV, homogeneous_mlp  # noqa: E402

RELU_GRID = [0.5, 1.0, 1.5, 1.85, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 12.0, 14.0, 16.0]
UV_GRID = [0.5, 1.0, 1.5, 1.85, 2.15, 2.5, 3.0, 3.5, 3.85, 3.95, 4.05, 4.1, 4.5, 5.0, 6.0]


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def timed(fn, device: str):
    _sync(device)
    t0 = time.perf_counter()
    out = fn()
    _sync(device)
    return time.perf_counter() - t0, out


def digits_sweep(device: str, width: int, steps: int, batched: bool):
    data = image_two_class("digits")
    model = homogeneous_mlp(data.input_dim, width)

    def run(cs):
        return run_c_sweep(model, data.x_train, data.y_train, cs, seeds=0, steps=steps, lam_dense=30, lam_every=20,
                           device=device)

    if batched:
        return timed(lambda: run(RELU_GRID), device)
    return timed(lambda: [run([c]) for c in RELU_GRID], device)


def uv_sweep(device: str, width: int, steps: int):
    cs = UV_GRID * 3
    seeds = [s for s in range(3) for _ in UV_GRID]
    return timed(lambda: run_c_sweep(StackedUV(width), [[1.0]], [0.0], cs, seeds=seeds, steps=steps, lam_dense=30,
                                     lam_every=25, device=device), device)


def paper_sweep(device: str, dtype: torch.dtype, steps: int, width: int = 1024, d: int = 784, n: int = 128):
    g = torch.Generator().manual_seed(3)
    x = torch.rand(n, d, generator=g, dtype=torch.float64) ** 4  # non-negative, mostly dark, like MNIST pixels
    y = torch.where(torch.rand(n, 1, generator=g, dtype=torch.float64) < 0.5, -1.0, 1.0)
    cs = list(np.arange(0.5, 12.01, 0.5))
    model = homogeneous_mlp(d, width)
    return timed(lambda: run_c_sweep(model, x.to(dtype), y.to(dtype), cs, seeds=0, steps=steps, lam_dense=50,
                                     lam_every=10, device=device, dtype=dtype), device)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--threads", type=int, default=None,
                    help="torch intra-op threads (default: torch's choice); on a shared, loaded CPU 1 is much faster")
    args = ap.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    dev = args.device
    if dev == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: CUDA is not available here")
    out = args.out or HERE / "results" / f"catapult-{dev}.md"
    info = machine()
    info["load average at start (1, 5, 15 min)"] = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    if dev == "cuda":
        info["GPU"] = torch.cuda.get_device_name()
    flags = (" --quick" if args.quick else "") + (f" --threads {args.threads}" if args.threads else "")
    lines = ["# Catapult sweep benchmarks", "",
             f"Written by `python benchmarks/bench_catapult.py --device {dev}{flags}`.", "", "## Machine", "",
             "| | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in info.items()]

    width, steps = (256, 200) if not args.quick else (32, 20)
    t_batched, res = digits_sweep(dev, width, steps, batched=True)
    t_loop, _ = digits_sweep(dev, width, steps, batched=False)
    labels = [lab for lab, _ in classify_sweep(res, rules=PhaseRules(converged=0.05, lazy_overshoot=0.05))]
    lines += ["", f"## (a) Digits 0/1 ReLU sweep ({dev}, float64)", "",
              f"Width {width}, n = 128, d = 64, {len(RELU_GRID)} values of c in 0.5..16, {steps} GD steps, "
              "λ_max(H_t) every step to 30 then every 20 (closed-form two-layer NTK).", "",
              "| figure | value |", "|---|---|",
              f"| one batched sweep (K = {len(RELU_GRID)}) | {t_batched:.2f} s |",
              f"| {len(RELU_GRID)} sweeps of one model | {t_loop:.2f} s |",
              f"| speed-up | {t_loop / t_batched:.1f}x |",
              "| labels (rules of catapult.phases.relu) | "
              + ", ".join(f"{c:g}: {lab}" for c, lab in zip(RELU_GRID, labels)) + " |"]
    print("\n".join(lines[-8:]), flush=True)

    uv_width, uv_steps = (10_000, 400) if not args.quick else (1000, 40)
    t_uv, res_uv = uv_sweep(dev, uv_width, uv_steps)
    lines += ["", f"## (b) uv sweep ({dev}, float64)", "",
              f"Width {uv_width}, {len(UV_GRID)} values of c x 3 seeds (K = {3 * len(UV_GRID)}), {uv_steps} steps.", "",
              f"One batched sweep: {t_uv:.2f} s ({int(res_uv.diverged.sum())} of {res_uv.c.size} runs diverged and "
              "were frozen)."]
    print(lines[-1], flush=True)

    if dev == "cuda":
        paper_steps = 1000 if not args.quick else 50
        lines += ["", "## (c) Paper-sized sweep (cuda): figure 3 of Meltzer and Liu, synthetic MNIST-like data", "",
                  f"Width 1024, n = 128, d = 784, 24 values of c in 0.5..12, {paper_steps} steps, λ_max(H_t) every "
                  "step to 50 then every 10.", "", "| dtype | seconds |", "|---|---|"]
        for dtype in (torch.float64, torch.float32):
            t_paper, _ = paper_sweep(dev, dtype, paper_steps)
            lines.append(f"| {str(dtype).replace('torch.', '')} | {t_paper:.2f} |")
            print(lines[-1], flush=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
