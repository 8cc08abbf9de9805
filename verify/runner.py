"""Running claims: expand units, skip those already in the store, record the rest, aggregate."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from .claim import Claim, RunContext, Verdict
from .environment import resolve_device
from .store import ResultsStore, unit_key

__all__ = ["plan", "run_claims"]


def plan(claims: Sequence[Claim], profile: str, overrides: dict) -> list[tuple[Claim, dict, list[dict]]]:
    """Resolve parameters: (claim, values, units) for each claim.

    Each ``--set NAME=VALUE`` applies to the selected claims that have a parameter NAME; a
    name that no selected claim has is an error.
    """
    known = {p.name for c in claims for p in c.params}
    for name in overrides:
        if name not in known:
            ids = ", ".join(c.id for c in claims)
            raise ValueError(f"--set {name}: no selected claim has a parameter {name!r} ({ids})")
    out = []
    for claim in claims:
        mine = {k: v for k, v in overrides.items() if k in {p.name for p in claim.params}}
        values = claim.resolve(profile, mine)
        out.append((claim, values, claim.units(values)))
    return out


def run_claims(
    claims: Sequence[Claim],
    *,
    profile: str = "quick",
    overrides: dict | None = None,
    seed: int = 0,
    device: str = "cpu",
    store: ResultsStore | None = None,
    figure_dir: Path | None = None,
    progress: bool | None = None,
    on_verdict: Callable[[Verdict], None] | None = None,
) -> list[Verdict]:
    """Run the claims' units and aggregates; finished units found in `store` are not rerun.

    Parameters
    ----------
    progress : bool, optional
        Show a progress bar; by default only when stderr is a terminal.
    on_verdict : callable (Verdict) -> None, optional
        Called with each verdict as soon as it is known (the CLI prints it), with the progress
        bar cleared, so that an interrupted run has shown everything it finished.
    """
    from tqdm import tqdm

    device = resolve_device(device)
    jobs = plan(claims, profile, overrides or {})
    total = sum(len(units) + (c.aggregate is not None) for c, _, units in jobs)
    show = sys.stderr.isatty() if progress is None else progress
    bar = tqdm(total=total, disable=not show, file=sys.stderr, unit="unit", dynamic_ncols=True)
    ctx = RunContext(seed=seed, device=device, profile=profile, figure_dir=figure_dir)
    verdicts: list[Verdict] = []

    def finished(verdict: Verdict) -> None:
        verdicts.append(verdict)
        if on_verdict is not None:
            with bar.external_write_mode():
                on_verdict(verdict)

    try:
        for claim, values, units in jobs:
            bar.set_description(claim.id)
            where = {"profile": profile, "device": device}
            done = []
            for params in units:
                done.append(_run_one(store, unit_key(claim.id, params, seed, **where), ctx,
                                     lambda p=params, c=claim: c.run_unit(p, ctx)))
                bar.update(1)
                finished(done[-1])
            if claim.aggregate is not None:
                # a sweep verdict built on errored units is neither read from nor written to the store:
                # the next run reruns those units and so must recompute it
                clean = store if all(v.status != "error" for v in done) else None
                agg = _run_one(clean, unit_key(claim.id, values, seed, "aggregate", **where), ctx,
                               lambda v=values, d=done, c=claim: c.run_aggregate(v, d, ctx))
                bar.update(1)
                if agg is not None:
                    agg.params = claim.as_run(values, units)
                    finished(agg)
    finally:
        bar.close()
    return verdicts


def _run_one(store: ResultsStore | None, key: str, ctx: RunContext, work) -> Verdict | None:
    found = store.get(key) if store is not None else None
    if found is not None and (ctx.figure_dir is None or _reuse_figures(found, ctx.figure_dir)):
        return found
    verdict = work()
    # Errors are not recorded: a rerun should try them again.  A stored verdict that lacks the
    # figures a report asks for is rerun (same unit, same seed) and replaced by the run that drew them.
    if store is not None and verdict is not None and verdict.status != "error":
        store.put(key, verdict, replace=found is not None)
    return verdict


def _reuse_figures(found: Verdict, figure_dir: Path) -> bool:
    """Whether a stored verdict can serve a report: it ran with figures on and every file it drew
    still exists (copied into `figure_dir` when it lies elsewhere)."""
    paths = [Path(f) for f in found.figures]
    if not found.figures_requested or not all(p.is_file() for p in paths):
        return False
    figure_dir.mkdir(parents=True, exist_ok=True)
    for i, path in enumerate(paths):
        target = figure_dir / path.name
        if path.resolve() != target.resolve():
            shutil.copy2(path, target)
        found.figures[i] = str(target)
    return True
