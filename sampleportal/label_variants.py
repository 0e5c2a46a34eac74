"""How real reports print the statutory labels: an independent table for the renderers.

The sample portal and the round-trip tests print the form with these variants, so that
parsing is tested against wording the parser's own table (pipelines/labels.py) did not
write. Every entry was read in a published report (source beside it); several are
forms pipelines/labels.py has never listed. Keys: ``applications.<row>``,
``applicant.<column>``, ``review.<column>``, ``group.<review group>``,
``active.<row>``, ``active_column.<column>``.
"""

from __future__ import annotations

import random

VARIANTS: dict[str, tuple[str, ...]] = {
    # seeds 000/003 (赣州, 洛江 PDFs): 记 for 计 in the note
    "applications.partially_granted": ("（二）部分公开（区分处理的，只记这一情形，不记其他情形）", "（二）部分公开"),
    # hongze_2023.pdf: 法规禁 missing as printed
    "applications.denied_prohibited_by_law": ("2.其他法律行政止公开", "2. 其他法律行政法规禁止公开"),
    # seed 000: the agency's own PDF
    "applications.denied_security_stability": ("3. 危及“三全一安”", '3.危及"三安全一稳定"'),
    # seed 000: truncated in the cell
    "applications.unable_needs_creation": ("2.没有现成信息",),
    # hongze_2023.pdf: line breaks inside the cell
    "applications.rejected_excessive": ("4.无正当理由大量反复 申请",),
    "applications.rejected_confirmation": ("5.要求行政机关确认或重 新出具已获取信息",),
    # huaian_2024.pdf: （六） sub-rows numbered 1、2、3、
    "applications.other_no_correction": ("1、申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",),
    "applications.other_no_fee": ("2、申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",),
    "applications.other_misc": ("3、其他",),
    # seed 004 / 001 (Word tables): spaced ordinals
    "applications.total_processed": ("(七) 总计",),
    # seed 003: spaced characters in the header
    "applicant.natural_person": ("自 然 人",),
    # seed 000: header typo 结果维护; hongze_2023.pdf: 总 计; huaian_2024.pdf: 结 果维持
    "review.upheld": ("结果维护", "结 果维持"),
    "review.total": ("总 计",),
    # 2021 template as seeds 002/004 print it
    "active.normative_documents": ("规范性文件",),
}


def choose(rng: random.Random, share: float = 0.5) -> dict[str, str]:
    """Printed labels for one report: each key takes one of its real variants with probability
    `share`, else keeps the template's wording."""
    return {key: rng.choice(options) for key, options in sorted(VARIANTS.items()) if rng.random() < share}
