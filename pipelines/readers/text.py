"""Plain text, as agencies' files come out of PDF or Word text extraction (the seeds).

Lines holding a tab are table rows, one cell per tab-separated field; everything
else is a paragraph. Word-table text puts one cell per line behind a tab, so a
line's leading tab is indentation, not an empty cell.
"""

from __future__ import annotations

import re

from ..document import Document, Paragraph, Table
from ..labels import SECTION_PHRASES
from .metadata import fields, normalised

_HEADER_LINES = 15  # a dump's metadata lines sit above the body
_GLUED_LINE = 300  # a line this long holding several section headings is a page dumped without breaks
_PHRASES = "|".join(re.escape(p) for phrases in SECTION_PHRASES.values() for p in phrases)
_INLINE_HEADING = re.compile(rf"[一二三四五六七八九十]、.{{0,12}}?(?:{_PHRASES})(?:及改进情况|情况)?")


def _row(line: str) -> list[str]:
    cells = line.split("\t")
    if line.startswith("\t"):
        cells = cells[1:]
    return cells


def split_glued(line: str) -> list[str]:
    """A whole page on one line: cut it at its numbered section headings, each heading a line."""
    headings = list(_INLINE_HEADING.finditer(line))
    if len(line) < _GLUED_LINE or len(headings) < 3:
        return [line]
    parts, pos = [], 0
    for match in headings:
        parts += [line[pos:match.start()], match.group(0)]
        pos = match.end()
    parts.append(line[pos:])
    return [p.strip() for p in parts if p.strip()]


def blocks_from_lines(lines: list[str]) -> list[Paragraph | Table]:
    blocks: list[Paragraph | Table] = []
    table: Table | None = None
    for line in lines:
        line = line.rstrip("\r\n")
        if "\t" in line:
            if table is None:
                table = Table(rows=[], loose=True)
                blocks.append(table)
            table.rows.append(_row(line))
        elif line.strip():
            blocks.append(Paragraph(line.strip()))
            table = None
        # A blank line neither ends a table nor makes a block: Word text puts them between rows.
    return blocks


def read_text(data: bytes, charset: str | None = None) -> Document:
    from .encoding import decode

    text = decode(data, charset)
    lines = text.splitlines()
    # a metadata row saved from a table keeps its cell borders (标 题 | … | ||||…): one border each is enough
    header = [re.sub(r"(\s*[|｜]){2,}", " |", line) for line in lines[:_HEADER_LINES]]
    meta = normalised(fields("\n".join(line for line in header if len(line) < 200)))
    split = [part for line in lines for part in (split_glued(line) if "\t" not in line else [line])]
    if len(split) > len(lines):
        meta["glued"] = True
    return Document(blocks=blocks_from_lines(split), format="text", text=text, meta=meta)
