"""The intermediate document every format reader produces.

A document is an ordered list of blocks: paragraphs of text and tables. A table is
a grid with merged cells expanded; the positions that only repeat a merged cell's
text are listed in ``spans`` so the parser reads each printed cell once.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Paragraph:
    text: str


@dataclass
class Table:
    rows: list[list[str]]
    spans: set[tuple[int, int]] = field(default_factory=set)
    # Cells recovered from text layout (PDF or Word text) rather than a real grid: a blank
    # cell right after a row label there is layout left by a merged label column.
    loose: bool = False
    # PDF only: the x-range of each grid column, so a table continued on the next page is tied to
    # its header's columns by position.
    columns: list[tuple[float, float]] | None = None
    # For every position a merged cell covers beyond its first, that first position: which grid
    # columns one printed cell spans (a value row may merge other columns than its header row).
    origins: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict)

    def extent(self, r: int, c: int) -> tuple[int, int]:
        """The first and last grid column of the printed cell at (r, c), within its row."""
        origin = self.origins.get((r, c), (r, c))
        columns = [cc for cc in range(len(self.rows[r])) if self.origins.get((r, cc), (r, cc)) == origin]
        return (min(columns), max(columns)) if columns else (c, c)

    def cells(self):
        """Yield (row_index, text) for every printed cell, in reading order."""
        for r, row in enumerate(self.rows):
            for c, text in enumerate(row):
                if (r, c) not in self.spans:
                    yield r, text


@dataclass
class Document:
    blocks: list[Paragraph | Table]
    format: str
    warnings: list[str] = field(default_factory=list)
    text: str | None = None  # main body text when the reader has a better one than the blocks
    meta: dict = field(default_factory=dict)

    def full_text(self) -> str:
        if self.text is not None:
            return self.text
        parts = []
        for block in self.blocks:
            if isinstance(block, Paragraph):
                parts.append(block.text)
            else:
                parts.extend("\t".join(row) for row in block.rows)
        return "\n".join(parts)


class UnreadableDocument(Exception):
    """The bytes are not a document this reader can open (corrupt, encrypted, empty)."""
