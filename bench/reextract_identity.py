"""No figure changes: `nianbao reextract` over the demo archive gives byte-identical records with the code of
another commit (default: the one before the worker pool) and with this checkout.

    .venv/bin/python bench/reextract_identity.py [--before REV] [--workers 2]

The demo archive is made as `nianbao demo --no-serve` makes it (the sample portal crawled by the real
Scrapy engine) by this checkout. Then each side runs its own `nianbao reextract` over its own copy: the
`before` side from `git archive REV` in a temporary directory, this side with `--all` so that every payload
is read again. Compared, byte for byte: every version's status, error, record and text, and the cells and
checks tables. Exits 1 on any difference.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BEFORE = "56b88e0"  # h-throughput's base: fork per document, a LibreOffice per .doc

TABLES = {
    "versions": "SELECT id, sha256, extract_status, extract_error, parser_version, template, record, text "
                "FROM versions ORDER BY id",
    "cells": "SELECT version_id, report_table, row_key, column_key, number, text, raw FROM cells "
             "ORDER BY version_id, report_table, row_key, column_key",
    "checks": "SELECT version_id, check_id, scope, status, expected, actual, detail FROM checks "
              "ORDER BY version_id, check_id, scope",
}


def nianbao(code: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nianbao.cli", *args], cwd=code, check=True, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(code)})


def checkout(rev: str, target: Path) -> Path:
    tar = subprocess.run(["git", "archive", rev], cwd=ROOT, check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
        archive.extractall(target, filter="data")
    return target


def dump(data: Path) -> dict[str, list[tuple]]:
    db = sqlite3.connect(data / "nianbao.db")
    try:
        return {name: db.execute(sql).fetchall() for name, sql in TABLES.items()}
    finally:
        db.close()


def digest(rows: list[tuple]) -> str:
    return hashlib.sha256(repr(rows).encode("utf-8")).hexdigest()[:16]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", default=BEFORE)
    parser.add_argument("--workers", default=str(os.cpu_count() or 2))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        nianbao(ROOT, "demo", "--no-serve", "--data", str(tmp / "demo"))
        old_code = checkout(args.before, tmp / "before")
        shutil.copytree(tmp / "demo", tmp / "old")
        shutil.copytree(tmp / "demo", tmp / "new")
        started = time.perf_counter()
        nianbao(old_code, "reextract", "--data", str(tmp / "old"))
        old_time = time.perf_counter() - started
        started = time.perf_counter()
        nianbao(ROOT, "reextract", "--all", "--workers", args.workers, "--data", str(tmp / "new"))
        new_time = time.perf_counter() - started
        old, new = dump(tmp / "old"), dump(tmp / "new")
        print(f"reextract over the demo archive: {args.before} {old_time:.1f}s, this checkout {new_time:.1f}s")
        same = True
        for name in TABLES:
            equal = old[name] == new[name]
            same &= equal
            print(f"  {name:8s} {len(old[name]):5d} rows {digest(old[name])} | {len(new[name]):5d} rows "
                  f"{digest(new[name])}  {'identical' if equal else 'DIFFERENT'}")
            if not equal:
                for a, b in zip(old[name], new[name]):
                    if a != b:
                        print(f"    first difference: {str(a)[:300]}\n                   vs {str(b)[:300]}")
                        break
        print("byte-identical records" if same else "RECORDS DIFFER")
        sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()
