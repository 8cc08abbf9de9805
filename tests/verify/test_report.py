"""Reports: the table, notes and figures, in Markdown and escaped HTML."""

from relunet.verify import Verdict
from relunet.verify.report import across_seeds, write_report


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


def test_across_seeds_counts_each_verdict_over_its_seeds(tmp_path):
    def verdict(status, seed, m=3, kind="unit"):
        return Verdict("a.b", {"m": m}, status, 1.0, 1.0, None, 0.0, "exact", "", seed, 0.1, "cpu", kind=kind)

    verdicts = [verdict("pass", 0), verdict("pass", 0, m=4), verdict("fail", 1), verdict("pass", 1, m=4),
                verdict("inconclusive", 2), verdict("error", 3), verdict("pass", 4)]
    assert across_seeds(verdicts) == [("a.b m=3", {"pass": 2, "inconclusive": 1, "fail": 1, "error": 1}),
                                      ("a.b m=4", {"pass": 2})]
    md = write_report(verdicts, tmp_path / "out")[0].read_text()
    assert "| a.b | m=3 | 2 | inconclusive |" in md
    assert "- a.b m=3: 2 pass, 1 inconclusive, 1 fail, 1 error" in md
    # one seed: no seed column and no section across seeds
    single = write_report(verdicts[:2], tmp_path / "one")[0].read_text()
    assert "| a.b | m=3 | pass |" in single and "Across" not in single
