"""Metadata fields that article pages and their text dumps print as `name：value`.

TRS, Hanweb and gkmlpt article pages print a block such as 发布机构：… 成文日期：…
发布日期：… above the body; archivers' text dumps print 标题: … 发布时间: … lines.
These name the report better than any page chrome can.
"""

from __future__ import annotations

import re

from ..recognition import METADATA_FIELDS, parse_date

FIELDS = METADATA_FIELDS
# A short label starts a line, a cell or a phrase (never the tail of a longer word: 生效日期 is not 日期); a value
# follows a colon, a cell border, a line break or spaces.
_FIELD = re.compile(
    r"(" + "|".join((r"(?<![\u4e00-\u9fff])" if len(name) <= 2 else "") + r"[\s\u3000]*".join(name)
                    for name in sorted(FIELDS, key=len, reverse=True))
    + r")(?:[ \t\u3000]*[:：][ \t]*|[ \t\u3000]*[|｜][ \t\u3000|｜]*|[ \t\u3000]*\n[ \t\u3000]*|[ \t\u3000]+(?=\S))"
)


def fields(text: str) -> dict:
    """{title, agency, published, written} from one or more `name：value` fields in a line or block."""
    out: dict = {}
    matches = list(_FIELD.finditer(text))
    for n, match in enumerate(matches):
        end = matches[n + 1].start() if n + 1 < len(matches) else len(text)
        value = re.split(r"\s{2,}|\n|\u3000|[|｜]", text[match.end():end])[0].strip()
        key = FIELDS[re.sub(r"[\s\u3000]+", "", match.group(1))]
        if key in ("published", "written") and not parse_date(value):
            continue  # a label whose value is no date (时间: 点击率, a clock widget) leaves the field to another
        if value and key not in out:
            out[key] = value
    return out


def cell_pairs(cells: list[str]) -> dict:
    """Metadata printed as a table without colons (发布机构 | 宁国市商务局 | 发文日期 | 2021-10-08):
    a cell naming a field, the next cell its value."""
    out: dict = {}
    for name, value in zip(cells, cells[1:]):
        key = FIELDS.get(re.sub(r"[\s\u3000:：]+", "", name))
        value = value.strip()
        if key and value and re.sub(r"[\s\u3000:：]+", "", value) not in FIELDS and key not in out:
            out[key] = value
    return out


def normalised(found: dict) -> dict:
    """Dates as ISO; published falls back to the date written."""
    out = {k: v for k, v in found.items() if k in ("title", "agency")}
    if found.get("source"):
        out["source_agency"] = found["source"]
    published = parse_date(found.get("published") or "") or parse_date(found.get("written") or "")
    if published:
        out["published"] = published
    return out
