"""Spreadsheets (.xlsx by openpyxl, .xls by xlrd): every sheet a table, merged ranges expanded."""

from __future__ import annotations

import io

from ..document import Document, Paragraph, Table, UnreadableDocument

MAX_CELLS = 200_000


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _blocks(table: Table) -> list:
    """Split a sheet where a row holds one lone cell (a title or section heading) into paragraphs."""
    blocks: list = []
    current: Table | None = None
    for r, row in enumerate(table.rows):
        filled = [c for c, text in enumerate(row) if text and (r, c) not in table.spans]
        spanned = any((r, c) in table.spans for c in range(len(row)))
        if len(filled) == 1 and not spanned:
            blocks.append(Paragraph(row[filled[0]]))
            current = None
            continue
        if not filled and not spanned:
            continue
        if current is None:
            current, offset = Table(rows=[]), r
            blocks.append(current)
        current.rows.append(row)
        current.spans |= {(r - offset, c) for c in range(len(row)) if (r, c) in table.spans}
        current.origins.update({(r - offset, c): (table.origins[(r, c)][0] - offset, table.origins[(r, c)][1])
                                for c in range(len(row)) if (r, c) in table.origins})
    return blocks


def _table(rows: list[list[str]], merges) -> Table:
    spans, origins = set(), {}
    for r0, c0, r1, c1 in merges:  # inclusive, zero-based
        for r in range(r0, r1 + 1):
            for c in range(c0, c1 + 1):
                if (r, c) != (r0, c0) and r < len(rows) and c < len(rows[r]):
                    rows[r][c] = rows[r0][c0]
                    spans.add((r, c))
                    origins[(r, c)] = (r0, c0)
    return Table(rows=rows, spans=spans, origins=origins)


def read_xlsx(data: bytes) -> Document:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=False, data_only=True)
    except Exception as exc:
        raise UnreadableDocument(f"XLSX could not be opened: {type(exc).__name__}: {exc}") from exc
    blocks = []
    for sheet in book.worksheets:
        if sheet.max_row * sheet.max_column > MAX_CELLS:
            raise UnreadableDocument(f"sheet {sheet.title!r} has over {MAX_CELLS} cells")
        rows = [[_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        merges = [(m.min_row - 1, m.min_col - 1, m.max_row - 1, m.max_col - 1) for m in sheet.merged_cells.ranges]
        blocks += _blocks(_table(rows, merges))
    return Document(blocks=blocks, format="xlsx")


def read_xls(data: bytes) -> Document:
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=data, formatting_info=True)
    except Exception as exc:
        raise UnreadableDocument(f"XLS could not be opened: {type(exc).__name__}: {exc}") from exc
    blocks = []
    for sheet in book.sheets():
        rows = [[_text(sheet.cell_value(r, c)) for c in range(sheet.ncols)] for r in range(sheet.nrows)]
        merges = [(r0, c0, r1 - 1, c1 - 1) for r0, r1, c0, c1 in sheet.merged_cells]
        blocks += _blocks(_table(rows, merges))
    return Document(blocks=blocks, format="xls")
