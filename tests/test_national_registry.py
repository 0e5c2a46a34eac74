"""The national registry: ../shared/registry/portals.csv read where it lies, joined with YAML entries,
cut by region and shard, counted by `nianbao sites`."""

from __future__ import annotations

import csv
import json
import sqlite3
from collections import Counter

import pytest

from crawler import sites
from crawler.sites import RegistryError
from crawler.sites.national import load_csv

from .conftest import FAST, ROOT, nianbao
from .conftest import SAMPLE_SITES as SAMPLE_SITES_YML

PORTALS_CSV = ROOT.parent / "shared" / "registry" / "portals.csv"
HEADER = "adcode,province,city,county,level,name,portal_url,gk_url,nianbao_url,source\n"

needs_csv = pytest.mark.skipif(not PORTALS_CSV.exists(), reason="../shared/registry/portals.csv is not beside the checkout")


def rows():
    with PORTALS_CSV.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@needs_csv
def test_every_one_of_the_national_entries_validates():
    loaded = load_csv(PORTALS_CSV)
    raw = rows()
    assert len(loaded) == len(raw) == 3209
    assert Counter(s.level for s in loaded) == {"province": 31, "city": 333, "county": 2845}
    assert [s.id for s in loaded] == [r["adcode"] for r in raw]
    assert all(s.portal == r["portal_url"] and not s.start_urls for s, r in zip(loaded, raw))
    assert sum(1 for s in loaded if s.gk_url) == 110
    quanzhou_lj = next(s for s in loaded if s.id == "350504")
    assert (quanzhou_lj.name, quanzhou_lj.region) == ("泉州市洛江区人民政府", "福建省/泉州市/洛江区")
    dongcheng = next(s for s in loaded if s.id == "110101")
    assert dongcheng.region == "北京市//东城区"  # a municipality's district keeps its county third


@needs_csv
def test_sites_command_counts_by_province_and_level():
    result = nianbao("sites", "--portals", PORTALS_CSV)
    assert "3209 entries valid: 31 province, 333 city, 2845 county, 0 column entries" in result.stdout
    raw = rows()
    fujian = Counter(r["level"] for r in raw if r["province"] == "福建省")
    line = next(line for line in result.stdout.splitlines() if line.startswith("福建省"))
    assert line.split()[1:5] == [str(fujian["province"]), str(fujian["city"]), str(fujian["county"]), "0"]
    assert next(line for line in result.stdout.splitlines() if line.startswith("total")).split()[-1] == "0"


@needs_csv
@pytest.mark.parametrize("region", ["福建省/泉州市", "3505"])
def test_region_selects_part_of_the_country(region):
    want = [r["adcode"] for r in rows() if r["province"] == "福建省" and r["city"] == "泉州市"]
    got = sites.select(portals=PORTALS_CSV, region=region)
    assert [s.id for s in got] == want and len(want) == 12


@needs_csv
def test_a_government_in_both_registries_is_one_site():
    joined = sites.select([sites.HERE / "known.yml"], portals=PORTALS_CSV)
    assert len(joined) == 3209 + 3  # the district's own column merged; its three departments beside it
    assert "350504" not in {s.id for s in joined}
    district = next(s for s in joined if s.id == "qzlj-zfxxgkndbg")
    assert district.adcode == "350504" and district.portal == "https://www.qzlj.gov.cn/"
    assert district.start_urls == ("http://www.qzlj.gov.cn/zwgk/zfxxgkzl/zfxxgkndbg/",)


@needs_csv
def test_shards_of_the_national_registry_partition_it():
    whole = {s.id for s in sites.select(portals=PORTALS_CSV)}
    parts = [{s.id for s in sites.select(portals=PORTALS_CSV, shard=f"{i}/3")} for i in range(3)]
    assert set().union(*parts) == whole and sum(map(len, parts)) == len(whole)


@needs_csv
def test_a_platform_s_portals_land_in_one_shard():
    """Politeness is per registrable domain (issue 27): the registry's 16 Hainan counties served under
    hainan.gov.cn, 12 under changdu.gov.cn and 10 under nc.gov.cn must each be one shard's, or two machines
    would ask one platform at once."""
    platforms = {"hainan.gov.cn": 16, "changdu.gov.cn": 12, "nc.gov.cn": 10}
    for count in (2, 3, 4, 8):
        shards: dict[str, set] = {platform: set() for platform in platforms}
        for i in range(count):
            for s in sites.select(portals=PORTALS_CSV, shard=f"{i}/{count}"):
                for platform in platforms:
                    if s.portal.split("/")[2].endswith("." + platform):
                        shards[platform].add(i)
        assert all(len(found) == 1 for found in shards.values()), (count, shards)
    assert {p: sum(1 for r in rows() if r["portal_url"].split("/")[2].endswith("." + p)) for p in platforms} == platforms


@pytest.mark.parametrize("row, message", [
    ("35050,福建省,泉州市,洛江区,county,X,https://x.gov.cn/,,,s", "line 2 (35050): adcode must be 6 digits"),
    ("350504,福建省,泉州市,洛江区,town,X,https://x.gov.cn/,,,s", "line 2 (350504): level must be one of"),
    ("350504,福建省,泉州市,洛江区,county,X,ftp://x.gov.cn/,,,s", "line 2 (350504): not an http(s) URL"),
    ("350504,福建省,泉州市,,county,X,https://x.gov.cn/,,,s", "a county-level row needs 'county'"),
    ("350504,福建省,泉州市,洛江区,county,,https://x.gov.cn/,,,s", "line 2 (350504): missing 'name'"),
])
def test_bad_csv_rows_name_file_line_and_code(tmp_path, row, message):
    path = tmp_path / "portals.csv"
    path.write_text(HEADER + row + "\n", encoding="utf-8")
    with pytest.raises(RegistryError) as error:
        load_csv(path)
    assert str(path) in str(error.value) and message in str(error.value)
    result = nianbao("sites", "--portals", path, check=False)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("entry, message", [
    ("- {id: a, name: A}", "entry 1 (a): missing 'start_urls' (or 'portal'"),
    ("- {id: a, name: A, portal: 'ftp://x/'}", "not an http(s) URL"),
    ("- {id: a, name: A, portal: ['http://x/']}", "portal must be one URL"),
    ("- {id: a, name: A, portal: 'http://x/', allowed_hosts: 'y'}", "allowed_hosts must be a list of host names"),
])
def test_bad_portal_entries_name_file_and_entry(tmp_path, entry, message):
    path = tmp_path / "sites.yml"
    path.write_text(f"sites:\n  {entry}\n", encoding="utf-8")
    with pytest.raises(RegistryError) as error:
        sites.load(path)
    assert str(path) in str(error.value) and message in str(error.value)


def test_portal_entry_loads_with_hosts():
    loaded = sites.load(ROOT / "sampleportal" / "portals.yml", portal="http://127.0.0.1:9999")
    assert [(s.id, s.portal, s.start_urls, s.hosts) for s in loaded] == [
        ("350504", "http://127.0.0.1:9999/", (), ("127.0.0.1",))]


def test_crawl_from_a_portals_csv_with_region(portal, tmp_path):
    path = tmp_path / "portals.csv"
    path.write_text(HEADER + f"350504,福建省,泉州市,洛江区,county,泉州市洛江区人民政府,{portal.url}/,,,test\n"
                    + "350505,福建省,泉州市,泉港区,county,泉州市泉港区人民政府,http://192.0.2.1/,,,test\n",
                    encoding="utf-8")
    data = tmp_path / "data"
    result = nianbao("crawl", "--portals", path, "--allow-any-host", "--region", "福建省/泉州市/洛江区", "--data", data,
                     *FAST)
    summary = json.loads(result.stdout)
    assert list(summary["sites"]) == ["350504"] and summary["reports_found"] == 30
    assert summary["sites"]["350504"]["columns_found"] == 7
    listed = nianbao("sites", "--portals", path, "--allow-any-host", "--data", data, "--list").stdout
    assert "2 entries valid: 0 province, 0 city, 2 county" in listed and "1 verified by a crawl" in listed
    assert "350504\tcounty\t泉州市洛江区人民政府" in listed and listed.rstrip().endswith("no")
    db = sqlite3.connect(data / "nianbao.db")
    assert db.execute("SELECT province, city, county FROM sites WHERE id = '350504'").fetchone() == (
        "福建省", "泉州市", "洛江区")


@needs_csv
def test_a_region_with_no_entry_fails_loudly(tmp_path):
    result = nianbao("crawl", "--portals", PORTALS_CSV, "--region", "火星省", "--data", tmp_path, check=False)
    assert result.returncode == 2 and "no registry entry lies in --region 火星省" in result.stderr


# ---------------------------------------------------------------------- what a row may name (issue 29)

GOOD = "350504,福建省,泉州市,洛江区,county,泉州市洛江区人民政府,http://www.qzlj.gov.cn/,,,test\n"


@pytest.mark.parametrize("row, message", [
    ("350505,福建省,泉州市,泉港区,county,X,http://127.0.0.1:22/,,,s", "line 3 (350505): http://127.0.0.1:22/ is on a private"),
    ("350505,福建省,泉州市,泉港区,county,X,http://169.254.169.254/latest/,,,s",
     "line 3 (350505): http://169.254.169.254/latest/ is on a private, loopback or link-local address"),
    ("350505,福建省,泉州市,泉港区,county,X,http://[::1]/,,,s", "line 3 (350505): http://[::1]/ is on a private"),
    ("350505,福建省,泉州市,泉港区,county,X,http://localhost/,,,s", "line 3 (350505): http://localhost/ is on a private"),
    ("350505,福建省,泉州市,泉港区,county,X,http://www.qg.gov.cn/,http://10.0.0.1/gk/,,s",
     "line 3 (350505): http://10.0.0.1/gk/ is on a private"),
    ("350505,福建省,泉州市,泉港区,county,X,https://www.example.com/,,,s",
     "line 3 (350505): https://www.example.com/ is not on a government (gov.cn) domain"),
    ("350505,福建省,泉州市,泉港区,county,X,https://gov.cn.evil.com/,,,s", "is not on a government (gov.cn) domain"),
    ("350505,福建省,泉州市,泉港区,county,X,http://www.qg.gov.cn/,,http://www.other.gov.cn/ndbg/,s",
     "line 3 (350505): nianbao_url http://www.other.gov.cn/ndbg/ is on other.gov.cn, not on the portal's domain"),
    ("350505,福建省,泉州市,泉港区,county,X,http://www.qg.gov.cn/,,,s,extra", "line 3 (350505): 1 field(s) more"),
])
def test_rows_that_point_the_crawler_elsewhere_are_refused_naming_the_row(tmp_path, row, message):
    path = tmp_path / "portals.csv"
    path.write_text(HEADER + GOOD + row + "\n", encoding="utf-8")
    with pytest.raises(RegistryError) as error:
        load_csv(path)
    assert str(error.value).startswith(str(path)) and message in str(error.value)
    result = nianbao("sites", "--portals", path, check=False)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1  # one line: the good row is not refused


def test_every_refused_row_is_its_own_line(tmp_path):
    path = tmp_path / "portals.csv"
    path.write_text(HEADER + "350505,福建省,泉州市,泉港区,county,X,http://127.0.0.1:22/,,,s\n" + GOOD
                    + "350506,福建省,泉州市,石狮市,county,Y,https://www.example.com/,,,s\n", encoding="utf-8")
    result = nianbao("crawl", "--portals", path, "--data", tmp_path / "data", check=False)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 2, result.stderr
    assert "line 2 (350505)" in lines[0] and "line 4 (350506)" in lines[1]
    assert not (tmp_path / "data" / "nianbao.db").exists()  # refused before anything was opened


def test_the_allow_flag_takes_a_local_portal_and_nothing_turns_the_checks_off_for_a_row(tmp_path):
    path = tmp_path / "portals.csv"
    path.write_text(HEADER + "350505,福建省,泉州市,泉港区,county,X,http://127.0.0.1:22/,,,s\n", encoding="utf-8")
    [site] = load_csv(path, allow_any_host=True)
    assert site.hosts == ("127.0.0.1",)
    # an extra column or a foreign nianbao_url is refused even so: the flag is about hosts, not about trust
    path.write_text(HEADER + "350505,福建省,泉州市,泉港区,county,X,http://127.0.0.1:22/,,http://10.1.1.1/x/,s\n"
                    + "350506,福建省,泉州市,石狮市,county,Y,http://www.ss.gov.cn/,,,s,extra\n", encoding="utf-8")
    with pytest.raises(RegistryError) as error:
        load_csv(path, allow_any_host=True)
    assert "line 2 (350505): nianbao_url" in str(error.value) and "line 3 (350506): 1 field(s) more" in str(error.value)


@pytest.mark.parametrize("region", ["", "/", "//", " ", " / "])
def test_an_empty_or_separator_only_region_is_refused(region):
    result = nianbao("sites", "--sites", SAMPLE_SITES_YML, "--portal-url", "http://127.0.0.1:1", "--region", region,
                     check=False)
    assert result.returncode == 2 and "names no region" in result.stderr and "Traceback" not in result.stderr
    with pytest.raises(RegistryError, match="names no region"):
        sites.select([SAMPLE_SITES_YML], portal="http://127.0.0.1:1", region=region)


@needs_csv
def test_the_real_national_registry_passes_the_row_checks():
    assert len(load_csv(PORTALS_CSV)) == 3209
