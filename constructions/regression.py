"""Regression problems on [0, 1]^d: targets of known Hölder exponent, input densities and noise.

A `RegressionProblem` draws seeded samples (X, y) with y = f(X) + noise, X from a bounded
density, and measures excess risk E|g(X) - f(X)|^2 of any estimator g by Monte Carlo on fresh
draws.

References
----------
``shared/theory/erm_deepening.md`` §2 (setting) and §8 (experiment E1: f(x) = Σ_k |x_k - 1/2|^r
is exactly Hölder-r for r <= 1).  J. Schmidt-Hieber, Ann. Statist. 48(4) (2020), for the
composite class.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy as sp

from .targets import Target
from .validation import check_int, check_real, check_seed

__all__ = ["DENSITIES", "NOISES", "RegressionProblem", "RiskEstimate", "composite_target", "holder_target",
           "radial_target", "smooth_target"]

DENSITIES = ("uniform", "cosine")
NOISES = ("gaussian", "bounded")
# excess_risk draws its test inputs in blocks of this many (the default chunk), whatever the chunk
_TEST_BLOCK = 1 << 14


def _check_dim(d) -> int:
    return check_int("d", d, 1)


def _check_r(r, upper: float = 2.0, name: str = "r") -> sp.Expr:
    return sp.nsimplify(check_real(name, r, 0, upper, low_open=True))


def holder_target(r: float, d: int) -> Target:
    """f(x) = Σ_k |x_k - 1/2|^r on [0, 1]^d: Hölder-r exactly (not smoother), for 0 < r <= 2.

    For r <= 1 the kink at 1/2 makes the Hölder exponent exactly r; for 1 < r < 2 the
    derivative r sign(t)|t|^(r-1) is (r-1)-Hölder; r = 2 is smooth.

    Examples
    --------
    >>> holder_target(0.5, 2).numpy(np.array([[0.75, 0.5]])).tolist()
    [0.5]
    """
    d, r = _check_dim(d), _check_r(r)
    syms = Target._symbols(d)
    expr = sp.Add(*[sp.Abs(s - sp.Rational(1, 2)) ** r for s in syms])
    return Target(expr, d, name=f"sum|x-1/2|^{r}")


def smooth_target(d: int) -> Target:
    """f(x) = Π_k sin(π x_k): infinitely smooth (any r).

    Examples
    --------
    >>> float(round(smooth_target(1).numpy(np.array([[0.5]]))[0], 12))
    1.0
    """
    d = _check_dim(d)
    syms = Target._symbols(d)
    return Target(sp.Mul(*[sp.sin(sp.pi * s) for s in syms]), d, name="prod sin(pi x)")


def radial_target(r: float, d: int) -> Target:
    """f(x) = g(|x - c|^2) with g(t) = |t - t0|^r, c the centre of the cube and t0 = d/12.

    Hölder-r as a function of the one variable t = |x - c|^2, so an estimator that uses the
    radial structure sees dimension 1.

    Examples
    --------
    >>> radial_target(1, 1).numpy(np.array([[0.5]])).round(6).tolist()
    [0.083333]
    """
    d, r = _check_dim(d), _check_r(r)
    syms = Target._symbols(d)
    t = sp.Add(*[(s - sp.Rational(1, 2)) ** 2 for s in syms])
    return Target(sp.Abs(t - sp.Rational(d, 12)) ** r, d, name=f"|(|x-c|^2 - d/12)|^{r}")


def composite_target(beta_outer: float, d: int) -> Target:
    """f(x) = |s(x) - 1/2|^beta_outer with s(x) = mean of sin(π x_k / 2)^2: a smooth d-variate
    inner map followed by a beta-Hölder function of one variable (Schmidt-Hieber's class with
    (beta_0, t_0) = (inf, d) and (beta_1, t_1) = (beta_outer, 1)).

    Examples
    --------
    >>> composite_target(1, 2).numpy(np.array([[1.0, 1.0]])).tolist()
    [0.5]
    """
    d, b = _check_dim(d), _check_r(beta_outer, name="beta_outer")
    syms = Target._symbols(d)
    inner = sp.Add(*[sp.sin(sp.pi * s / 2) ** 2 for s in syms]) / d
    return Target(sp.Abs(inner - sp.Rational(1, 2)) ** b, d, name=f"composite beta={beta_outer}")


@dataclass(frozen=True)
class RiskEstimate:
    """Monte Carlo excess risk E|g - f|^2 with its standard error."""

    value: float
    stderr: float
    n_test: int


class RegressionProblem:
    """y = f(X) + noise with X on [0, 1]^d from a bounded density.

    Parameters
    ----------
    target : Target
        The regression function f_rho.
    noise : {"gaussian", "bounded"}
        Gaussian N(0, sigma^2), or uniform on [-sqrt(3) sigma, sqrt(3) sigma] (variance sigma^2).
    sigma : float
        Noise standard deviation (>= 0).
    density : {"uniform", "cosine"}
        "cosine" is p(x) = Π_k (1 + a cos(2π x_k)) with 0 <= a < 1: bounded above by (1 + a)^d
        and below by (1 - a)^d, drawn by rejection.
    density_amplitude : float
        a for the cosine density.

    Examples
    --------
    >>> prob = RegressionProblem(holder_target(1, 1), sigma=0.1)
    >>> x, y = prob.sample(5, seed=0)
    >>> x.shape, y.shape, prob.p_max
    ((5, 1), (5,), 1.0)
    """

    def __init__(self, target: Target, noise: str = "gaussian", sigma: float = 0.1, density: str = "uniform",
                 density_amplitude: float = 0.5):
        if noise not in NOISES:
            raise ValueError(f"noise = {noise!r} is not allowed: use one of {NOISES}")
        if density not in DENSITIES:
            raise ValueError(f"density = {density!r} is not allowed: use one of {DENSITIES}")
        if not (hasattr(target, "dim") and hasattr(target, "numpy")):  # a Target or one like it
            raise ValueError(f"target = {target!r} is not allowed: target must be a Target (holder_target, "
                             "radial_target, composite_target, smooth_target)")
        sigma = check_real("sigma", sigma, 0)
        amplitude = check_real("density_amplitude", density_amplitude, 0, 1, high_open=True)
        self.target, self.noise, self.sigma = target, noise, sigma
        self.density, self.amplitude = density, amplitude
        self.d = target.dim

    @property
    def p_max(self) -> float:
        """Upper bound of the input density."""
        return 1.0 if self.density == "uniform" else (1 + self.amplitude) ** self.d

    def density_at(self, x: np.ndarray) -> np.ndarray:
        """The input density at points of shape (N, d)."""
        if self.density == "uniform":
            return np.ones(len(x))
        return np.prod(1 + self.amplitude * np.cos(2 * np.pi * x), axis=1)

    def sample_inputs(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """n inputs from the density (rejection sampling for "cosine")."""
        n = check_int("n", n, 1)
        if self.density == "uniform":
            return rng.random((int(n), self.d))
        out, have = np.empty((int(n), self.d)), 0
        while have < n:
            cand = rng.random((2 * (int(n) - have) + 16, self.d))
            keep = cand[rng.random(len(cand)) * self.p_max < self.density_at(cand)]
            take = min(len(keep), int(n) - have)
            out[have:have + take] = keep[:take]
            have += take
        return out

    def noise_draw(self, n: int, rng: np.random.Generator) -> np.ndarray:
        if self.noise == "gaussian":
            return self.sigma * rng.standard_normal(n)
        return self.sigma * math.sqrt(3) * (2 * rng.random(n) - 1)

    def sample(self, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """(X, y): n inputs and noisy labels, from ``numpy.random.default_rng(seed)``."""
        rng = np.random.default_rng(check_seed(seed))
        x = self.sample_inputs(n, rng)
        return x, self.target.numpy(x) + self.noise_draw(len(x), rng)

    def excess_risk(self, estimator, n_test: int = 100_000, seed: int = 0, chunk: int = 1 << 14) -> RiskEstimate:
        """E|g(X) - f(X)|^2 on fresh draws; `estimator` maps (N, d) arrays to (N,) or (N, 1).

        The n_test test inputs come from ``default_rng([seed, 7919])`` in blocks of 2^14 (the
        rejection sampling of the cosine density runs per block), so they do not depend on
        `chunk`, which only sets how many points the estimator sees at a time (memory).
        """
        n_test, chunk = check_int("n_test", n_test, 1), check_int("chunk", chunk, 1)
        rng = np.random.default_rng([check_seed(seed), 7919])
        total = total_sq = 0.0
        for x in _rechunk(self._test_blocks(n_test, rng), chunk):
            k = len(x)
            err = (np.asarray(estimator(x), dtype=np.float64).reshape(k) - self.target.numpy(x)) ** 2
            total += float(err.sum())
            total_sq += float((err**2).sum())
        mean = total / n_test
        var = max(total_sq / n_test - mean**2, 0.0)
        return RiskEstimate(mean, math.sqrt(var / n_test), int(n_test))

    def _test_blocks(self, n_test: int, rng: np.random.Generator):
        """The n_test test inputs, drawn in blocks of _TEST_BLOCK (the last one shorter)."""
        for start in range(0, n_test, _TEST_BLOCK):
            yield self.sample_inputs(min(_TEST_BLOCK, n_test - start), rng)


def _rechunk(blocks, chunk: int):
    """The rows of a stream of (m, d) arrays, cut again into arrays of `chunk` rows (the last shorter)."""
    pending = None
    for block in blocks:
        data = block if pending is None else np.concatenate([pending, block])
        stop = len(data) - len(data) % chunk
        for start in range(0, stop, chunk):
            yield data[start:start + chunk]
        pending = data[stop:] if stop < len(data) else None
    if pending is not None:
        yield pending
