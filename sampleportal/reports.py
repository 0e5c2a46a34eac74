"""The reports the sample portal publishes: the five seeds and synthetic agencies.

Synthetic figures are random but internally consistent, so every hard check
passes, except on the reports built to fail, whose faults are listed with them.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.extract import extract
from pipelines.labels import (
    ACTIVE_ROWS,
    APPLICANT_COLUMN_KEYS,
    APPLICATION_ROWS,
    OUTCOME_ROWS,
    REVIEW_COLUMNS,
    REVIEW_GROUPS,
)

from .label_variants import choose
from .render import Report

SEEDS_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "seeds"  # read where they lie, never copied


@dataclass
class Planned:
    """One report to publish: who, which year, in which file format, and how it may fail."""

    agency: str
    year: int
    fmt: str  # html | pdf | docx | doc
    seed: str | None = None
    fault: str | None = None  # balance | review_total
    title: str | None = None
    extra: dict = field(default_factory=dict)


def template_for(year: int) -> str:
    return "2019" if year <= 2020 else "2021"


def _partition(rng: random.Random, total: int, parts: int) -> list[int]:
    cuts = sorted(rng.randint(0, total) for _ in range(parts - 1))
    return [b - a for a, b in zip([0] + cuts, cuts + [total])]


def synthetic_applications(rng: random.Random, template: str) -> dict:
    outcomes = OUTCOME_ROWS[template]
    rows: dict[str, dict] = {key: {} for key in ("new_received", "carried_over", "total_processed", "carried_forward")}
    rows.update({key: {} for key in outcomes})
    weights = (40, 12, 2, 1, 2, 3)
    for col, weight in zip(APPLICANT_COLUMN_KEYS[:-1], weights):
        new = rng.randint(0, weight)
        carried_over = rng.randint(0, max(weight // 8, 1)) if new else 0
        carried_forward = rng.randint(0, (new + carried_over) // 5)
        processed = new + carried_over - carried_forward
        rows["new_received"][col], rows["carried_over"][col] = new, carried_over
        rows["total_processed"][col], rows["carried_forward"][col] = processed, carried_forward
        # Most requests are granted; the rest spread over the other outcomes.
        granted = rng.randint(processed // 2, processed) if processed else 0
        rest = _partition(rng, processed - granted, len(outcomes) - 1)
        for key, value in zip(outcomes, [granted] + rest):
            rows[key][col] = value
    for values in rows.values():
        values["total"] = sum(values[c] for c in APPLICANT_COLUMN_KEYS[:-1])
    ordered = [r.key for r in APPLICATION_ROWS[template] if r.key]
    return {key: rows[key] for key in ordered}


def synthetic_active(rng: random.Random, template: str) -> dict:
    out = {}
    for row in ACTIVE_ROWS[template]:
        values = {}
        for col in row.columns:
            if col == "amount_yuan":
                values[col] = rng.choice([0, 86000, 129600, 350000, 1204500])
            elif col == "amount_wan_yuan":
                values[col] = rng.choice([0, 0, 1.2, 13.75])
            elif col == "change":
                values[col] = rng.randint(-3, 5)
            else:
                values[col] = rng.randint(0, 60 if row.key in ("licensing", "penalty") else 12)
        out[row.key] = values
    return out


def synthetic_review(rng: random.Random) -> dict:
    out = {}
    parts = [key for key, _ in REVIEW_COLUMNS if key != "total"]
    for group, _ in REVIEW_GROUPS:
        values = {p: rng.choice([0, 0, 0, 1, 2]) for p in parts}
        values["total"] = sum(values.values())
        out[group] = values
    return out


def apply_fault(record: dict, fault: str | None) -> list[dict]:
    """Break one figure on purpose; return the checks that must then fail, with expected/actual."""
    if fault == "balance":
        row = record["applications"]["total_processed"]
        row["natural_person"] += 1
        row["total"] += 1
        return [
            {"id": "applications.balance", "scope": "natural_person"},
            {"id": "applications.balance", "scope": "total"},
            {"id": "applications.outcomes_sum", "scope": "natural_person"},
            {"id": "applications.outcomes_sum", "scope": "total"},
        ]
    if fault == "review_total":
        record["review_litigation"]["review"]["total"] += 2
        return [{"id": "review_litigation.group_total", "scope": "review"}]
    return []


def overall_text(agency: str, year: int, record: dict) -> list[str]:
    apps = record["applications"]
    received = apps["new_received"]["total"]
    granted = apps["granted"]["total"]
    review = record["review_litigation"]["review"]["total"]
    return [
        f"{year}年，{agency}认真贯彻落实《中华人民共和国政府信息公开条例》，坚持以公开为常态、不公开为例外，"
        f"围绕中心工作深化政务公开，不断提升政府信息公开质量和实效。",
        "（一）主动公开情况。全年通过门户网站、政务新媒体等渠道主动公开政府信息，及时发布政策文件及解读、"
        "重点领域信息和工作动态。",
        f"（二）依申请公开情况。{year}年共收到政府信息公开申请{received}件，其中予以公开{granted}件，"
        f"均在法定期限内答复。",
        "（三）政府信息管理情况。严格落实公开前保密审查制度，规范公开属性认定，动态更新政府信息公开目录。",
        "（四）平台建设情况。持续优化政府信息公开专栏，完善栏目设置，提升检索和下载功能。",
        f"（五）监督保障情况。本年度因政府信息公开被申请行政复议{review}件，"
        f"未发生因政府信息公开工作被追究责任的情况。",
    ]


def problems_text(year: int) -> list[str]:
    return [
        f"{year}年，我单位政府信息公开工作取得一定成效，但仍存在公开内容不够全面、政策解读形式较为单一、"
        f"依申请公开答复规范化水平有待提高等问题。",
        "下一步，将进一步加强业务培训，规范依申请公开办理流程，丰富政策解读形式，提升政府信息公开工作水平。",
    ]


def synthetic_report(planned: Planned, rng: random.Random) -> tuple[Report, list[dict]]:
    template = template_for(planned.year)
    title = planned.title or f"{planned.agency}{planned.year}年政府信息公开工作年度报告"
    record = {
        "title": title,
        "agency": planned.agency,
        "year": planned.year,
        "template": template,
        "active_disclosure": synthetic_active(rng, template),
        "applications": synthetic_applications(rng, template),
        "review_litigation": synthetic_review(rng),
    }
    must_fail = apply_fault(record, planned.fault)
    intro = (
        f"本报告根据《中华人民共和国政府信息公开条例》要求编制，内容包括总体情况、主动公开政府信息情况、"
        f"收到和处理政府信息公开申请情况、政府信息公开行政复议和行政诉讼情况、存在的主要问题及改进情况、"
        f"其他需要报告的事项。本报告中所列数据的统计期限自{planned.year}年1月1日起至{planned.year}年12月31日止。"
    )
    sections = {
        "overall": overall_text(planned.agency, planned.year, record),
        "problems": problems_text(planned.year),
        "other": ["本年度未收取信息处理费。"],
    }
    month, day = rng.randint(1, 3), rng.randint(5, 28)
    # variants drawn from a stream of their own (seeded by the record), so the figures are unchanged
    labels = choose(random.Random(f"{title}:{json.dumps(record, sort_keys=True, ensure_ascii=False)}"))
    report = Report(record, intro, sections, (planned.agency, f"{planned.year + 1}年{month}月{day}日"), labels)
    return report, must_fail


def _fill_unread_rows(record: dict) -> None:
    """Seed rows lost to PDF text extraction print as zero on the portal: the seeds README
    says every unlisted figure of these reports is 0 or empty."""
    for row in APPLICATION_ROWS[record["template"]]:
        if row.key and row.key not in record.get("applications", {}):
            record.setdefault("applications", {})[row.key] = {c: 0 for c in APPLICANT_COLUMN_KEYS}
    record.get("applications", {}).pop("extra", None)
    if not record.get("review_litigation"):
        record["review_litigation"] = {g: {c: 0 for c, _ in REVIEW_COLUMNS} for g, _ in REVIEW_GROUPS}


def seed_report(planned: Planned, seeds_dir: Path) -> tuple[Report, list[dict]]:
    path = next(seeds_dir.glob(f"{planned.seed}_*.txt"))
    record = extract(path.read_bytes(), name=path.name)
    if planned.title:
        record["title"] = planned.title
    record["agency"] = planned.agency
    _fill_unread_rows(record)
    sections = {key: [p for p in text.splitlines() if p.strip()] for key, text in record["sections"].items()}
    signature = None
    if record.get("published"):
        y, m, d = (int(x) for x in record["published"].split("-"))
        signature = (planned.agency, f"{y}年{m}月{d}日")
        for key in sections:
            sections[key] = [p for p in sections[key] if p.strip() not in (planned.agency, signature[1])]
    return Report(record, "", sections, signature), []
