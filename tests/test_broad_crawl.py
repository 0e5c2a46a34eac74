"""A large registry is a broad crawl: room in the downloader for every portal at once, the next request taken from
the least busy portal, and still one request at a time per portal (issue 30).

Sixty county portals (names under gov.cn, all resolved to one local server) each list two reports. The server
answers every request after 0.3 s, as a loaded portal does, and counts the requests it is answering at once.
"""

from __future__ import annotations

from collections import Counter

import yaml

from nianbao.crawling import with_broad_crawl
from sampleportal.server import Portal

from .conftest import nianbao
from .test_real_behaviour_crawl import page, summary_of

PORTALS = 60
TITLE = "某县人民政府{}年政府信息公开工作年度报告"


def _portals(tmp_path, port: int) -> tuple:
    site = tmp_path / "site"
    (site / "ndbg").mkdir(parents=True)
    (site / "robots.txt").write_text("User-agent: *\nDisallow:\n")
    items = "".join(f'<li><a href="a{y}.html">{TITLE.format(y)}</a><span>{y + 1}-02-10</span></li>' for y in (2022, 2023))
    (site / "ndbg" / "index.html").write_text(f'<html><head><meta charset="utf-8"></head><body><ul class="list">{items}'
                                              "</ul></body></html>", encoding="utf-8")
    for year in (2022, 2023):
        (site / "ndbg" / f"a{year}.html").write_text(page(TITLE.format(year)), encoding="utf-8")
    hosts = [f"www.county{n:02d}.gov.cn" for n in range(PORTALS)]
    registry = tmp_path / "sites.yml"
    registry.write_text(yaml.safe_dump({"sites": [
        {"id": f"c{n:02d}", "name": f"第{n}县人民政府", "region": "福建省/泉州市",
         "start_urls": [f"http://{host}:{port}/ndbg/index.html"]} for n, host in enumerate(hosts)]},
        allow_unicode=True), encoding="utf-8")
    return registry, ",".join(f"{host}=127.0.0.1" for host in hosts)


def _crawl(tmp_path, *settings) -> tuple:
    with Portal(site=tmp_path / "site") as server:
        server.state.latency = 0.3
        registry, names = _portals(tmp_path, int(server.url.rsplit(":", 1)[1]))
        result = nianbao("crawl", "--sites", registry, "--data", tmp_path / "data", "--no-extract", "--processes", "1",
                         "-s", "TWISTED_DNS_RESOLVER=sampleportal.resolver.PortalResolver",
                         "-s", f"NIANBAO_TEST_ADDRESSES={names}", "-s", "DOWNLOAD_DELAY=1", "-s", "DOWNLOAD_DELAY_JITTER=0",
                         "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "LOG_LEVEL=WARNING", *settings)
        return result, server.state


def _per_host_overlap(arrivals: list, latency: float) -> int:
    """The most requests to one host whose answers overlapped (each takes ``latency``)."""
    by_host: dict = {}
    for when, host in arrivals:
        by_host.setdefault(host, []).append(when)
    worst = 0
    for times in by_host.values():
        times.sort()
        worst = max([worst, *(sum(1 for u in times if t <= u < t + latency * 0.9) for t in times)])
    return worst


def test_a_large_registry_keeps_many_portals_busy_at_once_and_each_polite(tmp_path):
    result, state = _crawl(tmp_path)
    assert summary_of(result)["reports_found"] == 2 * PORTALS
    assert len(Counter(host for _, host in state.arrivals)) == PORTALS
    # Scrapy's default of 16 requests in the downloader, delays included, would cap this at 16
    assert state.max_in_flight >= 30, state.max_in_flight
    assert _per_host_overlap(state.arrivals, 0.3) == 1


def _most_at_once(spans: list, slack: float = 0.05) -> int:
    """The most requests the server was answering at once, from each one's (arrival, answered) span. The
    server thread books an answer as done after the client already holds it, so the client's next request can
    overlap the last one's bookkeeping by a few milliseconds: each span's end is taken ``slack`` earlier."""
    events = sorted([(start, 1) for start, _, _ in spans] + [(end - slack, -1) for _, end, _ in spans])
    most = running = 0
    for _, step in events:  # at a tie an answer ends before the next one begins (-1 sorts first)
        running += step
        most = max(most, running)
    return most


def test_below_the_broad_crawl_size_the_focused_settings_hold(tmp_path):
    """The same sixty portals with the broad-crawl threshold above them: CONCURRENT_REQUESTS 16 bounds the crawl."""
    result, state = _crawl(tmp_path, "-s", "NIANBAO_BROAD_CRAWL_SITES=1000")
    assert summary_of(result)["reports_found"] == 2 * PORTALS
    assert 4 <= _most_at_once(state.spans) <= 16, _most_at_once(state.spans)


def test_the_broad_crawl_profile_sits_under_the_command_s_own_settings():
    assert with_broad_crawl(10, {}) == {}
    profile = with_broad_crawl(600, {})
    assert profile["SCHEDULER_PRIORITY_QUEUE"] == "scrapy.pqueues.DownloaderAwarePriorityQueue"
    assert profile["CONCURRENT_REQUESTS"] == 1200
    assert with_broad_crawl(5000, {})["CONCURRENT_REQUESTS"] == 2048
    assert with_broad_crawl(600, {"CONCURRENT_REQUESTS": 64})["CONCURRENT_REQUESTS"] == 64


def test_the_run_s_request_bound_grows_with_a_broad_registry():
    """The national registry's first crawl is ~4 million requests (3,209 portals of 1,100–1,350): the focused
    crawl's bound of 200,000 per run would close it a twentieth of the way through."""
    assert with_broad_crawl(3209, {})["NIANBAO_MAX_REQUESTS"] == 3209 * 5000
    assert with_broad_crawl(20, {}).get("NIANBAO_MAX_REQUESTS") is None  # a focused crawl keeps 200,000
    assert with_broad_crawl(3209, {"NIANBAO_MAX_REQUESTS": 7})["NIANBAO_MAX_REQUESTS"] == 7  # the command's own
    assert with_broad_crawl(3209, {"NIANBAO_MAX_REQUESTS": 0})["NIANBAO_MAX_REQUESTS"] == 0  # no bound stays none
