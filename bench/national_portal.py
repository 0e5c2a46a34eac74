"""Virtual national portals for bench/national_crawl.py: one local server answers every registry row by its
Host header, each row a county-sized portal drawn from its name and adcode.

A portal, as county portals lay theirs out (sampleportal/frontdoor.py has the real layout this follows):
首页 → 政务公开 → 政府信息公开 → the government's own 年报 column, 部门信息公开 → each department's page → its
年报 column, 乡镇（街道）信息公开 → each township's page → its 年报 column. 30–60 departments and 10–20
townships (``--size small``: 3–6 and 1–2, for quick runs); every column lists 5–15 reports over the years on
one or two list pages, in one of the sample portal's CMS dialects (sampleportal/pages.py: TRS createPageHTML,
the classic TRS countPage table, Hanweb's datastore, VSB, a plain CMS). Reports are HTML articles, or articles
with a PDF, DOCX or DOC attachment.

Cheap by construction, so that the server is not what the bench measures: a column's pages are rendered when
first asked for and kept in a bounded cache; report bodies come from a small pool of synthetic reports
(sampleportal/reports.py), the agency's name put in; report files from a pool rendered once
(sampleportal/render.py) and cached under bench/.cache/. Every copy gets bytes of its own (a PDF comment, a
ZIP comment, trailing bytes), so no two URLs share content: the archive is content-addressed and would
otherwise store one file for all.

Like real portals: every answer waits 100–800 ms, 2 % of them 2–6 s; 2 % of portals never answer (the crawl's
timeout), 3 % answer 503 to a tenth of requests, 1 % reset a twentieth of connections. Pages carry ETag and
Last-Modified and answer conditional requests with 304. Night N > 0 (the nightly pass): a tenth of columns
gain one new report, so their list pages change and the rest answer 304.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import html
import json
import pickle
import random
import signal
import sys
import time
from collections import Counter, OrderedDict
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sampleportal import pages  # noqa: E402
from sampleportal.generate import Column, Item  # noqa: E402

COLUMNS_OF_REGISTRY = ("adcode", "province", "city", "county", "level", "name", "portal_url", "gk_url", "nianbao_url",
                       "source")
REGISTRY = ROOT.parent / "shared" / "registry" / "portals.csv"  # read where it lies, never copied
CACHE = ROOT / "bench" / ".cache"
GK = "/zwgk/zfxxgkzl/"  # the gateway path the sample portal's page chrome links to
PLACEHOLDER = "〔单位〕"
FIRST_PUBLISHED = 1_735_689_600  # 2025-01-01: every page of night 0 dates from here
SIZES = {"full": ((30, 60), (10, 20)), "small": ((3, 6), (1, 2))}
# (dialect in sampleportal.pages.FAMILIES, weight): the platforms county portals run, roughly as often
DIALECTS = (("trs", 35), ("hanweb", 25), ("generic", 20), ("trs-countpage", 10), ("vsb", 10))
FORMATS = (("html", 70), ("pdf", 20), ("docx", 6), ("doc", 4))
DEPARTMENTS = ("发展和改革局", "教育局", "科学技术局", "工业和信息化局", "公安分局", "民政局", "司法局", "财政局",
               "人力资源和社会保障局", "自然资源局", "生态环境分局", "住房和城乡建设局", "交通运输局", "水利局",
               "农业农村局", "商务局", "文化和旅游局", "卫生健康局", "退役军人事务局", "应急管理局", "审计局",
               "市场监督管理局", "统计局", "医疗保障局", "信访局", "林业局", "城市管理局", "行政审批局", "民族宗教事务局",
               "人民防空办公室", "机关事务管理局", "数据资源局", "投资促进局", "乡村振兴局", "粮食和物资储备局",
               "地方金融监督管理局", "体育局", "档案馆", "融媒体中心", "政务服务中心", "供销合作社联合社", "残疾人联合会",
               "妇女联合会", "总工会", "共青团委员会", "科学技术协会", "红十字会", "工商业联合会", "气象局", "税务局",
               "消防救援大队", "烟草专卖局", "邮政管理局", "公共资源交易中心", "住房公积金管理中心", "不动产登记中心",
               "农业机械化服务中心", "疾病预防控制中心", "经济开发区管理委员会", "高新技术产业园区管理委员会")
SYLLABLES = "安宝昌城春东丰福广和河华黄江金锦康乐林龙隆梅明南宁平青清泉仁荣瑞三沙山石水顺太桃天田通万文西溪新兴阳永玉元长中"


def _weighted(rng: random.Random, table) -> str:
    return rng.choices([name for name, _ in table], [weight for _, weight in table])[0]


@dataclass
class Agency:
    code: str  # bm07, xz03, gov
    name: str
    kind: str  # government | department | township
    dialect: str
    column_path: str  # the column's start URL path
    reports: list  # (year, format)


@dataclass
class Portal:
    host: str
    adcode: str
    name: str
    region: str
    agencies: list
    fault: str | None  # dead | flaky | resets


def _township(rng: random.Random, used: set) -> str:
    while True:
        name = "".join(rng.sample(SYLLABLES, 2)) + rng.choice(("镇", "镇", "乡", "街道"))
        if name not in used:
            used.add(name)
            return name + ("办事处" if name.endswith("街道") else "人民政府")


def _column_path(dialect: str, hub: str, index: int, adcode: str) -> str:
    if dialect == "hanweb":
        return f"/col/col{int(adcode) % 9000 * 100 + 10_000_000 + index}/index.html"
    if dialect == "vsb":
        return f"{hub}ndbg.htm"
    if dialect == "generic":
        return f"{hub}ndbg/index.shtml"
    return f"{hub}zfxxgkndbg/"


def plan(row: dict, size: str = "full") -> Portal:
    """The portal of one registry row; the same row gives the same portal on every run and machine."""
    rng = random.Random(f"national:{row['adcode']}")
    (d_low, d_high), (t_low, t_high) = SIZES[size]
    short = row["name"].removesuffix("人民政府")
    departments = rng.sample(DEPARTMENTS, rng.randint(d_low, d_high))
    used: set = set()
    townships = [_township(rng, used) for _ in range(rng.randint(t_low, t_high))]
    named = [("gov", row["name"], "government", GK)]
    named += [(f"bm{k:02d}", short + d, "department", f"{GK}bmxxgk/bm{k:02d}/") for k, d in enumerate(departments)]
    named += [(f"xz{k:02d}", t, "township", f"{GK}xzjdxxgk/xz{k:02d}/") for k, t in enumerate(townships)]
    agencies = []
    for index, (code, name, kind, hub) in enumerate(named):
        dialect = _weighted(rng, DIALECTS)
        newest = rng.choice((2024, 2024, 2024, 2023))
        years = range(newest, newest - rng.randint(5, 15), -1)
        reports = [(year, _weighted(rng, FORMATS)) for year in years]
        agencies.append(Agency(code, name, kind, dialect, _column_path(dialect, hub, index, row["adcode"]), reports))
    roll = rng.random()
    fault = "dead" if roll < 0.02 else "flaky" if roll < 0.05 else "resets" if roll < 0.06 else None
    region = "/".join(part for part in (row["province"], row["city"], row["county"]) if part)
    return Portal(_host(row), row["adcode"], row["name"], region, agencies, fault)


def _host(row: dict) -> str:
    return (urlsplit(row["portal_url"]).hostname or "").lower()


def registry_rows(count: int) -> list[dict]:
    """``count`` rows of the national registry, spread over it (every k-th), with a distinct portal host each;
    county rows first in proportion, as the registry has them."""
    with REGISTRY.open(encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if _host(r)]
    seen, unique = set(), []
    for row in rows:
        if _host(row) not in seen:
            seen.add(_host(row))
            unique.append(row)
    if count > len(unique):
        raise SystemExit(f"the registry has {len(unique)} distinct portal hosts, not {count}")
    step = len(unique) / count
    return [unique[int(k * step)] for k in range(count)]


# ------------------------------------------------------------------------------------------ content pools


def _pool() -> dict:
    """Report bodies (HTML, one per year and variant, with PLACEHOLDER for the agency) and report files (PDF,
    DOCX, DOC), rendered once by the sample portal's renderers and cached."""
    path = CACHE / "national-pool.pickle"
    if path.exists():
        return pickle.loads(path.read_bytes())
    from sampleportal.render import body_html, doc_bytes, docx_bytes, pdf_bytes
    from sampleportal.reports import Planned, synthetic_report

    rng = random.Random(20261207)
    bodies, files = {}, {"pdf": [], "docx": [], "doc": []}
    for year in range(2008, 2028):
        for variant in range(3):
            report, _ = synthetic_report(Planned(PLACEHOLDER, year, "html"), rng)
            bodies[(year, variant)] = body_html(report, split_spans=variant == 1)
    for k in range(6):
        report, _ = synthetic_report(Planned(PLACEHOLDER, 2019 + k, "pdf"), rng)
        files["pdf"].append(pdf_bytes(report, break_applications=k % 2 == 1))
        files["docx"].append(docx_bytes(report))
        if k < 2:
            files["doc"].append(doc_bytes(report))
    CACHE.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps({"bodies": bodies, "files": files}))
    return {"bodies": bodies, "files": files}


def _unique_file(data: bytes, fmt: str, mark: str) -> bytes:
    """The pooled file with bytes of its own, still a valid file of its kind."""
    tag = mark.encode()
    if fmt == "pdf":
        return data + b"%" + tag + b"\n"  # a comment after %%EOF
    if fmt == "docx":  # the ZIP comment: the end record's last field (no comment in the pooled file)
        return data[:-2] + len(tag).to_bytes(2, "little") + tag
    return data + tag  # OLE readers ignore what follows the last sector


# ------------------------------------------------------------------------------------------ rendering


class Renderer:
    """Pages of the virtual portals: columns rendered by the sample portal's dialects, on demand, cached."""

    def __init__(self, portals: dict[str, Portal], night: int, cache_columns: int = 4000):
        self.portals, self.night = portals, night
        self.pool = _pool()
        self.columns: OrderedDict = OrderedDict()  # (host, code) -> {path: (bytes, type, referer)}
        self.cache_columns = cache_columns
        self.owner: dict[tuple[str, str], str] = {}  # (host, path prefix) -> agency code, for lookups

    def changed_on(self, portal: Portal, agency: Agency) -> int:
        """The last night (0 = the first pass) on which this column gained a report."""
        last = 0
        for night in range(1, self.night + 1):
            if random.Random(f"night:{portal.adcode}:{agency.code}:{night}").random() < 0.1:
                last = night
        return last

    def _items(self, portal: Portal, agency: Agency, column: Column) -> list[Item]:
        family = pages.FAMILIES[agency.dialect]
        planned = list(agency.reports)
        for night in range(1, self.night + 1):
            if random.Random(f"night:{portal.adcode}:{agency.code}:{night}").random() < 0.1:
                planned.insert(0, (2025 + night // 366, "html"))
        items, used = [], set()
        # oldest first, each item drawn from its own place in the column's history: a report added on a later
        # night changes no earlier item's URL, date, 索引号 or bytes, as on a real portal
        for n, (year, fmt) in enumerate(reversed(planned)):
            items.insert(0, self._item(portal, agency, column, family, n, year, fmt, used))
        rng = random.Random(f"guide:{portal.adcode}:{agency.code}")
        guide = Item(f"{agency.name}政府信息公开指南", "2023-06-12", body=pages.other_body("政府信息公开指南"))
        guide.url = _article_url(family, agency, column, guide.date, rng, used)
        items.insert(min(3, len(items)), guide)
        return items

    def _item(self, portal: Portal, agency: Agency, column: Column, family, n: int, year: int, fmt: str,
              used: set) -> Item:
        """The column's n-th report counted from its oldest."""
        rng = random.Random(f"items:{portal.adcode}:{agency.code}:{n}")
        date = f"{year + 1}-{rng.randint(1, 3):02d}-{rng.randint(5, 28):02d}"
        title = f"{agency.name}{year}年政府信息公开工作年度报告"
        item = Item(title, date)
        item.url = _article_url(family, agency, column, date, rng, used)
        item.meta = {"索引号": f"{portal.adcode}-{year}-{n:03d}", "发布机构": agency.name, "公文生成日期": date}
        body = self.pool["bodies"][(year, n % 3)].replace(PLACEHOLDER, agency.name)
        if fmt == "html":
            item.body = body + f"<p>（{html.escape(item.meta['索引号'])}）</p>"
            return item
        data = _unique_file(self.pool["files"][fmt][n % len(self.pool["files"][fmt])], fmt,
                            f"{portal.host}/{agency.code}/{year}")
        name = f"P0{date.replace('-', '')}{rng.randint(10**11, 10**12 - 1)}.{fmt}"
        href = family.attachment(column, item, name, data, _TYPES[fmt])
        item.attachments.append((f"{title}.{fmt}", href))
        item.body = f"<p>现将《{html.escape(title)}》全文公布如下，详见附件。</p>"
        return item

    def render_column(self, portal: Portal, agency: Agency) -> dict:
        key = (portal.host, agency.code)
        if key in self.columns:
            self.columns.move_to_end(key)
            return self.columns[key]
        column = Column(agency.code, agency.dialect, portal.name, f"{agency.name}政府信息公开年报", agency.column_path,
                        agency.name, portal.region, [], [], encoding="gbk" if agency.dialect == "trs-countpage" else "utf-8",
                        per_page=10)
        pages.FILES, pages.ROUTES = {}, {}  # the dialects write into these module globals
        column.items = self._items(portal, agency, column)
        pages.FAMILIES[agency.dialect].write(column, None)
        served = {"/" + path: (data, _type_of(path), None) for path, data in pages.FILES.items()}
        for route, spec in pages.ROUTES.items():
            served[route] = (pages.FILES[spec["file"]], spec["type"], spec.get("referer"))
        version = self.changed_on(portal, agency)
        served = {path: (*entry, version if _is_list_page(path, agency) else 0) for path, entry in served.items()}
        for path in served:  # where each of its pages is found, kept when the pages themselves are evicted
            self.owner[(portal.host, path)] = agency.code
        self.columns[key] = served
        if len(self.columns) > self.cache_columns:
            self.columns.popitem(last=False)
        return served

    def resource(self, portal: Portal, path_qs: str) -> tuple[bytes, str, str | None, int] | None:
        """(body, media type, the Referer it requires or None, version) of a path, or None (404)."""
        if path_qs.endswith("/"):
            path_qs += "index.html"
        fixed = self.front_door(portal, path_qs)
        if fixed is not None:
            return fixed
        code = self.owner.get((portal.host, path_qs)) or self._entry(portal, path_qs)
        if code is None:
            return None
        agency = next(a for a in portal.agencies if a.code == code)
        return self.render_column(portal, agency).get(path_qs)

    def _entry(self, portal: Portal, path: str) -> str | None:
        """The agency whose column starts at ``path`` (the links of the front door), before any of it is rendered."""
        for agency in portal.agencies:
            start = agency.column_path + ("index.html" if agency.column_path.endswith("/") else "")
            if path == start:
                return agency.code
        return None

    # -------------------------------------------------------------------------------- front door

    def front_door(self, portal: Portal, path: str):
        look = SimpleNamespace(site_name=portal.name, column_name="政务公开", publisher=f"{portal.name}办公室",
                               encoding="utf-8")
        agencies = portal.agencies
        boxes = {
            "/index.html": ("首页", [("政务公开", "/zwgk/"), ("政府信息公开", GK), ("统计公报", "/zwgk/tjgb/")]),
            "/zwgk/index.html": ("政务公开", [("政府信息公开", GK), ("政务公开工作要点", "/zwgk/gzyd/"),
                                          ("企业年报公示", "/zwgk/qynbgs/")]),
            f"{GK}index.html": ("政府信息公开", [("政府信息公开指南", f"{GK}xxgkzn/"),
                                             ("政府信息公开年报", agencies[0].column_path),
                                             ("部门信息公开", f"{GK}bmxxgk/"), ("乡镇（街道）信息公开", f"{GK}xzjdxxgk/")]),
            f"{GK}bmxxgk/index.html": ("部门信息公开", [(a.name, f"{GK}bmxxgk/{a.code}/") for a in agencies
                                                   if a.kind == "department"]),
            f"{GK}xzjdxxgk/index.html": ("乡镇（街道）信息公开", [(a.name, f"{GK}xzjdxxgk/{a.code}/") for a in agencies
                                                          if a.kind == "township"]),
        }
        if path == "/robots.txt":
            return (b"User-agent: *\nDisallow: /search/\n", "text/plain", None, 0)
        for agency in agencies[1:]:
            branch = "bmxxgk" if agency.kind == "department" else "xzjdxxgk"
            if path == f"{GK}{branch}/{agency.code}/index.html":
                boxes[path] = (agency.name, [("机构职能", f"{GK}{branch}/{agency.code}/jgzn/"),
                                             ("政策文件", f"{GK}{branch}/{agency.code}/zcwj/"),
                                             ("政府信息公开年报", agency.column_path)])
        if path not in boxes:
            return None
        title, links = boxes[path]
        items = "".join(f'<li><a href="{html.escape(href)}">{html.escape(text)}</a></li>' for text, href in links)
        page = pages.chrome(look, title, f'<div class="box"><h2>{html.escape(title)}</h2><ul>{items}</ul></div>')
        return (page.encode(), "text/html", None, 0)


def _article_url(family, agency: Agency, column: Column, date: str, rng: random.Random, used: set) -> str:
    url = family.article_url(column, date, rng)
    if agency.dialect == "vsb":  # VSB numbers articles per column folder; the sample portal has one folder
        url = url.replace("/info/1022/", f"/info/{1100 + (int(agency.code[2:]) if agency.code[2:].isdigit() else 99)}/")
    while url in used:
        url = url.replace(".htm", "1.htm", 1)
    used.add(url)
    return url


_TYPES = {"pdf": "application/pdf", "doc": "application/msword",
          "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


def _type_of(path: str) -> str:
    suffix = path.rsplit(".", 1)[-1].lower()
    return _TYPES.get(suffix) or ("text/xml; charset=UTF-8" if suffix == "xml" else "text/html")


def _is_list_page(path: str, agency: Agency) -> bool:
    folder = agency.column_path.rsplit("/", 1)[0]
    name = path[len(folder):] if path.startswith(folder) else ""
    return path == agency.column_path or "dataproxy.jsp" in path or name.startswith(("/index", "/ndbg"))


# ------------------------------------------------------------------------------------------ the server


class Server:
    """The aiohttp application: latency, faults, conditional answers, and the counts the bench prints."""

    def __init__(self, portals: dict[str, Portal], night: int, seed: int = 0):
        self.renderer = Renderer(portals, night)
        self.portals, self.rng = portals, random.Random(seed)
        self.counts: Counter = Counter()
        self.in_flight: Counter = Counter()  # registrable domain (the host without www.) -> requests now
        self.most_in_flight: Counter = Counter()

    def _latency(self, portal: Portal) -> float:
        if portal.fault == "dead":
            return 90.0
        if self.rng.random() < 0.02:
            return self.rng.uniform(2.0, 6.0)
        return self.rng.uniform(0.1, 0.8)

    async def handle(self, request):
        from aiohttp import web

        host = (request.host or "").split(":")[0].lower()
        portal = self.portals.get(host)
        if portal is None:
            self.counts["unknown host"] += 1
            raise web.HTTPNotFound()
        domain = host.removeprefix("www.")
        self.in_flight[domain] += 1
        self.most_in_flight[domain] = max(self.most_in_flight[domain], self.in_flight[domain])
        try:
            await asyncio.sleep(self._latency(portal))
            return self._answer(request, portal)
        finally:
            self.in_flight[domain] -= 1

    def _answer(self, request, portal: Portal):
        from aiohttp import web

        if portal.fault == "flaky" and self.rng.random() < 0.1:
            self.counts["503"] += 1
            return web.Response(status=503, text="Service Unavailable")
        if portal.fault == "resets" and self.rng.random() < 0.05:
            self.counts["reset"] += 1
            request.transport.abort()
            raise web.HTTPServiceUnavailable()
        found = self.renderer.resource(portal, request.path_qs)
        if found is None:
            self.counts["404"] += 1
            return web.Response(status=404, text="404 页面不存在", content_type="text/html")
        body, media_type, referer, version = found
        if referer and request.headers.get("Referer", "").split("://", 1)[-1].split("/", 1)[-1] != referer.lstrip("/"):
            self.counts["403 referer"] += 1
            return web.Response(status=403, text="非法的下载请求！")
        modified = FIRST_PUBLISHED + version * 86400
        etag = '"' + hashlib.md5(body, usedforsecurity=False).hexdigest()[:16] + '"'
        headers = {"ETag": etag, "Last-Modified": formatdate(modified, usegmt=True)}
        if self._unchanged(request, etag, modified):
            self.counts["304"] += 1
            return web.Response(status=304, headers=headers)
        self.counts["200"] += 1
        self.counts["bytes"] += len(body)
        media = media_type.split(";")[0]
        charset = "utf-8" if media in ("text/plain", "text/xml") else None  # HTML: the page's own <meta> says
        return web.Response(body=body, content_type=media, charset=charset, headers=headers)

    @staticmethod
    def _unchanged(request, etag: str, modified: int) -> bool:
        if request.headers.get("If-None-Match"):
            return etag in request.headers["If-None-Match"]
        since = request.headers.get("If-Modified-Since")
        if since:
            try:
                return parsedate_to_datetime(since).timestamp() >= modified
            except (TypeError, ValueError):
                return False
        return False

    def stats(self) -> dict:
        return {"counts": dict(self.counts), "most_in_flight": max(self.most_in_flight.values(), default=0),
                "domains_over_one": sum(1 for v in self.most_in_flight.values() if v > 1)}


def serve(portals_csv: Path, port: int, night: int, size: str, stats_path: Path) -> None:
    """Serve the portals of a bench registry CSV on 127.0.0.1:port until SIGTERM; then write the counts."""
    from aiohttp import web

    with portals_csv.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    portals = {}
    for row in rows:
        portal = plan(row, size)
        portals[portal.host] = portal
    server = Server(portals, night)
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", server.handle)

    async def main():
        # a request the client gave up on (its timeout) is cancelled, so it no longer counts as in flight
        runner = web.AppRunner(app, access_log=None, handle_signals=False, keepalive_timeout=75,
                               handler_cancellation=True)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port, backlog=4096).start()
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        print("ready", flush=True)
        await stop.wait()
        stats_path.write_text(json.dumps(server.stats(), ensure_ascii=False))
        await runner.cleanup()

    asyncio.run(main())


def planned_urls(rows: list[dict], port: int, size: str, night: int = 0) -> list[tuple[str, str | None]]:
    """Every URL a complete crawl of these portals asks for on night 0, with the Referer a download needs: what
    Scrapy alone fetches when run side by side with the crawl (``national_crawl.py --side-by-side``). Of a portal
    that never answers, only robots.txt and the root: each of its URLs would cost three timeouts (a 100-portal
    bench at full size waited on two dead portals' 2,000 URLs for hours)."""
    out = []
    for row in rows:
        portal = plan(row, size)
        base = f"http://{portal.host}:{port}"
        renderer = Renderer({portal.host: portal}, night, cache_columns=1)
        front = ["/robots.txt", "/", "/zwgk/", GK, f"{GK}bmxxgk/", f"{GK}xzjdxxgk/"]
        if portal.fault == "dead":  # a crawl learns nothing past the front door of a portal that never answers
            out += [(base + path, None) for path in front[:2]]
            continue
        front += [f"{GK}{'bmxxgk' if a.kind == 'department' else 'xzjdxxgk'}/{a.code}/" for a in portal.agencies[1:]]
        out += [(base + path, None) for path in front]
        for agency in portal.agencies:
            for path, (_, _, referer, _) in renderer.render_column(portal, agency).items():
                if path.endswith("index.html") and agency.dialect != "hanweb" and path == agency.column_path + "index.html":
                    path = agency.column_path
                out.append((base + path, base + referer if referer else None))
    return out


if __name__ == "__main__":
    serve(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], Path(sys.argv[5]))
    time.sleep(0)
