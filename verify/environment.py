"""Where a verdict was measured: package versions, platform and device."""

from __future__ import annotations

import platform
import sys
from contextlib import contextmanager
from functools import lru_cache

__all__ = ["environment", "one_thread", "resolve_device", "versions"]


@contextmanager
def one_thread(device: str = "cpu"):
    """Run torch with one intra-op thread on the CPU, and restore the setting afterwards.

    The claims train and search with small matrices, where intra-op threads cost more than they
    give: on the 2-core CI machine with other jobs beside it a DLGN step (n = 4000, L = 4, m = 20)
    took 18 ms with one thread and 170-270 ms with two, and the ascent steps and minibatches of the
    intrinsic claims were about ten times slower.  Other devices are left alone.
    """
    import torch

    if device != "cpu":
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@lru_cache(maxsize=1)
def versions() -> dict:
    """Versions of Python, relunet and the numerical libraries."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": sys.version.split()[0], "platform": platform.platform()}
    for pkg in ("relunet", "numpy", "sympy", "scipy", "torch"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def resolve_device(device: str) -> str:
    """Turn "auto", "cpu" or "cuda" into the device to use; ValueError when cuda is absent."""
    import torch

    if device not in ("auto", "cpu", "cuda"):
        raise ValueError(f"device = {device!r} is not allowed: use auto, cpu or cuda")
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device = 'cuda' is not available here (torch finds no CUDA GPU): use cpu or auto")
    return device


def environment(device: str = "cpu") -> dict:
    """Versions plus the device's name (the GPU model for cuda)."""
    env = dict(versions())
    env["device"] = device
    if device.startswith("cuda"):
        import torch

        env["device_name"] = torch.cuda.get_device_name()
    else:
        env["device_name"] = platform.processor() or platform.machine()
    return env
