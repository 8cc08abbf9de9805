"""Reports: the table, notes and figures, in Markdown and escaped HTML."""

from relunet.verify import Verdict
from relunet.verify.report import write_report


def test_report_contents(tmp_path):
    fig = tmp_path / "f.png"
    fig.write_bytes(b"\x89PNG fake")
    verdicts = [
        Verdict("a.b", {"m": 3}, "pass", 1.0, 1.0, None, 0.0, "exact", "", 0, 0.5, "cpu",
                control={"description": "ctl", "failed": True, "detail": "x"}, figures=[str(fig)]),
        Verdict("a.<c>", {"m": [1, 2, 3, 4, 5, 6]}, "fail", 2.0, 3.0, (2.5, 3.5), 0.1, "why",
                "too big", 0, 0.1, "cpu", kind="aggregate"),
    ]
    md, page = write_report(verdicts, tmp_path / "out")
    text = md.read_text()
    assert "2 verdicts: 1 pass, 1 fail." in text
    assert "| a.b | m=3 | pass |" in text
    assert "sweep m=1..6(6)" in text and "[2.5, 3.5]" in text
    assert "negative control failed as it must: ctl" in text
    assert "- **a.b (m=3)**, pass: " in text  # notes name the unit they are about
    assert "- **a.<c> (sweep m=1..6(6))**, fail: too big" in text
    assert "![a.b (m=3)](figures/f.png)" in text
    assert (tmp_path / "out" / "figures" / "f.png").is_file()
    html = page.read_text()
    assert "a.&lt;c&gt;" in html and "<c>" not in html
    assert 'class="fail"' in html
