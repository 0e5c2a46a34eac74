"""Portals discovery cannot walk: each ends with a clear per-site line and exit 4, never a crash or an
empty success; link spaces without end stop at the cap."""

from __future__ import annotations

import json

import pytest

from sampleportal.obstacles import CHALLENGE_412
from sampleportal.server import Portal

from .conftest import FAST, nianbao

# A home page whose navigation exists only in script, as on portals built with front-end frameworks.
JS_ONLY = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>某某县人民政府</title>
<script src="/static/js/app.8f3a.js"></script></head><body><div id="app"></div>
<script>var nav=[["政务公开","/zwgk/"],["政府信息公开","/zwgk/xxgk/"]];
document.getElementById("app").innerHTML=nav.map(function(n){return '<a href="'+n[1]+'">'+n[0]+'</a>'}).join("");
</script></body></html>"""
LOOP = """<html><head><meta charset="utf-8"></head><body><ul>
<li><a href="/a/">政务公开</a></li><li><a href="/b/">信息公开目录</a></li><li><a href="/a/?from=b">政府信息公开</a></li>
</ul></body></html>"""
CALENDAR_HOME = """<html><head><meta charset="utf-8"></head><body><ul>
<li><a href="/rl/2024-01/">政务公开日历</a></li></ul></body></html>"""
REGISTRY = "sites:\n  - id: \"999999\"\n    name: 某某县人民政府\n    region: 某省/某市/某县\n    portal: ${PORTAL}/\n"


def serve(tmp_path, pages: dict, routes: dict | None = None) -> Portal:
    site = tmp_path / "site"
    for path, text in pages.items():
        target = site / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    (tmp_path / "routes.json").write_text(json.dumps(routes or {}), encoding="utf-8")
    (tmp_path / "sites.yml").write_text(REGISTRY, encoding="utf-8")
    return Portal(site=site, routes=tmp_path / "routes.json")


def crawl(tmp_path, server, *extra):
    return nianbao("crawl", "--sites", tmp_path / "sites.yml", "--portal-url", server.url, "--data",
                   tmp_path / "data", *FAST, *extra, check=False, timeout=300)


def no_crash(result):
    assert "Traceback" not in result.stderr and "Unhandled error" not in result.stderr


def test_javascript_navigation_is_a_clear_line_and_exit_4(tmp_path):
    with serve(tmp_path, {"index.html": JS_ONLY}) as server:
        result = crawl(tmp_path, server)
    assert result.returncode == 4
    assert "999999: no 年报 column found: the home page has no links to follow (navigation drawn by JavaScript?)" \
        in result.stderr
    no_crash(result)


def test_challenge_answer_is_blocked_and_exit_4(tmp_path):
    routes = {"/": {"file": "challenge.html", "type": "text/html; charset=utf-8", "status": 412, "referer": None}}
    with serve(tmp_path, {"challenge.html": CHALLENGE_412}, routes) as server:
        result = crawl(tmp_path, server)
    assert result.returncode == 4
    assert f"999999: blocked: {server.url}/: 412 anti-bot challenge" in result.stderr
    no_crash(result)


def test_link_loop_ends_without_a_column(tmp_path):
    with serve(tmp_path, {"index.html": LOOP, "a/index.html": LOOP, "b/index.html": LOOP}) as server:
        result = crawl(tmp_path, server)
        hits = len(server.state.log)
    assert result.returncode == 4 and "999999: no 年报 column found: 4 page(s) read" in result.stderr
    assert hits <= 6  # robots.txt, the root, /a/, /b/, /a/?from=b
    no_crash(result)


@pytest.mark.parametrize("cap", [25, 60])
def test_calendar_link_space_stops_at_the_page_cap(tmp_path, cap):
    with serve(tmp_path, {"index.html": CALENDAR_HOME}) as server:
        result = crawl(tmp_path, server, "-s", f"NIANBAO_DISCOVERY_MAX_PAGES={cap}")
        calendar = [h for h in server.state.log if h.path.startswith("/rl/")]
    assert len(calendar) == cap - 1  # the root is the first page of the walk
    assert result.returncode == 4
    assert f"999999: no 年报 column found: page cap of {cap} pages reached after {cap} requests" in result.stderr
    summary = json.loads(result.stdout)
    assert summary["sites"]["999999"]["discovery_capped"] == f"page cap of {cap} pages reached"
    no_crash(result)


def test_discover_command_exits_4_on_a_javascript_portal(tmp_path):
    with serve(tmp_path, {"index.html": JS_ONLY}) as server:
        result = nianbao("discover", server.url + "/", *FAST, check=False)
    assert result.returncode == 4 and "sites: []" in result.stdout
    assert "no 年报 column found" in result.stderr


def test_discovery_obeys_robots_txt(tmp_path):
    home = '<html><head><meta charset="utf-8"></head><body><a href="/zwgk/">政务公开</a></body></html>'
    column = ('<html><head><meta charset="utf-8"></head><body><ul><li><a href="a.html">某某县人民政府2023年政府信息公开'
              '工作年度报告</a></li></ul></body></html>')
    pages = {"index.html": home, "zwgk/index.html": column, "robots.txt": "User-agent: *\nDisallow: /zwgk/\n"}
    with serve(tmp_path, pages) as server:
        result = crawl(tmp_path, server)
        paths = {h.path for h in server.state.log}
    assert "/zwgk/" not in paths and "/robots.txt" in paths
    assert result.returncode == 4 and "Forbidden by robots.txt" in result.stderr
    no_crash(result)
