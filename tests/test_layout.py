"""README's layout table matches the tree: a row for every top-level directory, every path it names exists,
and every module of the Python packages is named in its package's row."""

from __future__ import annotations

import re
import subprocess

from .conftest import ROOT

PACKAGES = ("crawler", "pipelines", "archive", "nianbao", "sampleportal", "bench")


def _rows() -> dict[str, str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text.split("## Layout", 1)[1].split("\n\n", 2)[1]
    rows = {}
    for line in table.splitlines()[2:]:
        path, what = [cell.strip() for cell in line.strip("|").split("|", 1)]
        rows[path.strip("`")] = what
    return rows


def _tracked() -> list[str]:
    return subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()


def test_every_top_level_directory_has_a_row():
    directories = {path.split("/")[0] + "/" for path in _tracked() if "/" in path}
    assert directories - set(_rows()) == set()
    assert set(_rows()) - directories - {"top level"} == set()


def test_every_path_a_row_names_exists():
    missing = []
    for directory, what in _rows().items():
        base = ROOT if directory == "top level" else ROOT / directory
        for name in re.findall(r"`([\w./-]+(?:/|\.py|\.cfg|\.toml|\.lock|\.md|\.yml|\.json|\.sh))`", what):
            # a name may be given relative to a subdirectory the row mentions first (readers/ … metadata.py)
            if not (base / name).exists() and not (ROOT / name).exists() and not any(base.rglob(name.rstrip("/"))):
                missing.append(f"{directory} {name}")
    assert missing == []


def test_every_module_is_named_in_its_row():
    rows, unnamed = _rows(), []
    for package in PACKAGES:
        what = rows[package + "/"]
        for path in sorted((ROOT / package).iterdir()):
            if path.name.startswith(("_", ".")) or path.name in ("site",):
                continue
            if path.suffix == ".py" or (path.is_dir() and (path / "__init__.py").exists()):
                name = path.name + ("/" if path.is_dir() else "")
                if f"`{name}`" not in what and f"`{name[:-1]}`" not in what:
                    unnamed.append(f"{package}/{name}")
    assert unnamed == []
