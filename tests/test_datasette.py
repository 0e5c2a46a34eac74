"""`serve` shows the archive in Datasette (datasette.app.Datasette, in process)."""

from __future__ import annotations

import asyncio

from datasette.app import Datasette

from archive.serve import METADATA

from .conftest import EXPECTED


def get_json(data_dir, path):
    import yaml

    # immutable, as `nianbao serve` opens it: an immutable reader sees no WAL
    ds = Datasette(immutables=[str(data_dir / "nianbao.db")], metadata=yaml.safe_load(METADATA.read_text(encoding="utf-8")))

    async def fetch():
        response = await ds.client.get(path)
        return response.status_code, response.json()

    return asyncio.run(fetch())


def test_report_figures_view_lists_every_report(crawled):
    status, rows = get_json(crawled["data"], "/nianbao/report_figures.json?_shape=array&_size=max")
    assert status == 200
    assert len(rows) == len(EXPECTED)
    jiaxing = next(r for r in rows if r["agency"] == "嘉兴市科学技术局" and r["year"] == 2020)
    assert (jiaxing["applications_received"], jiaxing["granted"], jiaxing["total_processed"]) == (3, 3, 3)
    assert jiaxing["province"] == "浙江省"


def test_failing_reports_facet(crawled):
    status, rows = get_json(crawled["data"], "/nianbao/report_figures.json?_shape=array&check_status=fail")
    assert {(r["agency"], r["year"]) for r in rows} == {
        (e["agency"], e["year"]) for e in EXPECTED if e["must_fail"]
    }
