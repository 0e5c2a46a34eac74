"""Which media types the archive keeps, how the site hands each one out, and the name a file is offered under.

Everything crawled is hostile, the server's Content-Type and file name included: a portal once sent an
attachment named ``nb.ofd`` as ``image/svg+xml`` whose body was a BOM and ``<svg><script>``. So:

- the archive stores a media type from ``STORED`` only (what the crawler identified the bytes as wins;
  anything else becomes ``application/octet-stream``);
- the site shows inline only a PDF, an office file or a raster image whose bytes begin the way that type
  does; everything else is an attachment, and every blob carries ``Content-Security-Policy: sandbox``;
- the offered name is the server's (or the link's) name with path parts, control and bidi characters
  removed, its length capped, and an extension that matches the type it is served as.
"""

from __future__ import annotations

import posixpath
import re
import unicodedata

# media type -> the extension a file of that type is saved with
STORED = {
    "application/pdf": ".pdf",
    "application/msword": ".doc",
    "application/vnd.ms-excel": ".xls",
    "application/vnd.ms-powerpoint": ".ppt",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ".pptx",
    "application/vnd.oasis.opendocument.text": ".odt",
    "application/vnd.oasis.opendocument.spreadsheet": ".ods",
    "application/ofd": ".ofd",
    "application/zip": ".zip",
    "application/vnd.rar": ".rar",
    "text/html": ".html",
    "text/plain": ".txt",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "image/bmp": ".bmp",
    "image/tiff": ".tif",
    "application/octet-stream": "",
}
ALIASES = {"application/x-pdf": "application/pdf", "image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg",
           "application/xhtml+xml": "text/html", "application/x-zip-compressed": "application/zip",
           "application/x-rar-compressed": "application/vnd.rar", "application/kswps": "application/msword",
           "application/wps-office.doc": "application/msword", "application/wps-office.wps": "application/msword"}
# what the crawler (crawler/files.py) or an import identified the bytes as
BY_FORMAT = {"pdf": "application/pdf", "doc": "application/msword", "wps": "application/msword",
             "xls": "application/vnd.ms-excel", "ofd": "application/ofd", "zip": "application/zip",
             "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             "html": "text/html", "text": "text/plain"}

_OLE, _ZIP = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"PK\x03\x04"
# types shown inline, each with the bytes a file of that type starts with
INLINE = {
    "application/pdf": (b"%PDF-",),
    "application/msword": (_OLE,), "application/vnd.ms-excel": (_OLE,), "application/vnd.ms-powerpoint": (_OLE,),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (_ZIP,),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (_ZIP,),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": (_ZIP,),
    "application/vnd.oasis.opendocument.text": (_ZIP,), "application/vnd.oasis.opendocument.spreadsheet": (_ZIP,),
    "image/png": (b"\x89PNG\r\n\x1a\n",), "image/jpeg": (b"\xff\xd8\xff",), "image/gif": (b"GIF87a", b"GIF89a"),
    "image/bmp": (b"BM",), "image/tiff": (b"II*\x00", b"MM\x00*"), "image/webp": (b"RIFF",),
}
# On every blob: nothing in it runs or loads anything, whether shown or (should a browser render an attachment
# anyway) downloaded. Chromium's PDF viewer still opens under it.
BLOB_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
HEAD_BYTES = 1024


def stored_media_type(declared: str | None, fmt: str | None = None) -> str:
    """The media type the archive keeps for a payload: the identified format's, else the declared one if it
    is on the allow-list, else ``application/octet-stream``."""
    if fmt in BY_FORMAT:
        return BY_FORMAT[fmt]
    base = (declared or "").split(";")[0].strip().lower()
    base = ALIASES.get(base, base)
    return base if base in STORED else "application/octet-stream"


def shown_inline(media_type: str, head: bytes) -> bool:
    """Whether a blob may be shown in the browser: a PDF, office file or raster image whose bytes agree."""
    if media_type == "application/pdf":
        return b"%PDF-" in head[:HEAD_BYTES]
    if media_type == "image/webp":
        return head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    return any(head.startswith(magic) for magic in INLINE.get(media_type, ()))


# Cc controls, Cf format characters (the bidi overrides and isolates, zero-width joiners, BOM), Cs/Co/Cn
_DROPPED = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
_RESERVED = re.compile(r'[:*?"<>|]')
_ATTACHMENT_LABEL = re.compile(r"^\s*附\s*件\s*\d*\s*[:：.、．]?\s*")
MAX_NAME_BYTES = 200  # UTF-8 bytes: file systems allow 255
# what a file of unknown type may keep as its extension: documents, never a page, script or image a browser opens
_SAFE_EXTENSIONS = {".pdf", ".doc", ".docx", ".wps", ".xls", ".xlsx", ".ppt", ".pptx", ".odt", ".ods", ".ofd", ".zip",
                    ".rar"}


def clean_name(name: str | None) -> str | None:
    """A name with path parts, control and bidi characters and reserved characters removed; None if nothing is
    left."""
    if not name:
        return None
    name = re.split(r"[\\/]", str(name))[-1]
    name = "".join(c for c in name if unicodedata.category(c) not in _DROPPED)
    name = " ".join(_RESERVED.sub("_", name).split()).strip(" .")
    return name or None


def _cap(stem: str, extension: str) -> str:
    while stem and len((stem + extension).encode("utf-8")) > MAX_NAME_BYTES:
        stem = stem[:-1]
    return (stem.rstrip(" .") or "document") + extension


def offered_name(candidates, media_type: str) -> str:
    """The first usable name among ``candidates`` (server's name, link text, URL's name, report title), cleaned,
    capped at MAX_NAME_BYTES and ending in the extension of the type it is served as."""
    wanted = STORED.get(media_type, "")
    for candidate in candidates:
        name = clean_name(_ATTACHMENT_LABEL.sub("", str(candidate or "")))
        if name:
            break
    else:
        name = "document"
    stem, extension = posixpath.splitext(name)
    extension = extension.lower()
    if wanted and extension != wanted and not (wanted == ".html" and extension in (".htm", ".shtml")) \
            and not (wanted == ".jpg" and extension == ".jpeg"):
        stem, extension = name, wanted  # a name that says another type than the one served keeps its words only
    elif not wanted and extension not in _SAFE_EXTENSIONS:
        stem, extension = name, ".bin"
    return _cap(stem, extension)
