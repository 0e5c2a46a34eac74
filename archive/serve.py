"""Datasette over the archive, read-only, with the project's metadata."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pipelines.readers.children import preexec_die_with

HERE = Path(__file__).resolve().parent
METADATA = HERE / "metadata.yml"
PLUGINS = HERE / "plugins"
TEMPLATES = HERE / "templates"


# What one anonymous request may cost (SECURITY.md, "The public site"); the per-connection SQLite limits
# (value length, heap) are set by plugins/nianbao_limits.py.
SETTINGS = {
    "default_page_size": 50,
    "sql_time_limit_ms": 1000,     # any one query (Datasette's default; arbitrary SQL also runs one at a time)
    "facet_time_limit_ms": 500,
    "max_returned_rows": 1000,     # rows in one JSON/HTML/CSV page
    "max_csv_mb": 50,              # a streamed CSV export stops here
    "num_sql_threads": 3,          # queries at once: bounds memory and CPU together
    "allow_download": "off",       # the whole database is published by the nightly run, not by this server
    "suggest_facets": "off",       # an extra query per table page that nobody asked for
}


def inspect_file(db_path: Path) -> Path:
    """Datasette's inspect data (table counts), so an immutable database opens without counting."""
    target = db_path.with_name("inspect-data.json")
    if db_path.parent.name == "published" and target.exists():
        return target  # written by the nightly run with the database it describes
    subprocess.run([sys.executable, "-m", "datasette", "inspect", str(db_path), "--inspect-file", str(target)],
                   check=True, capture_output=True, preexec_fn=preexec_die_with(os.getpid()))
    return target


def datasette_command(db_path: Path, port: int, host: str = "127.0.0.1") -> list[str]:
    return [
        sys.executable, "-m", "datasette", "serve",
        "--immutable", str(db_path),
        "--inspect-file", str(inspect_file(db_path)),
        "--metadata", str(METADATA),
        "--plugins-dir", str(PLUGINS),
        "--template-dir", str(TEMPLATES),
        "--host", host, "--port", str(port),
        *[arg for name, value in SETTINGS.items() for arg in ("--setting", name, str(value))],
    ]


def start(db_path: Path, port: int, host: str = "127.0.0.1") -> subprocess.Popen:
    """Datasette as a child that dies with this process (demo), however it dies."""
    return subprocess.Popen(datasette_command(db_path, port, host), preexec_fn=preexec_die_with(os.getpid()))
