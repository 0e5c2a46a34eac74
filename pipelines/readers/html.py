"""HTML pages: tables from the DOM with rowspan/colspan expanded, body text via trafilatura.

trafilatura finds the article body and drops site chrome, but it flattens spanned
table cells out of place, so tables are read from the DOM directly. The report is
read from the CMS's own content area when the page has one (TRS .TRS_Editor, Hanweb
#zoom, 博达 VSB #vsb_content / .v_news_content, UCAP #UCAP-CONTENT, Guangdong gkmlpt's
embedded DETAIL), so breadcrumbs, menus and related-article lists never reach the
parser. Title, agency and date come from the page's metadata (<meta name="ArticleTitle">,
PubDate, the 发布机构/成文日期 block) before any text.
"""

from __future__ import annotations

import datetime
import json
import re

import lxml.html
import trafilatura

from ..document import Document, Paragraph, Table, UnreadableDocument
from .encoding import decode
from .grid import expand
from .metadata import cell_pairs, fields, normalised

# Content areas of the CMS families, most specific first (documented in public crawlers of them).
CONTENT_AREAS = (
    "//*[@id='vsb_content']//*[contains(concat(' ', normalize-space(@class), ' '), ' v_news_content ')]",
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' v_news_content ')]",
    "//*[@id='vsb_content']",
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' TRS_Editor ')]",
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' TRS_UEDITOR ')]",
    "//*[@id='zoom']",
    "//*[@id='UCAP-CONTENT']",
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' zoom ')]",
)
_META_NAMES = {"articletitle": "title", "pubdate": "published", "firstpublishedtime": "published",
               "contentsource": "source"}
_GKMLPT_DETAIL = re.compile(r"window\._CONFIG\s*=")

_BLOCK_TAGS = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "td", "th", "br", "tr", "section", "article"}
_SKIP_TAGS = {"script", "style", "noscript", "nav", "header", "footer", "iframe", "select", "button", "form"}
_CHROME = re.compile(r"(^|[\s_-])(nav|menu|header|footer|breadcrumb|crumb|sidebar|share|copyright|banner)", re.I)
_MAX_SPAN = 1000  # a rowspan of 10 million is hostile input, not a table
MAX_TRAFILATURA_BYTES = 5 * 2**20


def _span(value) -> int:
    try:
        return min(max(int(str(value).strip() or 1), 1), _MAX_SPAN)
    except ValueError:
        return 1


def _cell_text(el) -> str:
    return re.sub(r"[ \t\r\n]+", " ", el.text_content()).strip()


def read_table(el) -> Table:
    rows = []
    for tr in el.iter("tr"):
        if tr.getparent() is not None and _owning_table(tr) is not el:
            continue
        cells = [
            (_cell_text(td), _span(td.get("rowspan", 1)), _span(td.get("colspan", 1)))
            for td in tr
            if isinstance(td.tag, str) and td.tag.lower() in ("td", "th")
        ]
        rows.append(cells)
    return expand(rows)


def _owning_table(el):
    parent = el.getparent()
    while parent is not None and parent.tag != "table":
        parent = parent.getparent()
    return parent


def _is_chrome(el) -> bool:
    marker = f"{el.get('class', '')} {el.get('id', '')}"
    return el.tag in _SKIP_TAGS or bool(_CHROME.search(marker))


def _walk(el, blocks: list, buffer: list[str]) -> None:
    """Paragraphs and tables in document order; inline text is gathered until a block ends."""
    if not isinstance(el.tag, str) or _is_chrome(el):
        _tail(el, buffer)
        return
    tag = el.tag.lower()
    if tag == "table":
        _flush(blocks, buffer)
        blocks.append(read_table(el))
        _tail(el, buffer)
        return
    if tag in _BLOCK_TAGS:
        _flush(blocks, buffer)
    if el.text:
        buffer.append(el.text)
    for child in el:
        _walk(child, blocks, buffer)
    if tag in _BLOCK_TAGS:
        _flush(blocks, buffer)
    _tail(el, buffer)


def _tail(el, buffer: list[str]) -> None:
    if el.tail:
        buffer.append(el.tail)


def _flush(blocks: list, buffer: list[str]) -> None:
    text = re.sub(r"\s+", " ", "".join(buffer)).strip()
    buffer.clear()
    if text:
        blocks.append(Paragraph(text))


def cms_content(tree):
    """The CMS's own article area, when the page has one with text in it."""
    for xpath in CONTENT_AREAS:
        for el in tree.xpath(xpath):
            if el.text_content().strip():
                return el
    return None


def content_root(tree):
    """The element that holds the report: the CMS content area, else the one with the statutory
    tables, else the body."""
    area = cms_content(tree)
    if area is not None:
        return area
    tables = tree.xpath("//table")
    if tables:
        ancestors = [set(t.iterancestors()) for t in tables]
        common = set.intersection(*ancestors) if ancestors else set()
        for candidate in tables[0].iterancestors():
            if candidate in common:
                return candidate
    body = tree.find("body")
    return body if body is not None else tree


def _meta_tags(tree) -> dict:
    out = {}
    for el in tree.xpath("//meta[@name]"):
        key = _META_NAMES.get((el.get("name") or "").strip().lower())
        if key and (el.get("content") or "").strip() and key not in out:
            out[key] = el.get("content").strip()
    return out


def _block_text(el) -> str:
    """Text with line breaks between blocks and table rows, cells side by side (metadata blocks)."""
    parts: list[str] = []
    for node in el.iter():
        if not isinstance(node.tag, str) or node.tag in _SKIP_TAGS:
            continue
        if node.tag in ("tr", "p", "div", "li", "br", "h1", "h2", "h3", "dd", "dt"):
            parts.append("\n")
        elif node.tag in ("td", "th", "span"):
            parts.append(" ")
        if node.text:
            parts.append(node.text)
        if node.tail:
            parts.append(node.tail)
    return "".join(parts)


def gkmlpt_detail(text: str) -> dict | None:
    """Guangdong gkmlpt article pages embed the document in window._CONFIG: its DETAIL object holds
    title, publisher, dates and the body as an HTML string."""
    if not _GKMLPT_DETAIL.search(text):
        return None
    out = {}
    for key in ("title", "publisher", "content", "date"):
        match = re.search(rf'"{key}"\s*:\s*("(?:[^"\\]|\\.)*"|\d+)', text)
        if match:
            try:
                out[key] = json.loads(match.group(1))
            except ValueError:
                continue
    return out if out.get("content") else None


_TITLE_XPATH = ("//h1", "//h2", "//*[contains(@class, 'title')]", "//title")


def _heading_title(tree) -> str | None:
    """The article heading that names a report (a page <title> loses its site-name suffix)."""
    from ..parse.meta import is_breadcrumb
    from ..recognition import could_be_title

    for xpath in _TITLE_XPATH:
        for el in tree.xpath(xpath):
            if any(_CHROME.search(f"{a.get('class', '')} {a.get('id', '')}") or a.tag in ("nav", "header", "footer")
                   for a in (el, *el.iterancestors())):
                continue
            for part in re.split(r"[_|｜]| - |—", el.text_content()):
                part = re.sub(r"\s+", "", part)
                if could_be_title(part) and re.search(r"20\d{2}", part) and not is_breadcrumb(part):
                    return part
    return None


def page_meta(tree, area) -> dict:
    """Title, agency and published from the page's metadata, never from its breadcrumb."""
    body = tree.find("body") if tree.find("body") is not None else tree
    found = fields(_block_text(body))
    for table in body.iter("table"):
        cells = [_cell_text(td) for td in table.iter("td", "th")]
        if len(cells) <= 40:  # a metadata block, not a statutory table
            found = {**cell_pairs(cells), **found}
    found.update({k: v for k, v in _meta_tags(tree).items() if k in ("title", "published") or k not in found})
    meta = normalised(found)
    if "title" not in meta:
        meta["title"] = _heading_title(tree)
    if "agency" not in meta and found.get("source"):
        meta["source_agency"] = found["source"]
    return meta


def read_html(data: bytes, charset: str | None = None) -> Document:
    text = decode(data, charset)
    try:
        tree = lxml.html.document_fromstring(text)
    except (lxml.etree.ParserError, ValueError) as exc:
        raise UnreadableDocument(f"not parseable as HTML: {exc}") from exc
    detail = gkmlpt_detail(text)
    meta = page_meta(tree, None)
    root = content_root(tree)
    if detail:
        meta["title"] = detail.get("title") or meta.get("title")
        if detail.get("publisher"):
            meta["agency"] = detail["publisher"]
        if isinstance(detail.get("date"), (int, float)) and detail["date"] > 0:
            china = datetime.timezone(datetime.timedelta(hours=8))
            meta["published"] = datetime.datetime.fromtimestamp(detail["date"], china).date().isoformat()
        try:
            root = lxml.html.fragment_fromstring(detail["content"], create_parent="div")
        except (lxml.etree.ParserError, ValueError):
            pass
    blocks: list = []
    buffer: list[str] = []
    _walk(root, blocks, buffer)
    _flush(blocks, buffer)
    warnings = []
    if len(data) > MAX_TRAFILATURA_BYTES:
        body = None  # the blocks still give the full text; trafilatura would take minutes
        warnings.append(f"page of {len(data) // 2**20} MiB: body text from the DOM, not trafilatura")
    else:
        body = trafilatura.extract(text, include_tables=True, favor_recall=True) or None
    return Document(blocks=blocks, format="html", text=body, warnings=warnings,
                    meta={k: v for k, v in meta.items() if v})
