"""What OCR reads from a scan enters the record only as rows of the form whose own totals add up;
noise (stamps and rulings read as `mm`, `和`) and misread digits become warnings naming the row."""

from __future__ import annotations

import io

import pypdfium2 as pdfium
import pytest
from PIL import Image

from pipelines.document import Document, Paragraph
from pipelines.extract import extract
from pipelines.parse import parse_document
from pipelines.readers.ocr import NEEDS_OCR, blocks_from_words


def words(lines: list[list[str]]) -> list[dict]:
    """Tesseract TSV words: one OCR line per list, cells far apart as a table prints them."""
    out = []
    for n, cells in enumerate(lines):
        for i, text in enumerate(cells):
            out.append({"page_num": "1", "block_num": "1", "par_num": "1", "line_num": str(n), "text": text,
                        "left": str(40 + 400 * min(i, 1) + 80 * max(i - 1, 0)), "width": "30", "height": "20"})
    return out


def ocr_record(rows: list[list[str]]) -> dict:
    blocks = [Paragraph("某局2020年政府信息公开工作年度报告"), Paragraph("三、收到和处理政府信息公开申请情况")]
    blocks += blocks_from_words(words(rows))
    blocks += [Paragraph("四、政府信息公开行政复议、行政诉讼情况")]
    return parse_document(Document(blocks=blocks, format="image", meta={"ocr": True}))


SEVEN = ["1", "0", "0", "0", "0", "0", "1"]


def test_noise_rows_and_rows_that_do_not_add_up_are_left_out():
    rec = ocr_record([
        ["一、本年新收政府信息公开申请数量", *SEVEN],
        ["mm", "3", "1", "4", "1", "5", "9", "2"],
        ["和", "7", "7"],
        ["二、上年结转政府信息公开申请数量", "0", "0", "0", "0", "0", "0", "8"],  # 8 misread for 0
        ["（一）予以公开", *SEVEN],
    ])
    apps = rec["applications"]
    assert apps["new_received"] == dict(zip(
        ("natural_person", "commercial", "research", "social_welfare", "legal_service", "other_org", "total"),
        (1, 0, 0, 0, 0, 0, 1)))
    assert apps["granted"]["total"] == 1
    assert "extra" not in apps
    assert "carried_over" not in apps
    assert any("mm" in w and "3" in w for w in rec["warnings"])  # the noise is named in a warning
    assert any(w.startswith("applications.carried_over: OCR row does not add up") for w in rec["warnings"])
    for values in apps.values():
        assert 9 not in values.values() and 7 not in values.values()


@pytest.mark.slow
def test_an_unreadable_scan_gives_a_record_that_says_needs_ocr_and_no_figures():
    page = Image.new("RGB", (1240, 1754), "white")
    buffer = io.BytesIO()
    page.save(buffer, format="PDF")
    assert len(pdfium.PdfDocument(buffer.getvalue())) == 1
    rec = extract(buffer.getvalue(), name="scan.pdf")
    assert any(w.startswith(NEEDS_OCR.split(":")[0]) for w in rec["warnings"])
    assert not rec.get("applications") and not rec.get("active_disclosure") and not rec.get("review_litigation")
