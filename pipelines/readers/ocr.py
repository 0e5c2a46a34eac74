"""Scans: images and image-only PDFs read by Tesseract (chi_sim), with a warning on the record.

Tesseract's TSV output gives every word's box; words on one line that stand far
apart are separate table cells, so each OCR line becomes a row of a loose table
and the statutory parser reads it like PDF text.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess

from ..document import Document, Paragraph, Table, UnreadableDocument
from .children import preexec_die_with

OCR_TIMEOUT = 120
RENDER_SCALE = 300 / 72
OCR_WARNING = "figures read by OCR from a scan: check them against the original"
NEEDS_OCR = "needs OCR / no text: {reason}; no figures recorded"
_CJK_GAP = re.compile(r"(?<=[\u3000-\u9fff\uff00-\uffef])\s+(?=[\u3000-\u9fff\uff00-\uffef])")


def without_rulings(image):
    """Blank out table rulings: long dark runs confuse Tesseract into |, " and 。 for 0."""
    import numpy as np
    from PIL import Image

    pixels = np.array(image.convert("L"))
    dark = pixels < 128
    lines = _long_runs(dark, pixels.shape[1] // 12) | _long_runs(dark.T, pixels.shape[0] // 40).T
    pixels[lines] = 255
    return Image.fromarray(pixels)


def _long_runs(mask, min_length: int):
    import numpy as np

    out = np.zeros_like(mask)
    for i, row in enumerate(mask):
        edges = np.diff(np.concatenate(([0], row.astype(np.int8), [0])))
        for start, end in zip(np.where(edges == 1)[0], np.where(edges == -1)[0]):
            if end - start >= min_length:
                out[i, start:end] = True
    return out


def _png(image) -> bytes:
    buffer = io.BytesIO()
    without_rulings(image).save(buffer, format="PNG")
    return buffer.getvalue()


def tesseract_tsv(png: bytes) -> list[dict]:
    binary = shutil.which("tesseract")
    if not binary:
        raise UnreadableDocument("a scan needs OCR, and tesseract is not installed")
    try:
        done = subprocess.run(
            [binary, "stdin", "stdout", "-l", "chi_sim", "--psm", "6", "tsv"],
            input=png, capture_output=True, timeout=OCR_TIMEOUT, check=True,
            env={**os.environ, "OMP_THREAD_LIMIT": "1"},  # threads make it slower on small machines
            preexec_fn=preexec_die_with(os.getpid()),
        )
    except subprocess.TimeoutExpired as exc:
        raise UnreadableDocument(f"OCR took longer than {OCR_TIMEOUT}s") from exc
    except subprocess.CalledProcessError as exc:
        raise UnreadableDocument(f"OCR failed: {exc.stderr.decode(errors='replace')[:200]}") from exc
    rows = csv.DictReader(io.StringIO(done.stdout.decode("utf-8", errors="replace")), delimiter="\t", quoting=csv.QUOTE_NONE)
    return [r for r in rows if r.get("level") == "5" and (r.get("text") or "").strip(" |")]


def _line_cells(words: list[dict]) -> list[str]:
    """Split one OCR line into cells where the gap between words is wider than two characters."""
    words = sorted(words, key=lambda w: int(w["left"]))
    height = sorted(int(w["height"]) for w in words)[len(words) // 2] or 10
    cells, current, right = [], [], None
    for word in words:
        left = int(word["left"])
        if right is not None and left - right > 2 * height:
            cells.append(" ".join(current))
            current = []
        current.append(word["text"].strip("|"))
        right = left + int(word["width"])
    cells.append(" ".join(current))
    # words of one cell keep a space between them (digits from two cells must never fuse into one
    # figure); between Chinese characters the space is Tesseract's, not the document's
    return [_CJK_GAP.sub("", c) for c in cells]


def blocks_from_words(words: list[dict]) -> list:
    lines: dict[tuple, list[dict]] = {}
    for word in words:
        lines.setdefault((word["page_num"], word["block_num"], word["par_num"], word["line_num"]), []).append(word)
    blocks: list = []
    table: Table | None = None
    for key in sorted(lines, key=lambda k: tuple(int(x) for x in k)):
        cells = _line_cells(lines[key])
        if len(cells) > 1:
            if table is None:
                table = Table(rows=[], loose=True)
                blocks.append(table)
            table.rows.append(cells)
        else:
            blocks.append(Paragraph(cells[0]))
            table = None
    return blocks


def ocr_png(png: bytes) -> list:
    return blocks_from_words(tesseract_tsv(png))


def read_image(data: bytes) -> Document:
    from PIL import Image

    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except Exception as exc:
        raise UnreadableDocument(f"image could not be opened: {type(exc).__name__}: {exc}") from exc
    try:
        blocks = ocr_png(_png(image))
    except UnreadableDocument as exc:
        return Document(blocks=[], format="image", warnings=[NEEDS_OCR.format(reason=exc)])
    if not blocks:
        return Document(blocks=[], format="image", warnings=[NEEDS_OCR.format(reason="OCR found no text in the image")])
    return Document(blocks=blocks, format="image", warnings=[OCR_WARNING], meta={"ocr": True})


def ocr_pdf(pdf, max_pages: int) -> list:
    """Blocks of an image-only PDF (a pypdfium2 document), page by page."""
    blocks: list = []
    for index in range(min(len(pdf), max_pages)):
        blocks += ocr_png(_png(pdf[index].render(scale=RENDER_SCALE, grayscale=True).to_pil()))
    return blocks
