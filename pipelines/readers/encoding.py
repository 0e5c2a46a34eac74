"""Bytes to text without mojibake.

Chinese portals declare GB2312 or GBK and then use characters only GB18030 has,
so every GB-family declaration decodes as GB18030 (a strict superset).
"""

from __future__ import annotations

import re

from charset_normalizer import from_bytes

_GB_FAMILY = {"gb2312", "gbk", "gb18030", "x-gbk", "cp936", "euc-cn", "hz-gb-2312"}
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_\-]+)""", re.I)


def normalise_charset(name: str | None) -> str | None:
    if not name:
        return None
    name = name.strip().lower()
    return "gb18030" if name in _GB_FAMILY else name


def declared_charset(data: bytes) -> str | None:
    match = _META_CHARSET.search(data[:4096])
    return normalise_charset(match.group(1).decode("ascii", "ignore")) if match else None


def decode(data: bytes, declared: str | None = None) -> str:
    """Decode with the declared charset when it works, else detect; never raise."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    for candidate in (normalise_charset(declared), declared_charset(data), "utf-8"):
        if candidate:
            try:
                return data.decode(candidate)
            except (UnicodeDecodeError, LookupError):
                continue
    best = from_bytes(data).best()
    encoding = normalise_charset(best.encoding) if best else "gb18030"
    return data.decode(encoding or "gb18030", errors="replace")
