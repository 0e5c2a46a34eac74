"""Same bytes, same record, whatever fonts the machine has.

The sample portal's PDFs do not embed their CJK font (STSong-Light, as reportlab and iText write
it); the agencies' own PDFs in ../shared/real embed theirs. Every one is extracted twice: here, with
the system's CJK fonts installed (the suite installs fonts-noto-cjk for Chromium), and in a child
process whose mount namespace hides every directory holding a font that covers Chinese (what a
machine set up with ``scripts/setup.sh --run`` looks like). The records must be equal. The seeds
are text dumps, not PDFs: they have no fonts to hide.

Hiding fonts needs a mount namespace, i.e. root and ``unshare``; without them the test is skipped
and says so, never passed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from pipelines.extract import extract

from .conftest import REAL, ROOT

SITE = ROOT / "sampleportal" / "site"

# The child: extract every file named on the command line, print {path: record} as JSON.
CHILD = """
import json, sys
from pipelines.extract import extract
out = {p: extract(open(p, "rb").read(), name=p.rsplit("/", 1)[-1]) for p in sys.argv[1:]}
print(json.dumps(out, ensure_ascii=False))
"""


def sample_pdfs() -> list[Path]:
    """Every PDF the sample portal serves, whatever its name (some are served without .pdf)."""
    return sorted(p for p in SITE.rglob("*") if p.is_file() and p.open("rb").read(5) == b"%PDF-")


def corpus() -> list[Path]:
    return sample_pdfs() + sorted((REAL / "docs").glob("*.pdf"))


def cjk_font_dirs() -> list[str]:
    """The directories of every font fontconfig says covers Chinese."""
    if not shutil.which("fc-list"):
        return []
    listed = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True).stdout
    return sorted({os.path.dirname(line.split(":")[0]) for line in listed.splitlines() if line.strip()})


def _cannot_hide() -> str | None:
    if os.geteuid() != 0:
        return "not root: hiding the system fonts needs a mount namespace (run the suite as root to test this)"
    if not shutil.which("unshare") or not shutil.which("mount"):
        return "no unshare/mount: cannot hide the system fonts in a mount namespace"
    if not cjk_font_dirs():
        return "no CJK font installed: there is nothing to hide (every run here is already font-less)"
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"unshare -m is refused here ({probe.stderr.strip()}): cannot hide the system fonts"
    return None


def records_without_cjk_fonts(paths: list[Path]) -> tuple[dict, str]:
    """One child process, in its own mount namespace, with an empty directory over every CJK font
    directory; returns its records and what fc-list saw from inside."""
    with tempfile.TemporaryDirectory() as empty:
        mounts = " && ".join(f"mount --bind {empty} '{d}'" for d in cjk_font_dirs())
        script = (f"{mounts} && fc-list :lang=zh file > {empty}.seen; "
                  f"exec {sys.executable} -c '{CHILD}' \"$@\"")
        result = subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", *map(str, paths)], capture_output=True,
                                text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=ROOT, timeout=600)
        assert result.returncode == 0, result.stderr[-2000:]
        seen = Path(f"{empty}.seen").read_text()
        os.unlink(f"{empty}.seen")
    return json.loads(result.stdout), seen


def cells(record: dict) -> int:
    def count(tree):
        return sum(count(v) for v in tree.values()) if isinstance(tree, dict) else 1

    return sum(count(record.get(key, {})) for key in ("active_disclosure", "applications", "review_litigation"))


def test_records_do_not_depend_on_the_hosts_cjk_fonts():
    reason = _cannot_hide()
    if reason:
        print(f"\nNOT RUN: {reason}", file=sys.stderr)
        pytest.skip(f"NOT RUN: {reason}")
    paths = corpus()
    assert len(sample_pdfs()) >= 19, "the sample portal should serve at least 19 PDF reports"
    with_fonts = {str(p): extract(p.read_bytes(), name=p.name) for p in paths}
    without, seen = records_without_cjk_fonts(paths)
    assert seen.strip() == "", f"the CJK fonts were not hidden: {seen}"
    for path in paths:
        a, b = with_fonts[str(path)], without[str(path)]
        assert b == a, f"{path.name}: the record changes when the CJK fonts are hidden"
    # and the records are whole, not equally empty: every table read, 表三 included
    for path in sample_pdfs():
        record = without[str(path)]
        assert "review_litigation" in record and cells(record) >= 190, (path.name, cells(record), record["warnings"])
        assert record["source"]["pages"][0]["reader"] == "pdfminer"
        assert record["source"]["pages"][0]["fonts"] == "not embedded: STSong-Light"
    for path in sorted((REAL / "docs").glob("*.pdf")):
        assert {p["reader"] for p in without[str(path)]["source"]["pages"]} == {"pdfium"}
