"""How often do the seed intervals of `erm.deepening.rate` cover the true slope?

Simulates the full profile's rate sweep (d = 1..4, the same whole-cell sizes, σ = 0.1, r = 1)
with the exact per-sample risk of the histogram estimator (`partition_sample_risk`: no Monte
Carlo test points, no ReLU blending strips), many seeds at once.  The corrected slope of a block
of `seeds` seeds is the claim's statistic; the true slope is -2r/(2r+d), since the exact curve's
bend is removed.  Reported per d: the mean and spread of the statistic, and the coverage of the
percentile bootstrap, the jackknife-t interval at 95%, and the jackknife-t interval at the
Bonferroni level 1 - 0.05/4 the claim uses; then the chance that all four dimensions pass.

Run:  python docs/studies/rate_interval_coverage.py --reps 2000 --seeds 10   (about 15 min, 1 core)
      python docs/studies/rate_interval_coverage.py --dims 2 --reps 140 --network   (about 50 min)
Results are recorded in docs/erm_deepening.md.
"""

from __future__ import annotations

import argparse
import math
import sys

import numpy as np
from tqdm import tqdm

from relunet.constructions.estimators import (
    cells_per_axis,
    partition_sample_risk,
    whole_cell_size,
)
from relunet.verify.claims.erm import _bound_m, _exact_curve, _problem, _rate_risks
from relunet.verify.fitting import bootstrap_slope

FULL_NS = (2**10, 2**12, 2**14, 2**16, 2**17, 2**18)
R, SIGMA = 1.0, 0.1


def risk_curves(d: int, reps: int, network: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(ns, risks[rep, n]): nested inputs per seed, as `RegressionProblem.sample` draws them.

    With `network`, the claim's own measurement instead: the ReLU net f0 and 10^5 Monte Carlo
    test points per seed (seeds 10000 + rep, apart from the profile's 0, 1000, ..., 9000)."""
    ns = np.array(sorted({whole_cell_size(n, R, d, even=True) for n in FULL_NS}), dtype=float)
    prob, bound = _problem(d, R, SIGMA), _bound_m(R, d, SIGMA)
    risks = np.empty((reps, len(ns)))
    for i in tqdm(range(reps), desc=f"d = {d}", disable=not sys.stderr.isatty()):
        for j, n in enumerate(ns.astype(int)):
            if network:
                risks[i, j] = _rate_risks(d, n, R, SIGMA, 1, 100_000, 10_000 + i)[0][0]
                continue
            rng = np.random.default_rng([i, 99])
            x = prob.sample_inputs(n, rng)
            y = prob.target.numpy(x) + prob.noise_draw(n, rng)
            risks[i, j] = partition_sample_risk(x, y, cells_per_axis(n, R, d), R, bound=bound)
    return ns, risks


def coverage(d: int, reps: int, seeds: int, family: int, network: bool = False) -> dict:
    ns, risks = risk_curves(d, reps, network)
    alpha = -2 * R / (2 * R + d)
    shift = _exact_curve(ns, R, d, SIGMA)[1] - alpha
    hits = {"percentile 95%": [], "jackknife-t 95%": [], f"jackknife-t {1 - 0.05 / family:.4g}": []}
    stats = []
    for block in risks[: reps // seeds * seeds].reshape(-1, seeds, len(ns)):
        for name, kwargs in (("percentile 95%", {"interval": "percentile", "n_boot": 1000}),
                             ("jackknife-t 95%", {"interval": "jackknife-t"}),
                             (f"jackknife-t {1 - 0.05 / family:.4g}",
                              {"interval": "jackknife-t", "confidence": 1 - 0.05 / family})):
            slope, (lo, hi) = bootstrap_slope(ns, block, **kwargs)
            hits[name].append(lo - shift <= alpha <= hi - shift)
        stats.append(slope - shift)
    stats = np.array(stats)
    return {"d": d, "alpha": alpha, "blocks": len(stats), "mean": stats.mean(),
            "mean_se": stats.std(ddof=1) / math.sqrt(len(stats)), "sd": stats.std(ddof=1),
            "coverage": {k: float(np.mean(v)) for k, v in hits.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=2000, help="simulated seeds per dimension")
    parser.add_argument("--seeds", type=int, default=10, help="seeds per block (the profile's `seeds`)")
    parser.add_argument("--dims", type=int, nargs="+", default=[1, 2, 3, 4])
    parser.add_argument("--family", type=int, default=4, help="dimensions sharing the 5%% level (Bonferroni)")
    parser.add_argument("--network", action="store_true",
                        help="measure the ReLU net f0 with Monte Carlo test points, as the claim does (slow: "
                             "about 20 s per seed for d = 2)")
    args = parser.parse_args()
    together = {}
    for d in args.dims:
        res = coverage(d, args.reps, args.seeds, args.family, args.network)
        print(f"d = {d}: {res['blocks']} blocks of {args.seeds} seeds; corrected slope {res['mean']:.5f} "
              f"± {res['mean_se']:.5f} (true {res['alpha']:.5f}), sd {res['sd']:.5f}")
        for name, cov in res["coverage"].items():
            print(f"    {name:24s} coverage {cov:.3f}")
            together[name] = together.get(name, 1.0) * cov
    print("all dimensions covered at once (product over independent d):",
          ", ".join(f"{k} {v:.3f}" for k, v in together.items()))


if __name__ == "__main__":
    main()
