"""DOCX through python-docx: paragraphs and tables in body order, merged cells expanded."""

from __future__ import annotations

import zipfile
from io import BytesIO

from ..document import Document, Paragraph, Table, UnreadableDocument

MAX_UNCOMPRESSED = 200 * 1024 * 1024  # a zip bomb stops here, before python-docx inflates it


def _check_zip(data: bytes) -> None:
    try:
        total = sum(info.file_size for info in zipfile.ZipFile(BytesIO(data)).infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise UnreadableDocument(f"not a valid DOCX zip: {exc}") from exc
    if total > MAX_UNCOMPRESSED:
        raise UnreadableDocument(f"DOCX inflates to {total} bytes, over the {MAX_UNCOMPRESSED} limit")


def _table(table) -> Table:
    rows, spans, first, origins = [], set(), {}, {}
    for r, row in enumerate(table.rows):
        texts = []
        for c, cell in enumerate(row.cells):
            texts.append(cell.text.strip())
            # python-docx hands back the same <w:tc> for every position a merged cell covers.
            if id(cell._tc) in first:
                spans.add((r, c))
                origins[(r, c)] = first[id(cell._tc)][1]
            else:
                first[id(cell._tc)] = (cell._tc, (r, c))  # the element is kept so its id stays its own
        rows.append(texts)
    return Table(rows=rows, spans=spans, origins=origins)


def read_docx(data: bytes) -> Document:
    _check_zip(data)
    try:
        from docx import Document as open_docx
        from docx.table import Table as DocxTable

        doc = open_docx(BytesIO(data))
    except Exception as exc:  # python-docx raises many types on damaged parts
        raise UnreadableDocument(f"DOCX could not be opened: {type(exc).__name__}: {exc}") from exc
    blocks: list = []
    for item in doc.iter_inner_content():  # paragraphs and tables in body order
        if isinstance(item, DocxTable):
            blocks.append(_table(item))
        elif text := item.text.strip():
            blocks.append(Paragraph(text))
    return Document(blocks=blocks, format="docx")
