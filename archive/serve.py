"""Datasette over the archive, read-only, with the project's metadata."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pipelines.readers.children import preexec_die_with

from .settings import value
from .site_config import public_url, sql_limits

HERE = Path(__file__).resolve().parent
METADATA = HERE / "metadata.yml"
PLUGINS = HERE / "plugins"
TEMPLATES = HERE / "templates"


# What one anonymous request may cost (SECURITY.md, "The public site"); the per-connection SQLite limits
# (value length, heap) are set by plugins/nianbao_limits.py.
SETTINGS = {
    "default_page_size": 50,
    "sql_time_limit_ms": 1000,     # any one query (NIANBAO_SQL_TIME_LIMIT_MS; arbitrary SQL also runs one at a time)
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
        *[arg for name, value in settings().items() for arg in ("--setting", name, str(value))],
    ]


def settings() -> dict:
    """Datasette's settings, with the query time limit as the environment sets it now."""
    return {**SETTINGS, "sql_time_limit_ms": sql_limits().time_limit_ms}


def public_url_warning(port: int, host: str = "127.0.0.1") -> str | None:
    """What `serve` says when no public URL is set: links will be built from each request's Host header."""
    if public_url():
        return None
    return (f"warning: NIANBAO_PUBLIC_URL is not set. Links in feeds, JSON and exports are built from each request's "
            f"own Host header (or http://{host}:{port} where there is no request). A public deployment must set "
            "NIANBAO_PUBLIC_URL to the address the public uses (SECURITY.md).")


def start(db_path: Path, port: int, host: str = "127.0.0.1") -> subprocess.Popen:
    """Datasette as a child that dies with this process (demo), however it dies."""
    served = value("NIANBAO_SERVE_URL") or f"http://{host}:{port}"
    return subprocess.Popen(datasette_command(db_path, port, host), env={**os.environ, "NIANBAO_SERVE_URL": served},
                            preexec_fn=preexec_die_with(os.getpid()))


def announce_address(port: int, host: str = "127.0.0.1") -> None:
    """Tell the Datasette this process becomes (exec) the address it listens on: the base of links made without a
    request when NIANBAO_PUBLIC_URL is unset."""
    os.environ.update(NIANBAO_SERVE_URL=f"http://{host}:{port}")
