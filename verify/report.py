"""Reports: the verdict table and the figures, as Markdown and as HTML."""

from __future__ import annotations

import html
import shutil
from collections.abc import Sequence
from pathlib import Path

from .claim import Verdict, _num, _short

__all__ = ["write_report"]

_COLUMNS = ("claim", "parameters", "status", "predicted", "measured", "CI", "tolerance",
            "seconds")


def params_text(v: Verdict) -> str:
    """The verdict's parameters in one short string; a sweep's are marked as such."""
    params = " ".join(f"{k}={_short(x)}" for k, x in v.params.items())
    return "sweep " + params if v.kind == "aggregate" else params


def _row(v: Verdict) -> list[str]:
    params = params_text(v)
    ci = f"[{_num(v.ci[0])}, {_num(v.ci[1])}]" if v.ci else "-"
    return [v.claim, params, v.status, _num(v.predicted), _num(v.measured), ci,
            _num(v.tolerance), f"{v.seconds:.2f}"]


def _figures(verdicts: Sequence[Verdict], out: Path) -> list[tuple[str, str]]:
    """Copy each existing figure into out/figures; return (caption, relative path) pairs."""
    figs = []
    target_dir = out / "figures"
    for v in verdicts:
        for f in v.figures:
            src = Path(f)
            if not src.is_file():
                continue
            target_dir.mkdir(parents=True, exist_ok=True)
            dst = target_dir / src.name
            if src.resolve() != dst.resolve():
                shutil.copyfile(src, dst)
            figs.append((f"{v.claim} ({params_text(v)})", f"figures/{src.name}"))
    return figs


def write_report(verdicts: Sequence[Verdict], out_dir: str | Path, title: str = "relunet verify") -> tuple[Path, Path]:
    """Write report.md and report.html into `out_dir`; return their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    counts = {s: sum(v.status == s for v in verdicts) for s in ("pass", "fail", "inconclusive", "error")}
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "no verdicts"
    figs = _figures(verdicts, out)
    notes = [(f"{v.claim} ({params_text(v)})" if v.params else v.claim, v.status, v.message, v.tolerance_reason,
              v.control) for v in verdicts]

    md = [f"# {title}", "", f"{len(verdicts)} verdicts: {summary}.", "",
          "| " + " | ".join(_COLUMNS) + " |", "|" + "---|" * len(_COLUMNS)]
    md += ["| " + " | ".join(c.replace("|", "\\|") for c in _row(v)) + " |" for v in verdicts]
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

    rows = "\n".join(
        f'<tr class="{html.escape(v.status)}">' + "".join(f"<td>{html.escape(c)}</td>" for c in _row(v)) + "</tr>"
        for v in verdicts
    )
    head = "".join(f"<th>{c}</th>" for c in _COLUMNS)
    note_items = "\n".join(
        f"<li><b>{html.escape(c)}</b>, {html.escape(s)}: "
        + html.escape("; ".join(b for b in (m, f"tolerance: {r}" if r else "", _control_text(ctl)) if b))
        + "</li>"
        for c, s, m, r, ctl in notes if m or r or ctl
    )
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
tr.pass td:nth-child(3) {{ color: #176317; font-weight: bold; }}
tr.fail td:nth-child(3), tr.error td:nth-child(3) {{ color: #a31515; font-weight: bold; }}
tr.inconclusive td:nth-child(3) {{ color: #8a6d00; font-weight: bold; }}
figure {{ display: inline-block; margin: 1em; }} img {{ max-width: 560px; }}
</style></head><body>
<h1>{html.escape(title)}</h1><p>{len(verdicts)} verdicts: {html.escape(summary)}.</p>
<table><thead><tr>{head}</tr></thead><tbody>
{rows}
</tbody></table>
<h2>Notes</h2><ul>
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
