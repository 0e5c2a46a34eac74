"""Discovery: from a portal's root to its 年报 columns, along the portal's own navigation.

Real portals lay the way out in a few steps, whatever their CMS:
首页 → 政务公开 → 政府信息公开 (信息公开目录 / 法定主动公开内容) → 政府信息公开年报;
for departments → 部门信息公开 → 某某局 → its 年报 column; for townships →
乡镇（街道）信息公开 → 某某镇 → its 年报 column. Links are scored by their text and by
where they lead (path words such as zwgk, xxgk, ndbg); only links that score are followed,
so discovery walks a narrow band of the site, not the whole of it.

A page is a 年报 column only when its list items are annual reports (recognised by
``crawler.recognition``, the same test the column spider applies to items). Look-alikes
are never followed: 企业年报 / 企业年度报告公示, 统计年报 / 统计公报, 法治政府建设年度报告,
预算 / 决算, 工作要点, and notices about 年报 (their titles carry 通知).

This module is pure (links and list items in, decisions out); the Scrapy side is
``crawler/spiders/discovery.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urldefrag, urlsplit

from .recognition import skip_reason

# Chinese labels of the navigation, one table: (word in the link text, kind, score).
NAVIGATION = (
    ("政府信息公开年报", "column", 100), ("信息公开年报", "column", 100), ("政府信息公开工作年度报告", "column", 100),
    ("信息公开年度报告", "column", 100), ("年度报告", "column", 80), ("年报", "column", 80),
    ("部门信息公开", "branch", 70), ("部门政府信息公开", "branch", 70), ("部门政务公开", "branch", 65),
    ("部门公开", "branch", 60), ("部门目录", "branch", 60), ("部门信息", "branch", 50),
    ("乡镇（街道）", "branch", 70), ("乡镇(街道)", "branch", 70), ("镇街信息公开", "branch", 70),
    ("乡镇信息公开", "branch", 70), ("街道信息公开", "branch", 70), ("乡镇政务公开", "branch", 65),
    ("镇（街道）", "branch", 60), ("镇街", "branch", 50),
    ("政府信息公开", "gateway", 60), ("信息公开目录", "gateway", 60), ("法定主动公开", "gateway", 55),
    ("主动公开", "gateway", 45), ("政务公开", "gateway", 50), ("信息公开", "gateway", 45), ("公开目录", "gateway", 40),
)
# Look-alikes and neighbours that never lead to a 年报 column.
DECOYS = ("企业年报", "企业年度报告", "年报公示", "统计年报", "统计公报", "统计年鉴", "法治政府", "预算", "决算",
          "工作要点", "要点", "通知", "公告", "解读", "指南", "依申请", "申请", "制度", "意见箱", "留言", "信箱")
# Path words real portals use for these pages (TRS/Hanweb/VSB/gkmlpt alike).
PATH_HINTS = (
    ("ndbg", 40), ("zfxxgknb", 40), ("xxgknb", 40), ("gknb", 35), ("/nb/", 25), ("bmxxgk", 20), ("bmzfxxgk", 20),
    ("xzxxgk", 20), ("xzjd", 15), ("zfxxgk", 20), ("xxgk", 15), ("zwgk", 15), ("gkml", 15), ("gkmlpt", 20),
)
# What a department or township index lists: departments, townships, and the people's organisations that publish
# 年报 beside them on their government's portal (蒙城县总工会, 亳州市谯城区残疾人联合会, 公主岭市残联 …).
_AGENCY = re.compile(r"(局|委员会|委|办公室|办|中心|院|署|馆|队|站|所|镇|乡|街道|街道办事处|管委会|人民政府|政府"
                     r"|工会|联合会|联合社|合作社|供销社|协会|红十字会|妇联|残联|科协|工商联|文联|侨联)$")
# An agency's full name can be long: 克孜勒苏柯尔克孜自治州乌恰县市场监督管理局 is 21 characters.
AGENCY_NAME_MAX = 30
_FILE = re.compile(r"\.(pdf|docx?|wps|xlsx?|zip|rar|jpe?g|png|gif|mp4)$", re.I)
FOLLOW_AT = 40  # a link is followed at this score or above
COLUMN_SHARE = 1 / 3  # a column: at least this share of its list items are reports


@dataclass(frozen=True)
class ScoredLink:
    url: str
    text: str
    kind: str  # column | branch | gateway | agency
    score: int


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text or "")


def score_link(text: str, url: str, under_branch: bool = False) -> ScoredLink | None:
    """How strongly a link looks like the way to a 年报 column; None when it is not worth a request."""
    words = _compact(text)
    if not words or len(words) > 40:
        return None
    if any(d in words for d in DECOYS):
        return None
    if re.search(r"20\d\d", words) and skip_reason(words) is None:
        return None  # a report itself: it lives in a column, which is what discovery looks for
    path = urlsplit(url).path.lower()
    hint = max((s for word, s in PATH_HINTS if word in path), default=0)
    for word, kind, score in NAVIGATION:
        if word in words:
            return ScoredLink(url, words, kind, score + hint)
    if under_branch and len(words) <= AGENCY_NAME_MAX and _AGENCY.search(words):
        return ScoredLink(url, words, "agency", 45 + hint)
    if hint >= FOLLOW_AT and len(words) <= 12:
        return ScoredLink(url, words, "gateway", hint)
    return None


def followable(url: str, hosts: set[str]) -> str | None:
    """The URL without its fragment, when discovery may request it."""
    url, _ = urldefrag(url)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or (parts.hostname or "") not in hosts:
        return None
    if _FILE.search(parts.path) or len(url) > 500:
        return None
    return url


def portal_hosts(urls, extra=()) -> set[str]:
    """The portal's hosts: its entry points, their www./bare twins, and any the registry allows."""
    hosts = set(extra)
    for url in urls:
        host = urlsplit(url).hostname or ""
        hosts |= {host, host[4:] if host.startswith("www.") else f"www.{host}"}
    return {h for h in hosts if h}


# A column's later list pages, as the platforms name them: TRS index_3.html / index_2.shtml (page 1 is
# index.html or the folder), VSB ndbg/2.htm (page 1 is ndbg.htm), jcms/others ?page=2 / &pageNum=2.
_TRS_LATER = re.compile(r"^(.*/)([\w-]+)_(\d{1,3})\.(s?html?)$")
_VSB_LATER = re.compile(r"^(.*/[\w-]+)/(\d{1,3})\.htm$")
_QUERY_LATER = re.compile(r"[?&](page|pageNum|pageNo|pageIndex|curpage|p)=(\d+)", re.I)


def first_page(url: str) -> str:
    """The first page of the column whose later page ``url`` is (``…/ndbg/2.htm`` → ``…/ndbg.htm``,
    ``…/ndbg/index_3.html`` → ``…/ndbg/index.html``); ``url`` itself when it is no later page."""
    url, _ = urldefrag(url)
    trs = _TRS_LATER.match(url)
    if trs and int(trs.group(3)) >= 1:
        return f"{trs.group(1)}{trs.group(2)}.{trs.group(4)}"
    vsb = _VSB_LATER.match(url)
    if vsb:
        return f"{vsb.group(1)}.htm"
    query = _QUERY_LATER.search(url)
    if query and int(query.group(2)) > 1:
        return url[:query.start()] + ("?" if query.group(0).startswith("?") else "") + url[query.end():].lstrip("&")
    return url


def same_column(url: str, column: str) -> bool:
    """A page of the column at ``column`` (its folder form and its index page are one column)."""
    def forms(u):
        u = first_page(u)
        return {u, u.rsplit("/", 1)[0] + "/"} if u.rsplit("/", 1)[-1].startswith(("index.", "default.")) else {u}
    return bool(forms(url) & forms(column))


@dataclass(frozen=True)
class ColumnVerdict:
    is_column: bool
    items: int
    reports: int
    sample: tuple[str, ...]


def judge_column(titles: list[str]) -> ColumnVerdict:
    """A page is a 年报 column when its list items are annual reports."""
    reports = [t for t in titles if skip_reason(t) is None]
    share = len(reports) / len(titles) if titles else 0
    return ColumnVerdict(bool(reports) and share >= COLUMN_SHARE, len(titles), len(reports), tuple(reports[:3]))


def place_of(government: str) -> str:
    """泉州市洛江区人民政府 → 泉州市洛江区."""
    return re.sub(r"(人民政府|政府|行政公署)$", "", government)


def agency_name(government: str, text: str | None) -> str:
    """The agency a column belongs to: the government itself, or the department/township the path went through."""
    if not text:
        return government
    place = place_of(government)
    name = text
    if name.startswith(("区", "县", "市")) and len(name) > 2 and not name.startswith(place[-1:] * 2):
        name = name[1:]  # 区教育局 → 教育局, prefixed by the place below
    if not name.startswith(place[:2]):
        name = place + name
    if name.endswith(("镇", "乡")):
        name += "人民政府"
    elif name.endswith("街道"):
        name += "办事处"
    return name


@dataclass
class Walk:
    """One portal's discovery: what was requested, what was found, why it stopped."""

    site_id: str
    government: str
    hosts: set[str]
    max_pages: int
    max_depth: int
    started: str = ""
    requested: int = 0
    answered: int = 0
    seen: set[str] = field(default_factory=set)
    columns: dict[str, dict] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    capped: str | None = None
    links_read: int = 0
    links_scored: int = 0
    elsewhere: set[str] = field(default_factory=set)  # linked start URLs of other registry entries

    def admit(self, url: str, depth: int) -> bool:
        """Whether one more page may be requested; records the cap when it refuses."""
        if url in self.seen:
            return False
        if depth > self.max_depth:
            self.capped = self.capped or f"depth cap of {self.max_depth} links reached"
            return False
        if self.requested >= self.max_pages:
            self.capped = f"page cap of {self.max_pages} pages reached"
            return False
        self.seen.add(url)
        self.requested += 1
        return True

    def outcome(self) -> tuple[str, str]:
        """(found | capped | blocked | none, a line a person can act on)."""
        if self.columns:
            detail = f"{len(self.columns)} column(s) in {self.requested} page(s)"
            if self.elsewhere:
                detail += f", and {len(self.elsewhere)} linked column(s) other registry entries crawl"
            if self.capped and "page" in self.capped:
                return "capped", f"{detail}; {self.capped}"
            return "found", f"{detail}; {self.capped}" if self.capped else detail
        if self.blocked:
            return "blocked", f"{self.blocked[0]} ({len(self.blocked)} page(s) answered with a challenge or block)"
        if self.capped and "page" in self.capped:
            return "capped", f"no 年报 column found: {self.capped} after {self.requested} requests"
        if self.answered == 0:
            why = f"the entry page could not be read: {self.failures[0] if self.failures else 'no answer'}"
        elif self.answered <= 1 and self.links_scored == 0:
            why = ("the home page has no links to follow (navigation drawn by JavaScript?)" if self.links_read == 0
                   else f"none of the home page's {self.links_read} links leads to 政务公开/信息公开")
        else:
            why = f"{self.answered} page(s) read, none lists annual reports"
            if self.failures:
                why += f"; {len(self.failures)} failed, e.g. {self.failures[0]}"
        return "none", f"no 年报 column found: {why}"
