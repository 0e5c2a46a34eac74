"""The statutory form, declared once per template.

Every Chinese label the parser matches and the renderer prints lives here, keyed
to the canonical keys of shared/spec/report-format.md. Nothing else in the code
base spells out a row or column label.
"""

from __future__ import annotations

from dataclasses import dataclass

TEMPLATES = ("2019", "2021")

# Header phrases that only one template prints (spec: detect from headers, not the year).
TEMPLATE_MARKERS = {
    "2021": ("本年制发件数", "本年废止件数", "现行有效件数", "本年处理决定数量", "本年收费金额"),
    "2019": ("本年新制作数量", "本年新公开数量", "对外公开总数量", "上一年项目数量", "采购项目数量"),
}

# Section key -> phrases its heading contains (after normalisation).
SECTION_PHRASES = {
    "overall": ("总体情况",),
    "active_disclosure": ("主动公开政府信息情况",),
    "applications": ("收到和处理政府信息公开申请情况", "收到和处理政府信息公开申请"),
    "review_litigation": ("行政复议行政诉讼情况", "行政复议、行政诉讼情况", "行政复议和行政诉讼"),
    "problems": ("存在的主要问题", "存在的问题", "存在问题"),
    "other": ("其他需要报告的事项",),
}
TABLE_SECTIONS = ("active_disclosure", "applications", "review_litigation")
TEXT_SECTIONS = ("overall", "problems", "other")


@dataclass(frozen=True)
class ActiveRow:
    """One row of table 二: where it sits, what it is called, which columns it has."""

    key: str
    labels: tuple[str, ...]
    columns: tuple[str, ...]
    column_labels: tuple[str, ...]
    article: str  # the 第二十条 item the row is listed under


_MADE_2021 = (("made", "repealed", "in_force"), ("本年制发件数", "本年废止件数", "现行有效件数"))
_DECIDED_2021 = (("decisions",), ("本年处理决定数量",))
_MADE_2019 = (
    ("new_made", "new_published", "total_published"),
    ("本年新制作数量", "本年新公开数量", "对外公开总数量"),
)
_ITEMS_2019 = (("prev_items", "change", "decisions"), ("上一年项目数量", "本年增/减", "处理决定数量"))

ACTIVE_ROWS = {
    "2021": (
        ActiveRow("regulations", ("规章",), *_MADE_2021, "第二十条第（一）项"),
        ActiveRow("normative_documents", ("行政规范性文件", "规范性文件"), *_MADE_2021, "第二十条第（一）项"),
        ActiveRow("licensing", ("行政许可",), *_DECIDED_2021, "第二十条第（五）项"),
        ActiveRow("penalty", ("行政处罚",), *_DECIDED_2021, "第二十条第（六）项"),
        ActiveRow("coercion", ("行政强制",), *_DECIDED_2021, "第二十条第（六）项"),
        ActiveRow(
            "fees", ("行政事业性收费",), ("amount_wan_yuan",), ("本年收费金额（单位：万元）",), "第二十条第（八）项"
        ),
    ),
    "2019": (
        ActiveRow("regulations", ("规章",), *_MADE_2019, "第二十条第（一）项"),
        ActiveRow("normative_documents", ("规范性文件", "行政规范性文件"), *_MADE_2019, "第二十条第（一）项"),
        ActiveRow("licensing", ("行政许可",), *_ITEMS_2019, "第二十条第（五）项"),
        ActiveRow("other_services", ("其他对外管理服务事项",), *_ITEMS_2019, "第二十条第（五）项"),
        ActiveRow("penalty", ("行政处罚",), *_ITEMS_2019, "第二十条第（六）项"),
        ActiveRow("coercion", ("行政强制",), *_ITEMS_2019, "第二十条第（六）项"),
        ActiveRow(
            "fees", ("行政事业性收费",), ("prev_items", "change"), ("上一年项目数量", "本年增/减"), "第二十条第（八）项"
        ),
        ActiveRow(
            "procurement", ("政府集中采购",), ("items", "amount_yuan"), ("采购项目数量", "采购总金额"), "第二十条第（九）项"
        ),
    ),
}

APPLICANT_COLUMNS = (
    ("natural_person", "自然人"),
    ("commercial", "商业企业"),
    ("research", "科研机构"),
    ("social_welfare", "社会公益组织"),
    ("legal_service", "法律服务机构"),
    ("other_org", "其他"),
    ("total", "总计"),
)
APPLICANT_COLUMN_KEYS = tuple(key for key, _ in APPLICANT_COLUMNS)


@dataclass(frozen=True)
class ApplicationRow:
    """One row of table 三. `key` is None for group headings such as （三）不予公开."""

    key: str | None
    label: str
    level: int  # 0: 一、…; 1: （一）…; 2: 1.… under a group


def _rows(*spec: tuple[str | None, str, int]) -> tuple[ApplicationRow, ...]:
    return tuple(ApplicationRow(*item) for item in spec)


_APPLICATION_HEAD = (
    ("new_received", "一、本年新收政府信息公开申请数量", 0),
    ("carried_over", "二、上年结转政府信息公开申请数量", 0),
    (None, "三、本年度办理结果", 0),
    ("granted", "（一）予以公开", 1),
    ("partially_granted", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）", 1),
    (None, "（三）不予公开", 1),
    ("denied_state_secret", "1.属于国家秘密", 2),
    ("denied_prohibited_by_law", "2.其他法律行政法规禁止公开", 2),
    ("denied_security_stability", "3.危及“三安全一稳定”", 2),
    ("denied_third_party", "4.保护第三方合法权益", 2),
    ("denied_internal_affairs", "5.属于三类内部事务信息", 2),
    ("denied_process_info", "6.属于四类过程性信息", 2),
    ("denied_enforcement_file", "7.属于行政执法案卷", 2),
    ("denied_inquiry_matter", "8.属于行政查询事项", 2),
    (None, "（四）无法提供", 1),
    ("unable_not_held", "1.本机关不掌握相关政府信息", 2),
    ("unable_needs_creation", "2.没有现成信息需要另行制作", 2),
    ("unable_unclear", "3.补正后申请内容仍不明确", 2),
    (None, "（五）不予处理", 1),
    ("rejected_complaint", "1.信访举报投诉类申请", 2),
    ("rejected_duplicate", "2.重复申请", 2),
    ("rejected_publication", "3.要求提供公开出版物", 2),
    ("rejected_excessive", "4.无正当理由大量反复申请", 2),
    ("rejected_confirmation", "5.要求行政机关确认或重新出具已获取信息", 2),
)
_APPLICATION_TAIL = (
    ("total_processed", "（七）总计", 1),
    ("carried_forward", "四、结转下年度继续办理", 0),
)
APPLICATION_ROWS = {
    "2019": _rows(*_APPLICATION_HEAD, ("other", "（六）其他处理", 1), *_APPLICATION_TAIL),
    "2021": _rows(
        *_APPLICATION_HEAD,
        (None, "（六）其他处理", 1),
        ("other_no_correction", "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请", 2),
        ("other_no_fee", "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请", 2),
        ("other_misc", "3.其他", 2),
        *_APPLICATION_TAIL,
    ),
}
APPLICATION_BALANCE_NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"

# Rows whose figures are outcomes: total_processed must equal their sum.
OUTCOME_ROWS = {
    template: tuple(
        row.key
        for row in rows
        if row.key and row.key not in ("new_received", "carried_over", "total_processed", "carried_forward")
    )
    for template, rows in APPLICATION_ROWS.items()
}

REVIEW_GROUPS = (
    ("review", "行政复议"),
    ("litigation_direct", "未经复议直接起诉"),
    ("litigation_after_review", "复议后起诉"),
)
REVIEW_COLUMNS = (
    ("upheld", "结果维持"),
    ("corrected", "结果纠正"),
    ("other", "其他结果"),
    ("pending", "尚未审结"),
    ("total", "总计"),
)
REVIEW_LITIGATION_LABEL = "行政诉讼"

# Other ways real reports print a label, keyed like the rows and columns above. Each entry
# names where it was seen; the parser also tolerates numbering, notes in brackets, spaces
# and line breaks, so only genuinely different wording belongs here.
LABEL_VARIANTS = {
    # rows of table 三
    "partially_granted": ("（二）部分公开",),
    "denied_prohibited_by_law": ("2.其他法律行政止公开",),  # hongze_2023.pdf: 法规禁 missing as printed
    "denied_security_stability": ("3.危及三安全一稳定",),
    "denied_inquiry_matter": ("8.属于行政查询事项", "8.属于查行政事项"),  # seed 000: characters reordered
    "other_misc": ("3.其他处理",),
    "carried_forward": ("四、结转下年度继续办理",),
    # columns of table 四 (seed 000 prints the typo 结果维护)
    "upheld": ("结果维护",),
    "litigation_direct": ("未经复议直接起诉",),
    "litigation_after_review": ("复议后起诉",),
    # rows and columns of table 二
    "normative_documents": ("行政规范性文件", "规范性文件"),
    "fees": ("行政事业性收费",),
    "amount_wan_yuan": ("本年收费金额（单位：万元）", "本年收费金额", "本年收费金额（万元）"),
    "decisions": ("本年处理决定数量", "处理决定数量"),
}
# Totals of table 三 that a report states in its prose, as it words them (pingtan_2021: 本年度全区共收到70件申请，
# 及时依法依规办结69件，1件结转下年度继续办理; 2019年上海市人民政府办公厅: 共受理政府信息公开申请859件). They may
# choose between the splits of a glued table row: the row's 总计 cell must be the stated figure.
PROSE_TOTALS = {
    "new_received": (r"(?:收到|受理)[^。；;，,\d]{0,16}?申请\s*(\d+)\s*件", r"(?:收到|受理)\s*(\d+)\s*件[^。；;，,\d]{0,8}申请"),
    "total_processed": (r"办结[^。；;，,\d]{0,8}?(\d+)\s*件",),
    "carried_forward": (r"(\d+)\s*件[^。；;，,\d]{0,4}结转下(?:一)?年度", r"结转下(?:一)?年度[^。；;，,\d]{0,8}?(\d+)\s*件"),
}
# Vertical headings of table 三 that PDF tables break into the cells beside them
# (三、本年度办理结果 read down a merged column comes out as 三 / 、本年 / 度办 / 理结 / 果).
SPLIT_HEADINGS = ("三、本年度办理结果", "（四）无法提供", "（五）不予处理", "（三）不予公开", "（六）其他处理")
# Words a page's text holds when one of the three tables (or a continuation of one) is on it:
# the PDF reader runs the (costly) table finder only on such pages.
TABLE_PAGE_MARKERS = (
    "信息内容", "本年制发件数", "本年新制作数量", "处理决定数量", "收费金额", "采购项目数量",
    "自然人", "予以公开", "不予公开", "无法提供", "不予处理", "其他处理", "总计", "结转",
    "结果维持", "结果纠正", "尚未审结", "行政复议",
)

# The three tables as the printed form numbers them (spec: 二、三、四), for people.
TABLE_NUMBERS = {"active_disclosure": "表二", "applications": "表三", "review_litigation": "表四"}
TABLE_TITLES = {
    "active_disclosure": "主动公开政府信息情况",
    "applications": "收到和处理政府信息公开申请情况",
    "review_litigation": "政府信息公开行政复议、行政诉讼情况",
}
# The four hard checks in the form's own words (what a reader of the printed table would add up).
CHECK_WORDING = {
    "applications.balance": "本年新收+上年结转=办理结果总计+结转下年度",
    "applications.outcomes_sum": "办理结果总计=各项办理结果之和",
    "applications.row_total": "总计=六类申请人之和",
    "review_litigation.group_total": "总计=结果维持+结果纠正+其他结果+尚未审结",
}
