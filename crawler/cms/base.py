"""What every CMS family provides, and the reading shared by all of them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from scrapy.http import Response

DOCUMENT_EXTENSIONS = (".pdf", ".doc", ".docx", ".wps", ".xls", ".xlsx")
_DATE = re.compile(r"(20\d{2})[-/.年](\d{1,2})[-/.月](\d{1,2})")
# Site chrome never holds column items.
CHROME_XPATH = (
    "ancestor::*[contains(@class,'nav') or contains(@class,'header') or contains(@class,'footer') "
    "or contains(@class,'breadcrumb') or contains(@class,'crumb') or contains(@id,'nav')]"
)
META_LABELS = ("索引号", "发布机构", "公文生成日期", "生成日期", "发文日期", "成文日期", "发布日期", "文号", "主题分类", "体裁分类")


@dataclass(frozen=True)
class ListItem:
    title: str
    url: str
    date: str | None = None


def normalise_date(text: str | None) -> str | None:
    match = _DATE.search(text or "")
    if not match:
        return None
    y, m, d = (int(g) for g in match.groups())
    return f"{y:04d}-{m:02d}-{d:02d}"


class CmsFamily:
    """A CMS platform's way of laying out a column. Subclasses override what differs."""

    name = "generic"
    # Where the article body sits on this platform's article pages.
    content_css = ".TRS_Editor, .zoom, .v_news_content, .content, .article, #zoom, .main"

    @classmethod
    def detect(cls, response: Response) -> bool:
        return False

    def list_items(self, response: Response) -> list[ListItem]:
        """Links in the page body (not its chrome) with their titles and dates."""
        items = []
        for link in response.xpath(f"//li[a][not({CHROME_XPATH})] | //tr[td/a][not({CHROME_XPATH})]"):
            anchor = link.xpath(".//a[@href][1]")
            title = (anchor.xpath("@title").get() or "".join(anchor.xpath(".//text()").getall())).strip()
            href = anchor.xpath("@href").get()
            if title and href and not href.startswith(("javascript:", "#", "mailto:")):
                date = normalise_date(" ".join(link.xpath(".//text()").getall()))
                items.append(ListItem(title, response.urljoin(href), date))
        return items

    def next_pages(self, response: Response) -> list[str]:
        """Further list pages to read from this one."""
        return []

    # ---------------------------------------------------------------- article pages

    def metadata(self, response: Response) -> dict:
        """Every label/value pair of the article's metadata block, kept raw."""
        meta = {}
        # plain lxml, not parsel: an HTML report's own tables have hundreds of cells, and a Selector per cell
        # was most of what an article page cost the crawl
        for row in response.selector.root.xpath("//tr[th or td]"):
            cells = [" ".join(c.xpath(".//text()")).strip() for c in row.xpath("th|td")]
            for label, value in zip(cells[::2], cells[1::2]):
                key = re.sub(r"[\s：:\u3000]+", "", label)
                if key and any(key.startswith(m) for m in (*META_LABELS, "标题")) and len(key) <= 8:
                    meta[key] = value.strip()
        for name in ("ArticleTitle", "PubDate", "ContentSource", "ColumnName", "SiteName"):
            value = response.xpath(f"//meta[@name='{name}']/@content").get()
            if value:
                meta[name] = value
        return meta

    def published(self, meta: dict, response: Response) -> str | None:
        for key in ("公文生成日期", "生成日期", "发布日期", "成文日期", "发文日期", "PubDate"):
            if meta.get(key):
                return normalise_date(meta[key])
        return normalise_date(" ".join(response.css(".info ::text, .time ::text, .date ::text").getall()))

    def attachments(self, response: Response) -> list[str]:
        """Every file on the article page that can carry the report, viewers included."""
        urls = []
        for anchor in response.xpath("//a[@href]"):
            href = anchor.xpath("@href").get().strip()
            text = "".join(anchor.xpath(".//text()").getall()).strip().lower()
            path = urlsplit(href).path.lower()
            # CMSs hide files behind opaque download URLs; the link text still names the file
            if path.endswith(DOCUMENT_EXTENSIONS) or text.endswith(DOCUMENT_EXTENSIONS):
                urls.append(response.urljoin(href))
        for src in response.xpath("//iframe/@src | //embed/@src | //object/@data").getall():
            urls += self._embedded(response, src)
        return list(dict.fromkeys(urls))

    @staticmethod
    def _embedded(response: Response, src: str) -> list[str]:
        parts = urlsplit(src)
        if parts.path.lower().endswith(".pdf"):
            return [response.urljoin(src)]
        files = parse_qs(parts.query).get("file", [])
        return [response.urljoin(f) for f in files]
