"""Pages per second: nianbao's PDF extraction against a plain pdfplumber pipeline.

Baseline: pdfplumber ``extract_text`` + ``extract_tables`` on every page (text and
tables, no statutory parsing). Ours: the PDF reader and the statutory parser, i.e.
the whole record. Same PDFs, same run: the sample portal's synthetic reports plus the
agencies' own PDFs in ../shared/real/docs when they are there.

Why ours is faster: pdfium reads the page instead of pdfminer, the table finder runs only
on pages whose text layer shows a statutory table, and cell text is placed by bisection
instead of pdfplumber's cells x characters scan.

The cost of geometry that does not depend on the host's fonts: a page whose fonts the file does
not embed (the synthetic reports: STSong-Light, as reportlab writes it) is read by pdfminer, from
the font's own width tables, instead of pdfium. The same run also times the old path (pdfium on
every page, whose boxes for such fonts come from whatever fonts the machine has) on the same PDFs.

    .venv/bin/python bench/pdf_extraction.py [--reports 30]
"""

from __future__ import annotations

import argparse
import io
import random
import time
from pathlib import Path

import pdfplumber
import pypdfium2

from pipelines.extract import extract
from sampleportal.render import pdf_bytes
from sampleportal.reports import Planned, synthetic_report


def corpus(n: int) -> list[bytes]:
    rng = random.Random(7)
    pdfs = []
    for i in range(n):
        report, _ = synthetic_report(Planned("某市某某局", 2019 + i % 6, "pdf"), rng)
        pdfs.append(pdf_bytes(report, break_applications=i % 2 == 0))
    return pdfs


REAL = Path(__file__).resolve().parents[1].parent / "shared" / "real" / "docs"


def real_pdfs() -> list[bytes]:
    return [p.read_bytes() for p in sorted(REAL.glob("*.pdf"))] if REAL.is_dir() else []


def baseline(data: bytes) -> int:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            page.extract_text()
            page.extract_tables()
        return len(pdf.pages)


def ours(data: bytes) -> int:
    extract(data, name="r.pdf")
    return len(pypdfium2.PdfDocument(data))


def pdfium_everywhere(data: bytes) -> int:
    """The old path: every page through pdfium, whatever its fonts (host-dependent geometry)."""
    from pipelines.readers import pdf as reader

    own = reader.host_fonts
    reader.host_fonts = lambda page: []
    try:
        return ours(data)
    finally:
        reader.host_fonts = own


def timed(fn, pdfs) -> tuple[float, int]:
    start = time.perf_counter()
    pages = sum(fn(d) for d in pdfs)
    return time.perf_counter() - start, pages


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=30)
    args = parser.parse_args()
    real = real_pdfs()
    pdfs = corpus(args.reports) + real
    ours(pdfs[0]), baseline(pdfs[0])  # warm imports
    t_base, pages = timed(baseline, pdfs)
    t_ours, _ = timed(ours, pdfs)
    print(f"{len(pdfs)} PDFs ({len(real)} published by agencies), {pages} pages")
    print(f"baseline pdfplumber extract_text+extract_tables: {pages / t_base:7.1f} pages/s")
    print(f"nianbao extract (reader + statutory parser):     {pages / t_ours:7.1f} pages/s")
    print(f"ratio ours/baseline: {t_base / t_ours:.2f}x")
    synthetic = pdfs[: args.reports]
    cpu = time.process_time()
    t_new, pages = timed(ours, synthetic)
    cpu_new, cpu = time.process_time() - cpu, time.process_time()
    t_old, _ = timed(pdfium_everywhere, synthetic)
    cpu_old = time.process_time() - cpu
    print(f"unembedded-font PDFs ({pages} pages): font-independent path (pdfminer geometry) {pages / t_new:7.1f} "
          f"pages/s, {cpu_new / pages * 1000:.0f} ms CPU/page; old path (pdfium everywhere, host-dependent) "
          f"{pages / t_old:7.1f} pages/s, {cpu_old / pages * 1000:.0f} ms CPU/page: cost {cpu_new / cpu_old:.2f}x CPU")
    if real:
        t_base, pages = timed(baseline, real)
        t_ours, _ = timed(ours, real)
        print(f"agencies' PDFs alone ({pages} pages): ratio ours/baseline {t_base / t_ours:.2f}x")


if __name__ == "__main__":
    main()
