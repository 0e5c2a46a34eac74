"""Search latency on 100,000 reports of real length and real wording: p50/p95 per query kind,
ranked by bm25 and sorted by year, against a LIKE scan of the same texts, in the same run.

    PYTHONPATH=. .venv/bin/python bench/search_latency.py [--reports 100000] [--runs 30]

The corpus is built from the real reports beside the checkout (../shared/seeds/*.txt,
../shared/real/docs: the pingtan text dump and the two PDFs, read in place with pdfplumber,
never copied): each synthetic report takes one real report's passages in order and fills up
with passages of the others, at a length drawn from their distribution (2,000-9,000 characters,
a few provincial-sized ones of 10,000-15,000), with the agency, year and every figure replaced.
2% of the reports also get an earlier version (one passage reworded), as revisions do.
The archive is built once into bench/.cache/ (several minutes); later runs reuse it.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import time
from pathlib import Path

import sqlite_utils

from archive.search import COUNT_CAP, Filters, create, index, index_pairs, like_scan, search_page

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CACHE = Path(__file__).resolve().parent / ".cache"
PROVINCES = {"福建省": "泉州厦门福州莆田", "浙江省": "杭州宁波嘉兴温州", "江西省": "南昌赣州景德镇九江",
             "吉林省": "长春吉林四平通化", "广东省": "广州深圳佛山东莞", "四川省": "成都绵阳德阳宜宾",
             "河南省": "郑州洛阳开封新乡", "湖北省": "武汉宜昌襄阳荆州"}
BUREAUS = ["科学技术局", "教育局", "卫生健康委员会", "人民政府", "财政局", "自然资源局", "市场监督管理局", "民政局",
           "人力资源和社会保障局", "住房和城乡建设局", "交通运输局", "生态环境局"]
SOURCE_AGENCIES = re.compile(r"(赣州市科学技术局|赣州市科技局|嘉兴市科学技术局|市科技局|南关区科技局|长春市南关区科技局|"
                             r"洛江区科学技术局|景德镇市科技局|平潭综合实验区|淮安市人民政府|洪泽区人民政府|我局|我区|本机关)")
YEAR = re.compile(r"20[12]\d")
NUMBER = re.compile(r"(?<![\d年])\d{1,7}(?![\d年])")
RARE = "堃珺昶瑄琍翀玥旻晗璟"
QUERIES = {
    "1 char, rare": "堃",
    "1 char, common": "复",
    "2 chars": "复议",
    "2 chars, less common": "南关",
    "3+ chars": "行政复议",
    "3 chars, selective": "景德镇",
    "two terms": "泉州 卫生",
    "2 common chars, rare pair": "关区",
    "2 common chars, never adjacent": "议政",
    "no hit": "复议堃堃",
}


def sources() -> list[list[str]]:
    """Each real report as its list of non-empty lines (passages and table rows)."""
    texts = [p.read_text(encoding="utf-8") for p in sorted((SHARED / "seeds").glob("*.txt"))]
    texts.append((SHARED / "real" / "docs" / "pingtan_2021.txt").read_text(encoding="utf-8").split("正文", 1)[-1])
    import pdfplumber

    for pdf in sorted((SHARED / "real" / "docs").glob("*.pdf")):
        with pdfplumber.open(pdf) as doc:
            texts.append("\n".join(page.extract_text() or "" for page in doc.pages))
    # the pingtan dump is one run-on paragraph: cut it at sentence ends like the others
    return [[line for line in re.split(r"\n|(?<=。)", text) if line.strip()] for text in texts]


def target_length(rng: random.Random) -> int:
    if rng.random() < 0.03:
        return rng.randint(10_000, 15_000)  # provincial reports
    return int(min(max(rng.lognormvariate(8.25, 0.4), 2_000), 9_000))  # median ~3,800 like the seeds


def report_text(rng: random.Random, docs: list[list[str]], agency: str, year: int) -> str:
    base = rng.randrange(len(docs))
    length, lines, size = target_length(rng), [], 0
    pool = iter(docs[base])
    while size < length:
        line = next(pool, None)
        if line is None:
            line = rng.choice(docs[rng.randrange(len(docs))])
        line = SOURCE_AGENCIES.sub(agency, line)
        line = YEAR.sub(lambda m: str(year if m.group() >= "2019" else year - 1), line)
        line = NUMBER.sub(lambda m: str(rng.randint(0, 10 ** len(m.group()) - 1)), line)
        lines.append(line)
        size += len(line) + 1
    if rng.random() < 0.01:
        lines.insert(rng.randrange(len(lines)), f"联系人：王{rng.choice(RARE)}，电话：0591-{rng.randint(1000000, 9999999)}。")
    return f"{agency}{year}年政府信息公开工作年度报告\n" + "\n".join(lines)


def build(path: Path, n: int) -> sqlite_utils.Database:
    if path.exists():  # an archive built by an earlier checkout: add the indexes it lacks
        db = sqlite_utils.Database(path)
        if "search_pairs" not in db.table_names():
            started = time.perf_counter()
            index_pairs(db)
            db.execute("ANALYZE")
            print(f"added the pair index in {time.perf_counter() - started:.0f}s")
        return db
    path.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    docs = sources()
    db = sqlite_utils.Database(path)
    create(db)
    rng = random.Random(1)
    provinces = list(PROVINCES)

    def rows():
        for i in range(1, n + 1):
            province = rng.choice(provinces)
            places = PROVINCES[province]
            place = places[rng.randrange(0, len(places) - 1, 2):][:2] if province != "江西省" or rng.random() < 0.7 \
                else "景德镇"
            agency = f"{place}市{rng.choice(BUREAUS)}" if rng.random() > 0.002 else "长春市南关区科技局"
            year = rng.randint(2019, 2024)
            text = report_text(rng, docs, agency, year)
            common = (agency, year, province, place + "市", None, f"{agency}{year}年政府信息公开工作年度报告",
                      "2021" if year > 2020 else "2019", rng.choice(["pass"] * 8 + ["fail", "not_assessable"]),
                      "2024-01-01", "2024-01-01")
            yield (i, i, i, 1, *common, None), text
            if rng.random() < 0.02:  # an earlier version: one passage worded differently
                yield (n + i, i, n + i, 0, *common, i), text.replace("。", "，现已更正。", 1)

    with db.conn:
        for row, text in rows():
            db.conn.execute(f"INSERT INTO search_reports VALUES ({','.join('?' * 15)})", row)
            db.conn.execute("INSERT INTO search_texts VALUES (?, ?)", (row[0], text))
    generated = time.perf_counter() - started
    index(db)
    db.execute("ANALYZE")
    chars = db.execute("SELECT avg(length(text)), max(length(text)) FROM search_texts").fetchone()
    print(f"built {n:,} reports (avg {chars[0]:,.0f} chars, max {chars[1]:,}) in {generated:.0f}s, "
          f"indexed in {time.perf_counter() - started - generated:.0f}s ({path.stat().st_size / 2**30:.2f} GiB)")
    return db


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
    parser.add_argument("--like-runs", type=int, default=5)
    args = parser.parse_args()
    db = build(CACHE / f"search-real-{args.reports}.db", args.reports)
    conn = db.conn
    modes = {
        "bm25, page 1": dict(sort="relevance"),
        "by year, page 1": dict(sort="newest"),
        "bm25, page 3": dict(sort="relevance", page=3),
        "bm25, year+province": dict(sort="relevance", filters=Filters(year=2021, province="江西省")),
    }
    print(f"{'query':28} {'hits':>7} " + " ".join(f"{m + ' p50/p95':>26}" for m in modes) + f" {'LIKE scan p50/p95':>22}")
    worst = 0.0
    for kind, q in QUERIES.items():
        result = search_page(conn, q)
        like_all = like_scan(conn, q, limit=10**9)
        # every report the scan finds is found (hits in earlier versions only come on top)
        assert result.total >= min(len(like_all), COUNT_CAP), (kind, len(like_all), result.total)
        cells = []
        for options in modes.values():
            p50, p95 = percentiles(lambda o=options, q=q: search_page(conn, q, **o), args.runs)
            worst = max(worst, p95)
            cells.append(f"{p50:10.1f} / {p95:7.1f} ms")
        l50, l95 = percentiles(lambda q=q: like_scan(conn, q), args.like_runs)
        print(f"{kind + ' ' + q:28} {result.total:7,} " + " ".join(f"{c:>26}" for c in cells)
              + f" {l50:9.0f} / {l95:6.0f} ms")
    print(f"worst p95 of the indexed search: {worst:.1f} ms (aim < 100 ms)")


if __name__ == "__main__":
    main()
