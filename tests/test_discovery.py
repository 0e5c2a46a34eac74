"""Discovery end to end: portal: entries walk the sample portal's front door with the real Scrapy engine.

The truth is the front door's layout (sampleportal/frontdoor.py, written apart from
crawler/discovery.py): which pages are 年报 columns, which are look-alikes.
"""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest
import yaml

from sampleportal.server import Portal

from .conftest import FAST, ROOT, nianbao

PORTALS_YML = ROOT / "sampleportal" / "portals.yml"
TRUTH = json.loads((ROOT / "sampleportal" / "frontdoor.json").read_text(encoding="utf-8"))
SITE = ROOT / "sampleportal" / "site"
ROUTES = ROOT / "sampleportal" / "routes.json"


def columns_of(data) -> dict:
    db = sqlite3.connect(data / "nianbao.db")
    rows = db.execute("SELECT url, agency, status, reports_found, link_path FROM columns").fetchall()
    db.close()
    return {url: {"agency": a, "status": s, "reports_found": n, "path": json.loads(p)} for url, a, s, n, p in rows}


def crawl(registry, portal_url, data, *extra, check=True):
    return nianbao("crawl", "--sites", registry, "--portal-url", portal_url, "--data", data, *FAST, *extra,
                   check=check)


@pytest.fixture(scope="module")
def discovered(portal, tmp_path_factory):
    data = tmp_path_factory.mktemp("discovered")
    before = len(portal.state.log)
    first = crawl(PORTALS_YML, portal.url, data)
    between = len(portal.state.log)
    second = crawl(PORTALS_YML, portal.url, data)
    return {"data": data, "first": first, "second": second, "portal": portal,
            "hits_first": portal.state.log[before:between], "hits_second": portal.state.log[between:]}


def test_portal_entry_finds_every_column_and_no_decoy(discovered):
    found = columns_of(discovered["data"])
    base = discovered["portal"].url
    want = {base + c["path"]: c["agency"] for c in TRUTH["columns"]}
    assert {url: c["agency"] for url, c in found.items()} == want
    assert {c["kind"] for c in TRUTH["columns"]} == {"government", "department", "township"}
    walked = {h.path for h in discovered["hits_first"]}
    for decoy in TRUTH["decoys"]:
        assert base + decoy not in found
    # look-alikes labelled 年度报告 are read and turned down by their items, not by their label
    assert "/zwgk/ndbgzl/" in walked and "/zwgk/zfxxgkzl/bmzfxxgk/tjj/ndbg/" in walked
    # the link path is the portal's own navigation
    kxjsj = found[base + "/zwgk/zfxxgkzl/bmzfxxgk/kxjsj/zfxxgkndbg/"]
    assert [s["text"] for s in kxjsj["path"]] == ["政府信息公开", "部门信息公开", "科学技术局", "政府信息公开年报"]
    assert found[base + "/zwgk/zfxxgkzl/xzjdxxgk/mjz/zfxxgkndbg/"]["reports_found"] == 3


def test_discovery_does_not_crawl_the_whole_site(discovered):
    summary = json.loads(discovered["first"].stdout)["sites"]["350504"]
    assert summary["columns_found"] == 7 and summary["discovery_outcome"] == "found"
    pages = sum(1 for p in SITE.rglob("*.htm*"))
    assert summary["discovery_pages"] < 40 < pages
    assert "350504: 7 column(s) in" in discovered["first"].stderr


def test_every_report_archived_as_with_hand_written_start_urls(discovered, portal, tmp_path):
    entries = [{"id": c["column_id"], "name": c["agency"], "region": "福建省/泉州市/洛江区",
                "start_urls": ["${PORTAL}" + c["path"]]} for c in TRUTH["columns"]]
    registry = tmp_path / "hand.yml"
    registry.write_text(yaml.safe_dump({"sites": entries}, allow_unicode=True), encoding="utf-8")
    hand = tmp_path / "hand"
    crawl(registry, portal.url, hand)

    def records(data):
        out = nianbao("export", "--data", data).stdout.splitlines()
        drop = {"first_seen", "last_seen"}
        return sorted(json.dumps({k: v for k, v in json.loads(line).items() if k not in drop}, ensure_ascii=False,
                                  sort_keys=True) for line in out)

    def documents(data):
        db = sqlite3.connect(data / "nianbao.db")
        rows = db.execute("SELECT d.url, d.role, v.sha256 FROM documents d JOIN versions v ON v.document_id = d.id")
        return sorted(rows.fetchall())

    by_discovery = records(discovered["data"])
    assert len(by_discovery) == 24 + len(TRUTH["reports"]) == 30
    assert by_discovery == records(hand)
    assert documents(discovered["data"]) == documents(hand)


def test_second_run_crawls_known_columns_without_rediscovering(discovered):
    second = json.loads(discovered["second"].stdout)
    assert second["sites"]["350504"]["discovery"].startswith("known columns: 7")
    assert second["reports_found"] == 30 and second["new_versions"] == 0
    navigation = {"/", "/zwgk/", "/zwgk/zfxxgkzl/", "/zwgk/zfxxgkzl/bmzfxxgk/", "/zwgk/zfxxgkzl/xzjdxxgk/"}
    assert navigation <= {h.path for h in discovered["hits_first"]}
    assert not navigation & {h.path for h in discovered["hits_second"]}
    db = sqlite3.connect(discovered["data"] / "nianbao.db")
    assert db.execute("SELECT count(*) FROM discoveries").fetchone()[0] == 1


def test_removed_column_is_flagged_never_deleted(tmp_path):
    site = tmp_path / "site"
    shutil.copytree(SITE, site)
    data = tmp_path / "data"
    with Portal(site=site, routes=ROUTES) as server:
        crawl(PORTALS_YML, server.url, data)
        index = site / "zwgk" / "zfxxgkzl" / "xzjdxxgk" / "index.html"
        html = index.read_text(encoding="utf-8")
        index.write_text(html.replace('<li><a href="/zwgk/zfxxgkzl/xzjdxxgk/mjz/">马甲镇</a></li>', ""), "utf-8")
        assert "马甲镇" not in index.read_text(encoding="utf-8")
        result = crawl(PORTALS_YML, server.url, data, "--rediscover")
        gone = server.url + "/zwgk/zfxxgkzl/xzjdxxgk/mjz/zfxxgkndbg/"
    found = columns_of(data)
    assert found[gone]["status"] == "vanished" and found[gone]["reports_found"] == 3
    assert sum(1 for c in found.values() if c["status"] == "active") == 6
    assert json.loads(result.stdout)["sites"]["350504"]["columns_vanished"] == 1
    db = sqlite3.connect(data / "nianbao.db")
    assert db.execute("SELECT count(*) FROM reports r JOIN agencies a ON a.id = r.agency_id "
                      "WHERE a.name = '泉州市洛江区马甲镇人民政府'").fetchone()[0] == 3


def test_discover_prints_registry_yaml_with_evidence(portal):
    result = nianbao("discover", portal.url + "/", "--max-pages", "60", *FAST)
    printed = yaml.safe_load(result.stdout)
    urls = {u for entry in printed["sites"] for u in entry["start_urls"]}
    assert urls == {portal.url + c["path"] for c in TRUTH["columns"]}
    assert "# found by: 政府信息公开 > 乡镇（街道）信息公开 > 罗溪镇 > 政府信息公开年报" in result.stdout
    assert "list: 3 of 4 items are annual reports" in result.stdout
    names = {entry["name"] for entry in printed["sites"]}
    assert names == {c["agency"] for c in TRUTH["columns"]}


def test_discover_output_is_a_valid_registry(portal, tmp_path):
    from crawler.sites import load

    path = tmp_path / "found.yml"
    path.write_text(nianbao("discover", portal.url + "/", *FAST).stdout, encoding="utf-8")
    assert len(load(path)) == 7


def test_nightly_walks_again_only_on_its_schedule(portal, tmp_path):
    data = tmp_path / "nightly"

    def nightly(*extra):
        result = nianbao("nightly", "--sites", PORTALS_YML, "--portal-url", portal.url, "--data", data, *FAST, *extra)
        return result.stderr.strip().splitlines()

    assert "350504: 7 column(s) in" in nightly()[-1]
    assert nightly()[-1] == "350504: known columns: 7 (rediscovery every 30 days)"
    assert "350504: 7 column(s) in" in nightly("--rediscover-days", "0")[-1]
    db = sqlite3.connect(data / "nianbao.db")
    assert db.execute("SELECT count(*) FROM discoveries").fetchone()[0] == 2
    assert db.execute("SELECT count(*) FROM reports").fetchone()[0] == 30


def test_entry_with_portal_and_start_urls_is_one_site(portal, tmp_path):
    registry = tmp_path / "both.yml"
    registry.write_text("sites:\n  - id: lj\n    name: 泉州市洛江区人民政府\n    region: 福建省/泉州市/洛江区\n"
                        "    portal: ${PORTAL}/\n    start_urls: ['${PORTAL}/zwgk/zfxxgkzl/zfxxgkndbg/']\n", "utf-8")
    data = tmp_path / "data"
    summary = json.loads(crawl(registry, portal.url, data).stdout)
    assert list(summary["sites"]) == ["lj"] and summary["reports_found"] == 30
    found = columns_of(data)
    assert set(found) == {portal.url + c["path"] for c in TRUTH["columns"]}


def test_a_known_column_that_answers_404_brings_the_walk_forward(tmp_path):
    site = tmp_path / "site"
    shutil.copytree(SITE, site)
    data = tmp_path / "data"
    with Portal(site=site, routes=ROUTES) as server:
        crawl(PORTALS_YML, server.url, data)
        column = site / "zwgk" / "zfxxgkzl" / "xzjdxxgk" / "lxz"
        shutil.rmtree(column)  # the township's pages are gone: its column and the link to it
        index = site / "zwgk" / "zfxxgkzl" / "xzjdxxgk" / "index.html"
        index.write_text(index.read_text("utf-8").replace('<li><a href="/zwgk/zfxxgkzl/xzjdxxgk/lxz/">罗溪镇</a></li>',
                                                          ""), "utf-8")
        second = crawl(PORTALS_YML, server.url, data, check=False)  # known columns; one answers 404
        third = crawl(PORTALS_YML, server.url, data)  # walks again without waiting 30 days
        gone = server.url + "/zwgk/zfxxgkzl/xzjdxxgk/lxz/zfxxgkndbg/"
    assert json.loads(second.stdout)["sites"]["350504"]["discovery_stale"] == gone
    assert "350504: 6 column(s) in" in third.stderr
    assert columns_of(data)[gone]["status"] == "vanished"


def test_depth_cap_is_a_setting_and_reported(portal):
    result = nianbao("discover", portal.url + "/", "-s", "NIANBAO_DISCOVERY_MAX_DEPTH=3", *FAST)
    assert "1 column(s) in" in result.stderr and "depth cap of 3 links reached" in result.stderr
    assert [u for e in yaml.safe_load(result.stdout)["sites"] for u in e["start_urls"]] == [
        portal.url + "/zwgk/zfxxgkzl/zfxxgkndbg/"]
