"""Damage is found: 32 KiB of garbage in the middle of a real crawled nianbao.db.

`verify` runs SQLite's integrity check (besides re-hashing blobs and WARC payloads) and exits 1 naming the
damage; every other command that opens the archive says so in one line, exits 6 (documented in --help), prints
no traceback and changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import random
import sqlite3

import pytest

from .conftest import SAMPLE_SITES, copy_archive, nianbao

GARBAGE = 32 * 1024


@pytest.fixture(scope="module")
def damaged(crawled, tmp_path_factory):
    data = tmp_path_factory.mktemp("damaged") / "d"
    copy_archive(crawled["data"], data)
    database = data / "nianbao.db"
    with sqlite3.connect(database) as db:  # everything in the one file, as a backup or a copied archive has it
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = database.stat().st_size
    with open(database, "r+b") as handle:
        handle.seek(size // 2 // 4096 * 4096)
        handle.write(random.Random(29).randbytes(GARBAGE))
    # the damage as SQLite itself sees it, independently of nianbao
    with sqlite3.connect(database) as db:
        try:
            verdict = db.execute("PRAGMA integrity_check(1)").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            verdict = str(exc)
    assert verdict != "ok"
    return data


def _digest(data) -> str:
    return hashlib.sha256((data / "nianbao.db").read_bytes()).hexdigest()


def test_verify_names_the_damage_and_exits_1(damaged):
    result = nianbao("verify", "--data", damaged, check=False, timeout=300)
    assert result.returncode == 1, result.stderr
    problems = json.loads(result.stdout)["problems"]
    database = [p["problem"] for p in problems if p["kind"] == "database"]
    assert database and all(p for p in database)
    (line,) = result.stderr.strip().splitlines()
    assert "is damaged" in line and str(damaged / "nianbao.db") in line and database[0] in line


def test_a_good_archive_still_verifies(crawled):
    result = nianbao("verify", "--data", crawled["data"], check=False, timeout=300)
    assert result.returncode == 0 and json.loads(result.stdout)["problems"] == []


@pytest.mark.parametrize("command", [
    ["export"],
    ["export", "--format", "csv"],
    ["reextract", "--workers", "1"],
    ["serve", "--port", "1"],
    ["crawl", "--sites", SAMPLE_SITES, "--portal-url", "http://127.0.0.1:9"],
    ["nightly", "--sites", SAMPLE_SITES, "--portal-url", "http://127.0.0.1:9"],
    ["demo", "--no-serve"],
    ["sites", "--sites", SAMPLE_SITES, "--portal-url", "http://127.0.0.1:9"],
])
def test_every_command_on_a_damaged_archive_says_so_in_one_line(damaged, command):
    before = _digest(damaged)
    result = nianbao(*command, "--data", damaged, check=False, timeout=300)
    assert result.returncode == 6, result.stderr
    assert "Traceback" not in result.stderr
    # one line says it (serve may warn first about its public address, which is another matter)
    (line,) = [line for line in result.stderr.strip().splitlines() if not line.startswith("warning:")]
    assert line.startswith("error: the archive's database") and "is damaged" in line
    assert _digest(damaged) == before  # nothing was written into the damaged file


def test_the_exit_code_is_documented():
    for args in (["--help"], ["crawl", "--help"], ["nightly", "--help"]):
        assert "6   the archive's database DIR/nianbao.db is damaged" in nianbao(*args).stdout
