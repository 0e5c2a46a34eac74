"""Guangdong's 政府信息公开目录管理平台 (gkmlpt), on every Guangdong government portal.

``/gkmlpt/index`` sets ``window._CONFIG = {SID: '755001', TREE: [{id, name, children …}] …}``;
a category's documents come from the JSON API ``/gkmlpt/api/all/{category}?page=N&sid={SID}``,
which answers ``{"classify": {"post_count": N}, "articles": [{"title", "url", "date" …}]}``
(public crawler: hulelan/china-governance crawlers/gkmlpt.py). The category is the start URL's
fragment (``/gkmlpt/index#2713``) or, failing that, the TREE node whose name says 年报.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

from .base import CmsFamily, Declared, ListItem, Next, json_object, normalise_date

_SID = re.compile(r"SID\s*:\s*['\"]?(\w+)")
_TREE = re.compile(r"TREE\s*:\s*(\[.*?\])\s*,\s*[A-Z_]+\s*:", re.S)


def _report_category(tree: list) -> int | None:
    for node in tree:
        if any(word in node.get("name", "") for word in ("年报", "年度报告")):
            return node.get("id")
        found = _report_category(node.get("children") or [])
        if found:
            return found
    return None


def _date(value) -> str | None:
    if isinstance(value, (int, float)) and value > 10**9:
        return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d")
    return normalise_date(str(value or ""))


class Gkmlpt(CmsFamily):
    name = "gkmlpt"

    @classmethod
    def detect(cls, response) -> bool:
        return "window._CONFIG" in response.text and bool(_SID.search(response.text)) and (
            "gkmlpt" in response.url or "gkmlpt" in response.text)

    def list_items(self, response) -> list[ListItem]:
        data = json_object(response)
        if data is None:
            return []  # the index page: its list is drawn by script from the API
        return [ListItem(a.get("title", "").strip(), response.urljoin(a.get("url", "")),
                         _date(a.get("date") or a.get("created_at")))
                for a in data.get("articles") or [] if a.get("title") and a.get("url")]

    def declared(self, response) -> Declared | None:
        data = json_object(response)
        count = ((data or {}).get("classify") or {}).get("post_count")
        return Declared(int(count), None, "gkmlpt post_count") if count is not None else None

    def next_pages(self, response) -> list[Next]:
        state = response.meta.get("cms_state") or {}
        if not state:
            sid = _SID.search(response.text)
            fragment = re.search(r"#(\d+)$", response.request.url if response.request else response.url)
            category = int(fragment.group(1)) if fragment else None
            tree = _TREE.search(response.text)
            if category is None and tree:
                try:
                    category = _report_category(json.loads(tree.group(1)))
                except ValueError:
                    category = None
            if not sid or category is None:
                return []
            state = {"sid": sid.group(1), "category": category, "page": 0, "read": 0}
        else:
            data = json_object(response) or {}
            articles = data.get("articles") or []
            count = ((data.get("classify") or {}).get("post_count")) or 0
            state = {**state, "read": state["read"] + len(articles)}
            if not articles or state["read"] >= count:
                return []
        page = state["page"] + 1
        url = response.urljoin(f"/gkmlpt/api/all/{state['category']}?page={page}&sid={state['sid']}")
        return [Next(url, state={**state, "page": page})]

    def attachments(self, response) -> list[str]:
        urls = super().attachments(response)
        for path in re.findall(r"(/attachment/[\w/]+\.(?:pdf|docx?|xlsx?|wps))", response.text):
            urls.append(response.urljoin(path))
        return list(dict.fromkeys(urls))
