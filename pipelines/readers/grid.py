"""Expand a table's merged cells into a full grid (HTML and DOCX share this)."""

from __future__ import annotations

from ..document import Table


def expand(rows: list[list[tuple[str, int, int]]]) -> Table:
    """Rows of (text, rowspan, colspan) as printed -> a Table whose spanned copies are marked."""
    grid: dict[tuple[int, int], str] = {}
    spans: set[tuple[int, int]] = set()
    origins: dict[tuple[int, int], tuple[int, int]] = {}
    for r, row in enumerate(rows):
        c = 0
        for text, rowspan, colspan in row:
            while (r, c) in grid:
                c += 1
            for dr in range(max(rowspan, 1)):
                for dc in range(max(colspan, 1)):
                    grid[(r + dr, c + dc)] = text
                    if dr or dc:
                        spans.add((r + dr, c + dc))
                        origins[(r + dr, c + dc)] = (r, c)
            c += max(colspan, 1)
    height = max((r for r, _ in grid), default=-1) + 1
    width = max((c for _, c in grid), default=-1) + 1
    out = [[grid.get((r, c), "") for c in range(width)] for r in range(height)]
    # Positions no cell covers are neither printed cells nor copies: mark them as spans.
    spans |= {(r, c) for r in range(height) for c in range(width) if (r, c) not in grid}
    return Table(rows=out, spans=spans, origins=origins)
