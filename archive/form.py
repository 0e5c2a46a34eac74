"""The three statutory tables of a record laid out as the official form.

One neutral layout (cells with row/column spans) that each renderer prints, so
HTML, PDF and DOCX reports carry the same merged cells as agencies' own files.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipelines.labels import (
    ACTIVE_ROWS,
    APPLICANT_COLUMNS,
    APPLICATION_BALANCE_NOTE,
    APPLICATION_ROWS,
    REVIEW_COLUMNS,
    REVIEW_GROUPS,
    REVIEW_LITIGATION_LABEL,
)


@dataclass
class Cell:
    text: str
    row: int
    col: int
    rowspan: int = 1
    colspan: int = 1
    is_label: bool = True
    key: str | None = None  # table.row.column of a value cell


@dataclass
class Grid:
    width: int
    cells: list[Cell] = field(default_factory=list)
    height: int = 0

    def add(self, text, col, rowspan=1, colspan=1, is_label=True, row=None, key=None):
        row = self.height if row is None else row
        self.cells.append(Cell(text, row, col, rowspan, colspan, is_label, key))
        self.height = max(self.height, row + rowspan)

    def new_row(self) -> int:
        return self.height


def printed(value, unit: str | None = None) -> str:
    """How a cell value is printed on the form."""
    if value is None:
        return ""
    if unit == "yuan" and isinstance(value, (int, float)) and value and value % 1000 == 0:
        return f"{value / 10000:g}万元"
    if unit == "yuan" and isinstance(value, (int, float)):
        return f"{value:g}元" if isinstance(value, float) else f"{value}元"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _label(labels: dict | None, key: str, default: str) -> str:
    """The printed label: the template's wording unless the caller prints a variant of it."""
    return (labels or {}).get(key, default)


def active_grid(record: dict, labels: dict | None = None) -> Grid:
    template = record["template"]
    data = record.get("active_disclosure", {})
    grid = Grid(width=4)
    article = None
    for spec in ACTIVE_ROWS[template]:
        if spec.article != article:
            article = spec.article
            grid.add(article, 0, colspan=4)
            r = grid.new_row()
            grid.add("信息内容", 0, row=r)
            _spread(grid, r, [_label(labels, f"active_column.{c}", t) for c, t in zip(spec.columns, spec.column_labels)],
                    is_label=True)
        r = grid.new_row()
        grid.add(_label(labels, f"active.{spec.key}", spec.labels[0]), 0, row=r)
        values = data.get(spec.key, {})
        units = {"amount_yuan": "yuan"}
        _spread(grid, r, [printed(values.get(c), units.get(c)) for c in spec.columns], is_label=False,
                keys=[f"active_disclosure.{spec.key}.{c}" for c in spec.columns])
    return grid


def _spread(grid: Grid, row: int, texts, is_label: bool, keys=None) -> None:
    """Place texts in columns 1..3; the last one spans what is left."""
    for i, text in enumerate(texts):
        span = 3 - i if i == len(texts) - 1 else 1
        grid.add(text, 1 + i, colspan=span, is_label=is_label, row=row, key=keys[i] if keys else None)


def applications_grid(record: dict, labels: dict | None = None) -> Grid:
    rows = APPLICATION_ROWS[record["template"]]
    data = record.get("applications", {})
    grid = Grid(width=10)
    grid.add(APPLICATION_BALANCE_NOTE, 0, rowspan=3, colspan=3, row=0)
    grid.add("申请人情况", 3, colspan=7, row=0)
    column = {key: _label(labels, f"applicant.{key}", text) for key, text in APPLICANT_COLUMNS}
    grid.add(column[APPLICANT_COLUMNS[0][0]], 3, rowspan=2, row=1)
    grid.add("法人或其他组织", 4, colspan=5, row=1)
    grid.add(column[APPLICANT_COLUMNS[-1][0]], 9, rowspan=2, row=1)
    for i, (key, _) in enumerate(APPLICANT_COLUMNS[1:-1]):
        grid.add(column[key], 4 + i, row=2)
    _application_rows(grid, rows, data, labels)
    return grid


def _application_rows(grid: Grid, rows, data: dict, labels: dict | None = None) -> None:
    columns = [key for key, _ in APPLICANT_COLUMNS]
    for index, spec in enumerate(rows):
        r = grid.new_row() if spec.key or spec.level == 0 else None
        if spec.key is None:
            span = _group_size(rows, index)
            if spec.level == 0:
                grid.add(spec.label, 0, rowspan=span, row=grid.new_row())
                grid.height -= span  # children fill these rows
            else:
                grid.add(spec.label, 1, rowspan=span, row=grid.new_row())
                grid.height -= span
            continue
        col = spec.level
        colspan = 3 - col if spec.level < 2 else 1
        grid.add(_label(labels, f"applications.{spec.key}", spec.label), col, colspan=colspan, row=r)
        values = data.get(spec.key, {})
        for i, c in enumerate(columns):
            grid.add(printed(values.get(c)), 3 + i, is_label=False, row=r, key=f"applications.{spec.key}.{c}")


def _group_size(rows, index: int) -> int:
    """How many data rows a group heading spans."""
    level = rows[index].level
    size = 0
    for spec in rows[index + 1 :]:
        if spec.level <= level:
            break
        if spec.key is not None:
            size += 1
    return size


def review_grid(record: dict, labels: dict | None = None) -> Grid:
    data = record.get("review_litigation", {})
    grid = Grid(width=15)
    grid.add(REVIEW_GROUPS[0][1], 0, colspan=5, row=0)
    grid.add(REVIEW_LITIGATION_LABEL, 5, colspan=10, row=0)
    column = [_label(labels, f"review.{key}", text) for key, text in REVIEW_COLUMNS]
    for i, label in enumerate(column):
        grid.add(label, i, rowspan=2, row=1)
    for g, (key, label) in enumerate(REVIEW_GROUPS[1:]):
        grid.add(_label(labels, f"group.{key}", label), 5 + g * 5, colspan=5, row=1)
        for i, col_label in enumerate(column):
            grid.add(col_label, 5 + g * 5 + i, row=2)
    r = grid.new_row()
    for g, (group, _) in enumerate(REVIEW_GROUPS):
        values = data.get(group, {})
        for i, (col, _) in enumerate(REVIEW_COLUMNS):
            grid.add(printed(values.get(col)), g * 5 + i, is_label=False, row=r, key=f"review_litigation.{group}.{col}")
    return grid


def rows_of(grid: Grid) -> list[list[Cell]]:
    """The grid's printed cells row by row, left to right (for HTML tables)."""
    rows: list[list[Cell]] = [[] for _ in range(grid.height)]
    for cell in grid.cells:
        rows[cell.row].append(cell)
    return [sorted(row, key=lambda c: c.col) for row in rows]


def grids(record: dict, labels: dict | None = None) -> list[tuple[str, Grid]]:
    """(section heading, table) in form order. `labels` prints variants of the template's wording
    ({"applications.granted": "（一）予以公开", …}), as real reports do."""
    return [
        ("二、主动公开政府信息情况", active_grid(record, labels)),
        ("三、收到和处理政府信息公开申请情况", applications_grid(record, labels)),
        ("四、政府信息公开行政复议、行政诉讼情况", review_grid(record, labels)),
    ]
