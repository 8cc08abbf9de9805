"""Every Python example in the README and in docs/ runs as written.

The blocks of one page run in order in one namespace, as a reader would paste them, in a
temporary working directory; a ``test_*`` function a page defines (the guide's example of a
claim in a user's own test suite) is called too.
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def python_blocks(page: Path) -> list[str]:
    return PYTHON_BLOCK.findall(page.read_text(encoding="utf-8"))


def test_the_pages_have_examples():
    # a negative control for the regex: the README's tour has several blocks
    assert len(python_blocks(ROOT / "README.md")) >= 5


@pytest.mark.parametrize("page", [p for p in PAGES if python_blocks(p)], ids=lambda p: p.name)
def test_page_examples_run(page, tmp_path, monkeypatch):
    from relunet.verify import all_claims, claim

    all_claims()  # load the built-in claims, then keep a page's own claims out of the other tests
    monkeypatch.setattr(claim, "_REGISTRY", dict(claim._REGISTRY))
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": f"docs_{page.stem}"}
    for number, block in enumerate(python_blocks(page)):
        exec(compile(block, f"{page.name}, python block {number}", "exec"), namespace)
    for name, value in list(namespace.items()):
        if name.startswith("test_") and callable(value):
            value()


TRANSCRIPT_BLOCK = re.compile(r"^```\n(\$ relunet .*?)^```", re.DOTALL | re.MULTILINE)


def transcripts() -> list[tuple[str, str, str]]:
    """(page, command, expected output) for each ``$ relunet ...`` line in a plain code block."""
    found = []
    for page in PAGES:
        for block in TRANSCRIPT_BLOCK.findall(page.read_text(encoding="utf-8")):
            for chunk in filter(None, re.split(r"^(?=\$ )", block, flags=re.MULTILINE)):
                command, _, expected = chunk.partition("\n")
                found.append((page.name, command[2:], expected))
    return found


def test_the_pages_have_transcripts():
    assert len(transcripts()) >= 3


@pytest.mark.parametrize("page, command, expected", transcripts(), ids=[c for _, c, _ in transcripts()])
def test_transcripts_match_the_cli(page, command, expected, capsys):
    """The shown output, with ``...`` standing for lines left out, is what the command prints."""
    import doctest
    import shlex

    from relunet.verify.cli import main

    assert main(shlex.split(command)[1:]) == 0
    printed = capsys.readouterr().out
    checker = doctest.OutputChecker()
    assert checker.check_output(expected, printed, doctest.ELLIPSIS), f"{page}: {command}\n{printed}"
