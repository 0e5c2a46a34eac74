"""Is this an annual report, of which year and which agency, published when: said once, for the crawler and
for extraction alike.

An annual report's title names a 政府信息公开（工作）年度报告 or 年报 of a year (``2023年…``, ``2023年度…``,
``…年报（2023）``); list pages cut long titles short (``…年度报…``). The year is the title's: URL dates are
publication dates, usually the next year. A title may leave the agency out; the document still says it, in its
opening sentence (现将…2023年政府信息公开工作年度报告予以公布, 本报告由…编制), its metadata block (发布机构,
标题) or its signature. Pages that explain a report (解读, 图解, 一图读懂), notices asking for one (关于报送…
的通知) and other reports (法治政府, 统计) are not the report: ``verdict`` says which they are.

Pure: no Scrapy, no archive. The Chinese words are in the tables at the top of this module, nowhere else.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

# ----------------------------------------------------------------------------- the words, once

# Words an agency's (or a government's) name ends with. A place alone (某某县) is a government: a title
# 内蒙古自治区2018年… names the region's government.
AGENCY_ENDINGS = (
    "人民政府", "政府", "办公厅", "办公室", "委员会", "管委会", "管理委员会", "街道办事处", "办事处",
    "局", "委", "办", "厅", "院", "中心", "部", "处", "所", "站", "队", "会", "署", "馆", "社", "司", "行", "室",
    "庭", "台", "园区", "集团", "公司", "街道", "镇", "乡", "苏木", "省", "自治区", "自治州", "自治县", "自治旗",
    "市", "区", "县", "旗", "州", "盟", "新区", "开发区", "高新区",
)
# Never an agency, whatever it ends with: what is left of a title around its year or its report noun.
NOT_AGENCY = re.compile(r"^(年度|度|年|本|我|全|各|该|上|下|本年度|本级|本单位|本机关|我局|我委|我办|我区|我县|我市|我镇|我乡|我旗)"
                        r"$|^\d|年度?$|(政府信息|信息公开|政务公开)")
# Words before a name that are not part of it.
AGENCY_PREFIXES = ("关于", "公布", "发布", "现将", "现公布", "现发布", "特编制", "编制", "《")

# Metadata labels article pages and their text dumps print (发布机构：…, 标题 | … |, a label alone on its line
# above its value), and what each names. 生效日期 and 废止时间 are not here: a date a document takes effect is
# not the day it was published.
METADATA_FIELDS = {
    "标题": "title", "文章标题": "title", "题名": "title", "信息名称": "title", "名称": "title",
    "称": "title",  # 名　　称 whose first character a page layout split off
    "发布机构": "agency", "发文机关": "agency", "发文机构": "agency", "发布单位": "agency",
    "发布时间": "published", "发布日期": "published", "日期": "published", "时间": "published",
    "成文日期": "written", "发文日期": "written", "撰写时间": "written", "生成日期": "written",
    "来源": "source", "信息来源": "source", "来源单位": "source",
}

# Page chrome that names the column a report is filed in, never the report: 当前位置：首页 > 政务公开 > …
BREADCRUMB = r"当前位置|您现在的位置|您的位置|所在位置|首页\s*[>»＞/]|[>»＞]\s*(政务公开|信息公开|政府信息公开)"

# What a report calls itself.
REPORT_NOUN = r"(?:政府信息公开|政务公开|信息公开)(?:工作)?(?:年度)?(?:工作)?(?:报告|年报)|(?:政府)?信息公开年报"
# A list title cut short.
TRUNCATION = r"(?:…|\.\.\.|．．．|\.\.)$"
TRUNCATED_STARTS = ("政府信", "信息公", "政务公", "年报", "年度报", "年度")

# Pages filed beside reports that are not one, by kind; the first kind whose word the title holds wins.
NOT_REPORT_KINDS = (
    ("graphic", ("图解", "一图读懂", "一图看懂", "一图了解", "图说", "图读", "长图", "动漫", "视频")),
    ("interpretation", ("解读", "答记者问", "问答")),
    ("notice", ("通知", "部署会", "推进会", "培训会", "报送", "编制发布工作", "编制公布工作", "函")),
    ("rule_of_law", ("法治政府", "依法行政")),
    ("statistics", ("统计表", "统计公报", "统计数据", "统计报表", "汇总表")),
    ("rules", ("制度", "办法", "规定", "指南", "目录", "要点", "方案", "意见", "细则")),
    ("finance", ("预算", "决算", "三公")),
    ("summary", ("汇总", "总结", "考核", "评估", "通报")),
)
# What the opening lines of a page with no title say it is.
OPENING_KINDS = (
    ("interpretation", re.compile(r"(进行|作|做)?如下解读|解读如下|现解读如下|现就.{0,30}解读")),
    ("notice", re.compile(r"通知如下|现就.{0,40}通知|请各.{0,10}(单位|部门)|各乡镇人民政府[、，,].{0,40}[:：]")),
    ("rule_of_law", re.compile(r"法治政府建设(情况|工作)")),
)
# The statutory sections a report prints: a page holding two of them is a report's text.
REPORT_SECTIONS = ("总体情况", "主动公开政府信息情况", "收到和处理政府信息公开申请情况", "行政复议", "存在的主要问题")
# A title that starts like a sentence, or is a metadata row, is never a title.
NOT_A_TITLE = re.compile(r"^(根据|按照|依据|依照|为了?|本报告|本年度报告|现将|现就|我[局委办区县市镇乡])|条例》|[|｜]|"
                         r"[:：]|[\w.-][/\\][\w.-]", re.ASCII)  # a label's colon, a path: never a title

# The opening sentence that names the report: 现将 / 现公布 / 特编制 … AGENCY YEAR年 … 报告.
_VERB = r"(?:现将|现予|现公布|现发布|现编制|予以公布|公布|发布|特编制|编制了?|制作|现向社会公开|向社会公开|向社会公布)"
_NOUN = r"(?:政府)?信息公开(?:工作)?(?:年度)?(?:工作)?(?:报告|年报)"
OPENING = (
    # …现发布《临洮县新添镇2022年政府信息公开工作年度报告》 / 现公布广州市人民政府办公厅2023年…
    re.compile(_VERB + r"[“《「]?(?P<agency>[^，。；、：:“”《》「」\s（(]{2,40}?)(?P<year>20\d{2})\s*年度?(?P<noun>" + _NOUN + ")"),
    # 现将2022年上海市人民政府参事室政府信息公开工作报告如下
    re.compile(_VERB + r"[“《]?(?P<year>20\d{2})\s*年度?(?P<agency>[^，。；、：:“”《》\s]{2,30}?)(?P<noun>政府信息公开(?:工作)?(?:年度)?(?:报告|年报))"),
    # 本报告由高楼乡人民政府按照…编制 / 开江县乡村振兴局编制了2023年…
    re.compile(r"本(?:年度)?报告由(?P<agency>[^，。；、：:\s]{2,30}?)(?:根据|按照|依据|依照|结合|综合|汇总|编制|制作)"),
    re.compile(r"(?:^|[。，\n])(?P<agency>[^，。；、：:“”《》\s]{3,30}?)编制了?(?P<year>20\d{2})\s*年度?(?P<noun>" + _NOUN + ")"),
)
# An opening that says the document is the report (现公布…年度报告, 本报告由…).
OPENING_REPORT = re.compile(_VERB + r"[^。]{0,40}?" + _NOUN + r"|本(?:年度)?报告(?:由|根据|依据|按照|是根据)")
# A name that says whose only with a bare level (市政府办, 区人民政府办公室, 县信访局): no place, no agency.
GENERIC_AGENCY = re.compile(r"^(市|区|县|镇|乡|旗|盟|州|省|自治区)?(人民)?政府|^(市|区|县|镇|乡|旗|盟)[^市区县旗盟]{1,6}$")

# The year a report covers, said in its text.
PERIOD = re.compile(r"统计(?:期限|时限|时间|期间)[^。]{0,12}?(20\d{2})\s*年")
REPORT_YEAR_IN_TEXT = re.compile(r"(20\d{2})\s*年度?(?:本[乡镇县区市局委办])?(?:" + _NOUN + r"|政府信息公开年度报告|信息公开年度报告)")

# Dates.
_CN_DIGIT = "〇○零一二三四五六七八九十"
DATE = re.compile(r"(20\d{2}|19\d{2})\s*(?:年|[-/.])\s*(\d{1,2})\s*(?:月|[-/.])\s*(\d{1,2})\s*日?")
CN_DATE = re.compile(rf"([{_CN_DIGIT}]{{4}})\s*年\s*([{_CN_DIGIT}]{{1,3}})\s*月\s*([{_CN_DIGIT}]{{1,3}})\s*日")
# A page-top clock (2019年12月3日星期二) shows the day the page was rendered, frozen into a saved copy.
CLOCK = re.compile(r"[日\d]\s*(星期|周|礼拜)[一二三四五六日天]")

_YEAR = re.compile(r"(20\d{2})\s*年度?|[（(](20\d{2})[）)]|(20\d{2})(?=政府信息公开|政务公开|信息公开)")
_REPORT = re.compile(REPORT_NOUN)
_REPORT_TAIL = re.compile(r"(年度)?(关于)?(" + REPORT_NOUN + r"|政府信息公开|信息公开|政务公开).*$")
_TRUNCATED = re.compile(TRUNCATION)


# ----------------------------------------------------------------------------- script and shape

@lru_cache(maxsize=1)
def _converter():
    try:
        import opencc
    except ImportError:  # the converter is a declared dependency; without it traditional text stays as printed
        return None
    return opencc.OpenCC("t2s")


def simplified(text: str | None) -> str:
    """Traditional script as simplified (OpenCC t2s); simplified text comes back as it was."""
    text = text or ""
    converter = _converter()
    return converter.convert(text) if converter and text else text


def is_traditional(text: str, sample: int = 2000) -> bool:
    """Whether a text is printed in traditional script (some of its characters change under t2s)."""
    head = (text or "")[:sample]
    if not head:
        return False
    changed = sum(1 for a, b in zip(head, simplified(head)) if a != b)
    return changed >= max(3, len(head) // 100)


def compact(text: str | None) -> str:
    return re.sub(r"[\s\u3000\u00a0]+", "", text or "")


_FULL_WIDTH = str.maketrans({",": "，", ";": "；", ":": "：", "(": "（", ")": "）", "!": "！", "?": "？"})


def _sentences(text: str) -> str:
    """Text compacted with its ASCII punctuation (as many pages print it) in the full-width forms of Chinese."""
    return simplified(compact(text)).translate(_FULL_WIDTH)


# ----------------------------------------------------------------------------- titles

def truncated(title: str | None) -> bool:
    return bool(_TRUNCATED.search(compact(title)))


def names_report(title: str | None) -> bool:
    return bool(_REPORT.search(compact(title)))


def could_be_title(text: str | None) -> bool:
    """A line that can be a report's title: it names a report, is not a sentence or a metadata row."""
    text = compact(text)
    return bool(text) and len(text) <= 80 and names_report(text) and not NOT_A_TITLE.search(text)


def title_year(title: str | None) -> int | None:
    match = _YEAR.search(compact(title))
    return int(next(g for g in match.groups() if g)) if match else None


def plausible_agency(name: str | None) -> str | None:
    """``name`` when it can be an agency's or a government's name; never ``度``, a bare year word, 我局, a
    report's noun or a sentence."""
    name = compact(name).strip("：:，,、（(《》)）“”\"'")
    for prefix in AGENCY_PREFIXES:
        name = name.removeprefix(prefix)
    name = name.strip("《“")
    if not (3 <= len(name) <= 30) or NOT_AGENCY.search(name) or GENERIC_AGENCY.search(name) \
            or re.search(r"\d|[，。；！？:：、|｜《》“”,;!?]", name):
        return None
    return name if name.endswith(AGENCY_ENDINGS) else None


PLACE_ENDINGS = ("省", "自治区", "自治州", "自治县", "自治旗", "市", "区", "县", "旗", "州", "盟", "镇", "乡", "苏木")
GOVERNMENT = ("人民政府", "政府")


def government_of(place: str | None, others) -> str | None:
    """The place's government as the document or the registry spells it (乌审旗 → 乌审旗人民政府), so that one
    government is one agency whether a title names the place or the government; else the place itself."""
    if not place or not place.endswith(PLACE_ENDINGS):
        return place
    for other in others:
        if other and compact(other) in (place + suffix for suffix in GOVERNMENT):
            return compact(other)
    return place


def title_agency(title: str | None) -> str | None:
    """The agency a title names before its year, or between the year and 政府信息公开; None when it names none."""
    text = compact(title)
    match = _YEAR.search(text)
    if match and match.start() > 0:
        return plausible_agency(_REPORT_TAIL.sub("", text[: match.start()]))
    rest = text[match.end():] if match else text
    return plausible_agency(_REPORT_TAIL.sub("", rest))


# ----------------------------------------------------------------------------- the verdict

@dataclass(frozen=True)
class Verdict:
    kind: str  # "report", or what else the page is: notice, interpretation, graphic, rule_of_law, statistics …
    reason: str

    @property
    def is_report(self) -> bool:
        return self.kind == "report"


def _kind_by_words(text: str) -> tuple[str, str] | None:
    for kind, words in NOT_REPORT_KINDS:
        for word in words:
            if word in text:
                return kind, word
    return None


@lru_cache(maxsize=4096)  # a list title is judged again on its article page and for its identity
def title_verdict(title: str | None) -> Verdict:
    """What a title says the page is. A report's title names the report and ends with it (a year or an edition
    note may follow); 图解, 解读, 通知 … anywhere in it make it something else."""
    text = simplified(compact(title))
    cut = truncated(text)
    if not names_report(text) and not (cut and (any(w in text for w in TRUNCATED_STARTS) or _YEAR.search(text))):
        found = _kind_by_words(text)
        return Verdict(found[0] if found else "other", f"not a report title ({found[1] if found else '年报 not named'})")
    found = _kind_by_words(text)
    if found:
        return Verdict(found[0], f"not a report ({found[1]})")
    if not cut:
        tail = re.sub(r"[（(【\[].*?[）)】\]]|\.\w{2,4}$|[》”\"」]", "", text[list(_REPORT.finditer(text))[-1].end():])
        if re.search(r"[\u4e00-\u9fff]", re.sub(r"更正|修订|修正|全文|终稿|正式|版|附件|下载|新", "", tail)):
            return Verdict("other", f"the title goes on after the report's name ({tail})")
    if not _YEAR.search(text) and not cut:
        return Verdict("report", "report title names no year")
    return Verdict("report", "the title names an annual report")


def skip_reason(title: str) -> str | None:
    """None when a list title is a report's (or, cut short, may be one); else why the item is skipped."""
    verdict = title_verdict(title)
    if not verdict.is_report:
        return verdict.reason
    if verdict.reason == "report title names no year":
        return verdict.reason
    return None


def verdict(title: str | None, text: str = "") -> Verdict:
    """The page's verdict from its title and its opening text: a title that is not a report's decides; an opening
    that says it explains a report (现就年报内容进行如下解读) or asks for one (通知如下) decides next, whatever
    report it names; then a report's title, or a text that is a report's (its opening sentence, its sections)."""
    said = title_verdict(title) if title and (names_report(title) or _kind_by_words(simplified(compact(title)))) \
        else None
    if said and not said.is_report:
        return said
    head = simplified(text[:600])
    for kind, pattern in OPENING_KINDS:
        found = pattern.search(head)
        if found and (kind != "rule_of_law" or said is None):
            return Verdict(kind, f"the opening says so ({found.group(0)})")
    if said and said.reason != "report title names no year":
        return said
    body = simplified(text[:6000])
    if OPENING_REPORT.search(_sentences(head)) or sum(1 for s in REPORT_SECTIONS if s in body) >= 2:
        return Verdict("report", "the text is an annual report's")
    return Verdict("other", "neither the title nor the text names an annual report")


# ----------------------------------------------------------------------------- identity from the text

def opening_identity(text: str) -> dict:
    """{agency, year, title} as the opening sentence names them: 现将某县人民政府2023年政府信息公开工作年度报告
    予以公布, 本报告由某乡人民政府编制, 某局编制了2023年度…报告."""
    head = _sentences(text[:800])
    out: dict = {}
    for pattern in OPENING:
        for match in pattern.finditer(head):
            groups = match.groupdict()
            agency = plausible_agency(groups.get("agency"))
            if agency and "agency" not in out:
                out["agency"] = agency
            if groups.get("year") and "year" not in out:
                out["year"] = int(groups["year"])
                if agency and groups.get("noun") and "title" not in out:
                    out["title"] = (f"{agency}{groups['year']}年{groups['noun']}" if match.start("agency") <
                                    match.start("year") else f"{groups['year']}年{agency}{groups['noun']}")
    if "year" not in out:
        said = REPORT_YEAR_IN_TEXT.search(head)
        if said:
            out["year"] = int(said.group(1))
    return out


def text_year(text: str) -> int | None:
    """The year a report's text says it covers: the statistics period, else the most named year."""
    text = simplified(text)
    match = PERIOD.search(text)
    if match:
        return int(match.group(1))
    years = Counter(int(y) for y in re.findall(r"(20\d{2})\s*年", text[:3000]))
    return years.most_common(1)[0][0] if years else None


# ----------------------------------------------------------------------------- dates

def _cn_number(text: str) -> int:
    """一 … 三十一, and digit by digit for years (二〇二四)."""
    digits = {ch: n for n, ch in enumerate("〇一二三四五六七八九")} | {"○": 0, "零": 0}
    try:
        import cn2an

        if "十" in text:
            return int(cn2an.cn2an(text, "smart"))
    except (ImportError, ValueError, KeyError):
        pass
    if "十" in text:
        tens, _, units = text.partition("十")
        return (digits[tens] if tens else 1) * 10 + (digits[units] if units else 0)
    value = 0
    for ch in text:
        value = value * 10 + digits[ch]
    return value


def parse_date(text: str | None) -> str | None:
    """A date printed as 2021年1月5日, 2021-01-05 (a time may follow) or 二〇二四年一月二十日, as ISO; never a
    page-top clock (…日星期二)."""
    text = compact(text)
    if not text or CLOCK.search(text):
        return None
    match = DATE.search(text)
    if match:
        year, month, day = (int(g) for g in match.groups())
    else:
        match = CN_DATE.search(text)
        if not match:
            return None
        try:
            year, month, day = (_cn_number(g) for g in match.groups())
        except KeyError:
            return None
    if not (1990 <= year <= 2100 and 1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"
