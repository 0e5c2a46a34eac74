"""Each CMS family on saved pages (tests/files/cms/), replayed through real Scrapy responses."""

from __future__ import annotations

import pytest
from scrapy.http import HtmlResponse, Request, XmlResponse

from crawler.cms import Generic, Hanweb, Trs, Vsb, family_for
from crawler.recognition import recognise

from .conftest import FILES

BASE = "http://127.0.0.1:8765"


def saved(name: str, url_path: str, cls=HtmlResponse):
    body = (FILES / "cms" / name).read_bytes()
    return cls(url=BASE + url_path, body=body, request=Request(BASE + url_path))


def report_titles(items):
    return [i.title for i in items if recognise(i.title)]


def test_trs_list_items_and_create_page_html_pager():
    page = saved("trs_list.html", "/zwgk/zfxxgkzl/zfxxgkndbg/")
    assert Trs.detect(page) and not Hanweb.detect(page)
    items = Trs().list_items(page)
    assert len(items) == 3 and all(i.url.startswith(BASE + "/zwgk/zfxxgkzl/zfxxgkndbg/20") for i in items)
    assert all(i.date and i.date[:2] == "20" for i in items)
    pages = Trs().next_pages(page)
    assert pages[0] == BASE + "/zwgk/zfxxgkzl/zfxxgkndbg/index_1.html" and len(pages) >= 3
    assert not any("首页" in i.title or "政务公开" == i.title for i in items)  # navigation is chrome


def test_trs_gbk_page_decodes_as_gb18030():
    page = saved("trs_list_gbk.html", "/zwgk/zfxxgkzl/bmzfxxgk/kxjsj/zfxxgkndbg/")
    assert page.encoding in ("gb18030", "gbk", "cp936")
    assert "林堃" in page.text  # 堃 is in GBK and GB18030, not in GB2312
    assert all("泉州市洛江区科学技术局" in t for t in report_titles(Trs().list_items(page)))


def test_trs_article_metadata_kept_raw_and_pdf_attachment_and_viewer():
    page = saved("trs_article_pdf.htm", "/zwgk/zfxxgkzl/zfxxgkndbg/202201/t20220108_2129084.htm")
    family = family_for("trs", page)
    meta = family.metadata(page)
    assert {"索引号", "发布机构", "公文生成日期", "主题分类", "标题"} <= set(meta)
    assert family.published(meta, page) == "2022-01-08"
    pdf = BASE + "/zwgk/zfxxgkzl/zfxxgkndbg/202201/P020220108644854053523.pdf"
    assert family.attachments(page) == [pdf]  # the link and the pdf.js viewer name one file


def test_hanweb_datastore_records_and_dataproxy_pages():
    page = saved("hanweb_column.html", "/col/col1229/index.html")
    assert Hanweb.detect(page)
    assert family_for(None, page).name == "hanweb"
    items = Hanweb().list_items(page)
    assert len(items) == 3 and all("/art/" in i.url for i in items)
    assert Hanweb().next_pages(page) == [
        BASE + "/module/web/jpage/dataproxy.jsp?page=2&columnid=1229",
        BASE + "/module/web/jpage/dataproxy.jsp?page=3&columnid=1229",
    ]
    proxy = saved("hanweb_dataproxy.xml", "/module/web/jpage/dataproxy.jsp?page=2&columnid=1229", XmlResponse)
    assert len(Hanweb().list_items(proxy)) == 3 and Hanweb().next_pages(proxy) == []


def test_hanweb_article_downfile_attachment():
    page = saved("hanweb_article.html", "/art/2021/3/19/art_1229_4086973.html")
    assert Hanweb().attachments(page) == [
        BASE + "/module/download/downfile.jsp?classid=0&filename=P020210319784333444006.docx"
    ]


def test_vsb_list_pager_counts_down_and_download_jsp_attachment():
    page = saved("vsb_list.htm", "/xxgk/ndbg.htm")
    assert Vsb.detect(page) and family_for(None, page).name == "vsb"
    assert all(i.url.startswith(BASE + "/info/1022/") for i in Vsb().list_items(page))
    assert Vsb().next_pages(page) == [BASE + "/xxgk/ndbg/2.htm"]
    article = saved("vsb_article.htm", "/info/1022/5137.htm")
    assert Vsb().attachments(article) == [
        BASE + "/system/_content/download.jsp?urltype=news.DownloadAttachUrl&owner=1067602&wbfileid=2067602"
    ]


def test_generic_next_link_and_opaque_attachment_link():
    page = saved("generic_list.shtml", "/zfxxgk/ndbg/index.shtml")
    assert family_for(None, page).name == "generic"
    assert Generic().next_pages(page) == [BASE + "/zfxxgk/ndbg/index_2.shtml"]
    titles = [i.title for i in Generic().list_items(page)]
    assert any("指南" in t or "通知" in t for t in titles)  # non-reports are listed, recognition skips them
    article = saved("generic_article_jump.shtml", "/zfxxgk/ndbg/2023-01/12/content_743d01.shtml")
    assert any("jump.jsp" in url for url in Generic().attachments(article))


@pytest.mark.parametrize("name, path, family", [
    ("trs_list.html", "/zwgk/zfxxgkzl/zfxxgkndbg/", "trs"),
    ("hanweb_column.html", "/col/col1229/index.html", "hanweb"),
    ("vsb_list.htm", "/xxgk/ndbg.htm", "vsb"),
    ("generic_list.shtml", "/zfxxgk/ndbg/index.shtml", "generic"),
])
def test_family_detected_from_the_first_page(name, path, family):
    assert family_for(None, saved(name, path)).name == family
