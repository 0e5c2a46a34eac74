"""HTML pages: tables from the DOM with rowspan/colspan expanded, body text via trafilatura.

trafilatura finds the article body and drops site chrome, but it flattens spanned
table cells out of place, so tables are read from the DOM directly.
"""

from __future__ import annotations

import re

import lxml.html
import trafilatura

from ..document import Document, Paragraph, Table, UnreadableDocument
from .encoding import decode
from .grid import expand

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


def content_root(tree):
    """The element that holds the report: the one with the statutory tables, else the body."""
    tables = tree.xpath("//table")
    if tables:
        ancestors = [set(t.iterancestors()) for t in tables]
        common = set.intersection(*ancestors) if ancestors else set()
        for candidate in tables[0].iterancestors():
            if candidate in common:
                return candidate
    body = tree.find("body")
    return body if body is not None else tree


def read_html(data: bytes) -> Document:
    text = decode(data)
    try:
        tree = lxml.html.document_fromstring(text)
    except (lxml.etree.ParserError, ValueError) as exc:
        raise UnreadableDocument(f"not parseable as HTML: {exc}") from exc
    blocks: list = []
    buffer: list[str] = []
    _walk(content_root(tree), blocks, buffer)
    _flush(blocks, buffer)
    warnings = []
    if len(data) > MAX_TRAFILATURA_BYTES:
        body = None  # the blocks still give the full text; trafilatura would take minutes
        warnings.append(f"page of {len(data) // 2**20} MiB: body text from the DOM, not trafilatura")
    else:
        body = trafilatura.extract(text, include_tables=True, favor_recall=True) or None
    return Document(blocks=blocks, format="html", text=body, warnings=warnings)
