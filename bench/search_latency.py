"""Search latency on a synthetic archive of 100,000 reports: p50/p95 per query kind,
against a plain LIKE full scan of the same table, in the same run.

    .venv/bin/python bench/search_latency.py [--reports 100000] [--runs 30]

The archive is built once into bench/.cache/ (a few minutes); later runs reuse it.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from pathlib import Path

import sqlite_utils

from archive.search import index, search

CACHE = Path(__file__).resolve().parent / ".cache"
PROVINCES = ["福建省", "浙江省", "江西省", "吉林省", "广东省", "四川省", "河南省", "湖北省"]
PLACES = "泉州厦门福州杭州宁波嘉兴南昌赣州景德镇长春吉林广州深圳成都绵阳郑州洛阳武汉宜昌"
BUREAUS = ["科学技术局", "教育局", "卫生健康委员会", "人民政府", "财政局", "自然资源局", "市场监督管理局", "民政局"]
SENTENCES = [
    "{y}年，{a}认真贯彻落实《中华人民共和国政府信息公开条例》，坚持以公开为常态、不公开为例外。",
    "全年共收到政府信息公开申请{n}件，其中予以公开{m}件，均在法定期限内答复。",
    "本年度因政府信息公开被申请行政复议{k}件，提起行政诉讼{j}件。",
    "严格落实公开前保密审查制度，规范公开属性认定，动态更新政府信息公开目录。",
    "持续优化政府信息公开专栏，完善栏目设置，提升检索和下载功能。",
    "存在公开内容不够全面、政策解读形式较为单一、依申请公开答复规范化水平有待提高等问题。",
    "下一步，将进一步加强业务培训，规范依申请公开办理流程，丰富政策解读形式。",
    "通过门户网站、政务新媒体等渠道主动公开政府信息{n}条，发布政策解读{k}篇。",
    "联系人：{p}，电话：0{j}{n}{m}。",
]
RARE_NAMES = "堃珺昶瑄琍翀玥旻晗璟"
QUERIES = {
    "1 char, rare": "堃",
    "1 char, common": "复",
    "2 chars": "复议",
    "2 chars, rare": "南关",
    "3+ chars": "行政复议",
    "3 chars, selective": "景德镇",
    "two terms": "泉州 卫生",
    "2 common chars, rare pair": "议政",
    "no hit": "复议堃堃",
}


def text_for(rng: random.Random, agency: str, year: int) -> str:
    parts = []
    for template in rng.sample(SENTENCES, 6):
        parts.append(template.format(y=year, a=agency, n=rng.randint(0, 300), m=rng.randint(0, 200),
                                     k=rng.randint(0, 5), j=rng.randint(0, 3),
                                     p="王" + rng.choice(RARE_NAMES) if rng.random() < 0.01 else "李明"))
    return "".join(parts) + "\n四、政府信息公开行政复议、行政诉讼情况\n" + " ".join(str(rng.randint(0, 9)) for _ in range(15))


def build(path: Path, n: int) -> sqlite_utils.Database:
    if path.exists():
        return sqlite_utils.Database(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite_utils.Database(path)
    db.execute("CREATE TABLE search_reports (report_id INTEGER PRIMARY KEY, agency TEXT, year INTEGER, province TEXT, "
               "city TEXT, county TEXT, title TEXT, template TEXT, check_status TEXT, text TEXT)")
    rng = random.Random(1)
    rows = []
    for i in range(1, n + 1):
        place = PLACES[rng.randrange(0, len(PLACES) - 1, 2):][:2]
        agency = f"{place}市{rng.choice(BUREAUS)}" if rng.random() > 0.002 else "南关区科技局"
        year = rng.randint(2019, 2024)
        rows.append((i, agency, year, rng.choice(PROVINCES), place + "市", None,
                     f"{agency}{year}年政府信息公开工作年度报告", "2021" if year > 2020 else "2019", "pass",
                     text_for(rng, agency, year)))
    with db.conn:
        db.conn.executemany("INSERT INTO search_reports VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
    started = time.perf_counter()
    index(db)
    print(f"built {n} reports and both indexes in {time.perf_counter() - started:.0f}s "
          f"({path.stat().st_size / 2**20:.0f} MiB)")
    return db


def like_scan(db, q: str, limit: int = 50):
    terms = q.split()
    where = " AND ".join("(title || agency || text) LIKE ?" for _ in terms)
    return db.execute(f"SELECT report_id FROM search_reports WHERE {where} ORDER BY report_id DESC LIMIT {limit}",
                      [f"%{t}%" for t in terms]).fetchall()


def percentiles(fn, runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    db = build(CACHE / f"search-{args.reports}.db", args.reports)
    print(f"{'query':22} {'hits':>5} {'fts p50':>9} {'fts p95':>9} {'LIKE p50':>9} {'LIKE p95':>9}")
    for kind, q in QUERIES.items():
        hits = len(search(db, q))
        assert {r["report_id"] for r in search(db, q)} == {r[0] for r in like_scan(db, q)}, kind
        f50, f95 = percentiles(lambda q=q: search(db, q), args.runs)
        l50, l95 = percentiles(lambda q=q: like_scan(db, q), max(args.runs // 3, 3))
        print(f"{kind + ' ' + q:22} {hits:5d} {f50:8.1f}ms {f95:8.1f}ms {l50:8.1f}ms {l95:8.1f}ms")
    f50, f95 = percentiles(lambda: search(db, "复议", year=2019, province="江西省"), args.runs)
    print(f"{'复议 + year + province':22} {'':5} {f50:8.1f}ms {f95:8.1f}ms")


if __name__ == "__main__":
    main()
