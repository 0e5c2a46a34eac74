"""Labels as real reports print them match the form's labels (pipelines/labels.py stays the one table)."""

from __future__ import annotations

import pytest

from pipelines.labels import APPLICATION_ROWS
from pipelines.parse.runs import Run
from pipelines.parse.tables import MATCH_THRESHOLD, _score
from pipelines.values import has_numbering, label_key

ROWS = {row.key: row for row in APPLICATION_ROWS["2021"] if row.key}


@pytest.mark.parametrize("printed, key", [
    ("（1）属于国家秘密", "denied_state_secret"),  # renumbered （1）
    ("1、申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请", "other_no_correction"),  # huaian_2024.pdf
    ("2.其他法律行政止公开", "denied_prohibited_by_law"),  # hongze_2023.pdf, truncated
    ("8. 属 于查 行 政 事 项", "denied_inquiry_matter"),  # seed 000, spaced and reordered
    ("（二）部分公开（区分处理的，只记这一情形，不记其他情形）", "partially_granted"),  # seed 000, note in brackets
    ("4.无正当理由大量反复\n申请", "rejected_excessive"),  # a line break inside the cell
])
def test_printed_label_matches_its_row(printed, key):
    assert has_numbering(printed)
    scores = {k: _score(Run(label=printed), row) or 0 for k, row in ROWS.items()}
    assert max(scores, key=scores.get) == key
    assert scores[key] >= MATCH_THRESHOLD


def test_a_note_in_brackets_is_not_part_of_the_label():
    assert label_key("（二）部分公开（区分处理的，只计这一情形，不计其他情形）") == label_key("（二）部分公开")
