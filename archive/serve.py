"""Datasette over the archive, read-only, with the project's metadata."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
METADATA = HERE / "metadata.yml"


def datasette_command(db_path: Path, port: int, host: str = "127.0.0.1") -> list[str]:
    return [
        sys.executable, "-m", "datasette", "serve",
        "--immutable", str(db_path),
        "--metadata", str(METADATA),
        "--host", host, "--port", str(port),
        "--setting", "default_page_size", "50",
        "--setting", "sql_time_limit_ms", "3000",
    ]


def start(db_path: Path, port: int, host: str = "127.0.0.1") -> subprocess.Popen:
    return subprocess.Popen(datasette_command(db_path, port, host))
