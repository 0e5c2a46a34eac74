"""What every CMS family provides, and the reading shared by all of them.

A family reads one kind of platform's column: its list items, the request for the next
list page (``next_pages``), what the column declares about its own size (``declared``)
and, on an article page, its metadata and the files that can carry the report.

Paging is a chain: each list page asks for the one after it, with whatever state the
platform needs carried along (``Next.state``). A count a page declares is a number to
check the crawl against (crawler/coverage.py), never a loop bound: the spider bounds
every column by its own settings.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

from lxml import etree
from scrapy.http import Response

DOCUMENT_EXTENSIONS = (".pdf", ".doc", ".docx", ".wps", ".xls", ".xlsx", ".ofd", ".zip", ".rar")
# Download servlets of the common platforms: the URL names no file, the server does.
DOWNLOAD_SERVLETS = re.compile(
    r"(downfile\.jsp|download\.jsp|downloadfile|filedownload|getfile|attachment/|/attach/|"
    r"DownloadAttachUrl|download\.do|down\.jsp|fileDown)", re.I)
FILE_PARAMS = ("filename", "fileName", "file", "filepath", "filePath", "name")
# jpage answers split dates over lines ("2026-\n 01-\n 23")
_DATE = re.compile(r"(20\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")
# Site chrome never holds column items.
CHROME_XPATH = (
    "ancestor::*[contains(@class,'nav') or contains(@class,'header') or contains(@class,'footer') "
    "or contains(@class,'breadcrumb') or contains(@class,'crumb') or contains(@id,'nav')]"
)
# Item rows: the innermost ones (a menu's <li> holding a sub-list, a layout row holding the list table, are not items).
_ITEM_ROWS = (f"//li[.//a][not(.//li)][not({CHROME_XPATH})] | //tr[td//a][not(.//tr)][not({CHROME_XPATH})] | "
              f"//dd[.//a][not({CHROME_XPATH})]")
# Containers that are menus by their own name (left-hand 政府信息公开 trees, side bars).
_MENU_WORDS = ("menu", "sidebar", "side_nav", "leftnav", "left_nav", "tree", "lanmu", "subnav")
META_LABELS = ("索引号", "发布机构", "发文机关", "公文生成日期", "生成日期", "发文日期", "成文日期", "发布日期", "文号",
               "主题分类", "体裁分类")
_COMPACT = re.compile(r"[\s：:\u3000]+")
_RECORDS = re.compile(r"共\s*(\d+)\s*条")
_PAGES = re.compile(r"共\s*(\d+)\s*页|\d+\s*/\s*(\d+)\s*页")
META_NAMES = ("ArticleTitle", "PubDate", "ContentSource", "ColumnName", "SiteName")  # <meta name=…> kept
# compiled once: an XPath given as a string is compiled again on every call, for every table row
_ROWS = etree.XPath("//tr[th or td]")
_STRING = etree.XPath("string()", smart_strings=False)
_CELLS = etree.XPath("th|td")
_TEXTS = etree.XPath(".//text()", smart_strings=False)
_METAS = etree.XPath("//meta[@name][@content]")
_ANCHORS = etree.XPath("//a[@href]")
_FILE_ANCHORS = etree.XPath(f"//a[@href][not({CHROME_XPATH})]")
_EMBEDDED = etree.XPath("//iframe/@src | //embed/@src | //object/@data", smart_strings=False)
_BODY_TEXT = etree.XPath("//body//text()[not(ancestor::script)]", smart_strings=False)
# a row whose compacted text holds a label, found on its raw text: the labels with the compacted-away characters
# allowed between their characters, so that one search replaces a substitution and a test per label
_LABELLED = re.compile("|".join(r"[\s：:\u3000]*".join(map(re.escape, label)) for label in (*META_LABELS, "标题")))
MAX_URL_LENGTH = 2083  # what browsers and most servers accept; longer is a broken or hostile link


@dataclass(frozen=True)
class ListItem:
    title: str
    url: str
    date: str | None = None


@dataclass(frozen=True)
class Next:
    """The request for the next list page: a GET, or a POST of ``formdata``; ``state`` reaches the
    family again with that page's response (``response.meta["cms_state"]``)."""

    url: str
    formdata: dict | None = None
    state: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Declared:
    """What a column says about its own size: records and/or pages, and where it said so."""

    records: int | None = None
    pages: int | None = None
    source: str = ""


def _compact_title(text: str | None) -> str:
    return re.sub(r"\s+", " ", (text or "").replace("\xa0", " ")).strip()


def _menu(container) -> bool:
    """A list container inside an element its page names a menu (class or id)."""
    if not container:
        return False
    names = " ".join(container.xpath("ancestor-or-self::*/@class | ancestor-or-self::*/@id").getall()).lower()
    return any(word in names for word in _MENU_WORDS)


def list_area(groups: dict) -> list[ListItem]:
    """The page's list, from its items grouped by container (ul/ol/table/dl): a column's list dates its
    items, a navigation menu beside it (the left-hand 政府信息公开 tree, 机构职能, 政策文件 …) does not.
    When some containers date their items, only those are the list; containers named as menus never are.
    Counting a menu as items would hide a short crawl from the coverage check."""
    kept = {key: rows for key, rows in groups.items() if not _menu(rows[0][1])}
    dated = {key: rows for key, rows in kept.items() if any(item.date for item, _ in rows)}
    chosen = dated or kept
    return [item for rows in chosen.values() for item, _ in rows]


def normalise_date(text: str | None) -> str | None:
    match = _DATE.search(text or "")
    if not match:
        return None
    y, m, d = (int(g) for g in match.groups())
    return f"{y:04d}-{m:02d}-{d:02d}"


def unfetchable(href: str | None) -> str | None:
    """Why a link cannot be fetched, or None. Such links are common in lists (javascript:void(0)
    labelled as a PDF, tel:, mailto:) and must never end the page they sit on."""
    if href is None:
        return "no href"
    href = href.strip()
    if not href or href.startswith("#"):
        return "empty or in-page link"
    if len(href) > MAX_URL_LENGTH:
        return f"link longer than {MAX_URL_LENGTH} characters"
    scheme = re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*):", href)
    if scheme and scheme.group(1).lower() not in ("http", "https"):
        return f"{scheme.group(1).lower()}: link"
    if any(ord(c) < 32 for c in href):
        return "malformed link (control characters)"
    try:
        parts = urlsplit(href)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError as exc:
        return f"malformed link ({exc})"
    return None


def file_name_in_url(url: str) -> str | None:
    """A file name a download URL carries: the path's last part, or a filename= style parameter."""
    parts = urlsplit(url)
    last = unquote(parts.path.rsplit("/", 1)[-1])
    if last.lower().endswith(DOCUMENT_EXTENSIONS):
        return last
    query = parse_qs(parts.query)
    for key in FILE_PARAMS:
        for value in query.get(key, []):
            name = unquote(value).rsplit("/", 1)[-1]
            if name.lower().endswith(DOCUMENT_EXTENSIONS):
                return name
    return None


def json_object(response: Response) -> dict | None:
    """The response as a JSON object (a list API's answer), or None for an HTML page or anything else."""
    try:
        data = json.loads(response.text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


class CmsFamily:
    """A CMS platform's way of laying out a column. Subclasses override what differs."""

    name = "generic"
    # Where the article body sits on this platform's article pages.
    content_css = ".TRS_Editor, .zoom, .v_news_content, .content, .article, #zoom, .main"

    @classmethod
    def detect(cls, response: Response) -> bool:
        return False

    def list_items(self, response: Response) -> list[ListItem]:
        """The items of the page's list area: innermost ``<li>``, table rows and ``<dd>`` holding a link,
        each titled by its own first link (its ``title`` attribute, else its text), outside the chrome
        and outside navigation menus (see ``list_area``). Links that cannot be fetched are kept: the
        spider logs and skips them."""
        groups: dict = {}
        for row in response.xpath(_ITEM_ROWS):
            anchor = row.xpath("(.//a[@href])[1]")  # the row's own first link, never every row's first link
            title = _compact_title(anchor.xpath("@title").get() or "".join(anchor.xpath(".//text()").getall()))
            href = anchor.xpath("@href").get()
            if title and href is not None and not href.strip().startswith("#"):
                date = normalise_date(" ".join(row.xpath(".//text()").getall()))
                url = href if unfetchable(href) else response.urljoin(href.strip())
                container = row.xpath("ancestor::*[self::ul or self::ol or self::table or self::dl or self::tbody][1]")
                key = container[0].root if container else None
                groups.setdefault(key, []).append((ListItem(title, url, date), container))
        return list_area(groups)

    def next_pages(self, response: Response) -> list[Next]:
        """The request(s) for the list page after this one."""
        return []

    def declared(self, response: Response) -> Declared | None:
        """The column's size as the page states it in text (共N条 / 共N页), if it does."""
        text = " ".join(_BODY_TEXT(response.selector.root)) if _is_html(response) else ""
        records, pages = _RECORDS.search(text), _PAGES.search(text)
        if not records and not pages:
            return None
        return Declared(int(records.group(1)) if records else None,
                        int(pages.group(1) or pages.group(2)) if pages else None, "共N条/共N页")

    # ---------------------------------------------------------------- article pages

    def metadata(self, response: Response) -> dict:
        """Every label/value pair of the article's metadata block, kept raw."""
        meta = {}
        # plain lxml with compiled XPaths, not parsel: an HTML report's own tables have hundreds of cells, and a
        # Selector per cell was most of what an article page cost the crawl
        labels = (*META_LABELS, "标题")
        root = response.selector.root
        for row in _ROWS(root):
            # a row whose text holds no label cannot yield one (a report's own table rows): skip its cells
            if not _LABELLED.search(_STRING(row)):
                continue
            cells = [" ".join(_TEXTS(c)).strip() for c in _CELLS(row)]
            for label, value in zip(cells[::2], cells[1::2]):
                key = _COMPACT.sub("", label)
                if key and any(key.startswith(m) for m in labels) and len(key) <= 8:
                    meta[key] = value.strip()
        first: dict[str, str] = {}  # the first <meta name=… content=…> of each name, as //meta[@name='X']/@content
        for element in _METAS(root):
            first.setdefault(element.get("name"), element.get("content"))
        for name in META_NAMES:
            value = first.get(name)
            if value:
                meta[name] = value.strip()
        return meta

    def published(self, meta: dict, response: Response) -> str | None:
        for key in ("公文生成日期", "生成日期", "发布日期", "成文日期", "发文日期", "PubDate"):
            if meta.get(key):
                return normalise_date(meta[key])
        return normalise_date(" ".join(response.css(".info ::text, .time ::text, .date ::text").getall()))

    def attachments(self, response: Response) -> list[str]:
        """Every file on the article page that can carry the report, viewers included: links whose URL
        or text names a document file, download servlets (downfile.jsp, download.jsp …) and links
        labelled 附件. What each one really is, the server says when it is fetched. Links that cannot
        be fetched are returned as written, for the spider to log."""
        urls = []
        root = response.selector.root  # compiled XPaths on the parsed page: no Selector made per link
        for anchor in _FILE_ANCHORS(root):
            href = anchor.get("href").strip()
            text = "".join(_TEXTS(anchor)).strip()
            if _is_attachment(href, text):
                # a javascript:void(0) labelled as a PDF is kept as written: the spider logs and skips it
                urls.append(href if unfetchable(href) else response.urljoin(href))
        for src in _EMBEDDED(root):
            urls += self._embedded(response, src)
        return list(dict.fromkeys(urls))

    @staticmethod
    def _embedded(response: Response, src: str) -> list[str]:
        if unfetchable(src):
            return []
        parts = urlsplit(src)
        if parts.path.lower().endswith(".pdf"):
            return [response.urljoin(src)]
        files = parse_qs(parts.query).get("file", [])
        return [response.urljoin(f) for f in files if not unfetchable(f)]


def link_texts(response: Response) -> dict[str, str]:
    """Each link's text by its absolute URL (the first link wins): the name a file is offered under when the
    server gives none."""
    texts: dict[str, str] = {}
    for anchor in _ANCHORS(response.selector.root):
        text = " ".join("".join(_TEXTS(anchor)).split())[:300]
        if text:
            texts.setdefault(response.urljoin(anchor.get("href").strip()), text)
    return texts


def _is_attachment(href: str, text: str) -> bool:
    path = urlsplit(href).path.lower()
    lowered = text.lower()
    return (path.endswith(DOCUMENT_EXTENSIONS) or lowered.endswith(DOCUMENT_EXTENSIONS)
            or bool(file_name_in_url(href)) or bool(DOWNLOAD_SERVLETS.search(href))
            or re.match(r"^附件\s*\d*\s*[:：.、]?", text) is not None)


def _is_html(response) -> bool:
    try:
        response.xpath("/")
        return True
    except (AttributeError, NotImplementedError, ValueError):
        return False
