"""The statutory table builder: 表二, 表三 or 表四 for any set of reports, in the printed shape.

A set is chosen by region, year, agency, template, check status, report ids or a search. Each
report's figures are read from ``cells`` (the long-form store), laid out by archive/form.py (the
form's own drawing, with pipelines/labels.py's labels), one block per report, or summed per
template. A table a report lacks is said beside its block (archive/gaps.py), never shown as 0.

Downloads: XLSX in the printed shape (merged cells, numbers as numbers, strings as text) and CSV
with one line per report and row of the form, Chinese headers first with the key beside.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field

from pipelines.labels import (
    ACTIVE_ROWS,
    APPLICANT_COLUMNS,
    APPLICATION_ROWS,
    REVIEW_COLUMNS,
    REVIEW_GROUPS,
    TABLE_NUMBERS,
    TABLE_TITLES,
)

from . import form
from .gaps import table_gap
from .words import row_label

TABLES = {"二": "active_disclosure", "三": "applications", "四": "review_litigation"}
GRIDS = {"active_disclosure": form.active_grid, "applications": form.applications_grid,
         "review_litigation": form.review_grid}
HTML_BLOCKS = 40  # blocks drawn on the page; downloads hold every report up to MAX_REPORTS
MAX_REPORTS = 5000  # reports in one build (a province's year); past it the build says where it stops
FILTERS = ("province", "city", "county", "year", "agency", "template", "check_status")


@dataclass
class Selection:
    province: str | None = None
    city: str | None = None
    county: str | None = None
    year: int | None = None
    agency: int | None = None
    template: str | None = None
    check_status: str | None = None
    reports: list[int] = field(default_factory=list)  # explicit report ids (a search's results)
    table: str = "applications"
    summed: bool = False

    def args(self) -> dict:
        """The query string that names this selection (for links and downloads)."""
        found = {k: getattr(self, k) for k in FILTERS if getattr(self, k) not in (None, "")}
        found["table"] = next(k for k, v in TABLES.items() if v == self.table)
        if self.summed:
            found["sum"] = 1
        return found

    def description(self) -> str:
        parts = [p for p in (self.province, self.city, self.county) if p]
        if self.year:
            parts.append(f"{self.year} 年度")
        if self.template:
            parts.append(f"{self.template} 模板")
        return " ".join(parts) or "全部年报"


def _where(selection: Selection) -> tuple[str, list]:
    clauses, params = [], []
    for level in ("province", "city", "county"):
        if getattr(selection, level):
            clauses.append(f"a.{level} = ?")
            params.append(getattr(selection, level))
    for column, value in (("r.year", selection.year), ("r.agency_id", selection.agency),
                          ("r.template", selection.template), ("r.check_status", selection.check_status)):
        if value not in (None, ""):
            clauses.append(f"{column} = ?")
            params.append(value)
    if selection.reports:
        clauses.append(f"r.id IN ({','.join('?' * len(selection.reports))})")
        params.extend(selection.reports)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def reports(conn, selection: Selection, limit: int | None = None) -> list[dict]:
    """The selected reports with the parts of their record the builder reads (never the whole text)."""
    where, params = _where(selection)
    part = f"$.{selection.table}"
    cursor = conn.execute(
        "SELECT r.id AS report_id, r.year, r.title, r.template, r.check_status, r.source_version_id, "
        "a.id AS agency_id, a.name AS agency, a.province, a.city, a.county, v.extract_status, v.sha256, "
        "CASE WHEN v.record IS NULL THEN NULL ELSE json_object("
        "  'template', json_extract(v.record, '$.template'), 'warnings', json(json_extract(v.record, '$.warnings')),"
        "  'coverage', json(json_extract(v.record, '$.coverage')), ?, json(json_extract(v.record, ?))) END AS record, "
        "d.url AS source_url FROM reports r JOIN agencies a ON a.id = r.agency_id "
        "LEFT JOIN versions v ON v.id = r.source_version_id LEFT JOIN documents d ON d.id = v.document_id"
        f"{where} ORDER BY a.province, a.city, a.county, a.name, r.year, r.id"
        + (" LIMIT ?" if limit else ""), [selection.table, part, *params] + ([limit] if limit else []))
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row)) for row in cursor]


def count(conn, selection: Selection) -> int:
    where, params = _where(selection)
    return conn.execute(f"SELECT count(*) FROM reports r JOIN agencies a ON a.id = r.agency_id{where}",
                        params).fetchone()[0]


def _figures(conn, version_ids: list[int], table: str) -> dict[int, dict]:
    """{version_id: {row: {column: value}}} from the cells table (a number, else the text as printed)."""
    found: dict[int, dict] = {}
    for start in range(0, len(version_ids), 500):
        chunk = version_ids[start:start + 500]
        for version_id, row, column, number, text in conn.execute(
                "SELECT version_id, row_key, column_key, number, text FROM cells WHERE report_table = ? AND "
                f"version_id IN ({','.join('?' * len(chunk))})", [table, *chunk]):
            value = number if number is not None else text
            found.setdefault(version_id, {}).setdefault(row, {})[column] = value
    return found


@dataclass
class Block:
    """One printed table: a report's, or a sum over reports of one template."""

    heading: str
    table: str
    template: str | None
    figures: dict  # {row: {column: value}}
    report: dict | None = None  # the report, for a report's block
    gap: dict | None = None  # what the table lacks (archive.gaps)
    members: list[dict] = field(default_factory=list)  # the reports a sum adds up
    short: list[dict] = field(default_factory=list)  # of those, the ones whose table is not whole

    def grid(self) -> form.Grid:
        """The form's own drawing of this block (archive/form.py)."""
        return GRIDS[self.table]({"template": self.template, self.table: self.figures})


def build(conn, selection: Selection) -> dict:
    """The blocks for a selection, and the reports that cannot be laid out (no template)."""
    table = selection.table
    total = count(conn, selection)
    found = reports(conn, selection, MAX_REPORTS)
    figures = _figures(conn, [r["source_version_id"] for r in found if r["source_version_id"]], table)
    blocks, unplaced = [], []
    for report in found:
        record = json.loads(report["record"]) if report["record"] else None
        report["figures"] = figures.get(report["source_version_id"], {})
        report["gap"] = table_gap(record, table, row_label)
        template = report["template"] or (record or {}).get("template")
        if template not in APPLICATION_ROWS and table != "review_litigation":
            unplaced.append(report)
            continue
        report["template"] = template or "2021"
        blocks.append(Block(f"{report['agency']} · {report['year']} 年度", table, report["template"],
                            report["figures"], report=report, gap=report["gap"]))
    if selection.summed:
        blocks = summed(blocks, table)
    return {"selection": selection, "table": table, "number": TABLE_NUMBERS[table], "title": TABLE_TITLES[table],
            "reports": found, "blocks": blocks, "unplaced": unplaced, "total": total,
            "stopped": stopped_notice(total) if total > len(found) else None}


def stopped_notice(total: int) -> str:
    """Where a download stops and how to get the rest, said plainly."""
    return (f"共 {total} 份年报，只列出前 {MAX_REPORTS} 份（按省、市、县区、机关、年度排序）；"
            "其余请按省份或年度分批选择后再下载。")


def _add(total: dict, figures: dict) -> None:
    for row, values in figures.items():
        for column, value in values.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                into = total.setdefault(row, {})
                into[column] = (into.get(column) or 0) + value


def summed(blocks: list[Block], table: str) -> list[Block]:
    """One block per template (表三's rows differ between 2019 and 2021): every figure added up."""
    by_template: dict[str, list[Block]] = {}
    for block in blocks:
        key = block.template if table != "review_litigation" else "all"
        by_template.setdefault(key, []).append(block)
    result = []
    for template, members in by_template.items():
        total: dict = {}
        for block in members:
            _add(total, block.figures)
        heading = f"合计 {len(members)} 份年报" + (f"（{template} 模板）" if template != "all" else "")
        result.append(Block(heading, table, members[0].template, total, members=[b.report for b in members],
                            short=[b.report for b in members if b.gap]))
    return result


# ------------------------------------------------------------------ downloads

def _value_at(block: Block, key: str | None):
    if not key:
        return None
    _, row, column = key.split(".")
    return block.figures.get(row, {}).get(column)


def _heading_line(block: Block, public) -> list:
    if block.report:
        report = block.report
        return [f"{report['agency']} · {report['year']} 年度 · {report['title']}",
                public(f"/-/report/{report['report_id']}")]
    line = [block.heading]
    if block.short:
        line.append(f"其中 {len(block.short)} 份此表未读出或不完整，缺的格未计入合计")
    return line


def xlsx(built: dict, public) -> bytes:
    """The printed shape: each block's heading, then the form with its merged cells; numbers stay numbers."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.active
    sheet.title = built["number"]
    sheet.append([f"{built['number']} {built['title']} · {built['selection'].description()} · "
                  f"{len(built['reports'])} 份年报"])
    sheet["A1"].font = Font(bold=True)
    if built["stopped"]:
        _text(sheet["A2"], built["stopped"])
    row = 3
    for block in built["blocks"]:
        for col, text in enumerate(_heading_line(block, public), start=1):
            _text(sheet.cell(row=row, column=col), text)
        sheet.cell(row=row, column=1).font = Font(bold=True)
        row += 1
        if block.gap:
            _text(sheet.cell(row=row, column=1), block.gap["summary"] + "原因：" + "；".join(block.gap["reasons"]))
            row += 1
        grid = block.grid()
        for cell in grid.cells:
            target = sheet.cell(row=row + cell.row, column=1 + cell.col)
            value = _value_at(block, cell.key) if not cell.is_label else cell.text
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                target.value = value
            elif value not in (None, ""):
                _text(target, str(value))
            target.alignment = Alignment(wrap_text=cell.is_label, vertical="center")
            if cell.rowspan > 1 or cell.colspan > 1:
                sheet.merge_cells(start_row=row + cell.row, start_column=1 + cell.col,
                                  end_row=row + cell.row + cell.rowspan - 1, end_column=1 + cell.col + cell.colspan - 1)
        row += grid.height + 1
    for report in built["unplaced"]:
        _text(sheet.cell(row=row, column=1), f"{report['agency']} · {report['year']} 年度：表格模板未识别，无法按法定表格排列")
        row += 1
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _text(cell, text: str) -> None:
    """A string cell stays a string: a title beginning with = is never a formula."""
    cell.value = text
    cell.data_type = "s"


def columns(table: str, template: str | None = None) -> list[tuple[str, str]]:
    """(key, Chinese label) of the table's columns; 表二's are the union over its rows."""
    if table == "applications":
        return list(APPLICANT_COLUMNS)
    if table == "review_litigation":
        return list(REVIEW_COLUMNS)
    seen: dict[str, str] = {}
    for name in [template] if template in ACTIVE_ROWS else list(ACTIVE_ROWS):
        for spec in ACTIVE_ROWS[name]:
            for key, text in zip(spec.columns, spec.column_labels):
                seen.setdefault(key, text)
    return list(seen.items())


def rows(table: str, template: str | None) -> list[tuple[str, str]]:
    if table == "applications":
        return [(spec.key, spec.label) for spec in APPLICATION_ROWS.get(template or "2021", ()) if spec.key]
    if table == "review_litigation":
        return list(REVIEW_GROUPS)
    return [(spec.key, spec.labels[0]) for spec in ACTIVE_ROWS.get(template or "2021", ())]


def _safe(value):
    """Numbers as they are; a string Excel would read as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_text(built: dict, public) -> str:
    """One line per report (or sum) and row of the form: every report, Chinese headers with keys beside."""
    table = built["table"]
    templates = sorted({b.template or "2021" for b in built["blocks"]}) or ["2021"]
    cols = columns(table, templates[0] if len(templates) == 1 else None)
    head = ["报告编号 report_id", "发布机关 agency", "省份 province", "市 city", "县区 county", "报告年度 year",
            "表格模板 template", "表 table", "行 row", "行键 row_key", *[f"{zh} {key}" for key, zh in cols],
            "本表情况 table_status", "年报页面 report_page", "原文网址 source_url"]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(head)
    for block in built["blocks"]:
        report = block.report or {}
        status = block.gap["summary"] if block.gap else (
            f"合计，其中 {len(block.short)} 份此表不完整" if block.short else "完整")
        for key, label in rows(table, block.template):
            values = block.figures.get(key, {})
            line = [report.get("report_id", ""), report.get("agency", block.heading), report.get("province", ""),
                    report.get("city", ""), report.get("county", ""), report.get("year", ""), block.template or "",
                    f"{TABLE_NUMBERS[table]} {TABLE_TITLES[table]}", label, key,
                    *[values.get(c, "") if values.get(c) is not None else "" for c, _ in cols], status,
                    public(f"/-/report/{report['report_id']}") if report else "", report.get("source_url", "")]
            writer.writerow([_safe(v) for v in line])
    if built["stopped"]:
        writer.writerow(["", built["stopped"]])
    return out.getvalue()
