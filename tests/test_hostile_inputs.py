"""Every bad input: no crash, no hang, a recorded failure or warning with a reason, no invented figure."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from archive.extraction import extract_versions
from archive.store import Archive

from .conftest import ROOT
from .hostile_corpus import corpus

TABLES = ("active_disclosure", "applications", "review_litigation")


def figures(record: dict):
    for table in TABLES:
        for row, cells in record.get(table, {}).items():
            if row != "extra":
                for column, value in cells.items():
                    yield (table, row, column), value


@pytest.mark.slow
def test_hostile_corpus(tmp_path):
    files = corpus()
    assert len(files) >= 300
    archive = Archive(tmp_path / "archive")
    truth, names = {}, {}
    for n, (name, data, record) in enumerate(files):
        report_id = archive.ensure_report(f"语料{n:03d}", 2000 + n % 25, name)
        if not data:
            data = b""  # an empty payload is archived like any other
        version_id, _ = archive.store_payload(report_id=report_id, url=f"file:///corpus/{name}", role="local", data=data)
        truth[version_id], names[version_id] = record, name
    jobs = archive.pending_versions()
    stats = extract_versions(archive, jobs, workers=2, time_limit=60, memory_limit=3 * 2**30)
    tally: Counter = Counter()
    reasons: Counter = Counter()
    for row in archive.db.query("SELECT id, extract_status, extract_error, record FROM versions"):
        name = names[row["id"]]
        assert row["extract_status"] in ("ok", "failed"), name
        if row["extract_status"] == "failed":
            assert row["extract_error"], name
            tally["failed"] += 1
            reasons[row["extract_error"].split(":")[0][:60]] += 1
            continue
        record = json.loads(row["record"])
        tally["read, with warnings" if record["warnings"] else "read"] += 1
        expected = truth[row["id"]]
        for key, value in figures(record):
            if expected is None:
                raise AssertionError(f"{name}: figure {key}={value!r} from a file that holds none")
            table, line, column = key
            assert expected[table][line][column] == value, (name, key)  # never a wrong figure
        if expected is not None and not record["warnings"]:
            assert all(dict(figures(record)).get(k) == v for k, v in figures(expected)), name
    assert stats.ok + stats.failed == len(jobs)
    report = {"files": len(files), "versions": len(jobs), **tally, "failure_reasons": dict(reasons.most_common())}
    (ROOT / "test-artifacts").mkdir(exist_ok=True)
    (ROOT / "test-artifacts" / "hostile-tally.json").write_text(json.dumps(report, ensure_ascii=False, indent=1))
    print(json.dumps(report, ensure_ascii=False, indent=1))
