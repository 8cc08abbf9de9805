"""Reports: the verdict table and the figures, as Markdown and as HTML."""

from __future__ import annotations

import html
import shutil
from collections.abc import Sequence
from pathlib import Path

from .claim import Verdict, _num, _short

__all__ = ["across_seeds", "params_text", "tally_text", "write_report"]

STATUSES = ("pass", "inconclusive", "fail", "error")

_COLUMNS = ("claim", "parameters", "status", "predicted", "measured", "CI", "tolerance",
            "seconds")


def params_text(v: Verdict) -> str:
    """The verdict's parameters in one short string; a sweep's are marked as such."""
    params = " ".join(f"{k}={_short(x)}" for k, x in v.params.items())
    return "sweep " + params if v.kind == "aggregate" else params


def across_seeds(verdicts: Sequence[Verdict]) -> list[tuple[str, dict[str, int]]]:
    """Count the outcomes of each verdict (claim and parameters) over the seeds it ran with.

    Returns ("claim parameters", {status: count}) pairs in the order the verdicts first appear,
    the statuses in the order pass, inconclusive, fail, error and only those that occur.  For a
    statistical claim at level α the share of passes estimates its coverage.
    """
    groups: dict[str, dict[str, int]] = {}
    for v in verdicts:
        tally = groups.setdefault(f"{v.claim} {params_text(v)}".strip(), dict.fromkeys(STATUSES, 0))
        tally[v.status] += 1
    return [(where, {s: n for s, n in tally.items() if n}) for where, tally in groups.items()]


def tally_text(tally: dict[str, int]) -> str:
    """One count of `across_seeds` as text: "19 pass, 1 fail"."""
    return ", ".join(f"{n} {status}" for status, n in tally.items())


def _row(v: Verdict, with_seed: bool = False) -> list[str]:
    params = params_text(v)
    ci = f"[{_num(v.ci[0])}, {_num(v.ci[1])}]" if v.ci else "-"
    return [v.claim, params] + ([str(v.seed)] if with_seed else []) + [
        v.status, _num(v.predicted), _num(v.measured), ci, _num(v.tolerance), f"{v.seconds:.2f}"]


def _figures(verdicts: Sequence[Verdict], out: Path, with_seed: bool = False) -> list[tuple[str, str]]:
    """Copy each existing figure from outside `out` into out/figures (one already inside stays
    where it is, as do the per-seed folders of a run over several seeds); return (caption,
    relative path) pairs."""
    figs = []
    target_dir = out / "figures"
    for v in verdicts:
        for f in v.figures:
            src = Path(f)
            if not src.is_file():
                continue
            if src.resolve().is_relative_to(out.resolve()):
                rel = src.resolve().relative_to(out.resolve()).as_posix()
            else:
                target_dir.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, target_dir / src.name)
                rel = f"figures/{src.name}"
            seed = f", seed {v.seed}" if with_seed else ""
            figs.append((f"{v.claim} ({params_text(v)}{seed})", rel))
    return figs


def write_report(verdicts: Sequence[Verdict], out_dir: str | Path, title: str = "relunet verify") -> tuple[Path, Path]:
    """Write report.md and report.html into `out_dir`; return their paths.

    Verdicts from several seeds get a seed column and a section counting each verdict's
    outcomes across the seeds (`across_seeds`).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    seeds = sorted({v.seed for v in verdicts})
    with_seed = len(seeds) > 1
    columns = _COLUMNS[:2] + ("seed",) * with_seed + _COLUMNS[2:]
    counts = {s: sum(v.status == s for v in verdicts) for s in ("pass", "fail", "inconclusive", "error")}
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "no verdicts"
    figs = _figures(verdicts, out, with_seed)
    notes = [((f"{v.claim} ({params_text(v)})" if v.params else v.claim) + (f" seed {v.seed}" if with_seed else ""),
              v.status, v.message, v.tolerance_reason, v.control) for v in verdicts]
    tallies = [(where, tally_text(tally)) for where, tally in across_seeds(verdicts)]

    md = [f"# {title}", "", f"{len(verdicts)} verdicts: {summary}.", "",
          "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    md += ["| " + " | ".join(c.replace("|", "\\|") for c in _row(v, with_seed)) + " |" for v in verdicts]
    if with_seed:
        md += ["", f"## Across {len(seeds)} seeds", ""] + [f"- {where}: {text}" for where, text in tallies]
    md += ["", "## Notes", ""]
    for claim, status, message, reason, control in notes:
        bits = [b for b in (message, f"tolerance: {reason}" if reason else "",
                            _control_text(control)) if b]
        if bits:
            md.append(f"- **{claim}**, {status}: " + "; ".join(bits))
    if figs:
        md += ["", "## Figures", ""]
        md += [f"![{cap}]({path})" for cap, path in figs]
    md_path = out / "report.md"
    md_path.write_text("\n".join(md) + "\n")

    status_at = columns.index("status")
    rows = "\n".join(
        f'<tr class="{html.escape(v.status)}">'
        + "".join(("<td class=\"status\">" if i == status_at else "<td>") + f"{html.escape(c)}</td>"
                  for i, c in enumerate(_row(v, with_seed))) + "</tr>"
        for v in verdicts
    )
    head = "".join(f"<th>{c}</th>" for c in columns)
    note_items = "\n".join(
        f"<li><b>{html.escape(c)}</b>, {html.escape(s)}: "
        + html.escape("; ".join(b for b in (m, f"tolerance: {r}" if r else "", _control_text(ctl)) if b))
        + "</li>"
        for c, s, m, r, ctl in notes if m or r or ctl
    )
    across = ("" if not with_seed else f"<h2>Across {len(seeds)} seeds</h2><ul>\n"
              + "\n".join(f"<li>{html.escape(w)}: {html.escape(t)}</li>" for w, t in tallies) + "\n</ul>\n")
    fig_html = "\n".join(
        f'<figure><img src="{html.escape(p)}" alt="{html.escape(cap)}"><figcaption>{html.escape(cap)}'
        "</figcaption></figure>" for cap, p in figs
    )
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; }}
td, th {{ border: 1px solid #bbb; padding: 0.25em 0.6em; font-size: 0.9em; }}
tr.pass td.status {{ color: #176317; font-weight: bold; }}
tr.fail td.status, tr.error td.status {{ color: #a31515; font-weight: bold; }}
tr.inconclusive td.status {{ color: #8a6d00; font-weight: bold; }}
figure {{ display: inline-block; margin: 1em; }} img {{ max-width: 560px; }}
</style></head><body>
<h1>{html.escape(title)}</h1><p>{len(verdicts)} verdicts: {html.escape(summary)}.</p>
<table><thead><tr>{head}</tr></thead><tbody>
{rows}
</tbody></table>
{across}<h2>Notes</h2><ul>
{note_items}
</ul>
<h2>Figures</h2>
{fig_html}
</body></html>
"""
    html_path = out / "report.html"
    html_path.write_text(page)
    return md_path, html_path


def _control_text(control: dict | None) -> str:
    if not control:
        return ""
    state = "failed as it must" if control["failed"] else "PASSED (the check cannot tell)"
    detail = f" [{control['detail']}]" if control.get("detail") else ""
    return f"negative control {state}: {control['description']}{detail}"
