"""The sample portal's front door: 泉州市洛江区人民政府's home page and 政务公开 navigation.

Laid out as real county portals lay theirs out (首页 → 政务公开 → 政府信息公开专栏 →
政府信息公开年报 / 法定主动公开内容 / 部门信息公开 → 某某局 / 乡镇（街道）信息公开 → 某某镇),
with the look-alike columns real portals carry beside the 年报 columns: 企业年报公示,
统计年报 / 统计公报, 法治政府建设年度报告, 预算 / 决算, 工作要点, notices about 年报, and
a link labelled 年度报告 whose list holds none. Written independently of crawler/discovery.py.

Adds three township columns (their reports are listed in ``frontdoor.json``, not in
``expected.json``: the hand-written registry ``sites.yml`` does not name them, discovery
must find them), and ``portals.yml``, the portal-only registry of this front door.
"""

from __future__ import annotations

import html
import json
import random
from pathlib import Path
from types import SimpleNamespace

from . import pages

LJ = "泉州市洛江区"
GOVERNMENT = f"{LJ}人民政府"
HOME = SimpleNamespace(site_name=GOVERNMENT, column_name="首页", publisher=f"{GOVERNMENT}办公室", encoding="utf-8")
GK = "/zwgk/zfxxgkzl/"
DEPARTMENTS = (("kxjsj", "科学技术局"), ("jyj", "教育局"), ("wsjkj", "卫生健康局"), ("tjj", "统计局"), ("czj", "财政局"))
TOWNSHIPS = (("mjz", "马甲镇", "人民政府"), ("lxz", "罗溪镇", "人民政府"), ("wajd", "万安街道", "办事处"))

# Look-alike columns: (path, link text, item titles). None of them is a 年报 column.
DECOYS = (
    ("/zwgk/qynbgs/", "企业年报公示", ["关于开展2023年度企业年报公示工作的通知", "洛江区2023年度企业年度报告公示情况",
                                   "2022年度企业年度报告公示名单"]),
    ("/zwgk/tjxx/tjnb/", "统计年报", ["洛江区2023年统计年报", "洛江区2022年统计年报", "洛江区2021年统计年报"]),
    ("/zwgk/tjxx/tjgb/", "统计公报", ["洛江区2023年国民经济和社会发展统计公报", "洛江区2022年国民经济和社会发展统计公报"]),
    ("/zwgk/fzzfjs/", "法治政府建设", [f"{LJ}2023年法治政府建设年度报告", f"{LJ}2022年法治政府建设年度报告",
                                  f"{LJ}2021年度法治政府建设情况报告"]),
    ("/zwgk/czyjs/", "财政预决算", [f"{LJ}2024年财政预算", f"{LJ}2023年财政决算", f"{LJ}2023年部门预算汇总"]),
    ("/zwgk/gzyd/", "政务公开工作要点", [f"{LJ}2024年政务公开工作要点", f"{LJ}2023年政务公开工作要点"]),
    ("/zwgk/xxgkdt/", "信息公开动态", ["关于做好2023年政府信息公开工作年度报告编制发布工作的通知",
                                  "关于报送2022年政府信息公开工作年度报告的通知", "洛江区召开政务公开工作推进会"]),
    # labelled 年度报告, as real portals label many things: its items are not OGI annual reports
    ("/zwgk/ndbgzl/", "年度报告", [f"{LJ}2023年法治政府建设年度报告", "洛江区2023年统计年报",
                               "2023年度企业年度报告公示名单", f"{LJ}2023年国民经济和社会发展统计公报"]),
    (f"{GK}bmzfxxgk/tjj/tjnb/", "统计年报", ["洛江区统计局2023年统计年报", "洛江区统计局2022年统计年报"]),
    (f"{GK}bmzfxxgk/tjj/ndbg/", "年度报告", ["洛江区2023年国民经济和社会发展统计公报", "洛江区2023年统计年报"]),
    (f"{GK}bmzfxxgk/czj/ysjs/", "预算决算", [f"{LJ}财政局2024年部门预算", f"{LJ}财政局2023年部门决算"]),
)


def _links(links) -> str:
    return "".join(f'<li><a href="{html.escape(href)}">{html.escape(text)}</a></li>' for text, href in links)


def _page(path: str, title: str, body: str, breadcrumb: str | None = None) -> None:
    column = SimpleNamespace(**{**HOME.__dict__, "column_name": breadcrumb or title})
    pages._put(path + ("index.html" if path.endswith("/") else ""), pages.chrome(column, title, body))


def _box(title: str, links, cls: str = "gk-nav") -> str:
    return f'<div class="{cls}"><h3>{html.escape(title)}</h3><ul>{_links(links)}</ul></div>'


def _decoy_pages() -> None:
    for n, (path, text, titles) in enumerate(DECOYS):
        items = []
        for i, title in enumerate(titles):
            href = f"{path}2024{i + 1:02d}/t2024{i + 1:02d}15_{9_000_000 + 100 * n + i}.htm"
            items.append(f'<li><a href="{href}" title="{html.escape(title)}">{html.escape(title)}</a>'
                         f"<span>2024-{i + 1:02d}-15</span></li>")
            _page(href, title, f"<h1>{html.escape(title)}</h1><div class=\"TRS_Editor\"><p>（正文略）</p></div>", text)
        _page(path, text, f'<div class="list-title">{html.escape(text)}</div><ul class="list">{"".join(items)}</ul>')


def _home() -> None:
    news = [("洛江区召开2024年政务公开工作推进会", "/xwzx/202403/t20240312_8000001.htm"),
            ("关于开展2023年度企业年报公示工作的通知", "/zwgk/qynbgs/202401/t20240115_9000000.htm"),
            ("洛江区2023年国民经济和社会发展统计公报", "/zwgk/tjxx/tjgb/202401/t20240115_9000200.htm"),
            (f"{GOVERNMENT}2023年政府信息公开工作年度报告", "/zwgk/zfxxgkzl/zfxxgkndbg/"),
            ("2024年春节假期安排", "/xwzx/202401/t20240120_8000002.htm")]
    for text, href in news[::4]:
        _page(href, text, f"<h1>{html.escape(text)}</h1><div class=\"TRS_Editor\"><p>（正文略）</p></div>", "要闻动态")
    body = (_box("要闻动态", news, "news") +
            _box("政务公开", [("政府信息公开", GK), ("政策文件", "/zwgk/zcwj/"), ("统计信息", "/zwgk/tjxx/tjgb/"),
                          ("企业年报公示", "/zwgk/qynbgs/")], "quick") +
            _box("专题专栏", [("法治政府建设", "/zwgk/fzzfjs/"), ("日历", "/hdjl/rl/")], "zt"))
    _page("/", GOVERNMENT, body, "首页")


def _gateways() -> None:
    _page("/zwgk/", "政务公开", _box("政务公开", [
        ("政府信息公开", GK), ("政务公开动态", "/zwgk/xxgkdt/"), ("政务公开工作要点", "/zwgk/gzyd/"),
        ("财政预决算", "/zwgk/czyjs/"), ("统计年报", "/zwgk/tjxx/tjnb/"), ("统计公报", "/zwgk/tjxx/tjgb/"),
        ("企业年报公示", "/zwgk/qynbgs/"), ("法治政府建设", "/zwgk/fzzfjs/"), ("年度报告", "/zwgk/ndbgzl/"),
        ("信息公开动态", "/zwgk/xxgkdt/")]))
    _page(GK, "政府信息公开", _box("政府信息公开", [
        ("政府信息公开指南", f"{GK}xxgkzn/"), ("政府信息公开制度", f"{GK}xxgkzd/"),
        ("法定主动公开内容", f"{GK}fdzdgknr/"), ("政府信息公开年报", f"{GK}zfxxgkndbg/"),
        ("部门信息公开", f"{GK}bmzfxxgk/"), ("乡镇（街道）信息公开", f"{GK}xzjdxxgk/"), ("依申请公开", f"{GK}ysqgk/")]))
    _page(f"{GK}fdzdgknr/", "法定主动公开内容", _box("法定主动公开内容", [
        ("机构职能", f"{GK}fdzdgknr/jgzn/"), ("政策文件", "/zwgk/zcwj/"), ("财政预决算", "/zwgk/czyjs/"),
        ("统计信息", "/zwgk/tjxx/tjnb/"), ("政府信息公开年报", f"{GK}zfxxgkndbg/")]))
    for sub, title in (("xxgkzn/", "政府信息公开指南"), ("xxgkzd/", "政府信息公开制度"), ("ysqgk/", "依申请公开"),
                       ("fdzdgknr/jgzn/", "机构职能")):
        _page(GK + sub, title, f"<h1>{title}</h1><p>（正文略）</p>")


def _departments() -> None:
    index = [(name, f"{GK}bmzfxxgk/{code}/") for code, name in DEPARTMENTS]
    _page(f"{GK}bmzfxxgk/", "部门信息公开", _box("部门信息公开", index))
    for code, name in DEPARTMENTS:
        base = f"{GK}bmzfxxgk/{code}/"
        if code == "tjj":
            links = [("机构职能", f"{base}jgzn/"), ("统计年报", f"{base}tjnb/"), ("年度报告", f"{base}ndbg/")]
        elif code == "czj":
            links = [("机构职能", f"{base}jgzn/"), ("预算决算", f"{base}ysjs/")]
        else:
            links = [("机构职能", f"{base}jgzn/"), ("政府信息公开指南", f"{base}xxgkzn/"),
                     ("政府信息公开年报", f"{base}zfxxgkndbg/"), ("部门预算", f"{base}bmys/")]
        _page(base, f"{name}信息公开", _box(f"{LJ}{name}", links + [("返回部门信息公开", f"{GK}bmzfxxgk/")]))
        _page(f"{base}jgzn/", f"{name}机构职能", f"<h1>{name}机构职能</h1><p>（正文略）</p>")


def _townships() -> None:
    index = [(name, f"{GK}xzjdxxgk/{code}/") for code, name, _ in TOWNSHIPS]
    _page(f"{GK}xzjdxxgk/", "乡镇（街道）信息公开", _box("乡镇（街道）信息公开", index))
    for code, name, _ in TOWNSHIPS:
        base = f"{GK}xzjdxxgk/{code}/"
        _page(base, f"{name}信息公开", _box(f"{LJ}{name}", [
            ("机构职能", f"{base}jgzn/"), ("政府信息公开年报", f"{base}zfxxgkndbg/"), ("工作要点", "/zwgk/gzyd/")]))


def township_columns(Column, plan) -> list:
    """The township 年报 columns, TRS like the district's own."""
    formats = ({2022: "html", 2023: "html", 2024: "pdf"}, {2023: "html", 2024: "docx"}, {2024: "html"})
    cols = []
    for (code, name, suffix), fmts in zip(TOWNSHIPS, formats):
        agency = f"{LJ}{name}{suffix}"
        cols.append(Column(
            f"qzlj-{code}", "trs", GOVERNMENT, f"{name} 政府信息公开年报", f"{GK}xzjdxxgk/{code}/zfxxgkndbg/",
            agency, "福建省/泉州市/洛江区", plan(agency, fmts), [f"{name}2024年政务公开工作要点"],
        ))
    return cols


def column_rng(column_id: str) -> random.Random:
    """Township columns draw from their own generator, so the older columns' URLs do not move."""
    return random.Random(f"frontdoor:{column_id}")


def write(columns_by_id: dict, townships: list, reports: list, meta: Path) -> None:
    """Put the front door's pages; write frontdoor.json (the truth) and portals.yml (the portal-only registry)."""
    _home()
    _gateways()
    _departments()
    _townships()
    _decoy_pages()
    lj = [c for c in columns_by_id.values() if c.id.startswith("qzlj-")]
    truth = {
        "portal": {"id": "350504", "name": GOVERNMENT, "region": "福建省/泉州市/洛江区"},
        "columns": [{"path": c.path, "agency": c.publisher if c.id != "qzlj-zfxxgkndbg" else GOVERNMENT,
                     "kind": "government" if c.id == "qzlj-zfxxgkndbg" else
                     ("township" if c in townships else "department"), "column_id": c.id} for c in lj],
        "decoys": [path for path, _, _ in DECOYS],
        "reports": reports,
    }
    (meta / "frontdoor.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1), encoding="utf-8")
    (meta / "portals.yml").write_text(
        "# The sample portal's front door as a portal-only registry entry: discovery finds its 年报 columns.\n"
        "sites:\n  - id: \"350504\"\n    name: 泉州市洛江区人民政府\n    region: 福建省/泉州市/洛江区\n"
        "    portal: ${PORTAL}/\n", encoding="utf-8")
