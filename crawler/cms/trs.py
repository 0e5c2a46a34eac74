"""TRS WCM: list pages index.html, index_1.html … (or .shtml), paged by a script call.

Forms seen on real portals (public crawlers of TRS sites, see README "CMS families"):

- ``createPageHTML(5, 0, "index", "html")`` — page count, 0-based current page, stem, extension;
  page n > 0 is ``index_n.html``.
- ``createPageHTML('page_div', 5, 1, 'index', 'shtml', 72)`` — container id, page count, 1-based
  current page, stem, extension, record count; page n > 1 is ``index_n.shtml``.
- Either with variables: ``var countPage = 5; var currentPage = 0; createPageHTML(countPage, currentPage, …)``,
  and ``m_nRecordCount`` for the records.
- The classic column template with no ``createPageHTML`` at all: ``var currentPage = 0; var countPage = 2//共多少页``
  and a pager written inline, ``document.write("<a href=\"" + "index" + "_" + nextPage + "." + "html" + "\">下一页</a>")``
  (0-based, like the four-argument call). The stem and extension are read from the string the script
  builds, else from the page's own file name.

The count is read to check coverage against; the next page is always the current one plus one.
"""

from __future__ import annotations

import re

from .base import CmsFamily, Declared, Next

_CALL = re.compile(r"createPageHTML\s*\(([^)]*)\)")
_VAR = re.compile(r"var\s+(\w+)\s*=\s*[\"']?(\d+)[\"']?")
_RECORD_COUNT = re.compile(r"m_nRecordCount\s*=\s*[\"']?(\d+)")
_COUNT_PAGE = re.compile(r"\bcountPage\s*=\s*[\"']?(\d+)")
_CURRENT_PAGE = re.compile(r"\bcurrentPage\s*=\s*[\"']?(\d+)")
# "index" + "_" + nextPage + "." + "html", or "index_" + nextPage + ".html", as document.write builds it
_BUILT_URL = re.compile(r"[\"']([\w-]+?)_?[\"']\s*\+\s*(?:[\"']_[\"']\s*\+\s*)?\w+\s*\+\s*[\"']\.[\"']?\s*\+?\s*[\"']?(s?html?)[\"']")
_OWN_FILE = re.compile(r"/([\w-]+?)(?:_\d+)?\.(s?html?)$")


def _arguments(text: str) -> list[str] | None:
    """The createPageHTML call's arguments as written, variables resolved to their numbers."""
    calls = [c for c in _CALL.findall(text) if c.strip() and not re.search(r"_n\w+|\bfunction\b", c)]
    if not calls:
        return None
    variables = dict(_VAR.findall(text))
    args = [a.strip().strip("\"'") for a in calls[-1].split(",")]
    return [variables.get(a, a) for a in args]


def pager(text: str, url: str = "") -> dict | None:
    """{count, current, stem, ext, first, records, source} of the page's createPageHTML call or its
    countPage script, or None."""
    args = _arguments(text)
    if not args:
        return _count_page(text, url)
    try:
        if len(args) >= 6 and not args[0].isdigit():  # ('page_div', count, current, stem, ext, records)
            return {"count": int(args[1]), "current": int(args[2]), "stem": args[3], "ext": args[4],
                    "first": 1, "records": int(args[5]) if args[5].isdigit() else None, "source": "createPageHTML"}
        if len(args) >= 4:  # (count, current, stem, ext)
            records = _RECORD_COUNT.search(text)
            return {"count": int(args[0]), "current": int(args[1]), "stem": args[2], "ext": args[3], "first": 0,
                    "records": int(records.group(1)) if records else None, "source": "createPageHTML"}
    except ValueError:
        return None
    return None


def _count_page(text: str, url: str) -> dict | None:
    """The classic template's ``var countPage = N`` / ``var currentPage = M`` (0-based) and the URL its
    inline pager script builds; the page's own file name when the script builds none we can read."""
    count, current = _COUNT_PAGE.search(text), _CURRENT_PAGE.search(text)
    if not count or not current:
        return None
    built = _BUILT_URL.search(text)
    own = _OWN_FILE.search(url.split("?")[0])
    stem, ext = built.groups() if built else own.groups() if own else ("index", "html")
    records = _RECORD_COUNT.search(text)
    return {"count": int(count.group(1)), "current": int(current.group(1)), "stem": stem, "ext": ext, "first": 0,
            "records": int(records.group(1)) if records else None, "source": "countPage"}


class Trs(CmsFamily):
    name = "trs"

    @classmethod
    def detect(cls, response) -> bool:
        text = response.text
        return pager(text) is not None or "TRS_Editor" in text or "trs_editor" in text.lower()

    def next_pages(self, response) -> list[Next]:
        found = pager(response.text, response.url)
        if not found:
            return []
        following = found["current"] + 1
        last = found["count"] - 1 if found["first"] == 0 else found["count"]
        if following > last:
            return []
        return [Next(response.urljoin(f"{found['stem']}_{following}.{found['ext']}"))]

    def declared(self, response) -> Declared | None:
        found = pager(response.text, response.url)
        if not found:
            return super().declared(response)
        return Declared(found["records"], found["count"], found["source"])
