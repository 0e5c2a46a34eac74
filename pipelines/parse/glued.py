"""Tables whose cells were glued together when a page was dumped as text (pingtan_2021.txt).

`640020470` where seven cells were printed can be split many ways, so it is never read.
What can be read is what splits exactly one way: a row with a single column (行政许可
2293), and a row whose digits, with any spaces still in them, fill its columns in only
one way (`0000000`, `500000 5`). Where the report states a row's total in its prose (本年度全区共
收到70件申请), that figure may choose between the splits: the row is read only if exactly one split
ends in that total. Everything else is left out with a warning naming the row.
"""

from __future__ import annotations

import re

from ..labels import (
    ACTIVE_ROWS,
    APPLICANT_COLUMN_KEYS,
    APPLICATION_ROWS,
    LABEL_VARIANTS,
    PROSE_TOTALS,
    REVIEW_COLUMNS,
    REVIEW_GROUPS,
)
from ..values import typed

_NOTE = r"(?:\s*[（(][^（）()]*[)）])?"
_ORDINAL = re.compile(r"^(?:(\d{1,2})\s*[.．、]|[（(]\s*[一二三四五六七八九十]+\s*[)）]|[一二三四五六七八九十]+\s*[、.．])")
_NUMERAL = r"(?:[（(]\s*[一二三四五六七八九十]+\s*[)）]|[一二三四五六七八九十]+\s*[、.．])"
_PART = re.compile(r"0|[1-9]\d*")
_FIGURES = re.compile(r"^[\d\s.\u3000\u00a0]*")


def _pattern(label: str) -> re.Pattern:
    """A printed label anywhere in glued text: its own number if it has one (never any number: the
    value before it ends in digits), spaces between characters, and a note in brackets after it."""
    label = re.sub(r"[（(][^（）()]{2,}[)）]$", "", label)
    ordinal = _ORDINAL.match(label)
    body = label[ordinal.end():] if ordinal else label
    if ordinal and ordinal.group(1):
        prefix = rf"(?:{ordinal.group(1)}\s*[.．、]\s*)?"
    else:
        prefix = rf"(?:{_NUMERAL}\s*)?"
    return re.compile(prefix + r"\s*".join(re.escape(ch) for ch in body) + _NOTE)


def splits(chunks: list[str], width: int, limit: int = 2) -> list[list[str]]:
    """Every way (up to `limit`) to cut runs of digits into `width` figures."""
    found: list[list[str]] = []

    def cut(i: int, pos: int, acc: list[str]) -> None:
        if len(found) >= limit or len(acc) > width:
            return
        if i == len(chunks):
            if len(acc) == width:
                found.append(list(acc))
            return
        chunk = chunks[i]
        if pos == len(chunk):
            cut(i + 1, 0, acc)
            return
        if "." in chunk:  # a decimal is one figure or nothing
            if pos == 0 and re.fullmatch(r"\d+\.\d+", chunk):
                cut(i + 1, 0, acc + [chunk])
            return
        for end in range(pos + 1, len(chunk) + 1):
            if _PART.fullmatch(chunk[pos:end]):
                cut(i, end, acc + [chunk[pos:end]])

    cut(0, 0, [])
    return found


def prose_totals(text: str) -> dict[str, str]:
    """{row key: the total the report states for it in its prose}, only where it states one figure."""
    out = {}
    for key, patterns in PROSE_TOTALS.items():
        figures = {m.group(1).lstrip("0") or "0" for p in patterns for m in re.finditer(p, text)}
        if len(figures) == 1:
            out[key] = figures.pop()
    return out


def _ending_in(chunks: list[str], total: str, width: int) -> list[list[str]]:
    """The splits (up to two) whose last figure is ``total``: the digits must end in it."""
    if not chunks or not chunks[-1].endswith(total):
        return []
    head = [*chunks[:-1], chunks[-1][: -len(total)]]
    head = [c for c in head if c]
    return [[*way, total] for way in splits(head, width - 1)] if head else []


def _read_row(name: str, value_text: str, width: int, warnings: list[str], total: str | None = None) -> list[str] | None:
    figures = _FIGURES.match(value_text).group(0)
    chunks = figures.split()
    if not chunks:
        warnings.append(f"{name}: no figures after the label in glued text; row left out")
        return None
    ways = splits(chunks, width)
    glued = "".join(chunks)
    if len(ways) > 1 and total is not None:
        fitting = _ending_in(chunks, total, width)
        if len(fitting) == 1:
            warnings.append(f"{name}: glued figures {glued!r} split the one way whose 总计 is the {total} the "
                            "report states in its text")
            return fitting[0]
        warnings.append(f"{name}: glued figures {glued!r} split more than one way into {width} cells, and "
                        f"{'none' if not fitting else 'more than one'} of them ends in the {total} the report "
                        "states in its text; row left out")
        return None
    if len(ways) != 1:
        warnings.append(f"{name}: glued figures {glued!r} split "
                        f"{'no' if not ways else 'more than one'} way into {width} cells; row left out")
        return None
    return ways[0]


def _locate(text: str, labels: list[tuple[str | None, list[str]]]) -> list[tuple[str | None, int, int]]:
    """(key, start, end) of each label found, in order, each search starting after the last find."""
    found, pos = [], 0
    for key, printed in labels:
        matches = [m for p in printed if (m := _pattern(p).search(text, pos))]
        if matches:
            best = min(matches, key=lambda m: (m.start(), -m.end()))
            found.append((key, best.start(), best.end()))
            pos = best.end()
    return found


def _rows(text: str, labels, width_of, warnings: list[str], table: str, totals: dict | None = None) -> dict:
    out: dict = {}
    found = _locate(text, labels)
    for n, (key, _, end) in enumerate(found):
        if key is None:
            continue
        stop = found[n + 1][1] if n + 1 < len(found) else len(text)
        columns = width_of(key)
        cells = _read_row(f"{table}.{key}", text[end:stop], len(columns), warnings, (totals or {}).get(key))
        if cells is not None:
            out[key] = {col: typed(cell) for col, cell in zip(columns, cells)}
    return out


def parse_glued_active(text: str, template: str, warnings: list[str]) -> dict:
    rows = {row.key: row for row in ACTIVE_ROWS.get(template, ())}
    labels = [(key, sorted({*row.labels, *LABEL_VARIANTS.get(key, ())}, key=len, reverse=True))
              for key, row in rows.items()]
    return _rows(text, labels, lambda key: rows[key].columns, warnings, "active_disclosure")


def parse_glued_applications(text: str, template: str, warnings: list[str], prose: str = "") -> dict:
    """``prose``: the report's text outside its tables, where it may state the totals of table 三."""
    rows = APPLICATION_ROWS.get(template, APPLICATION_ROWS["2019"])
    labels = [(row.key, [row.label, *LABEL_VARIANTS.get(row.key or "", ())]) for row in rows]
    return _rows(text, labels, lambda key: APPLICANT_COLUMN_KEYS, warnings, "applications", prose_totals(prose))


def parse_glued_review(text: str, warnings: list[str]) -> dict:
    """Table 四 prints 15 figures after its headers; read them only if they split one way."""
    headers = [label for _, label in (*REVIEW_GROUPS, *REVIEW_COLUMNS)] + ["行政诉讼"]
    last = max((m.end() for h in headers for m in _pattern(h).finditer(text)), default=None)
    if last is None:
        warnings.append("review_litigation: headers not found in glued text")
        return {}
    columns = [key for key, _ in REVIEW_COLUMNS]
    cells = _read_row("review_litigation", text[last:], len(REVIEW_GROUPS) * len(columns), warnings)
    if cells is None:
        return {}
    return {g: {c: typed(cells[i * len(columns) + j]) for j, c in enumerate(columns)}
            for i, (g, _) in enumerate(REVIEW_GROUPS)}
