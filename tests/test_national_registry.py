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
    result = nianbao("crawl", "--portals", path, "--region", "福建省/泉州市/洛江区", "--data", data, *FAST)
    summary = json.loads(result.stdout)
    assert list(summary["sites"]) == ["350504"] and summary["reports_found"] == 30
    assert summary["sites"]["350504"]["columns_found"] == 7
    listed = nianbao("sites", "--portals", path, "--data", data, "--list").stdout
    assert "2 entries valid: 0 province, 0 city, 2 county" in listed and "1 verified by a crawl" in listed
    assert "350504\tcounty\t泉州市洛江区人民政府" in listed and listed.rstrip().endswith("no")
    db = sqlite3.connect(data / "nianbao.db")
    assert db.execute("SELECT province, city, county FROM sites WHERE id = '350504'").fetchone() == (
        "福建省", "泉州市", "洛江区")


@needs_csv
def test_a_region_with_no_entry_fails_loudly(tmp_path):
    result = nianbao("crawl", "--portals", PORTALS_CSV, "--region", "火星省", "--data", tmp_path, check=False)
    assert result.returncode == 2 and "no registry entry lies in --region 火星省" in result.stderr
