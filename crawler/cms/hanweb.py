"""Hanweb (大汉) jcms: ``/col/colN/index.html`` carries its first records as CDATA inside a
``<script type="text/xml"><datastore>``; the rest come from ``dataproxy.jsp``.

What real jcms columns do (public crawlers of jiangsu.gov.cn, zj.gov.cn, shandong.gov.cn …;
see README "CMS families"):

- The page calls ``$('#N').jpage({… totalRecord:1928, perPage:15, groupSize:3,
  proxyUrl:'/module/web/jpage/dataproxy.jsp', ajaxParam:{col:1, appid:1, webid:67, path:'/',
  columnid:77278, sourceContentType:1, unitid:303271, webname:'…', permissiontype:0}})``.
  Older templates give the same as ``querydata="{…}"`` / ``perpage="15"`` attributes.
- Later records are POSTed for, a group of pages at a time:
  ``dataproxy.jsp?startrecord=46&endrecord=90&perpage=15`` with those form fields. The answer is
  XML: ``<datastore><totalrecord>…</totalrecord><recordset><record><![CDATA[<li>…]]></record>``.
- The static datastore's ``<nextgroup>`` link (``dataproxy.jsp?page=2&…``) pages by GET too; used
  when the page has no jpage call.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlencode, urlsplit

from scrapy.http import HtmlResponse

from .base import CmsFamily, Declared, ListItem, Next

_RECORD = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S)
_TOTAL_RECORD = re.compile(r"totalRecord[\"']?\s*[:=]\s*[\"']?(\d+)|<totalrecord>\s*(\d+)\s*</totalrecord>", re.I)
_TOTAL_PAGES = re.compile(r"<totalpage>\s*(\d+)\s*</totalpage>")
_PER_PAGE = re.compile(r"perPage[\"']?\s*[:=]\s*[\"']?(\d+)", re.I)
_GROUP = re.compile(r"groupSize[\"']?\s*[:=]\s*[\"']?(\d+)", re.I)
_PROXY = re.compile(r"proxyUrl[\"']?\s*[:=]\s*[\"']([^\"']+dataproxy\.jsp)", re.I)
_NEXTGROUP = re.compile(r"<nextgroup>\s*<!\[CDATA\[.*?href=[\"']([^\"']*dataproxy\.jsp[^\"']*)", re.S)
_COL_IN_URL = re.compile(r"/col/col(\d+)/")
FORM_FIELDS = ("col", "appid", "webid", "path", "columnid", "sourceContentType", "unitid", "webname", "permissiontype")
_DEFAULTS = {"col": "1", "appid": "1", "path": "/", "sourceContentType": "1", "permissiontype": "0"}


_PARAM_BLOCKS = re.compile(r"ajaxParam\s*:\s*\{([^}]*)\}|querydata\s*=\s*[\"']\{([^}]*)\}", re.I)


def _field(text: str, name: str) -> str | None:
    """A jpage parameter where the page writes it: the ajaxParam object (or querydata) first, then
    anywhere (a proxy URL's query)."""
    blocks = ["".join(m) for m in _PARAM_BLOCKS.findall(text)]
    for where in (*blocks, text):
        match = re.search(rf"[\"']?\b{name}[\"']?\s*[:=]\s*[\"']?([^,\"'&}}\s]*)", where)
        if match and match.group(1):
            return match.group(1)
    return None


class Hanweb(CmsFamily):
    name = "hanweb"

    @classmethod
    def detect(cls, response) -> bool:
        text = response.text
        return "<datastore>" in text or "dataproxy.jsp" in text or ".jpage(" in text

    def list_items(self, response) -> list[ListItem]:
        items = []
        for fragment in _RECORD.findall(response.text):
            page = HtmlResponse(url=response.url, body=fragment.encode("utf-8"), encoding="utf-8")
            items += super().list_items(page)
        return items

    def declared(self, response) -> Declared | None:
        total, pages = _TOTAL_RECORD.search(response.text), _TOTAL_PAGES.search(response.text)
        if not total and not pages:
            return None
        return Declared(int(total.group(1) or total.group(2)) if total else None,
                        int(pages.group(1)) if pages else None, "jpage totalRecord")

    def next_pages(self, response) -> list[Next]:
        state = response.meta.get("cms_state") or {}
        read = state.get("read", 0) + len(_RECORD.findall(response.text))
        if state.get("mode") == "post" or (not state and _PER_PAGE.search(response.text) and _TOTAL_RECORD.search(response.text)):
            return self._post_group(response, state, read)
        return self._get_page(response, state)

    def _post_group(self, response, state: dict, read: int) -> list[Next]:
        """The next group of records, POSTed for with the form fields the column page declared."""
        if not state:
            text = response.text
            per_page = int(_PER_PAGE.search(text).group(1))
            group = int(_GROUP.search(text).group(1)) if _GROUP.search(text) else 3
            proxy = _PROXY.search(text)
            form = {name: _field(text, name) or _DEFAULTS.get(name) for name in FORM_FIELDS}
            column = _COL_IN_URL.search(response.url)
            form["columnid"] = form["columnid"] or (column.group(1) if column else None)
            state = {"mode": "post", "proxy": response.urljoin(proxy.group(1) if proxy else "/module/web/jpage/dataproxy.jsp"),
                     "per_page": per_page, "group": group, "total": int(self.declared(response).records),
                     "form": {k: v for k, v in form.items() if v is not None}}
        got = len(_RECORD.findall(response.text))
        if read >= state["total"] or (state.get("read") and got == 0):
            return []  # everything declared was read, or the platform has no more to give
        start, size = read + 1, state["per_page"] * state["group"]
        query = urlencode({"startrecord": start, "endrecord": start + size - 1, "perpage": state["per_page"]})
        return [Next(f"{state['proxy']}?{query}", formdata=state["form"], state={**state, "read": read})]

    def _get_page(self, response, state: dict) -> list[Next]:
        """The <nextgroup> link's dataproxy.jsp?page=N, by GET, while pages remain."""
        if not state:
            link = _NEXTGROUP.search(response.text)
            pages = _TOTAL_PAGES.search(response.text)
            if not link or not pages:
                return []
            state = {"mode": "get", "url": response.urljoin(link.group(1).replace("&amp;", "&")),
                     "pages": int(pages.group(1)), "page": 1}
        following = state["page"] + 1
        if following > state["pages"]:
            return []
        parts = urlsplit(state["url"])
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        query["page"] = str(following)
        url = parts._replace(query=urlencode(query, safe="/")).geturl()
        return [Next(url, state={**state, "page": following})]
