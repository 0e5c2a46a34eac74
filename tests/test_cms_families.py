"""Each CMS family on pages written from real platforms' markup (tests/files/cms/README.md),
replayed through real Scrapy responses, city-scrapers style. Each test names the real-world
behaviour it stands for; none of these pages comes from our generator."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from scrapy.http import HtmlResponse, Request, TextResponse, XmlResponse

from crawler.cms import FAMILIES, family_for
from crawler.cms.base import file_name_in_url, unfetchable
from crawler.files import disposition_filename
from crawler.recognition import index_owner, recognise, resolve_agency, skip_reason, title_agency, title_year

from .conftest import FILES


def saved(name, url, cls=HtmlResponse, state=None, headers=None):
    body = (FILES / "cms" / name).read_bytes()
    request = Request(url, meta={"cms_state": state} if state else {})
    return cls(url=url, body=body, request=request, headers=headers or {})


def test_jcms_jpage_column_posts_for_the_next_group_with_the_form_fields_it_declares():
    """jiangsu.gov.cn-style jcms: totalRecord/perPage/groupSize in jpage(), ajaxParam fields."""
    page = saved("hanweb_jpage_column.html", "http://jshrss.jiangsu.gov.cn/col/col77278/index.html")
    family = family_for(None, page)
    assert family.name == "hanweb"
    assert [i.url.rsplit("/", 1)[1] for i in family.list_items(page)][:2] == ["art_77278_11200001.html", "art_77278_10900002.html"]
    assert family.declared(page).records == 7
    (following,) = family.next_pages(page)
    assert following.url == ("http://jshrss.jiangsu.gov.cn/module/web/jpage/dataproxy.jsp"
                             "?startrecord=4&endrecord=6&perpage=1")  # 3 read, a group is perPage × groupSize
    assert following.formdata == {"col": "1", "appid": "1", "webid": "67", "path": "/", "columnid": "77278",
                                  "sourceContentType": "1", "unitid": "303271",
                                  "webname": "江苏省人力资源和社会保障厅", "permissiontype": "0"}
    answer = saved("hanweb_dataproxy_group.xml", following.url, XmlResponse, state=following.state)
    items = family.list_items(answer)
    assert [i.date for i in items] == ["2021-01-28", "2020-01-17", "2019-01-25"]  # dates split over lines
    (last,) = family.next_pages(answer)
    assert parse_qs(urlsplit(last.url).query) == {"startrecord": ["7"], "endrecord": ["9"], "perpage": ["1"]}
    empty = XmlResponse(url=last.url, body=b"<datastore><recordset></recordset></datastore>",
                        request=Request(last.url, meta={"cms_state": {**last.state, "read": 7}}))
    assert family.next_pages(empty) == []  # all 7 declared records read


def test_older_jcms_pages_by_get_from_its_nextgroup_link():
    page = saved("hanweb_nextgroup_column.html", "http://www.gansu.gov.cn/col/col4729/index.html")
    (following,) = FAMILIES["hanweb"]().next_pages(page)
    query = parse_qs(urlsplit(following.url).query)
    assert following.formdata is None and query["page"] == ["2"] and query["unitid"] == ["18064"]


def test_trs_six_argument_create_page_html_is_one_based():
    """csrc.gov.cn: createPageHTML('page_div', 5, 1, 'fg', 'shtml', 89) → fg_2.shtml; 89 records declared."""
    page = saved("trs_pagediv_list.shtml", "http://www.csrc.gov.cn/csrc/c106256/fg.shtml")
    family = family_for(None, page)
    assert family.name == "trs"
    assert [n.url for n in family.next_pages(page)] == ["http://www.csrc.gov.cn/csrc/c106256/fg_2.shtml"]
    declared = family.declared(page)
    assert (declared.records, declared.pages) == (89, 5)
    titles = [i.title for i in family.list_items(page)]
    assert titles == ["中国证监会2023年政府信息公开工作年度报告", "中国证监会政府信息公开年报（2022）"]  # nav is chrome
    last = HtmlResponse(url="http://x.gov.cn/fg_5.shtml", request=Request("http://x.gov.cn/fg_5.shtml"),
                        body=b"<script>createPageHTML('page_div', 5, 5, 'fg', 'shtml', 89);</script>")
    assert family.next_pages(last) == []


def test_trs_classic_create_page_html_with_variables_is_zero_based():
    """ndrc.gov.cn: var countPage = 9; createPageHTML(countPage, currentPage, "index", "html")."""
    page = saved("trs_classic_list.html", "https://www.ndrc.gov.cn/xxgk/zfxxgkndbg/")
    assert [n.url for n in FAMILIES["trs"]().next_pages(page)] == ["https://www.ndrc.gov.cn/xxgk/zfxxgkndbg/index_1.html"]
    assert FAMILIES["trs"]().declared(page).pages == 9


def test_a_pager_declaring_five_million_pages_asks_for_one_page_at_a_time():
    body = b'<ul><li><a href="a.html">x</a></li></ul><script>createPageHTML(5000000, 0, "index", "html");</script>'
    page = HtmlResponse(url="http://x.gov.cn/ndbg/", body=body, request=Request("http://x.gov.cn/ndbg/"))
    assert len(FAMILIES["trs"]().next_pages(page)) == 1
    assert FAMILIES["trs"]().declared(page).pages == 5000000  # a number to check against, not a loop


def test_http_header_charset_decodes_a_page_without_meta():
    page = saved("trs_gbk_header_only.html", "http://www.qzlj.gov.cn/zwgk/",
                 headers={"Content-Type": "text/html; charset=GBK"})
    assert "泉州市洛江区2023年政府信息公开工作年度报告" in page.text


def test_fujian_platform_asks_the_fjdzapp_search_for_the_rest_of_the_column():
    """*.fujian.gov.cn: static <dl><dd> items, recordCount, then POST /fjdzapp/search page/prepage."""
    page = saved("fujian_column.htm", "http://www.qzlj.gov.cn/zwgk/zfxxgkzl/zfxxgkndbg/")
    family = family_for(None, page)
    assert family.name == "fujian"
    assert [i.url for i in family.list_items(page)][0] == "http://www.qzlj.gov.cn/zwgk/zfxxgkzl/zfxxgkndbg/202401/t20240118_3055101.htm"
    assert family.declared(page).records == 5
    (following,) = family.next_pages(page)
    assert following.url == "http://www.qzlj.gov.cn/fjdzapp/search"
    assert following.formdata["classsql"] == "chnlid=29117" and following.formdata["channelid"] == "229105"
    answer = saved("fujian_search.json", following.url, TextResponse, state={**following.state, "page": 2})
    items = family.list_items(answer)
    assert [i.date for i in items] == ["2022-01-19", "2021-01-20"] and all("/t2022" in i.url or "/t2021" in i.url for i in items)
    assert family.next_pages(answer)[0].formdata["page"] == "3"


def test_vsb_pages_count_down_and_declare_their_records():
    page = saved("vsb_list.htm", "http://kjj.jdz.gov.cn/xxgk/ndbg.htm")
    family = family_for(None, page)
    assert family.name == "vsb"
    assert [n.url for n in family.next_pages(page)] == ["http://kjj.jdz.gov.cn/xxgk/ndbg/16.htm"]
    assert family.declared(page).records == 34
    article = saved("vsb_article.htm", "http://kjj.jdz.gov.cn/info/1022/5137.htm")
    assert family.attachments(article) == [
        "http://kjj.jdz.gov.cn/system/_content/download.jsp?urltype=news.DownloadAttachUrl&owner=1067602&wbfileid=2067602"]


def test_gkmlpt_reads_sid_and_the_annual_report_category_then_pages_the_json_api():
    page = saved("gkmlpt_index.html", "http://stic.sz.gov.cn/gkmlpt/index")
    family = family_for(None, page)
    assert family.name == "gkmlpt" and family.list_items(page) == []
    (following,) = family.next_pages(page)
    assert following.url == "http://stic.sz.gov.cn/gkmlpt/api/all/2713?page=1&sid=755035"
    answer = saved("gkmlpt_api.json", following.url, TextResponse, state=following.state)
    assert [i.date for i in family.list_items(answer)] == ["2024-01-29", "2023-01-27"]
    assert family.declared(answer).records == 3
    assert family.next_pages(answer)[0].url.endswith("page=2&sid=755035")  # 2 of 3 read


def test_generic_next_link_written_many_ways_and_unfetchable_items_kept_for_the_log():
    page = saved("generic_next_variants.html", "http://www.x.gov.cn/ndbg/index.html")
    family = family_for(None, page)
    assert [n.url for n in family.next_pages(page)] == ["http://www.x.gov.cn/ndbg/list_2.html"]  # 下一页>, not 尾页
    urls = [i.url for i in family.list_items(page)]
    assert [bool(unfetchable(u)) for u in urls] == [True, True, True, True, False]
    for text, href in (("下页", "p2.htm"), ("»", "p2.htm"), ("下一页>>", "p2.htm")):
        body = f'<ul><li><a href="a.htm">x</a></li></ul><div class="page"><a href="{href}">{text}</a></div>'.encode()
        one = HtmlResponse(url="http://x.gov.cn/l/p1.htm", body=body, encoding="utf-8", request=Request("http://x.gov.cn/l/p1.htm"))
        assert [n.url for n in family.next_pages(one)] == ["http://x.gov.cn/l/p2.htm"], text


def test_download_servlets_labelled_fujian_1_are_attachments_and_void_links_are_not():
    page = saved("article_downfile.html", "http://jyj.sx.gov.cn/art/2024/1/22/art_1229500_1.html")
    family = family_for("hanweb", page)
    assert family.attachments(page) == [
        "javascript:void(0)",  # labelled 年度报告全文.pdf: returned as written, for the spider to log and skip
        "http://jyj.sx.gov.cn/module/download/downfile.jsp?classid=0&fileid=4381294",
        "http://jyj.sx.gov.cn/module/download/downfile.jsp?classid=0&filename=5a8c1b2e3f.docx",
    ]
    assert unfetchable(family.attachments(page)[0]) == "javascript: link"
    assert file_name_in_url(family.attachments(page)[2]) == "5a8c1b2e3f.docx"
    meta = family.metadata(page)
    assert resolve_agency(meta["ArticleTitle"], meta, {"name": "绍兴市人民政府"}) == "绍兴市教育局"


def test_content_disposition_names_the_real_file():
    assert disposition_filename("attachment; filename*=UTF-8''2023%E5%B9%B4%E5%BA%A6%E6%8A%A5%E5%91%8A.pdf") == "2023年度报告.pdf"
    raw = "attachment; filename=\"" + "年报.pdf".encode("gbk").decode("latin-1") + "\""
    assert disposition_filename(raw) == "年报.pdf"  # GBK bytes sent raw, as many servlets do


def test_report_titles_in_every_real_form_resolve_to_year_and_agency():
    assert (title_year("2023年度政府信息公开工作年度报告"), title_agency("2023年度政府信息公开工作年度报告")) == (2023, None)
    assert (title_year("中国证监会政府信息公开年报（2022）"), title_agency("中国证监会政府信息公开年报（2022）")) == (2022, "中国证监会")
    assert skip_reason("泉州市洛江区教育局2023年政府信…") is None  # a list title cut short
    assert recognise("2023年度政府信息公开工作年度报告").agency is None  # never "度"
    assert skip_reason("关于做好2023年政府信息公开工作年度报告编制发布工作的通知") is not None
    assert resolve_agency("2023年度政府信息公开工作年度报告", {}, {"id": "x", "name": "某市教育局"}) == "某市教育局"
    meta = {"索引号": "11330600002484581T/2024-01234", "发布机构": "市教育局"}
    assert index_owner(meta) == "11330600002484581T"
    # the agency archived under that code before wins over a shorter 发布机构 this time
    assert resolve_agency("2023年度政府信息公开工作年度报告", meta, {}, indexed_agency="绍兴市教育局") == "绍兴市教育局"


def test_detection_never_depends_on_our_own_class_names():
    source = "\n".join(p.read_text(encoding="utf-8") for p in (FILES.parents[1] / "crawler" / "cms").glob("*.py"))
    for ours in ("news-list", "list-title", "xxgk_table", "fj", "pdf-view"):
        assert f"'{ours}'" not in source and f'"{ours}"' not in source, ours


def test_ucap_article_detected_by_its_content_block_and_its_metadata_read():
    """UCAP (开普云): body in #UCAP-CONTENT, ArticleTitle/PubDate in the head (tests/files/articles/)."""
    page = HtmlResponse(url="http://www.wenshui.gov.cn/zwgk/ndbg/1.shtml", request=Request("http://www.wenshui.gov.cn/"),
                        body=(FILES / "articles" / "ucap_article.html").read_bytes())
    family = family_for(None, page)
    assert family.name == "ucap"
    meta = family.metadata(page)
    assert family.published(meta, page) == "2024-03-28"
    assert resolve_agency(meta["ArticleTitle"], meta, {}) == "吕梁市文水县人民政府"
