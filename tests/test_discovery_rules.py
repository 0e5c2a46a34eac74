"""How discovery decides, on labels and list items as real portals print them.

Labels are taken from real portals' 政府信息公开 navigation (e.g. 宁波市江北区's Hanweb
portal nbjb.gov.cn: 信息公开 → 部门目录 / 部门政务公开 → 区住建局 → 法定主动公开内容), and
titles from the real reports under ../shared/seeds.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from archive import columns as stored
from archive.store import Archive
from crawler.discovery import agency_name, followable, judge_column, portal_hosts, score_link


@pytest.mark.parametrize("text, url, kind", [
    ("政府信息公开", "http://www.nbjb.gov.cn/col/col1229214366/index.html", "gateway"),
    ("信息公开", "http://www.nbjb.gov.cn/col/col1229214366/index.html", "gateway"),
    ("法定主动公开内容", "http://x.gov.cn/zwgk/fdzdgknr/", "gateway"),
    ("部门政务公开", "http://x.gov.cn/col/col1229/", "branch"),
    ("部门目录", "http://x.gov.cn/col/col1230/", "branch"),
    ("乡镇（街道）信息公开", "http://x.gov.cn/xzxxgk/", "branch"),
    ("政府信息公开年报", "http://x.gov.cn/zwgk/zfxxgkndbg/", "column"),
    ("政府信息公开工作年度报告", "http://x.gov.cn/xxgk/ndbg/", "column"),
])
def test_navigation_labels_are_followed(text, url, kind):
    assert score_link(text, url).kind == kind


@pytest.mark.parametrize("text", ["政 务 公 开", "政　务　公　开", "\n  政务公开\n"])
def test_spaced_navigation_labels_are_read(text):
    # real navigation bars space their labels out (qqhr.gov.cn: 首 页 政 务 公 开 网 上 办 事 …)
    assert score_link(text, "http://qqhr.gov.cn/zwgk/").kind == "gateway"


def test_an_agency_is_followed_only_below_a_department_or_township_index():
    assert score_link("区住建局", "http://www.nbjb.gov.cn/col/col1229214400/") is None
    assert score_link("区住建局", "http://www.nbjb.gov.cn/col/col1229214400/", under_branch=True).kind == "agency"
    assert score_link("马甲镇", "http://x.gov.cn/xzxxgk/mjz/", under_branch=True).kind == "agency"


@pytest.mark.parametrize("text", [
    # people's organisations whose 年报 columns stand beside the departments' (names as their portals print them:
    # mengcheng.gov.cn, kaifu.gov.cn, bzqc.gov.cn, schy.gov.cn, zwgk.changchun.gov.cn)
    "蒙城县总工会", "开福区总工会", "亳州市谯城区残疾人联合会", "洪雅县残疾人联合会", "市残联", "区妇联", "县红十字会",
    "县科协", "县工商联", "县供销合作社联合社", "县科学技术协会",
    # long full names of real counties' departments (more than 20 characters)
    "克孜勒苏柯尔克孜自治州乌恰县市场监督管理局", "怒江傈僳族自治州贡山独龙族怒族自治县教育体育局",
])
def test_a_people_s_organisation_or_a_long_name_below_an_index_is_an_agency(text):
    assert score_link(text, "http://x.gov.cn/zwgk/bmxxgk/a/", under_branch=True).kind == "agency"


@pytest.mark.parametrize("text", ["新闻发布会", "座谈会", "理事会章程"])
def test_a_meeting_below_an_index_is_not_an_agency(text):
    assert score_link(text, "http://x.gov.cn/zwgk/bmxxgk/a/", under_branch=True) is None


@pytest.mark.parametrize("text", [
    "企业年报", "企业年度报告公示", "2023年度企业年报公示", "统计年报", "统计公报", "法治政府建设年度报告",
    "财政预决算", "部门预算", "部门决算", "政务公开工作要点", "通知公告",
    "关于做好2023年政府信息公开工作年度报告编制发布工作的通知", "政府信息公开指南",
])
def test_look_alikes_are_never_followed(text):
    assert score_link(text, "http://x.gov.cn/zwgk/xxgk/ndbg/") is None


def test_a_report_link_is_not_navigation():
    # a report lives in a column; the column is what discovery looks for
    assert score_link("嘉兴市科学技术局2020年度政府信息公开工作年度报告", "http://x.gov.cn/art/2021/1/20/art_1229_1.html") is None


def test_a_column_is_a_list_of_reports():
    # titles as the seeds' real reports print them, with what real columns file beside them
    column = ["嘉兴市科学技术局2020年度政府信息公开工作年度报告", "景德镇市科学技术局2021年政府信息公开工作年度报告",
              "政府信息公开指南", "2023年部门预算"]
    assert judge_column(column).is_column and judge_column(column).reports == 2
    assert not judge_column(["洛江区2023年统计年报", "2023年法治政府建设年度报告", "2023年度企业年度报告公示名单"]).is_column
    assert not judge_column(["关于做好2023年政府信息公开工作年度报告编制发布工作的通知"]).is_column
    news = ["要闻" + str(n) for n in range(9)] + ["洛江区2023年政府信息公开工作年度报告"]
    assert not judge_column(news).is_column  # one report among news is a news list, not a column
    assert not judge_column([]).is_column


def test_agency_names_from_the_link_path():
    assert agency_name("泉州市洛江区人民政府", None) == "泉州市洛江区人民政府"
    assert agency_name("泉州市洛江区人民政府", "科学技术局") == "泉州市洛江区科学技术局"
    assert agency_name("泉州市洛江区人民政府", "区教育局") == "泉州市洛江区教育局"
    assert agency_name("泉州市洛江区人民政府", "马甲镇") == "泉州市洛江区马甲镇人民政府"
    assert agency_name("泉州市洛江区人民政府", "万安街道") == "泉州市洛江区万安街道办事处"
    assert agency_name("宁波市江北区人民政府", "宁波市江北区住房和城乡建设局") == "宁波市江北区住房和城乡建设局"


def test_discovery_stays_on_the_portal():
    hosts = portal_hosts(["http://qzlj.gov.cn/"], ["files.qzlj.gov.cn"])
    assert hosts == {"qzlj.gov.cn", "www.qzlj.gov.cn", "files.qzlj.gov.cn"}
    assert followable("http://www.qzlj.gov.cn/zwgk/#top", hosts) == "http://www.qzlj.gov.cn/zwgk/"
    assert followable("http://www.quanzhou.gov.cn/zwgk/", hosts) is None
    assert followable("javascript:void(0)", hosts) is None
    assert followable("http://www.qzlj.gov.cn/a/b.pdf", hosts) is None


def test_rediscovery_schedule(tmp_path):
    archive = Archive(tmp_path)
    archive.ensure_site({"id": "s", "name": "S"})
    assert stored.due(archive, "s", 30)  # never walked
    stored.record_discovery(archive, "s", None, "2026-01-01T00:00:00+00:00", 20, 3, "found", "3 column(s)")
    finished = datetime.fromisoformat(stored.last_discovery(archive, "s")["finished"])
    assert not stored.due(archive, "s", 30, at=finished + timedelta(days=29))
    assert stored.due(archive, "s", 30, at=finished + timedelta(days=30))
    stored.record_discovery(archive, "s", None, "2026-01-02T00:00:00+00:00", 5, 0, "none", "no 年报 column found")
    assert stored.due(archive, "s", 30, at=datetime.now(UTC))  # a walk that found nothing is tried again


def test_vanished_columns_are_flagged_and_come_back(tmp_path):
    archive = Archive(tmp_path)
    archive.ensure_site({"id": "s", "name": "S"})
    for url in ("http://x/a/", "http://x/b/"):
        stored.record_found(archive, "s", {"url": url, "title": "t", "agency": "A"}, None)
    assert stored.flag_vanished(archive, "s", {"http://x/a/"}) == ["http://x/b/"]
    assert [c["url"] for c in stored.known(archive, "s")] == ["http://x/a/"]
    assert archive.db.execute("SELECT count(*) FROM columns").fetchone()[0] == 2
    stored.record_found(archive, "s", {"url": "http://x/b/", "title": "t", "agency": "A"}, None)
    assert archive.db.execute("SELECT status, vanished_since FROM columns WHERE url = 'http://x/b/'").fetchone() == (
        "active", None)
