"""A corpus of bad inputs, generated (never downloaded): what agencies' servers and software produce.

Each entry is (name, bytes, truth) where truth is the record the file was made from
when it still carries real figures (mutations of valid fixtures), else None.
"""

from __future__ import annotations

import io
import random
import zipfile

from nianbao.portal.render import body_html, doc_bytes, docx_bytes, pdf_bytes, xlsx_bytes
from nianbao.portal.reports import Planned, synthetic_report
from pipelines.extract import extract

from .conftest import SEEDS


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
