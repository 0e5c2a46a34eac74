"""The Fujian provincial TRS platform (``*.fujian.gov.cn`` and the county portals on it, e.g. Quanzhou's).

A column page prints about ten items statically
(``<dl><dd><a href="./202401/t20240118_3055.htm">…</a><span>2024-01-18</span></dd>``), states the
column's size in its pager config (``recordCount: '23'``) and draws the rest from a templated list
filled by the platform's search endpoint: ``POST /fjdzapp/search`` with ``channelid`` (the site's
document store, 229105 on the provincial platform), ``classsql=chnlid=N`` (the column), ``page``,
``prepage``, ``sortfield=-docorderpri,-docreltime``. Many sites name the store instead of writing it:
``channelid: SiteInfo.searchId`` with ``SiteInfo = {searchId: 200210, …}`` earlier on the page. It answers JSON
``{"data": [{"doctitle", "chnldocurl" | "docpuburl", "docreltime"}], "pageCount": N}``
(public crawlers of sthjt/gxt/scjgj/yjj.fujian.gov.cn; see README "CMS families").
"""

from __future__ import annotations

import re

from .base import CmsFamily, Declared, ListItem, Next, json_object, normalise_date

_RECORD_COUNT = re.compile(r"recordCount\s*[:=]\s*['\"]?(\d+)", re.I)
_CHNLID = re.compile(r"chnlid\s*[=:]\s*['\"]?(\d+)", re.I)
_CHANNELID = re.compile(r"channelid\s*[=:]\s*['\"]?(\d+|[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)", re.I)
_PREPAGE = re.compile(r"prepage\s*[=:]\s*['\"]?(\d+)", re.I)
PROVINCIAL_STORE = "229105"
SORT = "-docorderpri,-docreltime"


def _store(text: str) -> str | None:
    """The site's document store: ``channelid: 229105`` as digits, or a name the page defines
    elsewhere (``channelid: SiteInfo.searchId`` with ``searchId: 200210`` in the site's config)."""
    for match in _CHANNELID.finditer(text):
        value = match.group(1)
        if value.isdigit():
            return value
        field = value.rsplit(".", 1)[-1]
        defined = re.search(rf"\b{re.escape(field)}[\"']?\s*[:=]\s*['\"]?(\d+)", text)
        if defined:
            return defined.group(1)
    return None


class FujianTrs(CmsFamily):
    name = "fujian"

    @classmethod
    def detect(cls, response) -> bool:
        text = response.text
        return "fjdzapp" in text or bool(_CHNLID.search(text) and _RECORD_COUNT.search(text))

    def list_items(self, response) -> list[ListItem]:
        data = json_object(response)
        if data is None:
            return super().list_items(response)
        items = []
        for doc in data.get("data") or data.get("docs") or []:
            url = doc.get("chnldocurl") or doc.get("docpuburl") or doc.get("url")
            if doc.get("doctitle") and url:
                items.append(ListItem(doc["doctitle"].strip(), response.urljoin(url), normalise_date(str(doc.get("docreltime", "")))))
        return items

    def declared(self, response) -> Declared | None:
        match = _RECORD_COUNT.search(response.text) if json_object(response) is None else None
        return Declared(int(match.group(1)), None, "recordCount") if match else None

    def next_pages(self, response) -> list[Next]:
        state = response.meta.get("cms_state") or {}
        if not state:
            text = response.text
            column, total = _CHNLID.search(text), _RECORD_COUNT.search(text)
            if not column or not total:
                return []
            store = _store(text)
            per_page = _PREPAGE.search(text)
            state = {"url": response.urljoin("/fjdzapp/search"), "page": 0, "total": int(total.group(1)),
                     "per_page": int(per_page.group(1)) if per_page else 20,
                     "form": {"channelid": store or PROVINCIAL_STORE, "sortfield": SORT,
                              "classsql": f"chnlid={column.group(1)}", "classcol": "publishyear", "classnum": "100",
                              "classsort": "0", "cache": "true"}}
        else:
            data = json_object(response) or {}
            docs = data.get("data") or data.get("docs") or []
            pages = data.get("pageCount") or -(-state["total"] // state["per_page"])
            if not docs or state["page"] >= int(pages):
                return []
        page = state["page"] + 1
        form = {**state["form"], "page": str(page), "prepage": str(state["per_page"])}
        return [Next(state["url"], formdata=form, state={**state, "page": page})]
