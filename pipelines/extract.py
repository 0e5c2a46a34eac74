"""Bytes in, canonical record out: the whole extraction, pure and offline."""

from __future__ import annotations

import hashlib

from .document import UnreadableDocument
from .parse import parse_document
from .readers import read, sniff

# Bump when a change to readers or parser can change a record: reextract compares it.
PARSER_VERSION = "0.4.0"


def extract(
    data: bytes,
    *,
    name: str | None = None,
    url: str | None = None,
    media_type: str | None = None,
    hints: dict | None = None,
    charset: str | None = None,
) -> dict:
    """The canonical record of one payload (shared/spec/report-format.md).

    ``hints`` carries what the crawl already knows from the article page: title,
    agency, published; ``charset`` the HTTP charset a page was served with. Raises
    UnreadableDocument when the bytes cannot be read.
    """
    return extract_with_text(data, name=name, url=url, media_type=media_type, hints=hints, charset=charset)[0]


def extract_with_text(data: bytes, *, name=None, url=None, media_type=None, hints=None,
                      charset=None) -> tuple[dict, str]:
    """The record and the document's plain text (for full-text search), from one reading."""
    fmt = sniff(data, name, media_type) if data else "text"
    doc = read(data, name, media_type, charset)
    record = parse_document(doc, hints)
    record["source"] = {"url": url, "format": doc.format or fmt, "sha256": hashlib.sha256(data).hexdigest()}
    if doc.meta.get("pdf_pages"):
        # which reader placed each page's words, and why: pdfium where the file embeds its fonts,
        # pdfminer (the file's own width tables) where it does not
        record["source"]["pages"] = doc.meta["pdf_pages"]
    record["parser_version"] = PARSER_VERSION
    return _ordered(record), doc.full_text()


_ORDER = (
    "title",
    "agency",
    "year",
    "template",
    "published",
    "verdict",
    "source",
    "sections",
    "active_disclosure",
    "applications",
    "review_litigation",
    "coverage",
    "checks",
    "warnings",
    "raw_cells",
    "parser_version",
)


def _ordered(record: dict) -> dict:
    return {key: record[key] for key in _ORDER if key in record}


__all__ = ["extract", "extract_with_text", "PARSER_VERSION", "UnreadableDocument"]
