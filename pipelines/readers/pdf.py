"""PDF: pdfplumber finds the ruled tables; the text around them becomes paragraphs.

Blocks are put in page order by their top edge, so a table broken across a page
comes out as two tables with the page's footer between them; the parser reads a
section's tables as one stream and skips paragraphs, which joins them again.
"""

from __future__ import annotations

import re
from io import BytesIO

from ..document import Document, Paragraph, Table, UnreadableDocument

MAX_PAGES = 300
_SENTENCE_END = re.compile(r"[。：:；;！？!?]$")


def _inside(obj, bbox) -> bool:
    x0, top, x1, bottom = bbox
    cx, cy = (obj["x0"] + obj["x1"]) / 2, (obj["top"] + obj["bottom"]) / 2
    return x0 <= cx <= x1 and top <= cy <= bottom


def _cell(text) -> str:
    return "" if text is None else "".join(text.split("\n")).strip()


def _table(found) -> Table:
    rows = found.extract()
    spans = {(r, c) for r, row in enumerate(rows) for c, text in enumerate(row) if text is None}
    return Table(rows=[[_cell(t) for t in row] for row in rows], spans=spans)


def _page_blocks(page) -> list[tuple[float, object]]:
    found = page.find_tables()
    boxes = [t.bbox for t in found]
    outside = page.filter(lambda obj: not any(_inside(obj, b) for b in boxes)) if boxes else page
    items = [(line["top"], Paragraph(line["text"].strip())) for line in outside.extract_text_lines() if line["text"].strip()]
    items += [(t.bbox[1], _table(t)) for t in found]
    return sorted(items, key=lambda item: item[0])


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


def read_pdf(data: bytes) -> Document:
    import pdfplumber

    try:
        pdf = pdfplumber.open(BytesIO(data))
        pages = pdf.pages
    except Exception as exc:  # pdfminer raises a zoo of types on damaged or encrypted files
        raise UnreadableDocument(f"PDF could not be opened: {type(exc).__name__}: {exc}") from exc
    warnings = []
    if len(pages) > MAX_PAGES:
        warnings.append(f"PDF has {len(pages)} pages; only the first {MAX_PAGES} read")
    blocks: list = []
    try:
        for page in pages[:MAX_PAGES]:
            blocks += [block for _, block in _page_blocks(page)]
    except Exception as exc:
        raise UnreadableDocument(f"PDF page could not be read: {type(exc).__name__}: {exc}") from exc
    finally:
        pdf.close()
    if not blocks:
        raise UnreadableDocument("PDF has no text layer (a scan); OCR is needed")
    return Document(blocks=_join_lines(blocks), format="pdf", warnings=warnings)
