"""Round trip: random, internally consistent records rendered as HTML, PDF, DOCX and .doc
by real tools, parsed back, must give exactly the same cells.

The renderer prints labels as real reports print them (sampleportal/label_variants.py, a
table written from published reports and kept apart from pipelines/labels.py), so a label
the parser's own table does not know makes these tests fail.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.extract import extract
from sampleportal.label_variants import VARIANTS
from sampleportal.render import body_html, doc_bytes, docx_bytes, pdf_bytes, xlsx_bytes
from sampleportal.reports import Planned, synthetic_report

TABLES = ("active_disclosure", "applications", "review_litigation")


def cases(n: int):
    return settings(max_examples=n, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)


def random_report(seed: int, year: int, blanks: bool):
    rng = random.Random(seed)
    report, _ = synthetic_report(Planned("某市某某局", year, "html"), rng)
    if blanks:
        # empty cells and printed strings must come back as null and verbatim text
        for table in ("applications", "review_litigation"):
            rows = report.record[table]
            for _ in range(3):
                row = rng.choice(list(rows))
                rows[row][rng.choice(list(rows[row]))] = rng.choice([None, "/", "—"])
    return report


def parse(data: bytes, name: str, report) -> dict:
    return extract(data, name=name, hints={"title": report.title})


def assert_same_cells(report, record):
    assert record["template"] == report.record["template"]
    for table in TABLES:
        assert record[table] == report.record[table], table
    assert record["warnings"] == []


reports = st.builds(random_report, st.integers(0, 2**31), st.integers(2019, 2024), st.booleans())


@cases(150)
@given(report=reports, split_spans=st.booleans())
def test_html_with_rowspan_colspan_and_split_spans(report, split_spans):
    page = f"<html><head><meta charset='gbk'></head><body><div class='nav'>首页 政务公开</div><div class='article'>" \
           f"<h1>{report.title}</h1>{body_html(report, split_spans)}</div><div class='footer'>主办单位</div></body></html>"
    assert_same_cells(report, parse(page.encode("gbk", errors="xmlcharrefreplace"), "t.htm", report))


@cases(40)
@given(report=reports)
def test_docx_with_merged_cells(report):
    assert_same_cells(report, parse(docx_bytes(report), "t.docx", report))


@cases(40)
@given(report=reports, broken=st.booleans())
def test_pdf_including_table_three_across_a_page(report, broken):
    assert_same_cells(report, parse(pdf_bytes(report, break_applications=broken), "t.pdf", report))


@pytest.mark.slow
@cases(8)
@given(report=reports)
def test_doc_through_libreoffice(report):
    assert_same_cells(report, parse(doc_bytes(report), "t.doc", report))


@cases(40)
@given(report=reports)
def test_xlsx_with_merged_ranges(report):
    assert_same_cells(report, parse(xlsx_bytes(report), "t.xlsx", report))


VARIANT_CASES = [(key, printed) for key, options in sorted(VARIANTS.items()) for printed in options]


@pytest.mark.parametrize("key, printed", VARIANT_CASES, ids=[f"{k}={p}" for k, p in VARIANT_CASES])
@pytest.mark.parametrize("fmt", ["html", "pdf", "docx"])
def test_every_real_label_variant_is_read(key, printed, fmt):
    """Each variant alone, in each format: a variant the parser cannot place fails here."""
    report = random_report(sum(map(ord, key + printed)), 2021 if "other_" in key else 2020 + len(printed) % 5, False)
    report.labels = {key: printed}
    if fmt == "html":
        data, name = f"<html><body><h1>{report.title}</h1>{body_html(report)}</body></html>".encode(), "t.htm"
    elif fmt == "pdf":
        data, name = pdf_bytes(report), "t.pdf"
    else:
        data, name = docx_bytes(report), "t.docx"
    assert_same_cells(report, parse(data, name, report))
