"""The hard arithmetic identities every report must satisfy (spec: checks)."""

from __future__ import annotations

from .labels import APPLICANT_COLUMN_KEYS, OUTCOME_ROWS, REVIEW_COLUMNS, REVIEW_GROUPS

_EPSILON = 1e-6


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _cell(table: dict, row: str, column: str):
    return table.get(row, {}).get(column) if isinstance(table.get(row), dict) else None


def _check(check_id: str, scope: str, left: list, right: list, detail: str) -> dict:
    """Compare sum(left) with sum(right); not_assessable if any cell is missing or not a number."""
    cells = left + right
    if not all(_is_number(v) for v in cells):
        missing = sum(1 for v in cells if not _is_number(v))
        return {
            "id": check_id,
            "scope": scope,
            "status": "not_assessable",
            "expected": None,
            "actual": None,
            "detail": f"{detail}; {missing} cell(s) missing, empty or not a number",
        }
    expected, actual = sum(left), sum(right)
    status = "pass" if abs(expected - actual) < _EPSILON else "fail"
    return {"id": check_id, "scope": scope, "status": status, "expected": expected, "actual": actual, "detail": detail}


def application_checks(apps: dict, template: str) -> list[dict]:
    outcomes = OUTCOME_ROWS.get(template)
    if outcomes and "other" in apps and "other" not in outcomes:
        outcomes = tuple(r for r in outcomes if not r.startswith("other_")) + ("other",)
    checks = []
    for col in APPLICANT_COLUMN_KEYS:
        checks.append(
            _check(
                "applications.balance",
                col,
                [_cell(apps, "new_received", col), _cell(apps, "carried_over", col)],
                [_cell(apps, "total_processed", col), _cell(apps, "carried_forward", col)],
                "new_received + carried_over = total_processed + carried_forward",
            )
        )
        if outcomes:
            checks.append(
                _check(
                    "applications.outcomes_sum",
                    col,
                    [_cell(apps, "total_processed", col)],
                    [_cell(apps, row, col) for row in outcomes],
                    "total_processed = sum of outcome rows",
                )
            )
    for row, values in apps.items():
        if row == "extra" or not isinstance(values, dict):
            continue
        checks.append(
            _check(
                "applications.row_total",
                row,
                [values.get("total")],
                [values.get(col) for col in APPLICANT_COLUMN_KEYS[:-1]],
                "total = sum of the six applicant columns",
            )
        )
    return checks


def review_checks(review: dict) -> list[dict]:
    parts = [key for key, _ in REVIEW_COLUMNS if key != "total"]
    return [
        _check(
            "review_litigation.group_total",
            group,
            [_cell(review, group, "total")],
            [_cell(review, group, p) for p in parts],
            "upheld + corrected + other + pending = total",
        )
        for group, _ in REVIEW_GROUPS
    ]


def run_checks(record: dict) -> list[dict]:
    return application_checks(record.get("applications", {}), record.get("template")) + review_checks(
        record.get("review_litigation", {})
    )


def status_of(checks: list[dict]) -> str:
    """One word for a record: fail beats not_assessable beats pass."""
    statuses = {c["status"] for c in checks}
    for status in ("fail", "not_assessable", "pass"):
        if status in statuses:
            return status
    return "not_assessable"


def keep_checked_ocr_rows(record: dict, warnings: list[str]) -> None:
    """OCR misreads digits and invents rows out of stamps and rulings (`mm`, `和`). What a scan
    gives enters the record only as a row of the form whose own total adds up; every other row
    becomes a warning that names it."""
    for table in ("active_disclosure", "applications"):
        for extra in record.get(table, {}).pop("extra", []):
            warnings.append(f"{table}: OCR row {extra['label']!r} matches no label of the form; left out")
    checks = application_checks(record.get("applications", {}), None) + review_checks(record.get("review_litigation", {}))
    for check in checks:
        if check["id"] not in ("applications.row_total", "review_litigation.group_total"):
            continue
        table = "applications" if check["id"].startswith("applications") else "review_litigation"
        if check["status"] != "pass" and check["scope"] in record.get(table, {}):
            del record[table][check["scope"]]
            warnings.append(f"{table}.{check['scope']}: OCR row does not add up ({check['detail']}); row left out")
