"""End to end: the real Scrapy engine crawls the sample portal on 127.0.0.1."""

from __future__ import annotations

import sqlite3
from collections import Counter
from urllib.parse import urlsplit

from crawler.hosts import registrable_domain
from nianbao.cli import DEMO_DELAY
from sampleportal.resolver import DEPARTMENTS_DOMAIN

from .conftest import EXPECTED


def test_every_report_exactly_once_with_agency_and_year(crawled):
    got = Counter((r["agency"], r["year"]) for r in crawled["records"])
    want = Counter((e["agency"], e["year"]) for e in EXPECTED)
    assert len(EXPECTED) >= 40
    assert got == want  # recall and precision 1.0, the twice-listed report once


def test_nothing_that_is_not_a_report(crawled):
    titles = {r["title"] for r in crawled["records"]}
    for word in ("指南", "预算", "决算", "通知", "汇总"):
        assert not any(word in t for t in titles), word
    assert crawled["summary"]["skipped"] >= 16


def test_templates_years_and_formats(crawled):
    by_key = {(r["agency"], r["year"]): r for r in crawled["records"]}
    for e in EXPECTED:
        rec = by_key[(e["agency"], e["year"])]
        assert rec["template"] == e["template"], e["title"]
        assert rec["source"]["format"] == e["format"], e["title"]
    assert {e["format"] for e in EXPECTED} == {"html", "pdf", "docx", "doc"}
    assert {e["family"] for e in EXPECTED} == {"trs", "hanweb", "vsb", "generic", "hanweb-jpage", "trs-pagediv",
                                                 "trs-countpage", "fujian-searchid", "subdomain-departments"}


def test_checks_pass_except_the_reports_built_to_fail(crawled):
    by_key = {(r["agency"], r["year"]): r for r in crawled["records"]}
    for e in EXPECTED:
        if e["seed"]:
            continue
        rec = by_key[(e["agency"], e["year"])]
        failing = {(c["id"], c["scope"]) for c in rec["checks"] if c["status"] == "fail"}
        assert failing == {(f["id"], f["scope"]) for f in e["must_fail"]}, e["title"]
        assert all(c["status"] != "not_assessable" for c in rec["checks"]), e["title"]


def test_built_to_fail_report_names_expected_and_actual(crawled):
    rec = next(r for r in crawled["records"] if r["agency"] == "泉州市洛江区人民政府" and r["year"] == 2022)
    balance = next(c for c in rec["checks"] if c["id"] == "applications.balance" and c["scope"] == "natural_person")
    assert balance["status"] == "fail" and balance["actual"] == balance["expected"] + 1


def test_seed_figures_survive_the_portal(crawled):
    by_key = {(r["agency"], r["year"]): r for r in crawled["records"]}
    jiaxing = by_key[("嘉兴市科学技术局", 2020)]
    assert jiaxing["active_disclosure"]["licensing"]["decisions"] == 2052
    assert jiaxing["active_disclosure"]["procurement"] == {"items": 27, "amount_yuan": 129600}
    jdz = by_key[("景德镇市科技局", 2021)]
    assert jdz["active_disclosure"]["normative_documents"] == {"made": 2, "repealed": 5, "in_force": 10}
    ganzhou = by_key[("赣州市科技局", 2020)]
    assert ganzhou["active_disclosure"]["procurement"]["amount_yuan"] == 137000


def test_gbk_pages_decoded(crawled):
    luojiang = [r for r in crawled["records"] if r["agency"] == "泉州市洛江区科学技术局"]
    assert len(luojiang) == 6
    assert all("�" not in r["title"] for r in luojiang)
    page = next(r for r in luojiang if r["year"] == 2019)
    assert "泉州市洛江区科学技术局" in page["sections"]["overall"]


def test_payloads_stored_by_sha256_and_database_consistent(crawled):
    data = crawled["data"]
    db = sqlite3.connect(data / "nianbao.db")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    for sha256, size in db.execute("SELECT sha256, size FROM blobs"):
        blob = data / "blobs" / sha256[:2] / sha256[2:4] / sha256
        assert blob.stat().st_size == size
    documents = db.execute("SELECT count(*) FROM documents").fetchone()[0]
    attachments = sum(1 for e in EXPECTED if e["format"] != "html")
    assert documents == len(EXPECTED) + attachments


def test_vsb_download_was_sent_with_its_article_as_referer(crawled):
    downloads = [h for h in crawled["hits"] if "download.jsp" in h.path]
    assert downloads and all(h.status == 200 and h.referer and "/info/" in h.referer for h in downloads)


def test_hanweb_pages_came_from_dataproxy(crawled):
    assert any("dataproxy.jsp?page=2" in h.path for h in crawled["hits"])


def test_portal_lists_one_report_twice():
    from .conftest import ROOT

    site = ROOT / "sampleportal" / "site" / "zwgk" / "zfxxgkzl" / "zfxxgkndbg"
    listed = []
    for page in sorted(site.glob("index*.html")):
        listed += [line for line in page.read_text(encoding="utf-8").split("<li>") if "年度报告" in line]
    hrefs = [item.split('href="', 1)[1].split('"', 1)[0] for item in listed if 'href="' in item]
    assert len(hrefs) - len(set(hrefs)) == 1


def test_department_portal_names_are_one_registrable_domain_under_a_real_public_suffix():
    """Its names group by the Public Suffix List (not by a rule of ours), under a suffix no real site can be on."""
    import tldextract

    hosts = {urlsplit(e[k]).hostname for e in EXPECTED if e["family"] == "subdomain-departments" for k in ("url", "document")}
    assert len(hosts) == 8 and {registrable_domain(h) for h in hosts} == {DEPARTMENTS_DOMAIN}
    parts = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)(f"hrss.{DEPARTMENTS_DOMAIN}")
    assert (parts.suffix, parts.domain) == ("onion", "nianbao-sz")  # ICANN section of the bundled PSL, RFC 7686


def most_at_once(spans) -> int:
    """The most requests the server was answering at once, of these (arrival, answered) spans."""
    events = sorted([(start, 1) for start, _, _ in spans] + [(end, -1) for _, end, _ in spans])
    most = current = 0
    for _, step in events:  # an answer sent before the next arrival, at the same instant, is not an overlap
        current += step
        most = max(most, current)
    return most


def test_department_subdomains_take_one_request_at_a_time_and_the_delay(crawled):
    """The city's column whose reports (and their files) live on its departments' subdomains, all one server: the
    crawl, at the demo's pace (8 at once, no delay; the department portal's slot one at a time, DEMO_DELAY), sends
    them one at a time, DEMO_DELAY apart, whichever subdomain each asks, while the rest of the portal overlaps."""
    department = [span for span in crawled["spans"]
                  if registrable_domain((span[2] or "").split(":")[0]) == DEPARTMENTS_DOMAIN]
    hosts = {host.split(":")[0] for _, _, host in department}
    listed = {urlsplit(e["url"]).hostname for e in EXPECTED if e["family"] == "subdomain-departments"}
    assert len(listed) == 8 and hosts == listed | {f"www.{DEPARTMENTS_DOMAIN}"}
    reports = sum(1 for e in EXPECTED if e["family"] == "subdomain-departments")
    assert len(department) >= 1 + reports + len(hosts)  # the column, its reports, a robots.txt per host …
    assert most_at_once(department) == 1, most_at_once(department)
    arrivals = sorted(start for start, _, _ in department)
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:])]
    # Scrapy holds the delay from one request's sending to the next's; arrivals at a busy machine's server scatter
    # around that, never by the whole delay (a slot per subdomain sent these within milliseconds of each other)
    assert min(gaps) >= 0.5 * DEMO_DELAY and sorted(gaps)[len(gaps) // 2] >= 0.9 * DEMO_DELAY, sorted(gaps)[:5]
    assert most_at_once(crawled["spans"]) > 1  # the rest of the portal was not crawled one at a time
