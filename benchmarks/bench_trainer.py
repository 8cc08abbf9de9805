"""Benchmarks of the batched trainer and the spectral tools.

Measures, side by side in one run, and reports ratios:

(a) K models trained by full-batch GD as one stacked program (``BatchedTrainer``) against a loop
    of ordinary ``torch.nn`` models (``nn.Sequential`` of ``nn.Linear`` and ``nn.ReLU``, one
    ``torch.optim.SGD`` each).  CPU size: K = 256, two hidden layers of width 32, d = 8,
    n = 256, 200 steps, float32.  GPU size (``--device cuda``): width 64, n = 1024.  On CUDA
    it also reports the achieved FLOP rate against a measured fp32 matmul rate.
(b) The top eigenvalue of the normalised NTK of a width-1024 two-layer ReLU net with d = 784,
    n = 128: matrix-free Lanczos against the dense Jacobian, time and peak memory added (each in
    a fresh subprocess; resident memory sampled every millisecond on CPU,
    ``torch.cuda.max_memory_allocated`` on CUDA).
(c) (CUDA only) a catapult learning-rate sweep: K = 64 learning rates, width 1024, n = 128,
    d = 784, 1000 GD steps: wall time.

Usage::

    python benchmarks/bench_trainer.py [--device cpu|cuda] [--out PATH] [--quick]

``--quick`` shrinks every size (a smoke test, not reference figures).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_foundation import machine  # noqa: E402

from relunet.constructions.models import StackedMLP  # noqa: E402
from relunet.constructions.training import BatchedTrainer  # noqa: E402

SEED = 7


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def _data(k: int, n: int, d: int, device: str, dtype=torch.float32):
    g = torch.Generator().manual_seed(SEED)
    x = torch.randn(k, n, d, generator=g, dtype=dtype)
    y = torch.sin(x.sum(-1, keepdim=True))
    return x.to(device), y.to(device)


def stacked_run(k, width, d, n, steps, device, compile_mode=None):
    mlp = StackedMLP(d, width, 2, parameterization="standard")
    x, y = _data(k, n, d, device)
    trainer = BatchedTrainer(mlp, lr=0.05, steps=steps, record_every=steps, metrics=("loss",),
                             device=device, dtype=torch.float32, check_every=steps, progress=False)
    trainer.fit(x[:, :8], y[:, :8], seeds=range(k))  # warm-up (allocations, kernels)
    _sync(device)
    t0 = time.perf_counter()
    trainer.fit(x, y, seeds=range(k))
    _sync(device)
    return time.perf_counter() - t0, trainer


def loop_run(k, width, d, n, steps, device, models=None):
    """Ordinary nn.Modules, one optimizer each, trained one after another; `models` subsample."""
    x, y = _data(k, n, d, device)
    count = k if models is None else min(models, k)
    torch.manual_seed(SEED)
    t0 = time.perf_counter()
    for i in range(count):
        net = torch.nn.Sequential(torch.nn.Linear(d, width), torch.nn.ReLU(),
                                  torch.nn.Linear(width, width), torch.nn.ReLU(),
                                  torch.nn.Linear(width, 1)).to(device)
        opt = torch.optim.SGD(net.parameters(), lr=0.05)
        for _ in range(steps):
            opt.zero_grad(set_to_none=True)
            loss = 0.5 * ((net(x[i]) - y[i]) ** 2).mean()
            loss.backward()
            opt.step()
    _sync(device)
    return (time.perf_counter() - t0) * k / count


def flops_per_step(k, width, d, n) -> float:
    """Multiply-adds x2 of forward (1x) and backward (2x) of the three matmuls, all models."""
    macs = n * (d * width + width * width + width)
    return 2.0 * 3.0 * macs * k


def matmul_rate(device: str, size: int = 4096) -> float:
    a = torch.randn(size, size, device=device)
    b = torch.randn(size, size, device=device)
    for _ in range(3):
        a @ b
    _sync(device)
    reps = 20 if device == "cuda" else 2
    t0 = time.perf_counter()
    for _ in range(reps):
        a @ b
    _sync(device)
    return 2.0 * size**3 * reps / (time.perf_counter() - t0)


NTK_CHILD = r"""
import json, resource, sys, time, torch
from relunet.constructions.models import StackedMLP
from relunet.constructions import spectral
method, device, width, d, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
mlp = StackedMLP(d, width, 1, bias=False, parameterization="ntk")
params = mlp.init([0], torch.float32, device)
x = torch.randn(1, n, d, generator=torch.Generator().manual_seed(1)).to(device)
if device == "cuda":
    torch.cuda.synchronize(); torch.cuda.reset_peak_memory_stats()
# CPU: the process's resident memory, sampled every millisecond by a thread during the
# computation (ru_maxrss cannot see an increase below the peak the imports already reached).
import os, threading
page = os.sysconf("SC_PAGE_SIZE")
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * page
base, top, done = rss(), [0], threading.Event()
def sample():
    while not done.is_set():
        top[0] = max(top[0], rss())
        time.sleep(0.001)
watcher = threading.Thread(target=sample, daemon=True)
watcher.start()
t0 = time.perf_counter()
if method == "dense":
    value = float(torch.linalg.eigvalsh(spectral.ntk_dense(mlp, params, x)[0].double())[-1])
else:
    value = float(spectral.top_ntk_eigenvalues(mlp, params, x, k=1)[0, 0])
if device == "cuda":
    torch.cuda.synchronize()
seconds = time.perf_counter() - t0
done.set()
watcher.join()
top[0] = max(top[0], rss())
peak = (torch.cuda.max_memory_allocated() / 2**20 if device == "cuda" else (top[0] - base) / 2**20)
print(json.dumps({"value": value, "seconds": seconds, "peak_mib": peak}))
"""


def _ratio(big: float, small: float) -> str:
    """big / small, or a lower bound when small is under the 1 MiB resolution of the RSS sampling."""
    return f"{big / small:.1f}x" if small >= 1.0 else f"> {big:.0f}x (matrix-free added < 1 MiB)"


def ntk_compare(device, width, d, n) -> dict:
    out = {}
    for method in ("matrix-free", "dense"):
        proc = subprocess.run([sys.executable, "-c", NTK_CHILD, method, device, str(width), str(d), str(n)],
                              capture_output=True, text=True, check=True)
        out[method] = json.loads(proc.stdout.strip().splitlines()[-1])
    return out


def catapult_sweep(device, k, width, d, n, steps) -> float:
    mlp = StackedMLP(d, width, 1, bias=False, parameterization="ntk")
    x, _ = _data(1, n, d, device)
    x = x.expand(k, n, d).contiguous()
    y = torch.zeros(k, n, 1, device=device)
    lrs = torch.linspace(0.5, 6.0, k).tolist()  # c = eta * lambda0 spans the phases for lambda0 ~ 1
    trainer = BatchedTrainer(mlp, lr=lrs, steps=steps, record_every=10, metrics=("loss", "weight_norm"),
                             device=device, dtype=torch.float32, check_every=steps, progress=False)
    _sync(device)
    t0 = time.perf_counter()
    trainer.fit(x, y, seeds=range(k))
    _sync(device)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    dev = args.device
    out = args.out or HERE / "results" / f"trainer-{dev}.md"
    info = machine()
    if dev == "cuda":
        info["GPU"] = torch.cuda.get_device_name()
    lines = ["# Batched trainer benchmarks", "", f"Written by `python benchmarks/bench_trainer.py --device {dev}`"
             + (" --quick" if args.quick else "") + ".", "", "## Machine", "", "| | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in info.items()]

    k, width, d, n, steps = (256, 32, 8, 256, 200) if dev == "cpu" else (256, 64, 8, 1024, 200)
    if args.quick:
        k, steps = 16, 20
    stacked_s, trainer = stacked_run(k, width, d, n, steps, dev)
    loop_models = None if dev == "cuda" or args.quick else 64
    loop_s = loop_run(k, width, d, n, steps, dev, models=loop_models)
    rate = flops_per_step(k, width, d, n) * steps / stacked_s
    mm = matmul_rate(dev)
    lines += ["", f"## (a) Stacked GD against a loop of nn models ({dev}, float32)", "",
              f"K = {k}, two hidden layers of width {width}, d = {d}, n = {n}, {steps} full-batch GD steps.", "",
              "| figure | value |", "|---|---|",
              f"| stacked (BatchedTrainer) | {stacked_s:.3f} s |",
              f"| loop of nn.Sequential + optim.SGD{' (64 models timed, scaled to K)' if loop_models else ''}"
              f" | {loop_s:.3f} s |",
              f"| speed-up (loop / stacked) | {loop_s / stacked_s:.1f}x |",
              f"| achieved rate, stacked | {rate / 1e9:.2f} GFLOP/s |",
              f"| fp32 matmul rate (4096^2) | {mm / 1e9:.1f} GFLOP/s |",
              f"| fraction of matmul rate | {rate / mm:.1%} |",
              f"| final mean loss | {float(trainer.loss_.mean()):.4g} |"]
    print("\n".join(lines[-9:]), flush=True)

    ntk_w, ntk_d, ntk_n = (1024, 784, 128) if not args.quick else (128, 64, 32)
    res = ntk_compare(dev, ntk_w, ntk_d, ntk_n)
    mf, dn = res["matrix-free"], res["dense"]
    lines += ["", f"## (b) Top NTK eigenvalue, matrix-free against dense ({dev}, float32)", "",
              f"Two-layer ReLU net, width {ntk_w}, d = {ntk_d}, n = {ntk_n}, no bias, NTK parameterization; "
              "each method in a fresh process.", "",
              "| method | eigenvalue | seconds | peak memory added (MiB) |", "|---|---|---|---|",
              f"| matrix-free Lanczos | {mf['value']:.6g} | {mf['seconds']:.3f} | {mf['peak_mib']:.1f} |",
              f"| dense Jacobian + eigvalsh | {dn['value']:.6g} | {dn['seconds']:.3f} | {dn['peak_mib']:.1f} |",
              "", f"Relative difference {abs(mf['value'] - dn['value']) / dn['value']:.2e}; memory ratio "
              f"dense / matrix-free {_ratio(dn['peak_mib'], mf['peak_mib'])}; time ratio "
              f"{dn['seconds'] / mf['seconds']:.2f}x."]
    print("\n".join(lines[-8:]), flush=True)

    if dev == "cuda":
        sweep_steps = 1000 if not args.quick else 50
        seconds = catapult_sweep(dev, 64, 1024, 784, 128, sweep_steps)
        lines += ["", "## (c) Catapult learning-rate sweep (cuda, float32)", "",
                  f"K = 64 learning rates, width 1024, n = 128, d = 784, {sweep_steps} GD steps: {seconds:.2f} s."]
        print(lines[-1], flush=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    main()
