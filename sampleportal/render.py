"""Render a report (record + prose) as the files agencies publish: HTML, PDF, DOCX, DOC.

Real tools only: reportlab with the CID font STSong-Light for PDF, python-docx
for DOCX, LibreOffice for .doc. Used by the sample-portal generator and by the
round-trip tests.
"""

from __future__ import annotations

import html
import zipfile
from dataclasses import dataclass, field
from io import BytesIO

from archive.form import Grid, grids
from pipelines.readers.doc import libreoffice_convert

SECTION_TITLES = {
    "overall": "一、总体情况",
    "problems": "五、存在的主要问题及改进情况",
    "other": "六、其他需要报告的事项",
}


@dataclass
class Report:
    """Everything printed in one report."""

    record: dict
    intro: str = ""
    sections: dict = field(default_factory=dict)  # overall / problems / other -> list of paragraphs
    signature: tuple[str, str] | None = None  # (agency, date as printed)
    labels: dict = field(default_factory=dict)  # printed variants of the form's labels (label_variants.py)

    @property
    def title(self) -> str:
        return self.record["title"]


def outline(report: Report):
    """The report in reading order: ('h', text) headings, ('p', text) paragraphs, ('t', grid) tables."""
    items = [("p", report.intro)] if report.intro else []
    items.append(("h", SECTION_TITLES["overall"]))
    items += [("p", p) for p in report.sections.get("overall", [])]
    for heading, grid in grids(report.record, report.labels):
        items += [("h", heading), ("t", grid)]
    for key in ("problems", "other"):
        if key in report.sections:
            items.append(("h", SECTION_TITLES[key]))
            items += [("p", p) for p in report.sections[key]]
    if report.signature:
        items += [("s", report.signature[0]), ("s", report.signature[1])]
    return items


# ---------------------------------------------------------------- HTML


def _html_text(text: str, split_spans: bool) -> str:
    if not split_spans or not text:
        return html.escape(text)
    return "".join(f'<span style="font-family:宋体">{html.escape(ch)}</span>' for ch in text)


def grid_html(grid: Grid, split_spans: bool = False) -> str:
    by_row: dict[int, list] = {}
    for cell in grid.cells:
        by_row.setdefault(cell.row, []).append(cell)
    rows = []
    for r in range(grid.height):
        tds = []
        for cell in sorted(by_row.get(r, []), key=lambda c: c.col):
            attrs = ""
            if cell.rowspan > 1:
                attrs += f' rowspan="{cell.rowspan}"'
            if cell.colspan > 1:
                attrs += f' colspan="{cell.colspan}"'
            text = _html_text(cell.text, split_spans and cell.is_label)
            tds.append(f"<td{attrs}><p align=\"center\">{text}</p></td>")
        rows.append("<tr>" + "".join(tds) + "</tr>")
    return '<table border="1" cellspacing="0" cellpadding="0" class="MsoNormalTable">' + "".join(rows) + "</table>"


def body_html(report: Report, split_spans: bool = False) -> str:
    """The article body as a Word-exported page would carry it."""
    out = []
    for kind, item in outline(report):
        if kind == "t":
            out.append(grid_html(item, split_spans))
        elif kind == "h":
            out.append(f'<p class="MsoNormal"><strong>{html.escape(item)}</strong></p>')
        elif kind == "s":
            out.append(f'<p class="MsoNormal" style="text-align:right">{html.escape(item)}</p>')
        else:
            out.append(f'<p class="MsoNormal" style="text-indent:2em">{html.escape(item)}</p>')
    return "\n".join(out)


# ---------------------------------------------------------------- PDF


def pdf_bytes(report: Report, break_applications: bool = False) -> bytes:
    """A PDF as agencies print them; `break_applications` splits table 三 across a page."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    body = ParagraphStyle("body", fontName="STSong-Light", fontSize=10.5, leading=16, firstLineIndent=21)
    head = ParagraphStyle("head", parent=body, fontSize=12, firstLineIndent=0, spaceBefore=6)
    title = ParagraphStyle("title", parent=body, fontSize=16, leading=24, alignment=1, firstLineIndent=0)
    cell = ParagraphStyle("cell", fontName="STSong-Light", fontSize=7.5, leading=9, alignment=1)
    sign = ParagraphStyle("sign", parent=body, alignment=2, firstLineIndent=0)

    story = [Paragraph(html.escape(report.title), title), Spacer(1, 8)]
    for kind, item in outline(report):
        if kind == "t":
            story += _pdf_tables(item, cell, Table, TableStyle, colors, PageBreak, break_applications)
        elif kind == "h":
            story.append(Paragraph(html.escape(item), head))
        elif kind == "s":
            story.append(Paragraph(html.escape(item), sign))
        else:
            story.append(Paragraph(html.escape(item), body))
    buffer = BytesIO()
    # invariant: no creation date or random ID, so the generator's output is reproducible
    doc = SimpleDocTemplate(
        buffer, pagesize=A4, title=report.title, author=report.record.get("agency") or "", invariant=1
    )
    doc.build(story)
    return buffer.getvalue()


def _pdf_tables(grid: Grid, style, Table, TableStyle, colors, PageBreak, break_applications: bool):
    from reportlab.platypus import Paragraph

    data = [["" for _ in range(grid.width)] for _ in range(grid.height)]
    spans = []
    for c in grid.cells:
        data[c.row][c.col] = Paragraph(html.escape(c.text), style) if c.text else ""
        if c.rowspan > 1 or c.colspan > 1:
            spans.append(("SPAN", (c.col, c.row), (c.col + c.colspan - 1, c.row + c.rowspan - 1)))
    widths = _pdf_widths(grid.width)
    base = [("GRID", (0, 0), (-1, -1), 0.5, colors.black), ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]
    if break_applications and grid.width == 10 and grid.height > 16:
        cut = 14  # inside the 不予公开 group, as long tables break in real reports
        first = Table(data[:cut], colWidths=widths)
        second = Table(data[cut:], colWidths=widths)
        first.setStyle(TableStyle(base + _clip(spans, 0, cut)))
        second.setStyle(TableStyle(base + _clip(spans, cut, grid.height)))
        return [first, PageBreak(), second]
    table = Table(data, colWidths=widths, repeatRows=0)
    table.setStyle(TableStyle(base + spans))
    return [table]


def _clip(spans, start: int, end: int):
    """Span commands of the rows [start, end), re-based; a span crossing the cut is cut too."""
    out = []
    for name, (c0, r0), (c1, r1) in spans:
        if r1 < start or r0 >= end:
            continue
        a, b = max(r0, start) - start, min(r1, end - 1) - start
        if (c0, a) != (c1, b):
            out.append((name, (c0, a), (c1, b)))
    return out


def _pdf_widths(width: int):
    from reportlab.lib.units import mm

    if width == 4:
        return [50 * mm, 40 * mm, 40 * mm, 40 * mm]
    if width == 10:
        return [14 * mm, 16 * mm, 40 * mm] + [14 * mm] * 7
    return [11.5 * mm] * width


# ---------------------------------------------------------------- DOCX / DOC


def docx_bytes(report: Report) -> bytes:
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    doc = Document()
    doc.core_properties.title = report.title
    heading = doc.add_paragraph(report.title)
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for kind, item in outline(report):
        if kind == "t":
            _docx_table(doc, item)
        else:
            paragraph = doc.add_paragraph(item)
            if kind == "s":
                paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    buffer = BytesIO()
    doc.save(buffer)
    return _fixed_zip_times(buffer.getvalue())


def _fixed_zip_times(data: bytes) -> bytes:
    """Rewrite a zip with constant member timestamps so DOCX output is reproducible."""
    source = zipfile.ZipFile(BytesIO(data))
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(2020, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(fixed, source.read(info.filename))
    return out.getvalue()


def _docx_table(doc, grid: Grid) -> None:
    table = doc.add_table(rows=grid.height, cols=grid.width)
    table.style = "Table Grid"
    # Table.cell() walks the whole table each call (quadratic: 1.4 s per report); the cells are taken once,
    # before any merge. Grid cells never overlap, so each corner used below is still its own <w:tc> then.
    cells = [row.cells for row in table.rows]
    for c in grid.cells:
        target = cells[c.row][c.col]
        if c.rowspan > 1 or c.colspan > 1:
            target = target.merge(cells[c.row + c.rowspan - 1][c.col + c.colspan - 1])
        target.text = c.text


def doc_bytes(report: Report) -> bytes:
    """Word 97 .doc, converted from the DOCX by LibreOffice (as agencies' old Word saves)."""
    return libreoffice_convert(docx_bytes(report), "docx", "doc")


# ---------------------------------------------------------------- XLSX


def xlsx_bytes(report: Report) -> bytes:
    """The three tables on one sheet, as agencies' statistics offices send them."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "年报"
    row = 1
    sheet.cell(row, 1, report.title)
    row += 2
    for heading, grid in grids(report.record, report.labels):
        sheet.cell(row, 1, heading)
        row += 1
        for c in grid.cells:
            sheet.cell(row + c.row, c.col + 1, c.text)
            if c.rowspan > 1 or c.colspan > 1:
                sheet.merge_cells(start_row=row + c.row, start_column=c.col + 1,
                                  end_row=row + c.row + c.rowspan - 1, end_column=c.col + c.colspan)
        row += grid.height + 1
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()
