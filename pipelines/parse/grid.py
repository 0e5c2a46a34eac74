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
    """{column key: (first, last) grid column} from the header rows: the columns whose header texts
    name that key (a header cell merged over two grid columns names both); the leftmost run wins."""
    out: dict = {}
    width = max(len(row) for row in table.rows)
    for c in range(width):
        texts = [table.rows[r][c] for r in header_rows if c < len(table.rows[r]) and not is_blank(table.rows[r][c])]
        key = column_key(texts) if texts else None
        if key is None:
            continue
        if key not in out:
            out[key] = (c, c)
        elif out[key][1] == c - 1:
            out[key] = (out[key][0], c)
    return out


def _carry(mapping: dict, source: Table | None, table: Table) -> dict | None:
    """The header columns of the table above, located in a continuation table."""
    if source is None or not mapping:
        return None
    if source.columns and table.columns:
        out = {}
        for key, (first, last) in mapping.items():
            centre = (source.columns[first][0] + source.columns[last][1]) / 2
            match = [i for i, (a, b) in enumerate(table.columns) if a - 2 <= centre <= b + 2]
            if len(match) != 1:
                return None
            out[key] = (match[0], match[0])
        return out
    width = lambda t: max(len(row) for row in t.rows)  # noqa: E731
    return dict(mapping) if width(source) == width(table) else None


def _own_cells(table: Table, r: int, first: int) -> tuple[list[tuple[int, int]], set[int]]:
    """The cells printed in row r from grid column ``first`` on, as (first, last) column extents, and the
    columns there that hold a cell merged down from a row above or across from a label left of ``first``."""
    cells, foreign = [], set()
    for c in range(first, len(table.rows[r])):
        r0, c0 = table.origins.get((r, c), (r, c))
        if (r0, c0) == (r, c) and (r, c) in table.spans:  # a copy whose origin the reader did not say
            foreign.add(c)
        elif r0 != r or c0 < first:
            foreign.add(c)
        elif c0 == c:
            cells.append(table.extent(r, c))
    return cells, foreign


def _overlaps(cell: tuple[int, int], span: tuple[int, int]) -> bool:
    return cell[0] <= span[1] and span[0] <= cell[1]


def _positions(table: Table, r: int, mapping: dict) -> dict:
    """{column key: grid column of the printed cell under it}, tied by grid position. A key takes the one
    cell that overlaps its header's columns and no other key's; where header and value rows merge
    different columns (a colspan on 本年增/减 above, on the first value below), the cells are tied in
    order when each overlaps its own header and the counts agree. A key tied to nothing is left out."""
    first = min(a for a, _ in mapping.values())
    cells, foreign = _own_cells(table, r, first)
    keys = sorted(mapping, key=lambda k: mapping[k])
    out = {}
    for key in keys:
        span = mapping[key]
        under = [cell for cell in cells if _overlaps(cell, span)]
        if (len(under) == 1 and not any(span[0] <= c <= span[1] for c in foreign)
                and not any(_overlaps(under[0], mapping[k]) for k in keys if k != key)):
            out[key] = under[0][0]
    if len(out) == len(keys):
        return out
    covered = [cell for cell in cells if any(_overlaps(cell, mapping[k]) for k in keys)]
    if (len(covered) == len(keys) and not any(any(a <= c <= b for a, b in mapping.values()) for c in foreign)
            and all(_overlaps(cell, mapping[key]) for cell, key in zip(covered, keys))):
        return {key: cell[0] for cell, key in zip(covered, keys)}
    return out


def _is_blank_row(table: Table, r: int, mapping: dict) -> bool:
    """A row of the form printed with every figure blank (&nbsp;): a label of its own, and a blank cell of
    its own under every header column. It is a row whose cells are null, not a header."""
    if not mapping:
        return False
    first = min(a for a, _ in mapping.values())
    row = table.rows[r]
    labelled = any(table.origins.get((r, c), (r, c))[0] == r and not is_blank(text) and parse_number(text) is None
                   for c, text in enumerate(row[:first]))
    positions = _positions(table, r, mapping)
    return labelled and len(positions) == len(mapping) and all(is_blank(row[c]) for c in positions.values())


def _row(table: Table, r: int, mapping: dict, where: str) -> GridRow:
    first_value = min(a for a, _ in mapping.values())
    row = table.rows[r]
    labels = [
        squash(text)
        for c, text in enumerate(row[:first_value])
        if (r, c) not in table.spans and not is_blank(text) and parse_number(text) is None
    ]
    out = GridRow(labels=labels, where=where)
    positions = _positions(table, r, mapping)
    for key in mapping:
        c = positions.get(key)
        text = row[c] if c is not None and c < len(row) else None
        if text is None:
            out.unaligned.append(key)  # a merged cell from elsewhere, or no cell of its own
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
                if header:
                    pending = _mapping(table, header, column_key) or (mapping if own else None)
                else:
                    pending = mapping if own else _carry(mapping, source, table)
                if not _is_blank_row(table, r, pending or {}):
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
