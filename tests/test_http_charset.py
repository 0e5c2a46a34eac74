"""A page is read in the charset its server sent (issue 12: "Honour the HTTP charset and <meta>").

Real portals behind a misconfigured template declare one charset in <meta> and serve another in
the Content-Type header; browsers, Scrapy and w3lib let the header win. The crawl records that
charset in documents.metadata; offline extraction must read the archived bytes with it.
"""

from __future__ import annotations

from archive.extraction import extract_pending
from archive.store import Archive

TITLE = "某县人民政府2023年政府信息公开工作年度报告"
# GBK bytes under a Latin-1 <meta>: every byte decodes as Latin-1, so only the header can be right
PAGE = (f'<html><head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">'
        f"<title>{TITLE}</title></head><body><div class='article'><p>{TITLE}</p>"
        f"<p>一、总体情况</p><p>本年度收到行政复议申请3件。</p></div></body></html>").encode("gbk")


def _extracted_text(tmp_path, metadata: dict) -> str:
    archive = Archive(tmp_path / "a")
    archive.ensure_site({"id": "s", "name": "某县人民政府"})
    report = archive.ensure_report("某县人民政府", 2023, TITLE, {"id": "s"})
    version, _ = archive.store_payload(report_id=report, url="http://www.x.gov.cn/a.htm", role="page", data=PAGE,
                                       media_type="text/html", metadata=metadata)
    extract_pending(archive, workers=1)
    return archive.db["versions"].get(version)["text"] or ""


def test_extraction_reads_an_archived_page_in_the_http_charset_the_crawl_recorded(tmp_path):
    text = _extracted_text(tmp_path, {"charset": "gb18030"})
    assert "行政复议申请3件" in text and "总体情况" in text


def test_without_the_http_charset_the_meta_declaration_rules(tmp_path):
    # the same bytes with no recorded charset follow <meta>: the contrast shows the header is what decides
    assert "行政复议" not in _extracted_text(tmp_path, {})
