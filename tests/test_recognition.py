from __future__ import annotations

import pytest

from crawler.recognition import recognise, skip_reason


@pytest.mark.parametrize(
    "title, year, agency",
    [
        ("泉州市洛江区科学技术局2020年政府信息公开工作年度报告", 2020, "泉州市洛江区科学技术局"),
        ("赣州市科技局 2020 年度政府信息公开工作报告", 2020, "赣州市科技局"),
        ("2020年南关区科技局政府信息公开工作年度报告", 2020, "南关区科技局"),
        ("嘉兴市科学技术局2020年度政府信息公开工作年度报告", 2020, "嘉兴市科学技术局"),
        ("XX市人民政府2023年政府信息公开年报", 2023, "XX市人民政府"),
    ],
)
def test_reports_recognised_with_year_from_title(title, year, agency):
    found = recognise(title)
    assert (found.year, found.agency) == (year, agency)


@pytest.mark.parametrize(
    "title",
    [
        "泉州市洛江区人民政府政府信息公开指南",
        "泉州市洛江区2023年政府信息公开工作年度报告汇总",
        "关于做好2023年政府信息公开工作年度报告编制发布工作的通知",
        "泉州市洛江区科学技术局2022年部门预算",
        "2023年度部门决算公开",
        "政府信息公开工作年度报告",
    ],
)
def test_non_reports_skipped_with_a_reason(title):
    assert recognise(title) is None
    assert skip_reason(title)
