"""Extraction throughput on the sample portal's mixed formats (HTML, PDF, DOCX, DOC, XLS(X), scans):
documents per second per core with the long-lived worker pool, against the old fork-per-document
run over the same documents in the same run, and that both give the same records.

    .venv/bin/python bench/extraction_throughput.py [--workers 2] [--repeat 3]

The sample portal is crawled once (real Scrapy engine, --no-extract) into a temporary archive.
Each archived payload is read ``--repeat`` times (as distinct jobs: no job shares another's result,
so this measures reading, not the skip of unchanged payloads, which is reported on its own line).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def crawl_sample(data: Path) -> None:
    from sampleportal.server import Portal

    with Portal() as portal:
        subprocess.run([sys.executable, "-m", "nianbao.cli", "crawl", "--sites", str(ROOT / "sampleportal/sites.yml"),
                        "--portal-url", portal.url, "--data", str(data), "--no-extract", "-s", "DOWNLOAD_DELAY=0",
                        "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "LOG_LEVEL=ERROR"],
                       cwd=ROOT, check=True, capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)})


def timed(jobs, payloads, workers: int, fork_per_document: bool, share: bool = False):
    from archive.extraction import run_limited

    results = {}

    def keep(job, status, payload, text):
        results[job["job"]] = (status, json.dumps(payload, ensure_ascii=False, sort_keys=True))

    started = time.perf_counter()
    run_limited([dict(job, sha256=job["sha256"] if share else None) for job in jobs],
                lambda job: payloads[job["blob"]], keep, workers=workers, fork_per_document=fork_per_document)
    return time.perf_counter() - started, results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from archive.store import Archive

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "archive"
        started = time.perf_counter()
        crawl_sample(data)
        archive = Archive(data)
        base = archive.pending_versions(all_versions=True)
        payloads = {job["sha256"]: archive.blobs.get(job["sha256"]) for job in base}
        print(f"sample portal crawled in {time.perf_counter() - started:.0f}s: {len(base)} versions, "
              f"{len(payloads)} distinct payloads; formats {dict(Counter(j['format'] for j in base))}")
        jobs = [dict(job, blob=job["sha256"], job=(n, job["id"])) for n in range(args.repeat) for job in base]
        cores = min(args.workers, os.cpu_count() or 1)
        figures = {}
        for name, fork in (("fork per document (before)", True), ("worker pool (now)", False)):
            elapsed, results = timed(jobs, payloads, args.workers, fork)
            failed = sum(status != "ok" for status, _ in results.values())
            figures[name] = (elapsed, results)
            print(f"{name:28s} {len(jobs)} documents in {elapsed:6.1f}s = {len(jobs) / elapsed:5.2f} docs/s, "
                  f"{len(jobs) / elapsed / cores:5.2f} docs/s per core ({args.workers} workers, {failed} failed)")
        (old, old_results), (new, new_results) = figures.values()
        same = old_results == new_results
        print(f"speed-up: {old / new:.1f}x (goal >= 4x); records identical between the two: {same}")
        elapsed, shared = timed(jobs, payloads, args.workers, False, share=True)
        print(f"worker pool, unchanged payloads read once: {len(jobs)} documents in {elapsed:.1f}s = "
              f"{len(jobs) / elapsed:.2f} docs/s ({old / elapsed:.1f}x the fork-per-document run)")
        if not same:
            sys.exit(1)


if __name__ == "__main__":
    main()
