"""What a fetched attachment really is, as the server and the bytes say.

Download servlets (``downfile.jsp?…&filename=P0202….pdf``, ``download.jsp?wbfileid=N``) name no
file in their path and are linked as 附件1. So the format and the real file name come from the
answer: ``Content-Disposition`` (``filename*=UTF-8''…`` per RFC 6266/5987 before ``filename=``),
then the bytes (``%PDF``, OLE2 for .doc/.xls, a zip holding ``word/`` for .docx), then
``Content-Type``, then a ``filename=`` query parameter or the URL path.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from email.message import Message
from pathlib import PurePosixPath

from .cms.base import file_name_in_url
from .downloads import spooled_head

OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_BY_EXTENSION = {".pdf": "pdf", ".doc": "doc", ".docx": "docx", ".wps": "doc", ".xls": "xls", ".xlsx": "xlsx",
                 ".ofd": "ofd"}
_BY_TYPE = {"application/pdf": "pdf", "application/msword": "doc", "application/vnd.ms-excel": "xls",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx"}
MEDIA_TYPES = {v: k for k, v in _BY_TYPE.items()}


@dataclass(frozen=True)
class Identified:
    format: str | None
    filename: str | None
    media_type: str | None
    reason: str | None = None


def disposition_filename(value: str | None) -> str | None:
    """The file name a Content-Disposition header gives; ``filename*`` wins over ``filename``.
    Chinese servers often send raw UTF-8 or GBK bytes in ``filename=``: decoded as such."""
    if not value:
        return None
    message = Message()
    message["Content-Disposition"] = value
    name = message.get_filename()
    if name is None:
        return None
    try:
        raw = name.encode("latin-1")
        for encoding in ("utf-8", "gb18030"):
            try:
                return raw.decode(encoding)
            except UnicodeDecodeError:
                continue
    except UnicodeEncodeError:
        pass
    return name


def _zip_format(response, head: bytes) -> str | None:
    spooled = response.meta.get("spooled") if response.request else None
    try:
        source = open(spooled["path"], "rb") if spooled else io.BytesIO(response.body)  # noqa: SIM115
        with source, zipfile.ZipFile(source) as archive:
            names = archive.namelist()
    except (OSError, zipfile.BadZipFile):
        return None
    if any(n.startswith("word/") for n in names):
        return "docx"
    if any(n.startswith("xl/") for n in names):
        return "xlsx"
    return "zip"


def sniff(response, head: bytes) -> str | None:
    if head.startswith(b"%PDF"):
        return "pdf"
    if head.startswith(OLE):
        return "ole"
    if head.startswith(b"PK\x03\x04"):
        return _zip_format(response, head)
    if head.lstrip()[:1] == b"<":
        return "html"
    return None


def identify(response) -> Identified:
    header = (response.headers.get("Content-Disposition") or b"").decode("latin-1")
    filename = disposition_filename(header) or file_name_in_url(response.url)
    media_type = (response.headers.get("Content-Type") or b"").decode("latin-1").split(";")[0].strip().lower() or None
    by_name = _BY_EXTENSION.get(PurePosixPath(filename or "").suffix.lower())
    sniffed = sniff(response, spooled_head(response, 8))
    if sniffed == "ole":
        sniffed = by_name if by_name in ("doc", "xls") else "doc"
    if sniffed == "html":
        if by_name or media_type in _BY_TYPE:
            return Identified(None, filename, media_type, f"says {by_name or media_type} but the body is an HTML page")
        return Identified(None, filename, media_type, "an HTML page, not a document file")
    fmt = sniffed or _BY_TYPE.get(media_type or "") or by_name
    if fmt is None:
        return Identified(None, filename, media_type, f"unrecognised file ({media_type or 'no Content-Type'})")
    return Identified(fmt, filename, MEDIA_TYPES.get(fmt, media_type), None)
