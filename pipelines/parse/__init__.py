"""The statutory parser: an intermediate document in, the canonical record out."""

from __future__ import annotations

from dataclasses import replace

from .. import recognition
from ..checks import keep_checked_ocr_rows, run_checks
from ..coverage import coverage
from ..document import Document, Paragraph, Table
from ..labels import TEMPLATE_MARKERS, TEXT_SECTIONS
from ..values import label_key, squash
from . import meta
from .glued import parse_glued_active, parse_glued_applications, parse_glued_review
from .runs import tokens
from .sections import find_sections, first_heading_index
from .tables import (
    RAW,
    parse_active,
    parse_active_grid,
    parse_applications,
    parse_applications_grid,
    parse_review,
    parse_review_grid,
)


def detect_template(doc: Document) -> str:
    """2019 or 2021 from the header words the tables print; the year is never consulted."""
    text = squash(doc.full_text())
    votes = {t: sum(text.count(m) for m in markers) for t, markers in TEMPLATE_MARKERS.items()}
    if "逾期不补正" in text or "逾期未按收费通知" in text:
        votes["2021"] += 1
    best = max(votes, key=votes.get)
    if votes[best] == 0 or list(votes.values()).count(votes[best]) > 1:
        return "unknown"
    return best


def _section_text(doc: Document, section) -> str:
    return "\n".join(b.text for b in doc.blocks[section.start : section.end] if isinstance(b, Paragraph))


def _titles(doc: Document, hints: dict, warnings: list[str]) -> dict:
    """Title, agency, year, published: the crawl's hints, then the document's metadata, its heading, its opening
    sentence (现将…年度报告予以公布) and its signature."""
    own_title = meta.find_title(doc.blocks, first_heading_index(doc.blocks))
    hinted = hints.get("title") if not meta.is_breadcrumb(hints.get("title") or "") else None
    opening = recognition.opening_identity(_opening_text(doc))
    title = meta.fullest_title([hinted, doc.meta.get("title"), own_title, opening.get("title")])
    year = meta.title_year(title)
    if year is None:
        warnings.append("no year in the title")
        year = opening.get("year") or _period_year(doc)
    agency = meta.fullest_agency(
        hints.get("agency") or meta.title_agency(title) or opening.get("agency"),
        [doc.meta.get("agency"), meta.signature_agency(doc.blocks), meta.line_before_title(doc.blocks, own_title),
         opening.get("agency"), doc.meta.get("source_agency")],
    )
    found = recognition.verdict(title or hinted or doc.meta.get("title"), _opening_text(doc, 6000))
    if not found.is_report:
        warnings.append(f"not an annual report ({found.kind}): {found.reason}")
    return {
        "title": title,
        "agency": agency,
        "year": year,
        "published": hints.get("published") or doc.meta.get("published") or meta.signature_date(doc.blocks),
        "verdict": found.kind,
    }


def _opening_text(doc: Document, size: int = 1500) -> str:
    """The document's first paragraphs, where it says what it is."""
    parts, length = [], 0
    for block in doc.blocks:
        if isinstance(block, Paragraph):
            parts.append(block.text)
            length += len(block.text)
            if length >= size:
                break
    return "\n".join(parts)[:size]


def _period_year(doc: Document) -> int | None:
    match = recognition.PERIOD.search(recognition.compact(_opening_text(doc)))
    return int(match.group(1)) if match else None


def _simplified(doc: Document) -> Document:
    """A document printed in traditional script, read in simplified (OpenCC t2s): labels, titles and names are
    matched in one script."""
    convert = recognition.simplified
    blocks = [Paragraph(convert(b.text)) if isinstance(b, Paragraph)
              else replace(b, rows=[[convert(c) for c in row] for row in b.rows]) for b in doc.blocks]
    return replace(doc, blocks=blocks, text=convert(doc.text) if doc.text is not None else None,
                   meta={k: convert(v) if isinstance(v, str) else v for k, v in doc.meta.items()},
                   warnings=[*doc.warnings, "traditional script: read as simplified (OpenCC t2s)"])


def _parse_glued(doc: Document, key: str, section, template: str, warnings: list[str]) -> dict:
    text = _section_text(doc, section)
    if key == "active_disclosure":
        return parse_glued_active(text, template, warnings)
    if key == "applications":
        prose = "\n".join(b.text for b in doc.blocks[:section.start] if isinstance(b, Paragraph))
        return parse_glued_applications(text, template, warnings, prose)
    return parse_glued_review(text, warnings)


def _parse_table(doc: Document, key: str, section, template: str, warnings: list[str]) -> dict:
    """Grids (HTML, DOCX, ruled PDF) by header position; text layouts (loose tables) by label runs."""
    grids = [(b, doc.blocks[b]) for b in range(section.start, section.end)
             if isinstance(doc.blocks[b], Table) and not doc.blocks[b].loose]
    if grids:
        parse = {"active_disclosure": lambda t: parse_active_grid(t, template, warnings),
                 "applications": lambda t: parse_applications_grid(t, template, warnings),
                 "review_litigation": lambda t: parse_review_grid(t, warnings)}[key]
        return parse(grids)
    if doc.meta.get("glued") and not any(isinstance(b, Table) for b in doc.blocks[section.start:section.end]):
        return _parse_glued(doc, key, section, template, warnings)
    toks = tokens(doc.blocks, section.start, section.end)
    parse = {"active_disclosure": lambda t: parse_active(t, template, warnings),
             "applications": lambda t: parse_applications(t, template, warnings),
             "review_litigation": lambda t: parse_review(t, warnings)}[key]
    return parse(toks)


def parse_document(doc: Document, hints: dict | None = None) -> dict:
    hints = hints or {}
    if recognition.is_traditional(doc.full_text()):
        doc = _simplified(doc)
    warnings = list(doc.warnings)
    record = _titles(doc, hints, warnings)
    record["template"] = detect_template(doc)
    sections = find_sections(doc.blocks)
    record["sections"] = {key: _section_text(doc, sections[key]) for key in TEXT_SECTIONS if key in sections}
    for key in ("active_disclosure", "applications", "review_litigation"):
        if key not in sections:
            warnings.append(f"table {key} not found")
            continue
        record[key] = _parse_table(doc, key, sections[key], record["template"], warnings)
        for cell, raw in record[key].pop(RAW, {}).items():
            # 22（其中修订16件） is 22 in the record; the archive keeps what was printed
            record.setdefault("raw_cells", {})[f"{key}.{cell}"] = raw
    overall = record["sections"].get("overall", "")
    said = meta.text_year(overall)
    if record["year"] and said and said != record["year"]:
        warnings.append(f"year mismatch: title says {record['year']}, text says {said}")
    if record["template"] == "unknown":
        warnings.append("template not recognised from the table headers")
    if doc.meta.get("ocr"):
        keep_checked_ocr_rows(record, warnings)
    record["coverage"] = coverage(record)
    record["checks"] = run_checks(record)
    record["warnings"] = warnings
    return record


__all__ = ["parse_document", "detect_template", "label_key"]
