"""Format readers: bytes in, one intermediate :class:`Document` out.

The format is sniffed from the bytes first (agencies mislabel files: a .doc that
is an HTML export, a .pdf that is a Word file), and only then from the name.
"""

from __future__ import annotations

import zipfile
from io import BytesIO
from pathlib import PurePosixPath

from ..document import Document, UnreadableDocument

_EXTENSIONS = {
    ".htm": "html",
    ".html": "html",
    ".shtml": "html",
    ".jsp": "html",
    ".pdf": "pdf",
    ".docx": "docx",
    ".doc": "doc",
    ".wps": "wps",
    ".xls": "xls",
    ".xlsx": "xlsx",
    ".txt": "text",
    ".png": "image",
    ".jpg": "image",
    ".jpeg": "image",
    ".tif": "image",
    ".tiff": "image",
}
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _zip_kind(data: bytes) -> str | None:
    try:
        names = zipfile.ZipFile(BytesIO(data)).namelist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return None
    if any(n.startswith("word/") for n in names):
        return "docx"
    if any(n.startswith("xl/") for n in names):
        return "xlsx"
    return None


def sniff(data: bytes, name: str | None = None, declared: str | None = None) -> str:
    """The format of a payload: magic bytes first, then the declared type, then the name."""
    head = data[:1024].lstrip()
    if head.startswith(b"%PDF") or b"%PDF-" in data[:1024]:
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        named = _EXTENSIONS.get(PurePosixPath(name or "").suffix.lower())
        return _zip_kind(data) or (named if named in ("docx", "xlsx") else "zip")
    if data.startswith(_OLE):
        ext = PurePosixPath(name or "").suffix.lower()
        return {".xls": "xls", ".wps": "wps"}.get(ext, "doc")
    if data.startswith((b"\x89PNG", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*")):
        return "image"
    lowered = head[:512].lower()
    if lowered.startswith((b"<!doctype html", b"<html", b"<?xml")) or b"<html" in lowered or b"<table" in lowered:
        return "html"
    if declared and "html" in declared:
        return "html"
    ext = PurePosixPath(name or "").suffix.lower()
    return _EXTENSIONS.get(ext, "text")


def read(data: bytes, name: str | None = None, declared: str | None = None, charset: str | None = None) -> Document:
    """Read any supported payload; raise UnreadableDocument with a reason otherwise.

    ``declared`` is the media type the server sent; ``charset`` the HTTP charset, for pages and text."""
    if not data or not data.strip():
        raise UnreadableDocument("empty file")
    kind = sniff(data, name, declared)
    reader = _reader(kind)
    if reader is None:
        raise UnreadableDocument(f"unsupported format: {kind}")
    return reader(data, charset) if kind in ("html", "text") else reader(data)


def _reader(kind: str):
    if kind == "html":
        from .html import read_html

        return read_html
    if kind == "pdf":
        from .pdf import read_pdf

        return read_pdf
    if kind == "docx":
        from .docx import read_docx

        return read_docx
    if kind in ("doc", "wps"):
        from .doc import read_doc

        return read_doc
    if kind == "image":
        from .ocr import read_image

        return read_image
    if kind in ("xlsx", "xls"):
        from .sheets import read_xls, read_xlsx

        return read_xlsx if kind == "xlsx" else read_xls
    if kind == "text":
        from .text import read_text

        return read_text
    return None


__all__ = ["read", "sniff", "Document", "UnreadableDocument"]
