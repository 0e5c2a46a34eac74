"""Tables that are real grids (HTML, DOCX, ruled PDF): every value tied to its header column by position.

A section's grid tables are read top to bottom. Rows without figures are header rows;
each grid column's header texts (top to bottom, merged cells included) name its column
key. A row with figures takes its values from exactly those positions. A table that
continues on the next page without a header inherits the columns of the table above:
by x-range in a PDF, by identical width otherwise. A row whose value positions do not
hold cells of its own is reported, never shifted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..document import Table
from ..values import VALUE_WORDS, is_blank, parse_number, squash


@dataclass
class GridRow:
    labels: list[str]  # the row's own label cells, left to right (merged copies left out)
    cells: dict = field(default_factory=dict)  # column key -> raw text
    unaligned: list = field(default_factory=list)  # column keys whose position holds no cell of this row
    where: str = ""


def _is_data(table: Table, r: int) -> bool:
    for c, text in enumerate(table.rows[r]):
        if (r, c) in table.spans:
            continue
        if parse_number(text) is not None or squash(text) in VALUE_WORDS:
            return True
    return False


def _mapping(table: Table, header_rows: list[int], column_key: Callable) -> dict:
    """{column key: grid column} from the header rows; the leftmost column wins (merged copies)."""
    out: dict = {}
    width = max(len(row) for row in table.rows)
    for c in range(width):
        texts = [table.rows[r][c] for r in header_rows if c < len(table.rows[r]) and not is_blank(table.rows[r][c])]
        key = column_key(texts) if texts else None
        if key is not None and key not in out:
            out[key] = c
    return out


def _carry(mapping: dict, source: Table | None, table: Table) -> dict | None:
    """The header columns of the table above, located in a continuation table."""
    if source is None or not mapping:
        return None
    if source.columns and table.columns:
        out = {}
        for key, col in mapping.items():
            x0, x1 = source.columns[col]
            centre = (x0 + x1) / 2
            match = [i for i, (a, b) in enumerate(table.columns) if a - 2 <= centre <= b + 2]
            if len(match) != 1:
                return None
            out[key] = match[0]
        return out
    width = lambda t: max(len(row) for row in t.rows)  # noqa: E731
    return dict(mapping) if width(source) == width(table) else None


def _row(table: Table, r: int, mapping: dict, where: str) -> GridRow:
    first_value = min(mapping.values())
    row = table.rows[r]
    labels = [
        squash(text)
        for c, text in enumerate(row[:first_value])
        if (r, c) not in table.spans and not is_blank(text) and parse_number(text) is None
    ]
    out = GridRow(labels=labels, where=where)
    for key, c in mapping.items():
        text = row[c] if c < len(row) else None
        if text is None or (r, c) in table.spans:
            out.unaligned.append(key)  # a merged cell from elsewhere, or no cell at all
        elif parse_number(text) is None and squash(text) not in VALUE_WORDS and not is_blank(text):
            out.unaligned.append(key)  # label or note text where a figure belongs
        else:
            out.cells[key] = text
    return out


def read_grid(tables: list[tuple[int, Table]], column_key: Callable, warnings: list[str], name: str) -> list[GridRow]:
    """Every data row of a section's grid tables, with its cells tied to header columns."""
    rows: list[GridRow] = []
    mapping: dict = {}
    source: Table | None = None
    for block, table in tables:
        header: list[int] = []
        own = False
        for r in range(len(table.rows)):
            if not _is_data(table, r):
                header.append(r)
                continue
            if header:
                found = _mapping(table, header, column_key)
                if found:
                    mapping, source, own = found, table, True
                header = []
            if not own:
                carried = _carry(mapping, source, table)
                if carried is None:
                    label = "".join(squash(t) for t in table.rows[r][:3])
                    warnings.append(f"{name}: row {label!r} is in a table without a header whose columns cannot "
                                    "be tied to the header above; row not read")
                    continue
                mapping, source, own = carried, table, True
            if mapping:
                rows.append(_row(table, r, mapping, f"block {block} row {r}"))
        if header:  # a header printed as a table of its own, its body in the next table
            found = _mapping(table, header, column_key)
            if found:
                mapping, source = found, table
    return rows
