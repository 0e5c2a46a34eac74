"""Plain text, as agencies' files come out of PDF or Word text extraction (the seeds).

Lines holding a tab are table rows, one cell per tab-separated field; everything
else is a paragraph. Word-table text puts one cell per line behind a tab, so a
line's leading tab is indentation, not an empty cell.
"""

from __future__ import annotations

from ..document import Document, Paragraph, Table


def _row(line: str) -> list[str]:
    cells = line.split("\t")
    if line.startswith("\t"):
        cells = cells[1:]
    return cells


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


def read_text(data: bytes) -> Document:
    from .encoding import decode

    text = decode(data)
    return Document(blocks=blocks_from_lines(text.splitlines()), format="text", text=text)
