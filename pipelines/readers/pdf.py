"""PDF: pypdfium2 reads the page; pdfplumber's lattice algorithm finds the ruled tables.

pdfminer's content-stream interpreter is most of pdfplumber's cost, so the table
finder is fed pdfium's vector paths and character boxes instead (pdfium_page.py);
pages without ruling paths are text only. A page whose text uses a font the file does not
embed (pdf_fonts.py) is read by pdfminer instead: its positions come from the font's own
width tables in the file, where pdfium's come from whatever font the machine substitutes,
so the same bytes give the same record on every machine. Each page's reader and font path
is kept in the document's meta (``pdf_pages``). The text above, between and below the
tables comes from pdfium's bounded text. Blocks keep
page order, so a table broken across a page comes out as two tables with the page
footer between them; the parser reads a section's tables as one stream and skips
paragraphs, which joins them again.
"""

from __future__ import annotations

import io
import re
from bisect import bisect_right

from ..document import Document, Paragraph, Table, UnreadableDocument
from ..labels import TABLE_PAGE_MARKERS
from .pdf_fonts import host_fonts
from .pdfium_page import find_tables

MAX_PAGES = 300
MIN_RULING_PATHS = 8  # fewer vector paths than this and a page holds no ruled table
_SENTENCE_END = re.compile(r"[。：:；;！？!?]$")


def _cell(text) -> str:
    return "" if text is None else "".join(text.split("\n")).strip()


_X_TOLERANCE = 3  # points: a wider gap between two characters of a line is a space (pdfplumber's default)
_Y_TOLERANCE = 3


def _owner(groups, tops, xs, char) -> tuple[int, int] | None:
    """The grid position of the cell whose box holds a character's midpoint (merged cells: the
    position where the cell starts, above or to the left)."""
    h, v = (char["x0"] + char["x1"]) / 2, (char["top"] + char["bottom"]) / 2
    r0, c0 = bisect_right(tops, v) - 1, bisect_right(xs, h) - 1
    for r in range(r0, -1, -1):
        for c in range(c0, -1, -1):
            box = groups[r].cells[c]
            if box and box[0] <= h < box[2] and box[1] <= v < box[3]:
                return r, c
    return None


def _text(chars: list[dict]) -> str:
    """A cell's characters in reading order: lines top to bottom joined without a break (a cell's
    line breaks are wrapping), a space where two characters of a line stand apart."""
    lines: list[list[dict]] = []
    for char in sorted(chars, key=lambda ch: ch["top"]):
        if lines and char["top"] - lines[-1][0]["top"] <= _Y_TOLERANCE:
            lines[-1].append(char)
        else:
            lines.append([char])
    out = []
    for line in lines:
        previous = None
        for char in sorted(line, key=lambda ch: ch["x0"]):
            if previous is not None and char["x0"] - previous["x1"] > _X_TOLERANCE:
                out.append(" ")
            out.append(char["text"])
            previous = char
    return "".join(out).strip()


def _extract(found, groups, chars) -> list[list[str | None]]:
    """pdfplumber's Table.extract without its cells x characters scan: each character is placed
    in its cell by bisection."""
    xs = sorted({cell[0] for cell in found.cells})
    tops = [group.bbox[1] for group in groups]
    x0, top, x1, bottom = found.bbox
    owned: dict[tuple[int, int], list[dict]] = {}
    for char in chars:
        h, v = (char["x0"] + char["x1"]) / 2, (char["top"] + char["bottom"]) / 2
        if x0 <= h < x1 and top <= v < bottom:
            position = _owner(groups, tops, xs, char)
            if position:
                owned.setdefault(position, []).append(char)
    return [[None if box is None else _text(owned.get((r, c), [])) for c, box in enumerate(group.cells)]
            for r, group in enumerate(groups)]


def _table(found, chars) -> Table:
    """pdfplumber's grid with each merged cell's text copied to the positions it covers (as HTML and
    DOCX tables are), and the x-range of every grid column, so values are tied to header columns."""
    groups = found.rows  # a property that regroups every time it is read
    rows = [[_cell(t) for t in row] for row in _extract(found, groups, chars)]
    xs = sorted({cell[0] for cell in found.cells})
    tops = [group.bbox[1] for group in groups]
    spans, origins = set(), {}
    for r, group in enumerate(groups):
        for c, box in enumerate(group.cells):
            if box is None:
                spans.add((r, c))
                continue
            x1, bottom = box[2], box[3]
            for rr in range(r, len(rows)):
                if rr > r and tops[rr] >= bottom - 1:
                    break
                for cc in range(c, len(xs)):
                    if cc > c and xs[cc] >= x1 - 1:
                        break
                    if (rr, cc) != (r, c) and groups[rr].cells[cc] is None:
                        rows[rr][cc] = rows[r][c]
                        origins[(rr, cc)] = (r, c)
    columns = [(x, xs[i + 1] if i + 1 < len(xs) else found.bbox[2]) for i, x in enumerate(xs)]
    return Table(rows=rows, spans=spans, columns=columns, origins=origins)


def _frame_rows(table: Table) -> tuple[list[Paragraph], Table | None]:
    """Leading rows that are one cell across the whole width are text inside a page frame that the
    table finder took for a table (WPS page borders): they are paragraphs, headings included."""
    width = len(table.rows[0]) if table.rows else 0
    n = 0
    while n < len(table.rows) and all((n, c) in table.spans for c in range(1, width)):
        n += 1
    paragraphs = [Paragraph(row[0]) for row in table.rows[:n] if row[0].strip()]
    if n == len(table.rows):
        return paragraphs, None
    if n == 0:
        return [], table
    rest = Table(rows=table.rows[n:], spans={(r - n, c) for r, c in table.spans if r >= n}, columns=table.columns,
                 origins={(r - n, c): (r0 - n, c0) for (r, c), (r0, c0) in table.origins.items() if r0 >= n})
    return paragraphs, rest


def _lines(text: str) -> list[Paragraph]:
    return [Paragraph(line.strip()) for line in text.replace("\r", "").split("\n") if line.strip()]


def _holds_table(text: str) -> bool:
    """Whether a page's text layer shows one of the statutory tables (cheap; the finder is not)."""
    compact = re.sub(r"\s+", "", text)
    return any(marker in compact for marker in TABLE_PAGE_MARKERS)


def _has_rulings(page) -> bool:
    import pypdfium2.raw as pdfium_c

    count = 0
    for _ in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_PATH], max_depth=2):
        count += 1
        if count >= MIN_RULING_PATHS:
            return True
    return False


def _table_page(page, textpage, width: float, height: float) -> list:
    found = sorted(find_tables(page, textpage), key=lambda t: t.bbox[1])
    blocks: list = []
    band_top = 0.0
    for table in found:
        _, top, _, bottom = table.bbox
        if top > band_top:
            # pdfium's origin is the bottom-left corner, pdfplumber's the top-left
            blocks += _lines(textpage.get_text_bounded(0, height - top, width, height - band_top))
        paragraphs, grid = _frame_rows(_table(table, table.page.chars))
        blocks += paragraphs
        if grid is not None:
            blocks.append(grid)
        band_top = max(band_top, bottom)
    blocks += _lines(textpage.get_text_bounded(0, 0, width, height - band_top))
    return blocks


def _join_lines(blocks: list) -> list:
    """Re-join paragraph lines that the page width wrapped."""
    out: list = []
    for block in blocks:
        previous = out[-1] if out else None
        if (
            isinstance(block, Paragraph)
            and isinstance(previous, Paragraph)
            and len(previous.text) >= 30
            and not _SENTENCE_END.search(previous.text)
        ):
            previous.text += block.text
        else:
            out.append(block)
    return out


def _open(data: bytes):
    import pypdfium2 as pdfium

    try:
        return pdfium.PdfDocument(data)
    except Exception as exc:  # PdfiumError: damaged, encrypted without password, not a PDF
        raise UnreadableDocument(f"PDF could not be opened: {type(exc).__name__}: {exc}") from exc


def _pdfium_page(page) -> list:
    textpage = page.get_textpage()
    text = textpage.get_text_range()
    if _holds_table(text) and _has_rulings(page):
        width, height = page.get_size()
        return _table_page(page, textpage, width, height)
    return _lines(text)


def _band(chars: list[dict], top: float, bottom: float) -> list[Paragraph]:
    from pdfplumber.utils import extract_text

    inside = [ch for ch in chars if top <= (ch["top"] + ch["bottom"]) / 2 < bottom]
    return _lines(extract_text(inside)) if inside else []


def _dedupe(chars: list[dict]) -> list[dict]:
    """A character drawn twice at the same place (fake bold) once, as pdfium's text page keeps it."""
    seen, out = set(), []
    for ch in chars:
        key = (ch["text"], round(ch["x0"]), round(ch["top"]))
        if key not in seen:
            seen.add(key)
            out.append(ch)
    return out


def _pdfminer_page(plumbed, page) -> list:
    """A page read from the file's own font metrics: pdfminer's characters (deduplicated, as
    pdfium's text page is), pdfplumber's table finder on its ruling lines, text between the tables by band."""
    chars = _dedupe(plumbed.chars)
    if not (_holds_table("".join(ch["text"] for ch in chars)) and _has_rulings(page)):
        return _band(chars, float("-inf"), float("inf"))
    blocks: list = []
    band_top = float("-inf")
    for table in sorted(plumbed.find_tables(), key=lambda t: t.bbox[1]):  # found by ruling lines alone
        _, top, _, bottom = table.bbox
        if top > band_top:
            blocks += _band(chars, band_top, top)
        paragraphs, grid = _frame_rows(_table(table, chars))
        blocks += paragraphs
        if grid is not None:
            blocks.append(grid)
        band_top = max(band_top, bottom)
    return blocks + _band(chars, band_top, float("inf"))


class _Pages:
    """Each page by the reader its fonts call for, with the path it took recorded."""

    def __init__(self, data: bytes):
        self.data = data
        self.plumber = None
        self.paths: list[dict] = []

    def read(self, index: int, page, warnings: list[str]) -> list:
        fonts = host_fonts(page)
        if not fonts:
            self._note(index, "pdfium", "embedded")
            return _pdfium_page(page)
        try:
            if self.plumber is None:
                import pdfplumber

                self.plumber = pdfplumber.open(io.BytesIO(self.data))
            plumbed = self.plumber.pages[index]
            blocks = _pdfminer_page(plumbed, page)
            plumbed.close()
        except Exception as exc:  # pdfminer is stricter than pdfium about damaged files
            warnings.append(f"PDF page {index + 1}: fonts not embedded ({', '.join(fonts)}) and pdfminer could not "
                            f"read the page ({type(exc).__name__}); positions from pdfium, which depend on this "
                            "machine's fonts")
            self._note(index, "pdfium", "not embedded: " + ", ".join(fonts))
            return _pdfium_page(page)
        self._note(index, "pdfminer", "not embedded: " + ", ".join(fonts))
        return blocks

    def _note(self, index: int, reader: str, fonts: str) -> None:
        last = self.paths[-1] if self.paths else None
        if last and last["reader"] == reader and last["fonts"] == fonts and last["pages"][1] == index:
            last["pages"][1] = index + 1
        else:
            self.paths.append({"pages": [index + 1, index + 1], "reader": reader, "fonts": fonts})

    def close(self) -> None:
        if self.plumber is not None:
            self.plumber.close()


def read_pdf(data: bytes) -> Document:
    pdf = _open(data)
    warnings, blocks = [], []
    if len(pdf) > MAX_PAGES:
        warnings.append(f"PDF has {len(pdf)} pages; only the first {MAX_PAGES} read")
    pages = _Pages(data)
    try:
        for index in range(min(len(pdf), MAX_PAGES)):
            blocks += pages.read(index, pdf[index], warnings)
    except UnreadableDocument:
        raise
    except Exception as exc:
        raise UnreadableDocument(f"PDF page could not be read: {type(exc).__name__}: {exc}") from exc
    finally:
        pages.close()
        pdf.close()
    if not blocks:
        return _scanned(data, warnings)
    return Document(blocks=_join_lines(blocks), format="pdf", warnings=warnings, meta={"pdf_pages": pages.paths})


def _scanned(data: bytes, warnings: list[str]) -> Document:
    """No text layer at all: a scan, read by OCR."""
    from .ocr import NEEDS_OCR, OCR_WARNING, ocr_pdf

    pdf = _open(data)
    count = min(len(pdf), MAX_PAGES)
    try:
        blocks = ocr_pdf(pdf, MAX_PAGES)
    except UnreadableDocument as exc:  # no tesseract, or it timed out: a record that says so
        return Document(blocks=[], format="pdf", warnings=[*warnings, NEEDS_OCR.format(reason=f"PDF has no text layer; {exc}")])
    finally:
        pdf.close()
    if not blocks:
        return Document(blocks=[], format="pdf",
                        warnings=[*warnings, NEEDS_OCR.format(reason="PDF has no text layer and OCR found no text")])
    pages = [{"pages": [1, count], "reader": "tesseract", "fonts": "no text layer"}]
    return Document(blocks=blocks, format="pdf", warnings=[*warnings, OCR_WARNING], meta={"ocr": True, "pdf_pages": pages})
