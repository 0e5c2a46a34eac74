"""A crawl listens on nothing: no telnet console, no Scrapy remote control (which runs posted Python code)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from .conftest import ROOT, SAMPLE_SITES


def listening_sockets(pid: int) -> list[str]:
    """host:port of every TCP socket the process listens on (from /proc, no tool needed)."""
    listening = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A":  # LISTEN
                listening[fields[9]] = fields[1]
    held = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            held.add(target[8:-1])
    return [address for inode, address in listening.items() if inode in held]


def test_a_running_crawl_listens_on_no_port(portal, tmp_path):
    command = [sys.executable, "-m", "nianbao.cli", "crawl", "--no-extract", "--sites", str(SAMPLE_SITES),
               "--portal-url", portal.url, "--data", str(tmp_path / "archive"), "-s", "DOWNLOAD_DELAY=0.05",
               "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "LOG_LEVEL=INFO"]
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seen, looks = set(), 0
    while process.poll() is None:
        try:
            seen |= set(listening_sockets(process.pid))
            looks += 1
        except OSError:
            break
        time.sleep(0.1)
    assert process.wait(120) == 0
    assert looks > 10 and seen == set(), seen
    log = next((tmp_path / "archive" / "logs").glob("crawl-*.log")).read_text()
    assert "Telnet console listening" not in log and "remote_control" not in log.split("Enabled extensions:")[1][:800]
