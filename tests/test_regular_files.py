"""Blobs are regular files: a symlink or a FIFO planted in an archive is reported by verify, refused by merge
and never read through (the site's /-/blob/ download uses the same check: archive.blobs.regular_file)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from archive.store import Archive

from .conftest import nianbao


@pytest.fixture
def archive_with_one_blob(tmp_path):
    data = tmp_path / "archive"
    archive = Archive(data)
    report = archive.ensure_report("某市某某局", 2023, "某市某某局2023年政府信息公开工作年度报告")
    archive.store_payload(report_id=report, url="http://www.example.gov.cn/2023.html", role="page",
                          data="<p>某市某某局2023年政府信息公开工作年度报告</p>".encode())
    sha256 = archive.db.execute("SELECT sha256 FROM blobs").fetchone()[0]
    return data, archive.blobs.path(sha256)


def plant_symlink(blob: Path, target: str = "/etc/passwd") -> None:
    blob.unlink()
    blob.symlink_to(target)


def test_verify_reports_a_blob_replaced_by_a_symlink(archive_with_one_blob):
    data, blob = archive_with_one_blob
    assert nianbao("verify", "--data", data, check=False).returncode == 0
    plant_symlink(blob)
    result = nianbao("verify", "--data", data, check=False)
    assert result.returncode == 1
    problems = json.loads(result.stdout)["problems"]
    assert any(p["kind"] == "blob" and "symbolic link" in p["problem"] for p in problems)
    assert any(p["kind"] == "file" and p["problem"] == "a symbolic link to /etc/passwd" for p in problems)


def test_verify_reports_a_fifo_and_a_symlinked_directory(archive_with_one_blob, tmp_path):
    data, blob = archive_with_one_blob
    os.mkfifo(data / "blobs" / "planted-fifo")
    elsewhere = tmp_path / "elsewhere"
    shutil.move(blob.parent, elsewhere)
    blob.parent.symlink_to(elsewhere)  # the blob is a regular file, but reached through a symlink
    result = nianbao("verify", "--data", data, check=False, timeout=60)  # and verify does not hang on the FIFO
    assert result.returncode == 1
    problems = [p["problem"] for p in json.loads(result.stdout)["problems"]]
    assert "a FIFO" in problems and f"a symbolic link to {elsewhere}" in problems
    assert any("is a symbolic link, not a regular file" in p for p in problems)


def test_merge_refuses_a_shard_holding_a_symlink(archive_with_one_blob, tmp_path):
    shard, blob = archive_with_one_blob
    plant_symlink(blob)
    target = tmp_path / "merged"
    result = nianbao("merge", "--data", target, shard, check=False)
    assert result.returncode == 1
    assert "refusing to merge" in result.stderr and "/etc/passwd" in result.stderr
    assert not target.exists()  # refused before anything was merged


def test_regular_file_is_the_one_check_for_every_reader(archive_with_one_blob):
    from archive.blobs import NotARegularFile, regular_file

    data, blob = archive_with_one_blob
    assert regular_file(blob, data / "blobs") == blob
    with pytest.raises(NotARegularFile):
        regular_file(Path("/etc/passwd"), data / "blobs")
    plant_symlink(blob)
    with pytest.raises(NotARegularFile, match="symbolic link"):
        regular_file(blob, data / "blobs")
    with pytest.raises(NotARegularFile):
        Archive(data).blobs.get(blob.name)


def test_verify_of_a_directory_that_is_not_an_archive_exits_2_and_creates_nothing(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = nianbao("verify", "--data", empty, check=False)
    assert result.returncode == 2 and "is not a nianbao archive" in result.stderr
    assert list(empty.iterdir()) == []
