"""Generate the sample portal: `python -m sampleportal.generate` (deterministic, committed).

Four CMS families on one host, each laid out as the real platforms lay out their
年报 columns, with site chrome, metadata blocks, non-report items, a report listed
twice and GBK-encoded pages. Writes the files under ``site/``, the URL routes the
server needs for dynamic-looking endpoints (``routes.json``), the registry of the
portal's columns (``sites.yml``) and the ground truth (``expected.json``, ``obstacles.json``).
The default portal also gets 洛江区's front door (``frontdoor.py``: home page, 政务公开
navigation, township columns, look-alike columns; truth in ``frontdoor.json``, portal-only
registry in ``portals.yml``).

One column is not on the portal's address but on names of its own: the city's column of its departments'
年报 (pages.DepartmentSubdomains), at ``www.nianbao-sz.onion`` with each report on its department's
subdomain (``hrss.``, ``amr.`` …), laid out as www.sz.gov.cn and its departments' sites are (sources in
pages.py: RSSHub's routes for www.sz.gov.cn/cn/xxgk/zfxxgj/ and zjj.sz.gov.cn, and the portal's published
``…/content/post_ID.html`` and ``/attachment/…/ID.pdf`` URLs). Its registry entry names
``http://www.nianbao-sz.onion:${PORTAL_PORT}/…``; resolver.py says why that name, and how it reaches 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import html
import json
import random
import shutil
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from . import frontdoor, pages
from .obstacles import add as add_obstacles
from .render import body_html, doc_bytes, docx_bytes, pdf_bytes
from .reports import SEEDS_DIR, Planned, seed_report, synthetic_report

HERE = Path(__file__).resolve().parent
SITE = HERE / "site"
MEDIA_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "doc": "application/msword",
}


@dataclass
class Item:
    """One entry of a column list: a report or something else the agency filed there."""

    title: str
    date: str
    url: str = ""
    planned: Planned | None = None
    body: str = ""
    attachments: list[tuple[str, str]] = field(default_factory=list)  # (link text, href)
    meta: dict = field(default_factory=dict)


@dataclass
class Column:
    id: str
    family: str  # trs | hanweb | vsb | generic
    site_name: str
    column_name: str
    path: str  # the column's start URL path
    publisher: str
    region: str
    planned: list[Planned]
    others: list[str]
    encoding: str = "utf-8"
    per_page: int = 4
    duplicate: bool = False  # list one report twice, on two pages
    items: list[Item] = field(default_factory=list)
    host: str = ""  # a column on a host name of its own (``www.nianbao-sz.onion``) instead of the portal's address


def _plan(agency, formats: dict, seeds: dict | None = None, faults: dict | None = None, titles=None):
    seeds, faults, titles = seeds or {}, faults or {}, titles or {}
    return [
        Planned(agency, year, fmt, seed=seeds.get(year), fault=faults.get(year), title=titles.get(year))
        for year, fmt in formats.items()
    ]


YEARS = range(2019, 2025)


def columns() -> list[Column]:
    lj = "泉州市洛江区"
    return [
        Column(
            "qzlj-zfxxgkndbg", "trs", f"{lj}人民政府", "政府信息公开年报", "/zwgk/zfxxgkzl/zfxxgkndbg/",
            f"{lj}人民政府办公室", "福建省/泉州市/洛江区",
            _plan(f"{lj}人民政府", dict(zip(YEARS, ["html", "html", "pdf", "html", "docx", "html"])), faults={2022: "balance"}),
            [f"{lj}人民政府政府信息公开指南", f"{lj}2023年政府信息公开工作年度报告汇总",
             "关于做好2023年政府信息公开工作年度报告编制发布工作的通知"],
            per_page=3, duplicate=True,
        ),
        Column(
            "qzlj-kxjsj", "trs", f"{lj}人民政府", "科学技术局 政府信息公开年报", "/zwgk/zfxxgkzl/bmzfxxgk/kxjsj/zfxxgkndbg/",
            f"{lj}科学技术局", "福建省/泉州市/洛江区",
            _plan(f"{lj}科学技术局", dict(zip(YEARS, ["html", "pdf", "html", "pdf", "html", "pdf"])), seeds={2020: "003"},
                  titles={2020: f"{lj}科学技术局2020年政府信息公开工作年度报告"}),
            [f"{lj}科学技术局2022年部门预算", f"{lj}科学技术局2021年度部门决算"],
            encoding="gbk",
        ),
        Column(
            "qzlj-jyj", "trs", f"{lj}人民政府", "教育局 政府信息公开年报", "/zwgk/zfxxgkzl/bmzfxxgk/jyj/zfxxgkndbg/",
            f"{lj}教育局", "福建省/泉州市/洛江区",
            _plan(f"{lj}教育局", dict(zip(YEARS, ["doc", "docx", "html", "docx", "html", "docx"]))),
            [f"{lj}教育局政府信息公开指南", "关于2024年秋季学期义务教育招生工作的通知"],
        ),
        Column(
            "qzlj-wsjkj", "trs", f"{lj}人民政府", "卫生健康局 政府信息公开年报", "/zwgk/zfxxgkzl/bmzfxxgk/wsjkj/zfxxgkndbg/",
            f"{lj}卫生健康局", "福建省/泉州市/洛江区",
            _plan(f"{lj}卫生健康局", dict(zip(YEARS, ["pdf", "pdf", "html", "pdf", "pdf", "html"])), faults={2023: "review_total"}),
            [f"{lj}卫生健康局2023年部门预算"],
        ),
        Column(
            "jiaxing-kjj", "hanweb", "嘉兴市科学技术局", "政府信息公开年报", "/col/col1229/index.html",
            "嘉兴市科学技术局", "浙江省/嘉兴市",
            _plan("嘉兴市科学技术局", dict(zip(YEARS, ["html", "docx", "html", "html", "pdf", "html"])), seeds={2020: "001"},
                  titles={2020: "嘉兴市科学技术局2020年度政府信息公开工作年度报告"}),
            ["嘉兴市科学技术局政府信息公开指南（2024年版）", "嘉兴市科学技术局2024年部门预算", "2023年度部门决算公开"],
            per_page=3,
        ),
        Column(
            "jdz-kjj", "vsb", "景德镇市科学技术局", "政府信息公开年报", "/xxgk/ndbg.htm",
            "景德镇市科学技术局", "江西省/景德镇市",
            _plan("景德镇市科技局", dict(zip(YEARS, ["html", "pdf", "docx", "html", "pdf", "html"])), seeds={2021: "004"}),
            ["景德镇市科学技术局政府信息公开指南", "景德镇市科学技术局2024年部门预算公开"],
            per_page=3,
        ),
        Column(
            "ganzhou-kjj", "generic", "赣州市科学技术局", "政府信息公开年度报告", "/zfxxgk/ndbg/index.shtml",
            "赣州市科学技术局", "江西省/赣州市",
            _plan("赣州市科技局", dict(zip(YEARS, ["html", "pdf", "html", "pdf", "html", "html"])), seeds={2020: "000"},
                  titles={2020: "赣州市科技局2020年度政府信息公开工作报告"}),
            ["赣州市科学技术局政府信息公开指南", "关于公布2024年度政府信息公开工作年度报告的通知"],
        ),
        Column(
            "changchun-nanguan-kjj", "generic", "长春市南关区人民政府", "区科技局 政府信息公开年报", "/nggov/kjj/ndbg/index.shtml",
            "长春市南关区科技局", "吉林省/长春市/南关区",
            [Planned("南关区科技局", 2019, "html"),
             Planned("南关区科技局", 2020, "html", seed="002", title="2020年南关区科技局政府信息公开工作年度报告"),
             Planned("南关区科技局", 2022, "pdf")],
            ["南关区科技局政府信息公开指南"],
        ),
        # Second dialects (pages.HanwebJpage, pages.TrsPageDiv): titles that leave the agency out,
        # ``…年报（2023）``, list titles cut short; the registry gives no cms hint, so it is detected.
        Column(
            "shaoxing-jyj", "hanweb-jpage", "绍兴市教育局", "政府信息公开年报", "/col/col1229500/index.html",
            "绍兴市教育局", "浙江省/绍兴市",
            _plan("绍兴市教育局", dict(zip(YEARS, ["pdf", "html", "docx", "pdf", "html", "pdf"])),
                  titles={y: f"{y}年度政府信息公开工作年度报告" for y in YEARS}),
            ["绍兴市教育局政府信息公开指南", "2024年绍兴市教育局部门预算"],
            per_page=2,
        ),
        Column(
            "fengze-fgj", "trs-pagediv", "泉州市丰泽区人民政府", "发展和改革局 政府信息公开年报", "/zwgk/fzq/fgj/ndbg/",
            "泉州市丰泽区发展和改革局", "福建省/泉州市/丰泽区",
            _plan("泉州市丰泽区发展和改革局", dict(zip(range(2020, 2025), ["html", "pdf", "html", "docx", "html"])),
                  titles={2021: "泉州市丰泽区发展和改革局政府信息公开年报（2021）",
                          2022: "2022年政府信息公开工作年度报告"}),
            ["泉州市丰泽区发展和改革局政府信息公开指南"],
            per_page=2,
        ),
    ]


def _department_reports() -> list[Planned]:
    """One report of each of the city's departments for 2023, and 2022's of two; formats mixed."""
    formats = ["html", "pdf", "docx", "html", "pdf", "html", "docx", "pdf"]
    planned = [Planned(agency, 2023, fmt) for agency, fmt in zip(pages.DepartmentSubdomains.DEPARTMENTS, formats)]
    return planned + [Planned("深圳市人力资源和社会保障局", 2022, "pdf"), Planned("深圳市发展和改革委员会", 2022, "html")]


def round_two_columns() -> list[Column]:
    """Second dialects of issue 27 (pages.TrsCountPage, pages.FujianSearchId, pages.DepartmentSubdomains); each
    built with a random generator of its own, so the columns above and their obstacles stay as they were."""
    ds = "鄂尔多斯市东胜区"
    return [
        Column(
            "dongsheng-zfxxgknb", "trs-countpage", f"{ds}人民政府", "政府信息公开年报", "/dsq/xxgk/zfxxgknb/",
            f"{ds}人民政府办公室", "内蒙古自治区/鄂尔多斯市/东胜区",
            _plan(f"{ds}人民政府", dict(zip(YEARS, ["html", "pdf", "html", "html", "docx", "html"]))),
            [f"{ds}政府信息公开指南", "关于做好2023年政府信息公开工作年度报告编制发布工作的通知", f"{ds}政务公开工作要点"],
            per_page=4,
        ),
        Column(
            "fujian-gxt", "fujian-searchid", "福建省工业和信息化厅", "政府信息公开年报", "/fjgxt/zwgk/ndbg/",
            "福建省工业和信息化厅", "福建省",
            _plan("福建省工业和信息化厅", dict(zip(YEARS, ["html", "pdf", "html", "pdf", "html", "html"]))),
            ["福建省工业和信息化厅政府信息公开指南"],
            per_page=2,
        ),
        # the city's column of its departments' reports, each on the department's own subdomain (politeness is
        # per registrable domain: the crawl must take these one at a time, with its delay between them)
        Column(
            "shenzhen-bmnb", "subdomain-departments", "深圳市人民政府", "市直部门政府信息公开年报",
            "/cn/xxgk/zfxxgj/bmxxgknb/", "深圳市人民政府办公厅", "广东省/深圳市", _department_reports(),
            ["深圳市人民政府办公厅关于做好2023年度政府信息公开工作年度报告编制发布工作的通知",
             "深圳市市直部门政府信息公开指南目录"],
            per_page=20, host=pages.DepartmentSubdomains.host("www"),
        ),
    ]


def _published(year: int, rng: random.Random) -> str:
    return f"{year + 1}-{rng.randint(1, 3):02d}-{rng.randint(5, 28):02d}"


def _file_name(fmt: str, date: str, rng: random.Random) -> str:
    return f"P0{date.replace('-', '')}{rng.randint(10**11, 10**12 - 1)}.{fmt}"


def _render(report, fmt: str, rng: random.Random, pool: Executor | None = None) -> bytes | Future:
    """The report's file; with a pool, a Future of it (the draw from ``rng`` is made here either way, so
    the portal is the same whether files are rendered in order or by workers)."""
    break_applications = fmt == "pdf" and rng.random() < 0.5
    if pool is not None:
        return pool.submit(_render_file, report, fmt, break_applications)
    return _render_file(report, fmt, break_applications)


def _render_file(report, fmt: str, break_applications: bool) -> bytes:
    if fmt == "pdf":
        return pdf_bytes(report, break_applications=break_applications)
    return docx_bytes(report) if fmt == "docx" else doc_bytes(report)


_USED_URLS: set[str] = set()


def _unique_url(family, column, date: str, rng: random.Random) -> str:
    """An article URL no other item has: CMS ids are random, and two reports must never share a page."""
    url = family.article_url(column, date, rng)
    while url in _USED_URLS:
        url = family.article_url(column, date, rng)
    _USED_URLS.add(url)
    return url


def _located(family, item: Item, url: str) -> str:
    """The item's URL where its family places it (a department's article on the department's subdomain)."""
    item.url = url
    return family.locate(item) if hasattr(family, "locate") else url


def build_items(column: Column, rng: random.Random, expected: list, pool: Executor | None = None) -> None:
    """Render every report of a column (by ``pool``'s workers when given) and interleave the non-report items."""
    family = pages.FAMILIES[column.family]
    for planned in column.planned:
        report, must_fail = (seed_report(planned, SEEDS_DIR) if planned.seed else synthetic_report(planned, rng))
        date = _published(planned.year, rng)
        item = Item(report.title, date, planned=planned)
        item.url = _located(family, item, _unique_url(family, column, date, rng))
        item.meta = {"索引号": f"{rng.randint(10**7, 10**8 - 1)}/{date[:4]}-{rng.randint(100, 999)}",
                     "发布机构": column.publisher, "公文生成日期": date, "文号": "", "主题分类": "政务公开"}
        document_url = item.url
        if planned.fmt == "html":
            item.body = body_html(report, split_spans=rng.random() < 0.5)
        else:
            data = _render(report, planned.fmt, rng, pool)
            name = _file_name(planned.fmt, date, rng)
            href = family.attachment(column, item, name, data, MEDIA_TYPES[planned.fmt])
            item.attachments.append((f"{report.title}.{planned.fmt}", href))
            item.body = (f"<p>现将《{html.escape(report.title)}》全文公布如下，详见附件。</p>"
                         + pages.viewer_html(href, planned.fmt))
            document_url = href
        column.items.append(item)
        expected.append({
            "column": column.id, "family": column.family, "url": item.url, "document": document_url,
            "title": report.title, "agency": planned.agency, "year": planned.year,
            "template": report.record["template"], "format": planned.fmt, "seed": planned.seed,
            "published": date, "must_fail": must_fail,
        })
    for n, title in enumerate(column.others):
        date = f"202{rng.randint(1, 4)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        item = Item(title, date, body=pages.other_body(title))
        item.url = _located(family, item, _unique_url(family, column, date, rng))
        item.meta = {"发布机构": column.publisher, "公文生成日期": date}
        column.items.insert(min(2 * n + 1, len(column.items)), item)
    column.items.sort(key=lambda i: i.date, reverse=True)


def generate(out: Path = SITE, cols: list[Column] | None = None, meta: Path = HERE, obstacles: bool = True,
             workers: int = 0) -> dict:
    """Write the portal under `out` and its routes, registry and ground truth under `meta`. With
    ``workers`` > 0 the report files (PDF, DOCX, DOC) are rendered by that many processes; the output is the same."""
    with ProcessPoolExecutor(workers) if workers > 0 else nullcontext() as pool:
        return _generate(out, cols, meta, obstacles, pool)


def _generate(out: Path, cols: list[Column] | None, meta: Path, obstacles: bool, pool: Executor | None) -> dict:
    rng = random.Random(20241123)
    with_front_door = cols is None
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    pages.ROUTES.clear()
    expected: list = []
    cols = cols or columns()
    pages.FILES.clear()
    _USED_URLS.clear()
    for column in cols:
        build_items(column, rng, expected, pool)
    found = add_obstacles({c.id: c for c in cols}, rng, Item) if obstacles else []
    if with_front_door:
        extra = round_two_columns()
        for column in extra:
            build_items(column, random.Random(column.id), expected, pool)
        cols = cols + extra
    for column in cols:
        column.items.sort(key=lambda i: i.date, reverse=True)
    townships, township_reports = [], []
    if with_front_door:
        townships = frontdoor.township_columns(Column, _plan)
        for column in townships:
            build_items(column, frontdoor.column_rng(column.id), township_reports, pool)
    for column in cols + townships:
        pages.FAMILIES[column.family].write(column, out)
    if with_front_door:
        meta.mkdir(parents=True, exist_ok=True)
        frontdoor.write({c.id: c for c in cols + townships}, townships, township_reports, meta)
    pages.write_common(cols, out)
    meta.mkdir(parents=True, exist_ok=True)
    (meta / "routes.json").write_text(json.dumps(pages.ROUTES, ensure_ascii=False, indent=1, sort_keys=True))
    (meta / "expected.json").write_text(json.dumps(expected, ensure_ascii=False, indent=1))
    (meta / "obstacles.json").write_text(json.dumps(found, ensure_ascii=False, indent=1))
    (meta / "sites.yml").write_text(pages.registry(cols), encoding="utf-8")
    digest = hashlib.sha256(json.dumps(expected, ensure_ascii=False).encode()).hexdigest()[:12]
    return {"reports": len(expected), "columns": len(cols), "digest": digest}


if __name__ == "__main__":
    print(generate())
