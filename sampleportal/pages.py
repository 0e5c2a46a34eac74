"""Page templates of the sample portal, one class per CMS family.

Each family writes list pages and article pages the way its platform does:
TRS (createPageHTML, tYYYYMMDD_ID.htm), Hanweb jcms (datastore XML and
dataproxy.jsp), VSB (ndbg.htm / ndbg/N.htm, download.jsp behind a Referer) and a
generic CMS (index_N.shtml with a 下一页 link).
"""

from __future__ import annotations

import hashlib
import html
import json
from concurrent.futures import Future
from pathlib import Path
from urllib.parse import quote

FILES: dict[str, bytes] = {}  # path under site/ -> bytes
ROUTES: dict[str, dict] = {}  # "path?query" -> {"file", "type", "referer"}


def _put(path: str, data: bytes | str | Future, encoding: str = "utf-8") -> None:
    """``data`` may be a Future: a report file still being rendered by a worker (generate(workers=N))."""
    FILES[path.lstrip("/")] = data if not isinstance(data, str) else data.encode(encoding, errors="xmlcharrefreplace")


def _charset(column) -> str:
    return "gb2312" if column.encoding == "gbk" else "utf-8"


def chrome(column, title: str, body: str) -> str:
    """A government page: header, navigation, breadcrumb, content, footer."""
    contact = "联系人：林堃　电话：0595-22631053" if column.encoding == "gbk" else "电话：12345"
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head>
<meta http-equiv="Content-Type" content="text/html; charset={_charset(column)}">
<title>{html.escape(title)}_{html.escape(column.site_name)}</title>
<meta name="SiteName" content="{html.escape(column.site_name)}">
<meta name="ColumnName" content="{html.escape(column.column_name)}">
<link rel="stylesheet" href="/css/gov.css">
</head><body>
<div class="header"><div class="logo">{html.escape(column.site_name)}</div>
<div class="search"><form action="/search/" method="get"><input name="q"><button>搜索</button></form></div></div>
<div class="nav"><ul><li><a href="/">首页</a></li><li><a href="/zwgk/">政务公开</a></li>
<li><a href="/zwgk/zfxxgkzl/">政府信息公开</a></li><li><a href="/hdjl/">互动交流</a></li><li><a href="/bsfw/">办事服务</a></li></ul></div>
<div class="breadcrumb">当前位置：<a href="/">首页</a> &gt; <a href="/zwgk/">政务公开</a> &gt; {html.escape(column.column_name)}</div>
<div class="main">{body}</div>
<div class="footer"><p>主办单位：{html.escape(column.publisher)}　{contact}</p>
<p>网站标识码：3505040001　闽ICP备05012345号　<a href="/wzdt/">网站地图</a></p></div>
</body></html>"""


def metadata_block(item) -> str:
    rows = "".join(
        f"<tr><th>{html.escape(k)}：</th><td>{html.escape(v)}</td></tr>" for k, v in item.meta.items()
    )
    return f'<div class="xxgk_table"><table class="meta">{rows}<tr><th>标　　题：</th><td>{html.escape(item.title)}</td></tr></table></div>'


def attachments_html(item, relative_to: str | None = None) -> str:
    if not item.attachments:
        return ""
    links = []
    for text, href in item.attachments:
        if relative_to and href.startswith(relative_to):
            href = "./" + href[len(relative_to) :]
        links.append(f'<li><a href="{html.escape(href)}" target="_blank">{html.escape(text)}</a></li>')
    return f'<div class="fj"><span>附件：</span><ul>{"".join(links)}</ul></div>'


def viewer_html(href: str, fmt: str) -> str:
    if fmt != "pdf":
        return ""
    return f'<div class="pdf-view"><iframe src="/pdfjs/web/viewer.html?file={quote(href, safe="")}" width="100%" height="800"></iframe></div>'


def article_page(column, item, content_class: str, relative_to: str | None = None) -> str:
    body = (
        f"{metadata_block(item)}<div class=\"article\"><h1 class=\"title\">{html.escape(item.title)}</h1>"
        f"<div class=\"info\">发布时间：{item.date}　来源：{html.escape(column.publisher)}</div>"
        f"<div class=\"{content_class}\">{item.body}</div>{attachments_html(item, relative_to)}</div>"
    )
    return chrome(column, item.title, body)


def other_body(title: str) -> str:
    return f"<p>{html.escape(title)}全文如下。</p><p>（正文略）</p>"


def _list_items(items) -> str:
    return "".join(
        f'<li><a href="{html.escape(i.url)}" target="_blank" title="{html.escape(i.title)}">{html.escape(i.title)}</a>'
        f"<span class=\"date\">{i.date}</span></li>"
        for i in items
    )


def _pages(column) -> list[list]:
    items = list(column.items)
    pages = [items[i : i + column.per_page] for i in range(0, len(items), column.per_page)]
    if column.duplicate and len(pages) > 1:
        pages[1].insert(0, pages[0][-1])  # a re-listed item, as CMSs show after a re-publish
    return pages


def _beside_article(item, name: str, data: bytes) -> str:
    """An attachment in the article's own folder, as TRS and plain CMSs store them."""
    href = item.url.rsplit("/", 1)[0] + "/" + name
    _put(href, data)
    return href


class Trs:
    """TRS WCM: list pages index.html, index_1.html … from createPageHTML(); articles ./YYYYMM/tYYYYMMDD_ID.htm."""

    def article_url(self, column, date, rng):
        ymd = date.replace("-", "")
        return f"{column.path}{ymd[:6]}/t{ymd}_{rng.randint(2_000_000, 2_999_999)}.htm"

    def attachment(self, column, item, name, data, media_type):
        return _beside_article(item, name, data)

    def write(self, column, out: Path):
        pages = _pages(column)
        for n, page in enumerate(pages):
            name = "index.html" if n == 0 else f"index_{n}.html"
            listing = "".join(
                f'<li><a href="./{html.escape(i.url[len(column.path):])}" target="_blank" title="{html.escape(i.title)}">'
                f"{html.escape(i.title)}</a><span>{i.date}</span></li>"
                for i in page
            )
            body = (
                f'<div class="list-title">{html.escape(column.column_name)}</div><ul class="list">{listing}</ul>'
                f'<div class="page"><script language="JavaScript">createPageHTML({len(pages)}, {n}, "index", "html");</script></div>'
            )
            _put(column.path + name, chrome(column, column.column_name, body), column.encoding)
        for item in column.items:
            folder = item.url.rsplit("/", 1)[0] + "/"
            _put(item.url, article_page(column, item, "TRS_Editor", relative_to=folder), column.encoding)


class Hanweb:
    """Hanweb jcms: /col/colN/index.html holds the first records in a <datastore>; the rest
    come from /module/web/jpage/dataproxy.jsp?page=N&columnid=N as XML."""

    def article_url(self, column, date, rng):
        y, m, d = (int(x) for x in date.split("-"))
        return f"/art/{y}/{m}/{d}/art_{self._id(column)}_{rng.randint(4_000_000, 4_999_999)}.html"

    @staticmethod
    def _id(column) -> str:
        return column.path.split("/col/col", 1)[1].split("/", 1)[0]

    def attachment(self, column, item, name, data, media_type):
        _put(f"module/download/files/{name}", data)
        ROUTES[f"/module/download/downfile.jsp?classid=0&filename={name}"] = {
            "file": f"module/download/files/{name}",
            "type": media_type,
            "referer": None,
        }
        return f"/module/download/downfile.jsp?classid=0&filename={name}"

    def _records(self, items) -> str:
        return "\n".join(
            f'<record><![CDATA[<li><a href="{i.url}" title="{html.escape(i.title)}" target="_blank">'
            f"{html.escape(i.title)}</a><span>{i.date}</span></li>]]></record>"
            for i in items
        )

    def write(self, column, out: Path):
        cid = self._id(column)
        pages = _pages(column)
        total = sum(len(p) for p in pages)
        for n, page in enumerate(pages, start=1):
            xml = (
                f'<?xml version="1.0" encoding="UTF-8"?><datastore><totalrecord>{total}</totalrecord>'
                f"<totalpage>{len(pages)}</totalpage><recordset>{self._records(page)}</recordset></datastore>"
            )
            path = f"module/web/jpage/data/{cid}_{n}.xml"
            _put(path, xml)
            ROUTES[f"/module/web/jpage/dataproxy.jsp?page={n}&columnid={cid}"] = {
                "file": path,
                "type": "text/xml; charset=UTF-8",
                "referer": None,
            }
        first = pages[0] if pages else []
        body = (
            f'<div class="list-title">{html.escape(column.column_name)}</div><div id="{cid}">'
            f'<script type="text/xml"><datastore><column>{cid}</column><totalrecord>{total}</totalrecord>'
            f"<totalpage>{len(pages)}</totalpage><nextgroup><![CDATA[<a href=\"/module/web/jpage/dataproxy.jsp?page=2&columnid={cid}\">下一页</a>]]></nextgroup>"
            f"<recordset>{self._records(first)}</recordset></datastore></script></div>"
            f'<script language="javascript" src="/module/jslib/jquery/jpage/dataproxy.js" '
            f'querydata="{{columnid:{cid},unitid:5201}}"></script>'
        )
        _put_hanweb_column(column, body)


def _put_hanweb_column(column, body: str) -> None:
    """A Hanweb column page (one list page whose records page by script) and its articles."""
    _put(column.path, chrome(column, column.column_name, body))
    for item in column.items:
        _put(item.url, article_page(column, item, "zoom"))


class Vsb:
    """VSB (博达): ndbg.htm is the newest page, ndbg/N.htm count down to 1; articles
    /info/COL/ID.htm; attachments through download.jsp, which checks the Referer."""

    def article_url(self, column, date, rng):
        return f"/info/1022/{rng.randint(1000, 9999)}.htm"

    def attachment(self, column, item, name, data, media_type):
        file_id = int(hashlib.sha256(name.encode()).hexdigest()[:8], 16) % 10**7
        ext = name.rsplit(".", 1)[1]
        path = f"system/_content/files/{file_id}.{ext}"
        _put(path, data)
        url = f"/system/_content/download.jsp?urltype=news.DownloadAttachUrl&owner=1{file_id % 10**6:06d}&wbfileid={file_id}"
        ROUTES[url] = {"file": path, "type": media_type, "referer": item.url}
        return url

    def write(self, column, out: Path):
        pages = _pages(column)
        base = column.path[: -len(".htm")]
        total = len(pages)
        for n, page in enumerate(pages):
            number = total - n  # VSB numbers pages from the oldest
            name = column.path if n == 0 else f"{base}/{number}.htm"
            prefix = base.rsplit("/", 1)[1] + "/" if n == 0 else ""
            nav = []
            if n + 1 < total:
                nav.append(f'<span class="p_next p_fun"><a href="{prefix}{number - 1}.htm">下页</a></span>')
                nav.append(f'<span class="p_last p_fun"><a href="{prefix}1.htm">尾页</a></span>')
            body = (
                f'<div class="list-title">{html.escape(column.column_name)}</div><ul class="winstyle">{_list_items(page)}</ul>'
                f'<div class="pb_sys_common"><span class="p_pages">{"".join(nav)}</span><span class="p_t">共{total}页</span></div>'
            )
            _put(name, chrome(column, column.column_name, body))
        for item in column.items:
            _put(item.url, article_page(column, item, "v_news_content"))


class Generic:
    """A plain CMS: index.shtml, index_2.shtml … linked by 下一页."""

    def article_url(self, column, date, rng):
        folder = column.path.rsplit("/", 1)[0]
        return f"{folder}/{date[:7]}/{date[8:]}/content_{rng.randint(16**5, 16**6 - 1):x}.shtml"

    def attachment(self, column, item, name, data, media_type):
        return _beside_article(item, name, data)

    def write(self, column, out: Path):
        pages = _pages(column)
        folder = column.path.rsplit("/", 1)[0]
        for n, page in enumerate(pages, start=1):
            name = column.path if n == 1 else f"{folder}/index_{n}.shtml"
            nxt = f'<a class="next" href="index_{n + 1}.shtml">下一页</a>' if n < len(pages) else ""
            body = (
                f'<h2>{html.escape(column.column_name)}</h2><ul class="news-list">{_list_items(page)}</ul>'
                f'<div class="pagination">第{n}页/共{len(pages)}页 {nxt}</div>'
            )
            _put(name, chrome(column, column.column_name, body))
        for item in column.items:
            _put(item.url, article_page(column, item, "content"))


FAMILIES = {"trs": Trs(), "hanweb": Hanweb(), "vsb": Vsb(), "generic": Generic()}

ROBOTS = """User-agent: *
Disallow: /search/
Disallow: /admin/
Disallow: /zwgk/zfxxgkzl/zfxxgkndbg/lsnb/
"""
CSS = "body{font-family:'Microsoft YaHei',sans-serif;margin:0}.header{background:#b50d0d;color:#fff;padding:12px}" \
    ".nav ul{display:flex;list-style:none;gap:16px}.main{width:1000px;margin:auto}table{border-collapse:collapse}" \
    "td,th{border:1px solid #999;padding:2px 4px}.footer{background:#eee;padding:8px;text-align:center}"
CREATE_PAGE_JS = """function createPageHTML(_nPageCount, _nCurrIndex, _sPageName, _sPageExt){
 if(_nPageCount == null || _nPageCount<=1){ return; }
 var nCurrIndex = _nCurrIndex || 0;
 if(nCurrIndex == 0) document.write("首页 ");
 else document.write("<a href=\\""+_sPageName+"."+_sPageExt+"\\">首页</a> ");
 if(nCurrIndex+1 < _nPageCount) document.write("<a href=\\""+_sPageName+"_"+(nCurrIndex+1)+"."+_sPageExt+"\\">下一页</a>");
}"""


def write_common(columns, out: Path) -> None:
    links = "".join(f'<li><a href="{c.path}">{html.escape(c.site_name)} · {html.escape(c.column_name)}</a></li>' for c in columns)
    home = columns[0]
    if "index.html" not in FILES:  # a portal without a front door of its own lists its columns
        _put("index.html", chrome(home, home.site_name, f'<h2>政府信息公开年报</h2><ul class="columns">{links}</ul>'))
    _put("robots.txt", ROBOTS)
    _put("css/gov.css", CSS)
    _put("js/createPageHTML.js", CREATE_PAGE_JS)
    _put("pdfjs/web/viewer.html", "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>PDF.js viewer</title>"
         "<script src=\"viewer.js\"></script></head><body><div id=\"viewerContainer\"></div></body></html>")
    for path, data in sorted(FILES.items()):
        target = out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data.result() if isinstance(data, Future) else data)


def registry(columns) -> str:
    lines = [
        "# The sample portal's columns, in the registry format (crawler/sites/).",
        "# ${PORTAL} is replaced by the portal's base URL when the registry is loaded, ${PORTAL_PORT} by its port",
        "# (www.nianbao-sz.onion and its subdomains are that portal too: sampleportal/resolver.py).",
        "sites:",
    ]
    for c in columns:
        lines += [
            f"  - id: {c.id}",
            f"    name: {c.publisher}",
            f"    region: {c.region}",
            *([f"    cms: {c.family}"] if c.family in ("trs", "hanweb", "vsb", "generic") else []),
            "    start_urls:",
            f"      - http://{c.host}:${{PORTAL_PORT}}{c.path}" if c.host else f"      - ${{PORTAL}}{c.path}",
        ]
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------------------
# Second dialects, written from the markup real platforms serve (README "CMS families"), not from
# what crawler/cms/ reads: a Hanweb column paged by jpage POSTs, a TRS column with the 6-argument
# createPageHTML, a download servlet whose URL and link text name no file.


def _with_article_title(page: str, title: str) -> str:
    return page.replace("</head>", f'<meta name="ArticleTitle" content="{html.escape(title)}">\n</head>', 1)


class HanwebJpage(Hanweb):
    """jcms with the jpage plugin: the column page holds the first group (perPage × groupSize records)
    in its datastore and declares totalRecord; the rest is POSTed for to dataproxy.jsp with
    startrecord/endrecord/perpage and the ajaxParam form fields. Attachments come from
    downfile.jsp?classid=0&fileid=N, linked as 附件1, named only by Content-Disposition."""

    GROUP = 2
    WEBID, UNITID = "3011", "6793088"

    def attachment(self, column, item, name, data, media_type):
        file_id = int(hashlib.sha256(name.encode()).hexdigest()[:7], 16)
        _put(f"module/download/files/{file_id}", data)
        url = f"/module/download/downfile.jsp?classid=0&fileid={file_id}"
        real_name = f"{item.title}.{name.rsplit('.', 1)[1]}"
        ROUTES[url] = {"file": f"module/download/files/{file_id}", "type": "application/octet-stream",
                       "referer": None,
                       "headers": {"Content-Disposition": f"attachment; filename*=UTF-8''{quote(real_name)}"}}
        return url

    def write(self, column, out: Path):
        cid = self._id(column)
        records = [
            f'<li><a href="{i.url}" title="{html.escape(i.title)}" target="_blank">{html.escape(i.title)}</a>'
            f"<span>{i.date}</span></li>" for i in column.items
        ]
        _put(f"module/web/jpage/records/{cid}.json", json.dumps(records, ensure_ascii=False))
        ROUTES["POST /module/web/jpage/dataproxy.jsp"] = {"kind": "jpage", "file": f"module/web/jpage/records/{cid}.json",
                                                          "column": cid, "referer": None}
        first = records[: column.per_page * self.GROUP]
        params = (f"col:1,appid:1,webid:{self.WEBID},path:'/',columnid:{cid},sourceContentType:1,"
                  f"unitid:{self.UNITID},webname:'{column.site_name}',permissiontype:0")
        body = (
            f'<div class="list-title">{html.escape(column.column_name)}</div><div id="{cid}">'
            f'<script type="text/xml"><datastore><nextgroup><![CDATA[<a href="/module/web/jpage/dataproxy.jsp?page=1'
            f'&appid=1&webid={self.WEBID}&path=/&columnid={cid}&unitid={self.UNITID}&permissiontype=0"></a>]]></nextgroup>'
            f"<recordset>{''.join(f'<record><![CDATA[{r}]]></record>' for r in first)}</recordset></datastore></script></div>"
            '<script type="text/javascript" src="/module/web/jpage/jpage.js"></script>'
            f"<script>$(document).ready(function(){{$('#{cid}').jpage({{dataStore:dataStore,perPage:{column.per_page},"
            f"totalRecord:{len(records)},groupSize:{self.GROUP},proxyUrl:'/module/web/jpage/dataproxy.jsp',"
            f"ajaxParam:{{{params}}},pageNum:1}});}});</script>"
        )
        _put_hanweb_column(column, body)


class TrsPageDiv(Trs):
    """TRS with createPageHTML('page_div', pages, current (1-based), 'index', 'shtml', records):
    index.shtml, index_2.shtml …; list titles cut at 20 characters, the article's ArticleTitle whole."""

    def article_url(self, column, date, rng):
        ymd = date.replace("-", "")
        return f"{column.path}{ymd[:6]}/t{ymd}_{rng.randint(3_000_000, 3_999_999)}.shtml"

    def write(self, column, out: Path):
        pages = _pages(column)
        total = sum(len(p) for p in pages)
        for n, page in enumerate(pages, start=1):
            name = "index.shtml" if n == 1 else f"index_{n}.shtml"
            listing = "".join(
                f'<li><a href="./{html.escape(i.url[len(column.path):])}" target="_blank">'
                f"{html.escape(i.title if len(i.title) <= 20 else i.title[:20] + '...')}</a><span>{i.date}</span></li>"
                for i in page
            )
            body = (f'<div class="list-title">{html.escape(column.column_name)}</div><ul class="list">{listing}</ul>'
                    f"<div id=\"page_div\"></div><script>createPageHTML('page_div',{len(pages)},{n},'index','shtml',{total});</script>")
            _put(column.path + name, chrome(column, column.column_name, body), column.encoding)
        for item in column.items:
            folder = item.url.rsplit("/", 1)[0] + "/"
            page = article_page(column, item, "TRS_Editor", relative_to=folder)
            _put(item.url, _with_article_title(page, item.title), column.encoding)


FAMILIES.update({"hanweb-jpage": HanwebJpage(), "trs-pagediv": TrsPageDiv()})


# ----------------------------------------------------------------------------------------------
# Round two (issue 27), from markup real portals served when replayed: the classic TRS WCM column
# (static index.html, rows of table.gl_list, `var countPage = N//共多少页` and a pager written with
# document.write, no createPageHTML) with the left-hand 政府信息公开 menu beside its list; and a site
# on the Fujian provincial platform naming its document store `channelid: SiteInfo.searchId`.

_GK_MENU = ("政府信息公开指南", "政府信息公开制度", "法定主动公开内容", "政府信息公开年报", "依申请公开", "机构职能",
            "政策文件", "政策解读")


class TrsCountPage(Trs):
    """TRS WCM's classic column template: list rows in ``table.gl_list`` (a bullet image, the link, the date),
    a layout table whose left cell is the 政府信息公开 menu, and the pager written inline by script from
    ``currentPage`` / ``countPage`` (0-based: index.html, index_1.html …); articles ./YYYYMM/tYYYYMMDD_ID.html."""

    def article_url(self, column, date, rng):
        ymd = date.replace("-", "")
        return f"{column.path}{ymd[:6]}/t{ymd}_{rng.randint(2_700_000, 2_799_999)}.html"

    @staticmethod
    def _pager(n: int, count: int) -> str:
        return (
            '<div class="page"><script language="JavaScript">\n'
            f"var currentPage = {n};//所在页从0开始\nvar prevPage = currentPage-1//上一页\n"
            f"var nextPage = currentPage+1//下一页\nvar countPage = {count}//共多少页\n"
            'document.write("共"+countPage+"页&nbsp;&nbsp;");\n'
            "if (countPage>1&&currentPage!=0)\n"
            '\tdocument.write("<a href=\\""+"index"+"."+"html\\">首页</a>&nbsp;");\n'
            "if (countPage>1&&currentPage!=(countPage-1))\n"
            '\tdocument.write("<a href=\\""+"index" + "_" + nextPage + "." + "html"+"\\">&nbsp;<span class=\\"greyfont\\">下一页</span>&nbsp;</a>");\n'
            "else\n\tdocument.write(\"下一页&nbsp;尾页\");\n</script></div>"
        )

    def write(self, column, out: Path):
        pages = _pages(column)
        menu = "".join(f'<li><a href="/zwgk/zfxxgkzl/">{html.escape(name)}</a></li>' for name in _GK_MENU)
        for n, page in enumerate(pages):
            name = "index.html" if n == 0 else f"index_{n}.html"
            rows = "".join(
                f'<tr><td width="20"><img src="/images/dot.gif" /></td><td><a href="./{html.escape(i.url[len(column.path):])}" '
                f'target="_blank" title="{html.escape(i.title)}">{html.escape(i.title)}</a></td><td width="90">{i.date}</td></tr>'
                for i in page
            )
            body = (
                '<table width="100%" border="0" cellspacing="0" cellpadding="0"><tr>'
                f'<td width="220" valign="top"><div class="xxgk_left"><div class="left_title">政府信息公开</div><ul>{menu}</ul></div></td>'
                f'<td valign="top"><table width="100%" border="0" class="gl_list">{rows}</table>{self._pager(n, len(pages))}</td>'
                "</tr></table>"
            )
            _put(column.path + name, chrome(column, column.column_name, body), column.encoding)
        for item in column.items:
            folder = item.url.rsplit("/", 1)[0] + "/"
            _put(item.url, article_page(column, item, "TRS_Editor", relative_to=folder), column.encoding)


class FujianSearchId(Trs):
    """A site of the Fujian provincial platform: the column page prints its newest items as ``<dl><dd>``,
    names its document store through the site's config (``channelid: SiteInfo.searchId`` with
    ``SiteInfo = {searchId: 200210}`` in the head) and lists the whole column from
    ``POST /fjdzapp/search`` (``channelid``, ``classsql=chnlid=N``, ``page``, ``prepage``)."""

    STORE, CHANNEL = "200210", "37506"

    def article_url(self, column, date, rng):
        ymd = date.replace("-", "")
        return f"{column.path}{ymd[:6]}/t{ymd}_{rng.randint(6_000_000, 6_999_999)}.htm"

    def write(self, column, out: Path):
        docs = [{"doctitle": i.title, "chnldocurl": i.url, "docreltime": f"{i.date} 09:00:00"} for i in column.items]
        _put(f"fjdzapp/docs/{self.CHANNEL}.json", json.dumps(docs, ensure_ascii=False))
        ROUTES["POST /fjdzapp/search"] = {"kind": "fjdzapp", "file": f"fjdzapp/docs/{self.CHANNEL}.json",
                                          "column": f"chnlid={self.CHANNEL}", "store": self.STORE, "referer": None}
        static = "".join(
            f'<dd><a href="./{html.escape(i.url[len(column.path):])}" target="_blank" title="{html.escape(i.title)}">'
            f"{html.escape(i.title)}</a><span>{i.date}</span></dd>" for i in column.items[: column.per_page]
        )
        body = (
            f'<div class="gl_list"><dl>{static}</dl><div id="list_more"></div>'
            "<script>var pageConfig = { url: '/fjdzapp/search', channelid: SiteInfo.searchId, "
            f"chnlid: '{self.CHANNEL}', recordCount: '{len(column.items)}', pageSize: '{column.per_page}' }};</script></div>"
        )
        page = chrome(column, column.column_name, body).replace(
            "</head>", f"<script>var SiteInfo = {{ siteId: '2', searchId: {self.STORE}, webUrl: '/' }};</script>\n</head>", 1)
        _put(column.path + "index.htm", page, column.encoding)
        for item in column.items:
            folder = item.url.rsplit("/", 1)[0] + "/"
            _put(item.url, article_page(column, item, "TRS_Editor", relative_to=folder), column.encoding)


FAMILIES.update({"trs-countpage": TrsCountPage(), "fujian-searchid": FujianSearchId()})


# ----------------------------------------------------------------------------------------------
# Round two, politeness (issue 27): a city portal whose departments each run a site of their own on a
# subdomain of the portal's domain, all one server. Laid out as www.sz.gov.cn and its departments are, as
# public crawlers and links document them: RSSHub's routes for www.sz.gov.cn/cn/xxgk/zfxxgj/ (list items
# ``div.zx_ml_list ul li span.tit a`` holding absolute links, the article's date in ``.tit`` as
# ``信息提供日期：``, its text in ``div.news_cont_d_wrap``, attachments in ``div.fjdown``) and for
# zjj.sz.gov.cn/xxgk/ (a department's own site); published URLs such as
# ``https://hrss.sz.gov.cn/xxgk/tjsj/zxtj/content/post_12735120.html`` with its file
# ``https://hrss.sz.gov.cn/attachment/1/1703/1703629/12735120.pdf``, ``www.sz.gov.cn/cn/xxgk/zfxxgj/tzgg/
# content/post_N.html``: articles ``…/content/post_ID.html`` on the department's host, files
# ``/attachment/G/B/FILEID/ID.pdf`` on that same host (B = FILEID // 1000, G = FILEID // 1000000).


class DepartmentSubdomains:
    """The city's column of its departments' 年报 (``www.`` + ``column.path``): each item links, absolutely, to
    the report's article on the department's own subdomain (``hrss.``, ``amr.`` …), whose attachment is on that
    subdomain too. Every name is under resolver.DEPARTMENTS_DOMAIN, so one portal, one politeness slot."""

    # agency -> its site's subdomain, as the real city's departments are named (hrss, amr, fgw …)
    DEPARTMENTS = {
        "深圳市人力资源和社会保障局": "hrss", "深圳市市场监督管理局": "amr", "深圳市发展和改革委员会": "fgw",
        "深圳市工业和信息化局": "gxj", "深圳市住房和建设局": "zjj", "深圳市统计局": "tjj",
        "深圳市规划和自然资源局": "pnr", "深圳市城市管理和综合执法局": "cgj",
    }
    REPORTS = "/xxgk/zfxxgkml/zfxxgknb/"  # a department's own 年报 folder
    NOTICES = "/cn/xxgk/zfxxgj/tzgg/"  # the city's notices, where the column's other items are filed

    @staticmethod
    def host(sub: str) -> str:
        from .resolver import DEPARTMENTS_DOMAIN

        return f"{sub}.{DEPARTMENTS_DOMAIN}"

    def article_url(self, column, date, rng):
        return f"content/post_{rng.randint(10_000_000, 12_999_999)}.html"

    def locate(self, item) -> str:
        """The article's absolute URL: on its department's host, or (a notice) on the city's www."""
        if item.planned:
            return f"http://{self.host(self.DEPARTMENTS[item.planned.agency])}{self.REPORTS}{item.url}"
        return f"http://{self.host('www')}{self.NOTICES}{item.url}"

    def attachment(self, column, item, name, data, media_type):
        post = item.url.rsplit("post_", 1)[1].split(".", 1)[0]
        file_id = 1_000_000 + int(hashlib.sha256(name.encode()).hexdigest()[:6], 16) % 900_000
        path = f"/attachment/{file_id // 1_000_000}/{file_id // 1000}/{file_id}/{post}.{name.rsplit('.', 1)[1]}"
        _put(path, data)
        return item.url.split("/xxgk/", 1)[0] + path

    @staticmethod
    def _path(url: str) -> str:
        return "/" + url.split("://", 1)[1].split("/", 1)[1]

    def write(self, column, out: Path):
        listing = "".join(
            f'<li><span class="tit"><a href="{html.escape(i.url)}" target="_blank" title="{html.escape(i.title)}">'
            f'{html.escape(i.title)}</a></span><span class="time">{i.date}</span></li>' for i in column.items)
        body = (f'<div class="zx_ml_tit"><h3>{html.escape(column.column_name)}</h3></div>'
                f'<div class="zx_ml_list"><ul>{listing}</ul></div>')
        _put(column.path + "index.html", chrome(column, column.column_name, body))
        for item in column.items:
            _put(self._path(item.url), self._article(column, item))

    def _article(self, column, item) -> str:
        """The article as the department's site shows it; a PDF is a link under 附件, not an embedded viewer."""
        source = item.planned.agency if item.planned else column.publisher
        text = item.body.split('<div class="pdf-view">', 1)[0]
        files = "".join(f'<li><a href="{html.escape(self._path(href))}">{html.escape(text)}</a></li>'
                        for text, href in item.attachments)
        body = (f'<div class="news_cont_d"><div class="tit"><h1>{html.escape(item.title)}</h1>'
                f"<h6><span>来源：{html.escape(source)}</span><span>信息提供日期：{item.date}</span></h6></div>"
                f'<div class="news_cont_d_wrap">{text}</div>'
                + (f'<div class="fjdown"><p>附件：</p><ul>{files}</ul></div>' if files else "") + "</div>")
        page = chrome(column, item.title, body)
        if item.planned:  # the department's own site: its name in the header
            page = page.replace(f'<div class="logo">{html.escape(column.site_name)}</div>',
                                f'<div class="logo">{html.escape(source)}</div>', 1)
        return page


FAMILIES["subdomain-departments"] = DepartmentSubdomains()
