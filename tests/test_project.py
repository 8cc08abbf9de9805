"""Project rules: ruff is clean and imports run one way (bounds <- constructions <- verify)."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
IMPORT = re.compile(r"^\s*(?:from|import)\s+([\w.]+)", re.MULTILINE)


def _imports(folder: str) -> set[tuple[str, str]]:
    found = set()
    for path in (ROOT / folder).rglob("*.py"):
        for name in IMPORT.findall(path.read_text()):
            found.add((path.relative_to(ROOT).as_posix(), name))
    return found


def test_bounds_imports_neither_torch_nor_other_layers():
    bad = {(f, n) for f, n in _imports("bounds")
           if n.split(".")[0] == "torch" or n.startswith(("relunet.constructions", "relunet.verify"))}
    assert not bad
    out = subprocess.run([sys.executable, "-c",
                          "import sys, relunet.bounds; print('torch' in sys.modules)"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_constructions_do_not_import_verify():
    assert not {(f, n) for f, n in _imports("constructions") if n.startswith("relunet.verify")}


@pytest.mark.skipif(shutil.which("ruff") is None and not Path(sys.executable).with_name("ruff").exists(),
                    reason="ruff is not installed (pip install -e .[dev])")
def test_ruff_is_clean():
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    out = subprocess.run([ruff, "check", str(ROOT)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
