"""A corpus of bad inputs, generated (never downloaded): what agencies' servers and software produce.

Each entry is (name, bytes, truth) where truth is the record the file was made from
when it still carries real figures (mutations of valid fixtures), else None.
"""

from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib
from pathlib import Path

from pipelines.extract import extract
from sampleportal.render import body_html, doc_bytes, docx_bytes, pdf_bytes, xlsx_bytes
from sampleportal.reports import Planned, synthetic_report

from .conftest import FILES, SEEDS


def _report(seed: int, year: int = 2022):
    report, _ = synthetic_report(Planned("某市某某局", year, "pdf"), random.Random(seed))
    return report


def _html(report) -> bytes:
    return f"<html><head><meta charset='utf-8'></head><body><p>{report.title}</p>{body_html(report)}</body></html>".encode()


def truncations(name: str, data: bytes, truth, count: int):
    for i in range(1, count + 1):
        yield f"{name}-truncated-{i:02d}", data[: len(data) * i // (count + 1)], truth


def byte_flips(name: str, data: bytes, truth, count: int, rng: random.Random):
    for i in range(count):
        mutated = bytearray(data)
        for _ in range(1 + i % 5):
            position = rng.randrange(len(mutated))
            mutated[position] = rng.randrange(256)
        yield f"{name}-flipped-{i:02d}", bytes(mutated), truth


def html_mutations(report, rng: random.Random, count: int):
    """Structure broken, digits untouched: closing tags dropped, garbage between tags, chunks repeated."""
    page = _html(report).decode()
    for i in range(count):
        kind = i % 4
        if kind == 0:
            mutated = page.replace("</td>", "", rng.randint(1, 200))
        elif kind == 1:
            mutated = page.replace("</tr>", "</tr>\x00\ufffd<b>", rng.randint(1, 50))
        elif kind == 2:
            mutated = page.replace("<table", "<table><table", 1)
        else:
            mutated = page.replace("<p ", "<p><span><div ", rng.randint(1, 20))
        yield f"html-mutated-{i:02d}.html", mutated.encode("utf-8", errors="surrogatepass"), report.record


def encrypted_pdf() -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, encrypt="secret-password")
    pdf.drawString(72, 720, "2023 annual report")
    pdf.save()
    return buffer.getvalue()


def long_pdf(pages: int = 2000) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    for n in range(pages):
        pdf.setFont("STSong-Light", 11)
        pdf.drawString(72, 720, f"某市某某局2023年政府信息公开工作年度报告 第{n + 1}页")
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def image_only_pdf(report) -> bytes:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(pdf_bytes(report))
    page = pdf[0].render(scale=1).to_pil().convert("RGB")
    out = io.BytesIO()
    page.save(out, format="PDF")
    return out.getvalue()


def zip_bomb(inflated: int = 300 * 2**20) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("word/document.xml", "w") as member:
            chunk = b"0" * 2**20
            for _ in range(inflated // len(chunk)):
                member.write(chunk)
    return out.getvalue()


def wide_table(columns: int = 500) -> bytes:
    row = "".join(f"<td>{i}</td>" for i in range(columns))
    return f"<html><body><p>某市某某局2023年政府信息公开工作年度报告</p><table>{''.join(f'<tr>{row}</tr>' for _ in range(20))}</table></body></html>".encode()


def mixed_encodings() -> list[tuple[str, bytes]]:
    gbk = "某市某某局2023年政府信息公开工作年度报告".encode("gbk")
    utf8 = "一、总体情况 行政复议".encode()
    return [
        ("mixed-gbk-utf8.html", b"<html><head><meta charset='gb2312'></head><body><p>" + gbk + b"</p><p>" + utf8 + b"</p></body></html>"),
        ("declared-utf8-is-gbk.html", b"<html><head><meta charset='utf-8'></head><body><p>" + gbk + b"</p></body></html>"),
        ("unknown-charset.html", b"<html><head><meta charset='x-klingon'></head><body><p>" + utf8 + b"</p></body></html>"),
        ("bad-utf8.txt", b"\xff\xfe\xfa" + utf8 + b"\xc3\x28"),
    ]


def corpus() -> list[tuple[str, bytes, dict | None]]:
    rng = random.Random(8)
    files: list[tuple[str, bytes, dict | None]] = []
    reports = [_report(seed, 2019 + seed % 6) for seed in range(4)]
    pdfs = [(r, pdf_bytes(r)) for r in reports]
    docxs = [(r, docx_bytes(r)) for r in reports]
    for n, (report, data) in enumerate(pdfs):
        files += [(f"{k}.pdf", d, t) for k, d, t in truncations(f"pdf{n}", data, report.record, 12)]
        files += [(f"{k}.pdf", d, t) for k, d, t in byte_flips(f"pdf{n}", data, report.record, 20, rng)]
    for n, (report, data) in enumerate(docxs):
        files += [(f"{k}.docx", d, t) for k, d, t in truncations(f"docx{n}", data, report.record, 8)]
        files += [(f"{k}.docx", d, t) for k, d, t in byte_flips(f"docx{n}", data, report.record, 15, rng)]
    xlsx = xlsx_bytes(reports[0])
    files += [(f"{k}.xlsx", d, t) for k, d, t in truncations("xlsx", xlsx, reports[0].record, 6)]
    files += list(html_mutations(reports[1], rng, 40))
    files += [(f"{k}.html", d, t) for k, d, t in truncations("html", _html(reports[2]), reports[2].record, 10)]
    files += [
        ("encrypted.pdf", encrypted_pdf(), None),
        ("no-text-layer.pdf", image_only_pdf(reports[3]), None),
        ("two-thousand-pages.pdf", long_pdf(), None),
        ("zip-bomb.docx", zip_bomb(), None),
        ("really-html.docx", _html(reports[0]), reports[0].record),
        ("really-pdf.doc", pdfs[1][1], reports[1].record),
        ("html-50mb.html", _html(reports[2]) + b"<p>" + "政府信息公开".encode() * (50 * 2**20 // 18) + b"</p>", reports[2].record),
        ("wide-500-columns.html", wide_table(), None),
        ("empty.pdf", b"", None),
        ("empty.docx", b"", None),
        ("whitespace.html", b"   \n\t  ", None),
        ("garbage.pdf", bytes(rng.randrange(256) for _ in range(4096)), None),
        ("garbage.doc", bytes(rng.randrange(256) for _ in range(4096)), None),
        ("ole-garbage.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(rng.randrange(256) for _ in range(4096)), None),
        ("pk-garbage.docx", b"PK\x03\x04" + bytes(rng.randrange(256) for _ in range(4096)), None),
        ("png-header-only.png", b"\x89PNG\r\n\x1a\n" + bytes(64), None),
        ("huge-rowspan.html", b"<table><tr><td rowspan='999999999' colspan='99999999'>1</td></tr></table>", None),
        ("nested-tables.html", b"<table><tr><td>" * 500 + b"0" + b"</td></tr></table>" * 500, None),
    ]
    files += [(name, data, None) for name, data in mixed_encodings()]
    for seed in sorted(SEEDS.glob("*.txt")):
        full = extract(seed.read_bytes(), name=seed.name)
        files += [(f"{k}.txt", d, t) for k, d, t in truncations(f"seed-{seed.name[:3]}", seed.read_bytes(), full, 6)]
    doc = doc_bytes(reports[0])
    files += [(f"{k}.doc", d, None) for k, d, _ in truncations("doc", doc, None, 3)]
    return files


# ---------------------------------------------------------------- the hostile corpus (issue 16)
# Files made to exhaust a reader rather than to look broken. Small ones are committed under
# tests/files/hostile/; large ones are written there by `python -m tests.hostile_corpus` (or on demand by
# hostile_files()) and ignored by git.

HOSTILE_DIR = FILES / "hostile"  # in the checkout, never beside the shared seeds
TITLE = "某市某某局2023年政府信息公开工作年度报告"


def _pdf(objects: list[bytes]) -> bytes:
    """A PDF file from numbered object bodies (1 is the catalog), with a correct xref table."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _stream(content: bytes, extra: bytes = b"") -> bytes:
    return b"<< " + extra + b" /Length %d >>\nstream\n" % len(content) + content + b"\nendstream"


def self_drawing_pdf() -> bytes:
    """One page drawing a form XObject that draws itself twice, scaled down: a renderer without a recursion
    guard draws 2^n copies and never ends (about 1 KB)."""
    form = _stream(b"q 0.5 0 0 0.5 10 10 cm /X Do Q q 0.5 0 0 0.5 300 300 cm /X Do Q BT /F 12 Tf 0 0 Td (x) Tj ET",
                   b"/Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources << /XObject << /X 4 0 R >> "
                   b"/Font << /F 6 0 R >> >>")
    return _pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /XObject << /X 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        form,
        _stream(b"/X Do"),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ])


def empty_pages_pdf(pages: int = 20_000) -> bytes:
    """A valid PDF of 20,000 empty pages (about 1.5 MB): nothing to read, a lot to open."""
    first_page = 3
    kids = b" ".join(b"%d 0 R" % (first_page + n) for n in range(pages))
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"
    return _pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages,
                 *([page] * pages)])


_XLSX_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '</Types>'),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
        '</Relationships>'),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
        '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        '</Relationships>'),
}
_SHEET_OPEN = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
               f'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>{TITLE}</t></is></c></row>')


def _xlsx(target, rows=(), tail: str = "") -> None:
    """An XLSX whose sheet streams from ``rows`` (strings of <row> elements), written without holding it."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for name, text in _XLSX_PARTS.items():
            z.writestr(name, text)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(_SHEET_OPEN.encode())
            for chunk in rows:
                sheet.write(chunk.encode())
            sheet.write(("</sheetData>" + tail + "</worksheet>").encode())


def merge_everything_xlsx() -> bytes:
    """One title cell, one merge A2:XFD1048576: 17 billion cells for a reader that expands merges (~1.6 KB)."""
    out = io.BytesIO()
    _xlsx(out, tail='<mergeCells count="1"><mergeCell ref="A2:XFD1048576"/></mergeCells>')
    return out.getvalue()


def twelve_million_cells_xlsx(target, rows: int = 1_000_000, columns: int = 12) -> None:
    """12 million numeric cells (1,000,000 rows of 12), about 200 MB of sheet XML, streamed to the zip."""
    row = "<row>" + "<c><v>7</v></c>" * columns + "</row>"
    batch = 2_000
    _xlsx(target, (row * batch for _ in range(rows // batch)))


_DOCX_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
        '</Types>'),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
        '</Relationships>'),
}
_BODY_OPEN = ('<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
              f'<w:body><w:p><w:r><w:t>{TITLE}</w:t></w:r></w:p>')


def _docx(target, paragraphs: int) -> None:
    tiny = "<w:p><w:r><w:t>x</w:t></w:r></w:p>"
    batch = 10_000
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, text in _DOCX_PARTS.items():
            z.writestr(name, text)
        with z.open("word/document.xml", "w", force_zip64=True) as body:
            body.write(_BODY_OPEN.encode())
            for _ in range(paragraphs // batch):
                body.write((tiny * batch).encode())
            body.write(b"</w:body></w:document>")


def million_paragraphs_docx(target, paragraphs: int = 3_000_000) -> None:
    """Three million one-letter paragraphs (about 100 MB of XML, under the reader's zip-bomb limit)."""
    _docx(target, paragraphs)


def understated_docx(paragraphs: int = 7_000_000) -> bytes:
    """A DOCX whose zip headers say document.xml is 1 KB (CRC of that first KB, so a checking reader agrees)
    while it inflates to about 240 MB: a size check that believes the headers lets it through."""
    out = io.BytesIO()
    _docx(out, paragraphs)
    data = bytearray(out.getvalue())
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("word/document.xml")
    with zipfile.ZipFile(io.BytesIO(bytes(data))).open(info) as member:
        head = member.read(1024)
    lie_size, lie_crc = len(head), zlib.crc32(head)
    # local header: crc at +14, sizes at +18/+22 (zip64 keeps them in an extra field: patch that too)
    local = info.header_offset
    struct.pack_into("<I", data, local + 14, lie_crc)
    _patch_sizes(data, local + 18, local + 26, info, lie_size)
    for at in _central_entries(data):
        name_length = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46: at + 46 + name_length] == b"word/document.xml":
            struct.pack_into("<I", data, at + 16, lie_crc)
            _patch_sizes(data, at + 20, at + 28, info, lie_size, central=True)
    return bytes(data)


def _central_entries(data: bytearray):
    at = data.find(b"PK\x01\x02")
    while at != -1:
        yield at
        at = data.find(b"PK\x01\x02", at + 4)


def _patch_sizes(data: bytearray, sizes_at: int, lengths_at: int, info, lie: int, central: bool = False) -> None:
    compressed, size = struct.unpack_from("<II", data, sizes_at)
    if size != 0xFFFFFFFF:
        struct.pack_into("<I", data, sizes_at + 4, lie)
        return
    name_length, extra_length = struct.unpack_from("<HH", data, lengths_at)
    extra_at = lengths_at + 4 + (14 if central else 0) + name_length
    end = extra_at + extra_length
    while extra_at < end:
        tag, length = struct.unpack_from("<HH", data, extra_at)
        if tag == 1:  # zip64: uncompressed size first
            struct.pack_into("<Q", data, extra_at + 4, lie)
            return
        extra_at += 4 + length


SMALL = {
    "self-drawing.pdf": self_drawing_pdf,
    "merge-A2-XFD1048576.xlsx": merge_everything_xlsx,
}
LARGE = {
    "twenty-thousand-empty-pages.pdf": lambda path: path.write_bytes(empty_pages_pdf()),
    "twelve-million-cells.xlsx": twelve_million_cells_xlsx,
    "three-million-paragraphs.docx": million_paragraphs_docx,
    "understated-zip-sizes.docx": lambda path: path.write_bytes(understated_docx()),
}


def hostile_files(folder: Path = HOSTILE_DIR) -> dict[str, Path]:
    """Every hostile file, the large ones generated when missing (a few seconds each)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, make in SMALL.items():
        if not (folder / name).exists():
            (folder / name).write_bytes(make())
    for name, make in LARGE.items():
        if not (folder / name).exists():
            partial = folder / f".{name}.part"
            make(partial)
            partial.rename(folder / name)
    return {name: folder / name for name in [*SMALL, *LARGE]}


if __name__ == "__main__":
    for path in hostile_files().values():
        print(f"{path.stat().st_size:>12,}  {path}")
