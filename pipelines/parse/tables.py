"""Map the three statutory tables onto canonical keys.

Table 三's rows are matched to the template by an order-preserving alignment on
label similarity, because PDF text drops and reorders characters inside labels
(`8. 属 于查 行 政 事 项`). A row whose cells do not fill its columns is reported,
never shifted.
"""

from __future__ import annotations

import re

from ..labels import (
    ACTIVE_ROWS,
    APPLICANT_COLUMN_KEYS,
    APPLICANT_COLUMNS,
    APPLICATION_ROWS,
    LABEL_VARIANTS,
    REVIEW_COLUMNS,
    REVIEW_GROUPS,
    SPLIT_HEADINGS,
)
from ..values import has_numbering, is_annotated, is_blank, label_key, similarity, typed
from .grid import read_grid
from .runs import Run, fit, label_runs, value_runs

MATCH_THRESHOLD = 0.6
OTHER_ROW_2019 = next(row for row in APPLICATION_ROWS["2019"] if row.key == "other")
OTHER_HEADING_2021 = OTHER_ROW_2019.label


def _extra(run: Run) -> dict:
    return {"label": run.label, "values": [typed(v) for v in run.values]}


def _has_figures(run: Run) -> bool:
    return any(not is_blank(v) for v in run.values)


RAW = "_raw"  # printed text of annotated cells, collected per table for the archive's raw column


def _fill(out: dict, key: str, columns, cells, units=None) -> None:
    units = units or {}
    out[key] = {col: typed(cell, units.get(col)) for col, cell in zip(columns, cells)}
    for col, cell in zip(columns, cells):
        if is_annotated(cell):
            out.setdefault(RAW, {})[f"{key}.{col}"] = cell.strip()


def _active_row(label: str, template: str):
    key = label_key(label)
    for row in ACTIVE_ROWS[template]:
        if any(key == label_key(name) for name in row.labels):
            return row
    return None


def parse_active(toks, template: str, warnings: list[str]) -> dict:
    out: dict = {}
    extra = []
    for run in label_runs(toks, starts_label=lambda text: True):
        row = _active_row(run.label, template) if template in ACTIVE_ROWS else None
        if row is None:
            if _has_figures(run):
                extra.append(_extra(run))
            continue
        if row.key in out:
            warnings.append(f"active_disclosure.{row.key}: row printed twice; first kept")
            continue
        cells = fit(run.values, len(row.columns))
        if cells is None:
            warnings.append(
                f"active_disclosure.{row.key}: {len(run.values)} cells for {len(row.columns)} columns; row not read"
            )
            continue
        _fill(out, row.key, row.columns, cells, {"amount_yuan": "yuan"})
    if extra:
        out["extra"] = extra
    return out


def _score(run: Run, row) -> float | None:
    score = max(similarity(run.label, label) for label in (row.label, *LABEL_VARIANTS.get(row.key, ())))
    return score if score >= MATCH_THRESHOLD else None


def align(runs: list[Run], rows) -> dict[int, int]:
    """Order-preserving best match of observed runs to template rows: {run index: row index}."""
    n, m = len(runs), len(rows)
    score = [[_score(run, row) for row in rows] for run in runs]
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            best[i][j] = max(best[i + 1][j], best[i][j + 1])
            if score[i][j] is not None:
                best[i][j] = max(best[i][j], score[i][j] + best[i + 1][j + 1])
    pairs, i, j = {}, 0, 0
    while i < n and j < m:
        if score[i][j] is not None and best[i][j] == score[i][j] + best[i + 1][j + 1]:
            pairs[i] = j
            i, j = i + 1, j + 1
        elif best[i][j] == best[i + 1][j]:
            i += 1
        else:
            j += 1
    return pairs


def application_runs(toks) -> list[Run]:
    return [run for run in label_runs(toks, starts_label=has_numbering) if has_numbering(run.label)]


def parse_applications(toks, template: str, warnings: list[str]) -> dict:
    rows = APPLICATION_ROWS.get(template, APPLICATION_ROWS["2019"])
    runs = application_runs(toks)
    pairs = align(runs, rows)
    out: dict = {}
    extra = []
    width = len(APPLICANT_COLUMN_KEYS)
    for index, run in enumerate(runs):
        row = rows[pairs[index]] if index in pairs else None
        if run.stray:
            warnings.append(f"applications: cells {run.stray} after row {run.label!r} belong to no column")
        if row is not None and row.key is None and row.label == OTHER_HEADING_2021 and _has_figures(run):
            # Some 2021-template reports print （六）其他处理 as the single 2019 row.
            row = OTHER_ROW_2019
            warnings.append("applications: （六）其他处理 printed as one row; read as `other`")
        if row is None or row.key is None:
            if _has_figures(run):
                extra.append(_extra(run))
            continue
        cells = fit(run.values, width)
        if cells is None:
            warnings.append(f"applications.{row.key}: {len(run.values)} cells for {width} columns; row not read")
            continue
        _fill(out, row.key, APPLICANT_COLUMN_KEYS, cells)
    for row in rows:
        if row.key in ("other_no_correction", "other_no_fee", "other_misc") and "other" in out:
            continue
        if row.key and row.key not in out and not any(w.startswith(f"applications.{row.key}:") for w in warnings):
            warnings.append(f"applications.{row.key}: row not found")
    if extra:
        warnings.append(f"applications: {len(extra)} row(s) not in the {template} template kept under extra")
        out["extra"] = extra
    return out


def parse_review(toks, warnings: list[str]) -> dict:
    width = len(REVIEW_GROUPS) * len(REVIEW_COLUMNS)
    runs = value_runs(toks)
    if not runs:
        warnings.append("review_litigation: no figures found")
        return {}
    best = max(runs, key=lambda r: sum(1 for v in r if not is_blank(v)))
    cells = fit(best, width)
    if cells is None:
        warnings.append(f"review_litigation: {len(best)} cells for {width} columns; table not read")
        return {}
    out = {}
    columns = [key for key, _ in REVIEW_COLUMNS]
    for g, (group, _) in enumerate(REVIEW_GROUPS):
        _fill(out, group, columns, cells[g * len(columns) : (g + 1) * len(columns)])
    return out


# --- grid tables: values tied to header columns by position (grid.py) ---

def _names(key: str, *printed: str) -> set[str]:
    return {label_key(p) for p in (*printed, *LABEL_VARIANTS.get(key, ())) if label_key(p)}


_APPLICANT_NAMES = {key: _names(key, label) for key, label in APPLICANT_COLUMNS}
_GROUP_NAMES = {key: _names(key, label) for key, label in REVIEW_GROUPS}
_REVIEW_NAMES = {key: _names(key, label) for key, label in REVIEW_COLUMNS}
_FRAGMENT = re.compile(
    "^[" + re.escape("".join(sorted(set("".join(SPLIT_HEADINGS))))) + r"]{1,4}(?=[（(][一二三四五六七八九十][)）]|\d{1,2}\s*[.．、])"
)


def _named(texts, names: dict, last: bool = True):
    for text in reversed(texts) if last else texts:
        key = label_key(text)
        for name, options in names.items():
            if key in options:
                return name
    return None


def applicant_column(texts):
    return _named(texts, _APPLICANT_NAMES)


def review_column(texts):
    group, column = _named(texts, _GROUP_NAMES, last=False), _named(texts, _REVIEW_NAMES)
    return (group, column) if group and column else None


def active_column(template: str):
    names: dict = {}
    for row in ACTIVE_ROWS.get(template, ()):
        for column, label in zip(row.columns, row.column_labels):
            names.setdefault(column, set()).update(_names(column, label))
    return lambda texts: _named(texts, names)


def _row_label(labels: list[str]) -> str:
    """The most specific label cell (the rightmost), without fragments of a vertical heading."""
    for text in reversed(labels):
        text = _FRAGMENT.sub("", text)
        if label_key(text):
            return text
    return ""


def _warn_unaligned(name: str, row, warnings: list[str]) -> None:
    warnings.append(f"{name}: row {'/'.join(row.labels) or '(no label)'!r}: cells for {row.unaligned} are not in "
                    "their header columns; row left out")


def _active_key(label: str, template: str):
    key = label_key(label)
    for row in ACTIVE_ROWS.get(template, ()):
        if key in _names(row.key, *row.labels):
            return row
    return None


def parse_active_grid(tables, template: str, warnings: list[str]) -> dict:
    out: dict = {}
    extra = []
    for grow in read_grid(tables, active_column(template), warnings, "active_disclosure"):
        label = _row_label(grow.labels)
        row = _active_key(label, template)
        if row is None:
            if label and any(not is_blank(v) for v in grow.cells.values()):
                extra.append({"label": label, "values": [typed(v) for v in grow.cells.values()]})
            elif any(not is_blank(v) for v in grow.cells.values()):
                warnings.append(f"active_disclosure: figures without a row label at {grow.where}; left out")
            continue
        if row.key in out:
            warnings.append(f"active_disclosure.{row.key}: row printed twice; first kept")
            continue
        missing = [c for c in row.columns if c not in grow.cells and c not in grow.unaligned]
        unaligned = [c for c in row.columns if c in grow.unaligned]
        if missing or unaligned:
            warnings.append(f"active_disclosure.{row.key}: columns {missing + unaligned} not found under their "
                            "headers; row left out")
            continue
        _fill(out, row.key, row.columns, [grow.cells[c] for c in row.columns], {"amount_yuan": "yuan"})
    if extra:
        out["extra"] = extra
    return out


def parse_applications_grid(tables, template: str, warnings: list[str]) -> dict:
    rows = APPLICATION_ROWS.get(template, APPLICATION_ROWS["2019"])
    grows = read_grid(tables, applicant_column, warnings, "applications")
    runs = [Run(label=_row_label(g.labels), values=[g.cells.get(k) for k in APPLICANT_COLUMN_KEYS]) for g in grows]
    pairs = align(runs, rows)
    out: dict = {}
    extra = []
    for index, (grow, run) in enumerate(zip(grows, runs)):
        row = rows[pairs[index]] if index in pairs else None
        figures = any(not is_blank(v) for v in grow.cells.values())
        if row is not None and row.key is None and row.label == OTHER_HEADING_2021 and figures:
            row = OTHER_ROW_2019
            warnings.append("applications: （六）其他处理 printed as one row; read as `other`")
        if row is None or row.key is None:
            if figures and has_numbering(run.label) and len(label_key(run.label)) >= 2:
                extra.append({"label": run.label, "values": [typed(grow.cells.get(k)) for k in APPLICANT_COLUMN_KEYS]})
            elif figures:
                warnings.append(f"applications: row {run.label or '(no label)'!r} is not a row of the form; "
                                "figures left out")
            continue
        if row.key in out:
            warnings.append(f"applications.{row.key}: row printed twice; first kept")
            continue
        if grow.unaligned or any(k not in grow.cells for k in APPLICANT_COLUMN_KEYS):
            _warn_unaligned(f"applications.{row.key}", grow, warnings)
            continue
        _fill(out, row.key, APPLICANT_COLUMN_KEYS, [grow.cells[k] for k in APPLICANT_COLUMN_KEYS])
    _missing_rows(out, rows, warnings)
    if extra:
        warnings.append(f"applications: {len(extra)} row(s) not in the {template} template kept under extra")
        out["extra"] = extra
    return out


def _missing_rows(out: dict, rows, warnings: list[str]) -> None:
    for row in rows:
        if row.key in ("other_no_correction", "other_no_fee", "other_misc") and "other" in out:
            continue
        if row.key and row.key not in out and not any(w.startswith(f"applications.{row.key}:") for w in warnings):
            warnings.append(f"applications.{row.key}: row not found")


def parse_review_grid(tables, warnings: list[str]) -> dict:
    columns = [key for key, _ in REVIEW_COLUMNS]
    for grow in read_grid(tables, review_column, warnings, "review_litigation"):
        wanted = [(g, c) for g, _ in REVIEW_GROUPS for c in columns]
        if not any(not is_blank(grow.cells.get(k)) for k in wanted):
            continue
        missing = [k for k in wanted if k not in grow.cells]
        if missing:
            warnings.append(f"review_litigation: cells for {missing} are not under their headers; table left out")
            return {}
        return {g: {c: typed(grow.cells[(g, c)]) for c in columns} for g, _ in REVIEW_GROUPS}
    warnings.append("review_litigation: no figures found")
    return {}
