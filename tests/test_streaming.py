"""Report files stream to disk as they arrive; size limits hold while streaming; nothing half-received stays.

A small portal of its own, built here: a real PDF, a 6 MB PDF, a 24 MB file sent without
Content-Length (so the limit can only be found mid-stream), a PDF gzip-compressed against the
crawler's wish, and an article page larger than the page limit. The real Scrapy engine crawls it,
once with a disk that fills up while a file streams in.
"""

from __future__ import annotations

import hashlib
import io
import json
import resource
import signal
import sqlite3
import subprocess
import sys
from urllib.parse import urlsplit

import numpy
import pytest
from PIL import Image
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from archive.warc import read_payload
from sampleportal import one_column
from sampleportal.one_column import Article
from sampleportal.server import Portal

from .conftest import FAST, ROOT, nianbao

FILE_LIMIT = 8_000_000
PAGE_LIMIT = 2_000_000
AGENCY = "测试市统计局"


def noise_pdf(side: int, seed: int) -> bytes:
    """A real PDF whose one image is noise: it does not compress, so its size is what we ask."""
    pixels = numpy.random.default_rng(seed).integers(0, 256, (side, side, 3), dtype=numpy.uint8)
    out = io.BytesIO()
    page = canvas.Canvas(out, pageCompression=0)
    page.drawImage(ImageReader(Image.fromarray(pixels)), 0, 0, 500, 500)
    page.drawString(72, 800, "2022")
    page.save()
    return out.getvalue()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("streaming-portal")
    sample = next((ROOT / "sampleportal" / "site").rglob("*.pdf")).read_bytes()
    served = {"small.pdf": sample, "big.pdf": noise_pdf(1300, 1), "huge.pdf": noise_pdf(2800, 2),
              "gz.pdf": sample.replace(b"%%EOF", b"%%EOF\n%gz")}
    articles = [Article(2023, "/ndbg/small.pdf"), Article(2022, "/ndbg/big.pdf"),
                Article(2021, "/download.jsp?id=huge"), Article(2020, "/download.jsp?id=gz"),
                Article(2019, "/ndbg/none.pdf", padding=PAGE_LIMIT // 3 + 1000),  # 3 bytes a character
                Article(2018, "/ndbg/missing.pdf")]  # 404: its error page streams in, and is thrown away
    routes = {"/download.jsp?id=huge": {"file": "ndbg/huge.pdf", "type": "application/pdf", "delivery": "unsized"},
              "/download.jsp?id=gz": {"file": "ndbg/gz.pdf", "type": "application/pdf", "delivery": "gzip"}}
    registry = one_column.write(root, AGENCY, articles, served, routes)
    return {"registry": registry, "site": root / "site", "routes": root / "routes.json", "served": served}


def crawl(files, data, *settings, **run):
    with Portal(site=files["site"], routes=files["routes"]) as portal:
        result = nianbao("crawl", "--sites", files["registry"], "--portal-url", portal.url, "--data", data,
                         *FAST, "--no-extract", "-s", f"DOWNLOAD_MAXSIZE={FILE_LIMIT}",
                         "-s", f"NIANBAO_PAGE_MAXSIZE={PAGE_LIMIT}", *settings, **run)
        return {"summary": json.loads(result.stdout), "hits": list(portal.state.log), "data": data}


@pytest.fixture(scope="module")
def streamed(files, tmp_path_factory):
    return crawl(files, tmp_path_factory.mktemp("streamed"))


def query(data, sql, params=()):
    return sqlite3.connect(data / "nianbao.db").execute(sql, params).fetchall()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_report_files_reach_the_archive_through_disk_intact(files, streamed):
    served = files["served"]
    stats = json.loads(query(streamed["data"], "SELECT stats FROM runs")[0][0])
    # the two plain downloads and the 404 page went to disk; the gzipped one could not, the huge one was refused
    (not_found,) = query(streamed["data"], "SELECT bytes FROM fetches WHERE url LIKE '%missing.pdf'")[0]
    assert stats["nianbao/streamed"] == 3
    assert stats["nianbao/streamed_bytes"] == len(served["small.pdf"]) + len(served["big.pdf"]) + not_found
    blobs = dict(query(streamed["data"], "SELECT sha256, size FROM blobs"))
    for name in ("small.pdf", "big.pdf", "gz.pdf"):
        assert blobs[sha(served[name])] == len(served[name]), name
    assert len(served["big.pdf"]) > 5_000_000


def test_warc_response_written_from_disk_holds_the_file(files, streamed):
    filename, offset = query(streamed["data"], "SELECT filename, offset FROM warc_records WHERE record_type = "
                                               "'response' AND payload_sha256 = ?", [sha(files["served"]["big.pdf"])])[0]
    headers, payload = read_payload(streamed["data"] / "warcs" / filename, offset)
    assert payload == files["served"]["big.pdf"]
    check = subprocess.run([sys.executable, "-m", "warcio.cli", "check", "-v", streamed["data"] / "warcs" / filename],
                           capture_output=True, text=True)
    assert check.returncode == 0 and "digest pass" in check.stdout and "fail" not in check.stdout
    verified = json.loads(nianbao("verify", "--data", streamed["data"]).stdout)
    assert verified["problems"] == []


def test_a_file_without_length_is_cut_off_at_the_limit_mid_stream(files, streamed):
    (hit,) = [h for h in streamed["hits"] if h.path == "/download.jsp?id=huge"]
    huge = len(files["served"]["huge.pdf"])
    assert huge > 2 * FILE_LIMIT
    assert FILE_LIMIT < hit.sent < huge  # the crawler hung up once it was past the limit
    (reason,) = query(streamed["data"], "SELECT reason FROM fetches WHERE outcome = 'too_large' AND url LIKE ?",
                      ["%id=huge"])[0]
    assert f"larger than download max size ({FILE_LIMIT})" in reason
    assert query(streamed["data"], "SELECT count(*) FROM blobs WHERE size > ?", [FILE_LIMIT]) == [(0,)]
    assert not any(p.is_file() for p in (streamed["data"] / "spool").rglob("*"))  # no half-received body left


def test_an_error_page_instead_of_a_file_is_logged_not_kept(streamed):
    assert query(streamed["data"], "SELECT status, bytes > 0 FROM fetches WHERE url LIKE '%missing.pdf'") == [(404, 1)]
    assert query(streamed["data"], "SELECT count(*) FROM documents WHERE url LIKE '%missing.pdf'") == [(0,)]


def test_pages_have_a_limit_of_their_own(streamed):
    (url, reason), = query(streamed["data"], "SELECT url, reason FROM fetches WHERE outcome = 'too_large' "
                                             "AND url LIKE '%2019.html'")
    assert f"larger than download max size ({PAGE_LIMIT})" in reason
    assert streamed["summary"]["too_large"] == 2


def test_streaming_off_archives_the_same_bytes(files, streamed, tmp_path):
    buffered = crawl(files, tmp_path / "buffered", "-s", "NIANBAO_STREAM_DOCUMENTS=False")
    stats = json.loads(query(buffered["data"], "SELECT stats FROM runs")[0][0])
    assert "nianbao/streamed" not in stats
    same = "SELECT d.url, v.sha256 FROM versions v JOIN documents d ON d.id = v.document_id"

    def by_path(data):  # the two portals listened on different ports
        return sorted((urlsplit(url).path + "?" + urlsplit(url).query, sha256) for url, sha256 in query(data, same))

    assert by_path(buffered["data"]) == by_path(streamed["data"])
    assert len(by_path(streamed["data"])) == 8


def disk_of(limit: int):
    def limit_files():  # EFBIG past LIMIT bytes per file, instead of death: a full disk, as the writer sees it
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return limit_files


def test_disk_full_while_streaming_fails_that_file_only_and_the_next_run_completes(files, tmp_path):
    data = tmp_path / "full"
    full = crawl(files, data, preexec_fn=disk_of(3_000_000))
    (reason,) = query(data, "SELECT reason FROM fetches WHERE outcome = 'store_failed' AND url LIKE '%big.pdf'")[0]
    assert "could not spool" in reason and "File too large" in reason
    assert full["summary"]["failed_fetches"] >= 1
    big = sha(files["served"]["big.pdf"])
    assert query(data, "SELECT count(*) FROM blobs WHERE sha256 = ?", [big]) == [(0,)]
    assert query(data, "SELECT count(*) FROM blobs WHERE sha256 = ?", [sha(files["served"]["small.pdf"])]) == [(1,)]
    assert query(data, "PRAGMA integrity_check") == [("ok",)]
    assert not any(p.is_file() for p in (data / "spool").rglob("*"))

    crawl(files, data)  # room again
    assert query(data, "SELECT size FROM blobs WHERE sha256 = ?", [big]) == [(len(files["served"]["big.pdf"]),)]
    assert json.loads(nianbao("verify", "--data", data).stdout)["problems"] == []
