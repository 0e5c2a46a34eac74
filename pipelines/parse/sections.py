"""Find the six statutory sections by what their headings say, not by their numbers.

Reports renumber sections (seed 004 adds a 二 inside 总体情况), so a table section
is the heading of its kind whose span actually holds a table.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..document import Paragraph, Table
from ..labels import SECTION_PHRASES, TABLE_SECTIONS
from ..values import has_numbering, label_key, squash

_PHRASE_KEYS = {key: tuple(label_key(p) for p in phrases) for key, phrases in SECTION_PHRASES.items()}
# Tables recognised by their own header words when a heading is missing or unreadable.
_TABLE_SIGNATURES = {
    "applications": ("自然人", "予以公开"),
    "review_litigation": ("结果维持", "尚未审结"),
    "active_disclosure": ("信息内容", "规范性文件"),
}


@dataclass
class Section:
    key: str
    heading: str | None
    start: int  # first block after the heading
    end: int  # one past the last block


def heading_key(text: str) -> str | None:
    """The section a paragraph is the heading of, if it is a heading at all."""
    compact = squash(text)
    if not compact or len(compact) > 40:
        return None
    if not (has_numbering(text) or compact.startswith("第") or len(compact) <= 16):
        return None
    key_text = label_key(text)
    for key, phrases in _PHRASE_KEYS.items():
        if any(phrase in key_text for phrase in phrases):
            return key
    return None


def _headings(blocks) -> list[tuple[int, str, str]]:
    found = []
    for index, block in enumerate(blocks):
        if isinstance(block, Paragraph):
            key = heading_key(block.text)
            if key:
                found.append((index, key, block.text))
    return found


def _has_table(blocks, start: int, end: int) -> bool:
    return any(isinstance(b, Table) for b in blocks[start:end])


def _choose(headings, blocks) -> dict[str, tuple[int, str]]:
    positions = [h[0] for h in headings] + [len(blocks)]
    span_end = {h[0]: positions[n + 1] for n, h in enumerate(headings)}
    chosen: dict[str, tuple[int, str]] = {}
    for index, key, text in headings:
        if key not in TABLE_SECTIONS:
            chosen.setdefault(key, (index, text))
    for key in TABLE_SECTIONS:
        candidates = [(index, text) for index, k, text in headings if k == key]
        with_table = [c for c in candidates if _has_table(blocks, c[0] + 1, span_end[c[0]])]
        if with_table or candidates:
            chosen[key] = (with_table or candidates)[0]
    return chosen


def _signature_tables(blocks, missing: set[str]) -> dict[str, int]:
    found = {}
    for index, block in enumerate(blocks):
        if not isinstance(block, Table):
            continue
        text = squash("".join(cell for row in block.rows for cell in row))
        for key in missing:
            if key not in found and all(word in text for word in _TABLE_SIGNATURES[key]):
                found[key] = index
    return found


def find_sections(blocks) -> dict[str, Section]:
    chosen = _choose(_headings(blocks), blocks)
    starts = sorted((index, key) for key, (index, _) in chosen.items())
    sections = {}
    for n, (index, key) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(blocks)
        sections[key] = Section(key, chosen[key][1], index + 1, end)
    missing = {key for key in TABLE_SECTIONS if key not in sections or not _has_table(blocks, sections[key].start, sections[key].end)}
    for key, index in _signature_tables(blocks, missing).items():
        sections[key] = Section(key, None, index, index + 1)
    return sections


def first_heading_index(blocks) -> int:
    headings = _headings(blocks)
    return headings[0][0] if headings else len(blocks)
