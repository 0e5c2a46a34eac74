"""What real portals put in a crawler's way, added to the sample portal's columns.

- an article behind an anti-bot challenge answered 412 (the 瑞数-style ``$_ts`` cookie script);
- an article answered 200 with a challenge stub instead of the page;
- an attachment link that redirects to another host;
- an old report filed under a path robots.txt disallows.
None of them may become a report; each must show up in the fetch log with its reason.
"""

from __future__ import annotations

from . import pages

CHALLENGE_412 = """<!DOCTYPE html><html><head><meta charset="utf-8"><meta http-equiv="Pragma" content="no-cache">
<script type="text/javascript">$_ts=window['$_ts'];if(!$_ts)$_ts={};$_ts.nsd=48213;$_ts.cd="qcxcrAlmqGx";</script>
<script type="text/javascript" charset="utf-8" src="/4QbVtADbnLVIc/d.FxJzG50F.dfe1675.js" r='m'></script>
</head><body></body></html>"""
CHALLENGE_STUB = """<html><head><meta charset="utf-8"></head><body><script>
var x="cookie_verify";document.cookie="__jsl_clearance_s=1700000000.123|0|"+x+";max-age=3600;path=/";
location.href=location.pathname+location.search;</script></body></html>"""
ELSEWHERE = "http://static.files-elsewhere.example/upload/2022/ndbg.pdf"
ROBOTS_DISALLOWED = "/zwgk/zfxxgkzl/zfxxgkndbg/lsnb/"


def add(columns: dict, rng, Item) -> list[dict]:
    """Insert the obstacles into their columns; return what the crawler must make of them."""
    found = []
    nanguan = columns["changchun-nanguan-kjj"]
    for year, kind, body, status in ((2021, "blocked", CHALLENGE_412, 412), (2023, "blocked", CHALLENGE_STUB, 200)):
        date = f"{year + 1}-01-2{year % 10}"
        item = Item(f"南关区科技局{year}年政府信息公开工作年度报告", date)
        item.url = pages.FAMILIES["generic"].article_url(nanguan, date, rng)
        path = f"challenge/{year}.html"
        pages._put(path, body)
        pages.ROUTES[item.url] = {"file": path, "type": "text/html; charset=utf-8", "referer": None, "status": status}
        nanguan.items.append(item)
        found.append({"kind": kind, "url": item.url, "status": status, "title": item.title})

    ganzhou = columns["ganzhou-kjj"]
    target = next(i for i in ganzhou.items if i.planned and i.planned.year == 2022)
    jump = "/zfxxgk/jump.jsp?url=" + ELSEWHERE
    pages.ROUTES[jump] = {"status": 302, "location": ELSEWHERE, "referer": None}
    target.body += f'<p>相关解读：<a href="{jump}">2022年政府信息公开工作年度报告图解.pdf</a></p>'
    found.append({"kind": "refused", "url": jump, "location": ELSEWHERE, "title": target.title})

    district = columns["qzlj-zfxxgkndbg"]
    date = "2019-01-15"
    item = Item("泉州市洛江区人民政府2018年政府信息公开工作年度报告", date, body="<p>（历史年报）</p>")
    item.url = f"{ROBOTS_DISALLOWED}201901/t20190115_1987654.htm"
    item.meta = {"发布机构": district.publisher, "公文生成日期": date}
    district.items.append(item)
    found.append({"kind": "robots", "url": item.url, "title": item.title})
    return found
