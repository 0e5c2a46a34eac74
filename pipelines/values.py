"""Cell values and label text, typed per the data contract.

A cell is a number, ``None`` (it exists but is empty) or a verbatim string such as
``/`` or ``不适用``. Nothing here ever turns an empty or unreadable cell into 0.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation
from functools import lru_cache

# Artefacts of Word-to-text conversion that sit inside cells.
_ARTEFACTS = re.compile(r"\[bookmark:[^\]]*\]")
_NUMBER = re.compile(r"^([+-]?)(\d+(?:\.\d+)?)\s*(件|个|条|项|次|人次|家|万元|元)?$")
# A figure with a note in brackets after it (spec, cell values): 22（其中修订16件） is 22.
_ANNOTATED = re.compile(r"^(.*?\d\s*(?:件|个|条|项|次|人次|家|万元|元)?)\s*[（(][^（）()]*[)）]$")
# Digits with a space between them are several cells printed together, never one figure.
_SPACED_DIGITS = re.compile(r"\d[\s\u3000]+\d")
# Strings that stand in a value cell without being a figure.
VALUE_WORDS = frozenset({"/", "-", "--", "—", "——", "－", "无", "不适用", "详见附件", "暂无", "未涉及", "空", "×", "x"})
_NUMBERING = re.compile(r"^(?:[（(]\s*(?:[一二三四五六七八九十]+|\d{1,2})\s*[)）]|[一二三四五六七八九十]+\s*[、.．]|\d{1,2}\s*[.．、](?!\d))")
_LABEL_NOISE = re.compile(r"[\s\u3000（）()、，,。.．:：;；“”\"'‘’《》<>/\\\-—_]+")


def clean(raw: str | None) -> str:
    """Trim a raw cell: NFKC (full-width digits and spaces), artefacts and whitespace."""
    if raw is None:
        return ""
    text = unicodedata.normalize("NFKC", _ARTEFACTS.sub("", raw))
    return text.strip()


def squash(raw: str | None) -> str:
    """Remove every space inside a cell: PDF text spaces out CJK characters."""
    return re.sub(r"\s+", "", clean(raw))


def is_blank(raw: str | None) -> bool:
    return squash(raw) == ""


def parse_number(raw: str | None) -> tuple[Decimal, str | None] | None:
    """Return (value, unit) when the cell is a figure, else None."""
    text = clean(raw)
    if _SPACED_DIGITS.search(text):
        return None
    text = squash(text).replace(",", "")
    annotated = _ANNOTATED.match(text)
    if annotated:
        text = annotated.group(1)
    match = _NUMBER.match(text)
    if not match:
        return None
    sign, digits, unit = match.groups()
    try:
        value = Decimal(digits)
    except InvalidOperation:
        return None
    return (-value if sign == "-" else value), unit


def is_annotated(raw: str | None) -> bool:
    """A figure with a note after it: the record keeps the figure, the archive the raw text."""
    text = squash(raw)
    return bool(_ANNOTATED.match(text)) and parse_number(raw) is not None


def to_json_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def is_value_cell(raw: str | None) -> bool:
    """True for cells that can hold a figure: empty, a number, or a value word like ``/``."""
    text = squash(raw)
    return text == "" or text in VALUE_WORDS or parse_number(raw) is not None


def typed(raw: str | None, unit: str | None = None) -> int | float | str | None:
    """Type one cell for the record.

    ``unit`` is the canonical unit of the column: ``yuan`` normalises 万元 to 元.
    """
    text = squash(raw)
    if text == "":
        return None
    parsed = parse_number(raw)
    if parsed is None:
        return clean(raw)
    value, printed_unit = parsed
    if unit == "yuan" and printed_unit == "万元":
        value *= 10000
    return to_json_number(value)


def has_numbering(raw: str | None) -> bool:
    """Whether a cell starts like a numbered row label: 一、 （三） 2."""
    return bool(_NUMBERING.match(clean(raw)))


_NOTE = re.compile(r"[（(][^（）()]{2,}[)）]")


@lru_cache(maxsize=4096)
def label_key(raw: str | None) -> str:
    """A label reduced for comparison: no numbering, notes in brackets, spaces or punctuation."""
    text = _NUMBERING.sub("", re.sub(r"\s+", "", clean(raw)))
    return _LABEL_NOISE.sub("", _NOTE.sub("", text)) or _LABEL_NOISE.sub("", text)


@lru_cache(maxsize=16384)
def similarity(observed: str, expected: str) -> float:
    """Dice coefficient over characters: robust to PDF text that drops or reorders characters."""
    a, b = label_key(observed), label_key(expected)
    if not a or not b:
        return 0.0
    common = sum(min(a.count(ch), b.count(ch)) for ch in set(a))
    return 2 * common / (len(a) + len(b))
