"""Readers on the inputs that are not plain: scans, mislabelled files, unreadable bytes."""

from __future__ import annotations

import io
import random

import pypdfium2 as pdfium
import pytest

from pipelines.document import UnreadableDocument
from pipelines.extract import extract
from pipelines.readers import sniff
from pipelines.readers.ocr import OCR_WARNING
from sampleportal.render import docx_bytes, pdf_bytes
from sampleportal.reports import Planned, synthetic_report

TABLES = ("active_disclosure", "applications", "review_litigation")


def scanned(report, dpi: int = 200) -> bytes:
    """An image-only PDF of the report, as a scanner makes it."""
    pdf = pdfium.PdfDocument(pdf_bytes(report))
    pages = [pdf[i].render(scale=dpi / 72).to_pil().convert("RGB") for i in range(len(pdf))]
    out = io.BytesIO()
    pages[0].save(out, format="PDF", save_all=True, append_images=pages[1:])
    return out.getvalue()


@pytest.mark.slow
def test_scanned_pdf_is_read_by_ocr_with_a_warning_and_no_invented_figure():
    report, _ = synthetic_report(Planned("某市科学技术局", 2021, "pdf"), random.Random(3))
    record = extract(scanned(report), name="scan.pdf")
    assert OCR_WARNING in record["warnings"]
    read = 0
    for table in TABLES:
        for row, cells in record.get(table, {}).items():
            if row == "extra":
                continue
            assert cells == report.record[table][row], (table, row)  # what OCR keeps is right
            read += 1
    assert read >= 1


def test_sniff_trusts_bytes_over_names():
    report, _ = synthetic_report(Planned("某局", 2020, "docx"), random.Random(1))
    assert sniff(docx_bytes(report), "report.pdf") == "docx"
    assert sniff(pdf_bytes(report), "report.doc") == "pdf"
    assert sniff(b"<html><body><table></table></body></html>", "report.doc") == "html"


@pytest.mark.parametrize(
    "data, name, reason",
    [
        (b"", "empty.pdf", "empty file"),
        (b"%PDF-1.4\n%%EOF", "truncated.pdf", "PDF could not be opened"),
        (b"PK\x03\x04" + b"\x00" * 100, "broken.docx", "not a valid DOCX zip"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, "broken.png", "image could not be opened"),
    ],
)
def test_unreadable_bytes_raise_a_clear_reason(data, name, reason):
    with pytest.raises(UnreadableDocument, match=reason):
        extract(data, name=name)
