"""Real-shaped 2019-template tables (tests/files/reports, written from a real report page's markup):
blank figures are null, not a missing row; header and value rows that merge different grid columns are
tied by grid position, not dropped. The truth below was read from the page's markup by a person."""

from __future__ import annotations

import pytest

from pipelines.extract import extract

from .conftest import FILES

REPORT = FILES / "reports"
B = None  # a blank (&nbsp;) cell: null

ACTIVE = {
    "regulations": {"new_made": 13, "new_published": 13, "total_published": 524},
    "normative_documents": {"new_made": 60, "new_published": 60, "total_published": 368},
    "licensing": {"prev_items": 0, "change": 0, "decisions": 0},
    "other_services": {"prev_items": 0, "change": 0, "decisions": 0},
    "penalty": {"prev_items": 0, "change": 0, "decisions": 0},
    "coercion": {"prev_items": 0, "change": 0, "decisions": 0},
    "fees": {"prev_items": 0, "change": 0},
    "procurement": {"items": 6, "amount_yuan": 251000},
}
COLUMNS = ("natural_person", "commercial", "research", "social_welfare", "legal_service", "other_org", "total")
APPLICATIONS = {
    "new_received": (821, 35, B, B, 2, 1, 859),
    "carried_over": (18, B, B, B, B, B, 18),
    "granted": (258, 12, B, B, 1, 1, B),
    "partially_granted": (3, B, B, B, B, B, B),
    "denied_state_secret": (14, B, B, B, B, B, B),
    "denied_prohibited_by_law": (B,) * 7,
    "denied_security_stability": (B,) * 7,
    "denied_third_party": (B,) * 7,
    "denied_internal_affairs": (5, B, B, B, B, B, B),
    "denied_process_info": (3, 1, B, B, B, B, B),
    "denied_enforcement_file": (B,) * 7,
    "denied_inquiry_matter": (10, 2, B, B, B, B, B),
    "unable_not_held": (252, 12, B, B, 1, B, B),
    "unable_needs_creation": (44, 3, B, B, B, B, B),
    "unable_unclear": (25, B, B, B, B, B, B),
    "rejected_complaint": (148, 1, B, B, B, B, B),
    "rejected_duplicate": (5, 4, B, B, B, B, B),
    "rejected_publication": (B,) * 7,
    "rejected_excessive": (B,) * 7,
    "rejected_confirmation": (B,) * 7,
    "other": (B,) * 7,
    "total_processed": (767, 35, B, B, 2, 1, 805),
    "carried_forward": (72, B, B, B, B, B, 72),
}
REVIEW = {
    "review": {"upheld": 5, "corrected": B, "other": B, "pending": 2, "total": 7},
    "litigation_direct": {"upheld": 8, "corrected": B, "other": B, "pending": 1, "total": 9},
    "litigation_after_review": {"upheld": B, "corrected": B, "other": B, "pending": B, "total": B},
}


@pytest.fixture(scope="module", params=["html", "docx"])
def record(request):
    path = REPORT / f"shanghai_office_2019.{request.param}"
    return extract(path.read_bytes(), name=path.name)


def test_the_report_is_read_as_a_2019_template(record):
    assert record["template"] == "2019"
    assert record["year"] == 2019


def test_value_rows_that_merge_other_columns_than_their_header_keep_every_cell(record):
    # the header merges 本年增/减 over two grid columns; 行政许可 … merge their first value instead
    assert record["active_disclosure"] == ACTIVE
    assert not [w for w in record["warnings"] if w.startswith("active_disclosure")]


def test_rows_printed_blank_are_rows_of_nulls(record):
    assert record["applications"] == {row: dict(zip(COLUMNS, cells)) for row, cells in APPLICATIONS.items()}
    assert not [w for w in record["warnings"] if "row not found" in w]


def test_blank_review_cells_are_null(record):
    assert record["review_litigation"] == REVIEW


def test_the_record_is_whole_so_not_partial(record):
    assert record["coverage"] == {
        "active_disclosure": {"rows_read": 8, "rows_expected": 8, "cells_read": 22, "cells_expected": 22},
        "applications": {"rows_read": 23, "rows_expected": 23, "cells_read": 161, "cells_expected": 161},
        "review_litigation": {"rows_read": 3, "rows_expected": 3, "cells_read": 15, "cells_expected": 15},
    }
