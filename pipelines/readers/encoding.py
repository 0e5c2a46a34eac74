"""Bytes to text without mojibake, by w3lib's rules (the ones Scrapy reads pages with).

Order: BOM, the HTTP charset the crawl recorded (documents.metadata "charset"), <meta>/XML
declaration, then detection. w3lib reads every GB-family name as GB18030 (a strict superset):
Chinese portals declare GB2312 or GBK and then use characters only GB18030 has.
"""

from __future__ import annotations

from charset_normalizer import from_bytes
from w3lib.encoding import html_to_unicode, resolve_encoding, to_unicode


def detect(data: bytes) -> str:
    """The encoding of undeclared bytes: UTF-8 when they are valid UTF-8, else charset-normalizer's guess."""
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        best = from_bytes(data).best()
        return resolve_encoding(best.encoding) if best and resolve_encoding(best.encoding) else "gb18030"


def decode(data: bytes, charset: str | None = None) -> str:
    """Decode by BOM, ``charset`` (the HTTP header's), <meta>, else detection; never raise.

    A declaration the bytes contradict (GBK bytes under charset=utf-8, as some portals serve)
    loses to detection rather than leaving replacement characters in a report's figures.
    """
    header = f"text/html; charset={charset}" if charset else None
    encoding, text = html_to_unicode(header, data, auto_detect_fun=detect)
    if "\ufffd" in text:
        detected = detect(data)
        if detected != encoding:
            return to_unicode(data, detected)
    return text
