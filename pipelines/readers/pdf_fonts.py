"""Which fonts a PDF page draws its text with, and whether the file alone fixes their geometry.

pdfium places a character by the font program it renders with. When the file embeds the font,
that program is in the file; when it does not (STSong-Light as reportlab and iText write it,
SimSun in many CMS-made PDFs), pdfium substitutes whatever font the machine has, and its
character boxes, and even which characters its text page keeps, change with the host. The 14
standard fonts are the exception: pdfium carries their programs itself.
"""

from __future__ import annotations

import ctypes
import re

STANDARD_14 = frozenset({
    "Courier", "Courier-Bold", "Courier-BoldOblique", "Courier-Oblique",
    "Helvetica", "Helvetica-Bold", "Helvetica-BoldOblique", "Helvetica-Oblique",
    "Times-Roman", "Times-Bold", "Times-BoldItalic", "Times-Italic",
    "Symbol", "ZapfDingbats",
})
_SUBSET = re.compile(r"^[A-Z]{6}\+")


def _base_name(font) -> str:
    import pypdfium2.raw as pdfium_c

    size = pdfium_c.FPDFFont_GetBaseFontName(font, None, 0)
    if size <= 0:
        return ""
    buffer = ctypes.create_string_buffer(size)
    pdfium_c.FPDFFont_GetBaseFontName(font, buffer, size)
    return buffer.value.decode("utf-8", "replace")


def _text_objects(container, count, get):
    """Every text object of a page or form XObject, nested forms included (raw calls: this runs on every
    page, and pypdfium2's object wrappers cost more than the check)."""
    import pypdfium2.raw as pdfium_c

    for i in range(count(container)):
        obj = get(container, i)
        kind = pdfium_c.FPDFPageObj_GetType(obj)
        if kind == pdfium_c.FPDF_PAGEOBJ_TEXT:
            yield obj
        elif kind == pdfium_c.FPDF_PAGEOBJ_FORM:
            yield from _text_objects(obj, pdfium_c.FPDFFormObj_CountObjects, pdfium_c.FPDFFormObj_GetObject)


def host_fonts(page) -> list[str]:
    """The names of the fonts a page's text uses that the file does not carry (sorted, unique):
    their geometry in pdfium depends on the machine. Empty when the file fixes every glyph."""
    import pypdfium2.raw as pdfium_c

    seen: dict[int, str | None] = {}
    for obj in _text_objects(page.raw, pdfium_c.FPDFPage_CountObjects, pdfium_c.FPDFPage_GetObject):
        font = pdfium_c.FPDFTextObj_GetFont(obj)
        address = ctypes.cast(font, ctypes.c_void_p).value
        if not address or address in seen:
            continue
        name = _SUBSET.sub("", _base_name(font))
        embedded = bool(pdfium_c.FPDFFont_GetIsEmbedded(font))
        seen[address] = None if embedded or name in STANDARD_14 else (name or "(unnamed)")
    return sorted({name for name in seen.values() if name})
