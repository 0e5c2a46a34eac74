"""A page as pdfplumber's table finder sees it, built from pdfium instead of pdfminer.

pdfplumber's lattice algorithm (edges -> intersections -> cells) is what we want;
pdfminer's content-stream interpreter that normally feeds it is most of the cost.
pdfium already has the page's vector paths and character boxes, so this adapter
hands them to ``pdfplumber.table.TableFinder`` in pdfplumber's own dict shapes.
"""

from __future__ import annotations

import ctypes

import pypdfium2.raw as pdfium_c

_STRAIGHT = 0.5  # points: a segment this close to level is a ruling line


class PdfiumPage:
    def __init__(self, page, textpage):
        self.width, self.height = page.get_size()
        self.bbox = (0, 0, self.width, self.height)
        self._page, self._textpage = page, textpage
        self._edges = None
        self._chars = None

    @property
    def edges(self) -> list[dict]:
        if self._edges is None:
            self._edges = list(self._iter_edges())
        return self._edges

    @property
    def chars(self) -> list[dict]:
        if self._chars is None:
            self._chars = list(self._iter_chars())
        return self._chars

    def _edge(self, x0, y0, x1, y1) -> dict | None:
        x0, x1 = sorted((x0, x1))
        top, bottom = sorted((self.height - y0, self.height - y1))
        if abs(bottom - top) < _STRAIGHT and x1 - x0 > _STRAIGHT:
            orientation = "h"
        elif abs(x1 - x0) < _STRAIGHT and bottom - top > _STRAIGHT:
            orientation = "v"
        else:
            return None
        return {"x0": x0, "x1": x1, "top": top, "bottom": bottom, "doctop": top, "width": x1 - x0,
                "height": bottom - top, "orientation": orientation, "object_type": "line"}

    def _iter_edges(self):
        x, y = ctypes.c_float(), ctypes.c_float()
        for obj in self._page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_PATH], max_depth=3):
            a, b, c, d, e, f = obj.get_matrix().get()
            start = previous = None
            for i in range(pdfium_c.FPDFPath_CountSegments(obj.raw)):
                segment = pdfium_c.FPDFPath_GetPathSegment(obj.raw, i)
                pdfium_c.FPDFPathSegment_GetPoint(segment, x, y)
                point = (a * x.value + c * y.value + e, b * x.value + d * y.value + f)
                kind = pdfium_c.FPDFPathSegment_GetType(segment)
                if kind == pdfium_c.FPDF_SEGMENT_MOVETO:
                    start = previous = point
                    continue
                if kind == pdfium_c.FPDF_SEGMENT_LINETO and previous is not None:
                    edge = self._edge(*previous, *point)
                    if edge:
                        yield edge
                previous = point
                if pdfium_c.FPDFPathSegment_GetClose(segment) and start is not None:
                    edge = self._edge(*point, *start)
                    if edge:
                        yield edge
                    previous = start

    def _iter_chars(self):
        raw = self._textpage.raw
        box = pdfium_c.FS_RECTF()
        for i in range(pdfium_c.FPDFText_CountChars(raw)):
            code = pdfium_c.FPDFText_GetUnicode(raw, i)
            if code in (0, 10, 13) or pdfium_c.FPDFText_IsGenerated(raw, i) == 1:
                continue
            # the loose box spans the font's ascent to descent, as pdfminer's does; tight glyph
            # boxes would put a full stop on a line of its own
            if not pdfium_c.FPDFText_GetLooseCharBox(raw, i, box):
                continue
            t, btm = self.height - box.top, self.height - box.bottom
            yield {"text": chr(code), "x0": box.left, "x1": box.right, "top": t, "bottom": btm, "doctop": t,
                   "upright": True, "size": btm - t, "width": box.right - box.left, "height": btm - t,
                   "fontname": "", "object_type": "char"}


def find_tables(page, textpage):
    """pdfplumber's tables for a pdfium page, with the same default (lines) settings."""
    from pdfplumber.table import TableFinder, TableSettings

    return TableFinder(PdfiumPage(page, textpage), TableSettings.resolve(None)).tables
