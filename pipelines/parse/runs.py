"""Turn a section's table cells into labelled runs of values.

Every reader flattens differently: Word text puts one cell per line, PDF text keeps
rows but loses or adds cells, HTML and DOCX give true grids. So a section is read
as one stream of printed cells, each either label text or a value, and a label owns
the values that follow it. In row mode (grids, tab rows) a run ends with its row;
in stream mode (one cell per line) row ends carry no meaning.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..document import Table
from ..values import is_blank, is_value_cell, squash


@dataclass
class Token:
    text: str
    row: tuple[int, int]  # (block, row) so rows of different tables never merge
    is_value: bool
    loose: bool = False


@dataclass
class Run:
    label: str
    values: list[str] = field(default_factory=list)
    closed: bool = False
    row: tuple[int, int] | None = None  # where the label was printed
    stray: list[str] = field(default_factory=list)  # non-empty values after the run closed


def tokens(blocks, start: int, end: int) -> list[Token]:
    out = []
    for b in range(start, end):
        block = blocks[b]
        if isinstance(block, Table):
            for r, text in block.cells():
                out.append(Token(text, (b, r), is_value_cell(text), block.loose))
    return out


def is_stream(toks: list[Token]) -> bool:
    """True when most rows hold a single cell: Word text, where row ends mean nothing."""
    per_row: dict[tuple[int, int], int] = {}
    for tok in toks:
        if not is_blank(tok.text):
            per_row[tok.row] = per_row.get(tok.row, 0) + 1
    if not per_row:
        return False
    single = sum(1 for n in per_row.values() if n == 1)
    return single / len(per_row) >= 0.8


def label_runs(toks: list[Token], starts_label: Callable[[str], bool]) -> list[Run]:
    stream = is_stream(toks)
    runs: list[Run] = []
    current: Run | None = None
    row = None
    for tok in toks:
        if current is not None and not stream and tok.row != row and current.values:
            current.closed = True
        row = tok.row
        if not tok.is_value:
            if current is None or starts_label(tok.text):
                current = Run(label=squash(tok.text), row=tok.row)
                runs.append(current)
            else:
                current.label += squash(tok.text)
                current.closed = current.closed or bool(current.values)
        elif current is not None:
            if current.closed:
                if not is_blank(tok.text):
                    current.stray.append(tok.text)
            elif not (tok.loose and not stream and tok.row == current.row and _all_blank(current.values + [tok.text])):
                current.values.append(tok.text)
    return runs


def _all_blank(cells: list[str]) -> bool:
    return all(is_blank(c) for c in cells)


def fit(values: list[str], width: int) -> list[str] | None:
    """The run's cells when they fill exactly `width` columns, else None.

    Blank cells beyond the width at either end belong to neighbouring label cells
    (merged label columns come out as empty cells). A run with too few cells is
    never stretched: a lost cell cannot be told apart from its neighbours.
    """
    cells = list(values)
    while len(cells) > width and is_blank(cells[-1]):
        cells.pop()
    while len(cells) > width and is_blank(cells[0]):
        cells.pop(0)
    return cells if len(cells) == width else None


def value_runs(toks: list[Token]) -> list[list[str]]:
    """Maximal runs of consecutive value cells, row ends ignored."""
    runs: list[list[str]] = [[]]
    for tok in toks:
        if tok.is_value:
            runs[-1].append(tok.text)
        elif runs[-1]:
            runs.append([])
    return [r for r in runs if r]
