"""Peak memory of a crawl of large report files: streamed to disk (nianbao's default) against
Scrapy's own handler holding every body in memory (``NIANBAO_STREAM_DOCUMENTS=False``), the
baseline, in the same run on the same portal.

    .venv/bin/python bench/download_memory.py [--files 12] [--mib 32] [--concurrency 8]

The portal is one column of FILES reports, each an attachment of MIB MiB (incompressible bytes
behind a PDF header: the crawl does not read them), written to a temporary directory.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def build(root: Path, files: int, mib: int) -> Path:
    from sampleportal import one_column

    articles = [one_column.Article(2000 + i, f"/ndbg/{2000 + i}.pdf") for i in range(files)]
    registry = one_column.write(root, "某市统计局", articles, {})
    for article in articles:  # a MiB at a time: this process must stay small (see serve)
        with open(root / "site" / "ndbg" / f"{article.year}.pdf", "wb") as handle:
            handle.write(b"%PDF-1.4\n")
            for _ in range(mib):
                handle.write(os.urandom(2**20))
    return registry


SERVE = """import sys
from pathlib import Path
from sampleportal.server import Portal
portal = Portal(site=Path(sys.argv[1]), routes=Path(sys.argv[2]))
print(portal.url, flush=True)
portal.serve_forever()
"""


def serve(root: Path) -> tuple[subprocess.Popen, str]:
    """The portal in a process of its own: a crawl forked from a process holding the files' bytes would
    count them in its peak memory."""
    server = subprocess.Popen([sys.executable, "-c", SERVE, str(root / "site"), str(root / "routes.json")],
                              cwd=ROOT, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    return server, server.stdout.readline().strip()


def crawl(registry: Path, url: str, data: Path, concurrency: int, *settings: str) -> dict:
    command = [sys.executable, "-m", "nianbao.cli", "crawl", "--sites", str(registry), "--portal-url", url,
               "--data", str(data), "--no-extract", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False",
               "-s", "LOG_LEVEL=ERROR", "-s", f"CONCURRENT_REQUESTS_PER_DOMAIN={concurrency}",
               "-s", f"CONCURRENT_REQUESTS={concurrency}", *settings]
    started = time.perf_counter()
    child = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
    _, status, usage = os.wait4(child.pid, 0)  # this child's own peak, not the largest of all children
    if status != 0:
        raise SystemExit(f"crawl failed ({status}): {' '.join(command)}")
    seconds = time.perf_counter() - started
    db = sqlite3.connect(data / "nianbao.db")
    stored = db.execute("SELECT count(*), sum(size) FROM blobs WHERE size > 2 * 1024 * 1024").fetchone()
    return {"seconds": seconds, "peak_mib": usage.ru_maxrss / 1024, "files": stored[0], "mib": (stored[1] or 0) / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=12)
    parser.add_argument("--mib", type=int, default=32)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        registry = build(root / "portal", args.files, args.mib)
        print(f"portal: {args.files} report files of {args.mib} MiB, {args.concurrency} downloads at a time")
        results = {}
        server, url = serve(root / "portal")
        try:
            for name, settings in (("buffered (Scrapy default, baseline)", ["-s", "NIANBAO_STREAM_DOCUMENTS=False"]),
                                   ("streamed to disk (nianbao)", [])):
                result = crawl(registry, url, root / name.split()[0], args.concurrency, *settings)
                results[name] = result
                print(f"{name:38s} peak RSS {result['peak_mib']:6.0f} MiB, {result['files']} files "
                      f"({result['mib']:.0f} MiB) archived in {result['seconds']:.1f}s")
        finally:
            server.terminate()
        base, streamed = results.values()
        print(f"peak memory: streamed {streamed['peak_mib']:.0f} MiB vs buffered {base['peak_mib']:.0f} MiB "
              f"= {base['peak_mib'] / streamed['peak_mib']:.1f}x less; time {streamed['seconds'] / base['seconds']:.2f}x")


if __name__ == "__main__":
    main()
