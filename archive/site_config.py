"""The public site's settings, read each time they are used (never at import) through archive/settings.py, where
every nianbao setting is named once.

- ``NIANBAO_PUBLIC_URL``: where the public reaches the site (``https://nianbao.example.org``). Every absolute
  link the site makes (feeds, JSON ``url``/``archive_url``, exports) starts with it. A public deployment must
  set it: without it, links are built per request from that request's own Host header, which a visitor controls
  (harmless for their own answer, poisonous in a shared cache), and ``nianbao serve`` says so when it starts.
- ``NIANBAO_SERVE_URL``: set by ``nianbao serve`` for its Datasette to the address it listens on; the base for
  links made without a request (SQL functions in canned queries and CSV) when no public URL is set.
- ``NIANBAO_SQL_*``: the limits on one anonymous query (SECURITY.md, "The public site").
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from dataclasses import dataclass
from urllib.parse import parse_qsl

from .settings import value

# The base of the current request's absolute links, set by the site's ASGI wrapper (plugins/nianbao_exports.py)
# in that request's own context: never shared between requests, unset in worker threads.
REQUEST_BASE: ContextVar[str | None] = ContextVar("nianbao_request_base", default=None)
LOCAL_URL = "http://127.0.0.1:8001"  # `nianbao serve`'s default address
# A Host header that is a host name or address with an optional port, nothing else (no quotes, paths, spaces).
_HOST = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}"
                   r"[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?")


def _url(name: str) -> str | None:
    return str(value(name) or "").strip().rstrip("/") or None


def public_url() -> str | None:
    """The configured public address, or None when the deployment did not set one."""
    return _url("NIANBAO_PUBLIC_URL")


def links_base() -> str:
    """The base for absolute links made outside a request: the public URL, else the address serve listens on."""
    return public_url() or _url("NIANBAO_SERVE_URL") or LOCAL_URL


def request_base(scope: dict) -> str:
    """The base for one request's links: the public URL, else this request's own scheme and Host.

    Computed per request and never stored, so one visitor's Host never reaches another's answer."""
    configured = public_url()
    if configured:
        return configured
    host = next((v for k, v in scope.get("headers") or [] if k.lower() == b"host"), b"").decode("latin-1")
    if not _HOST.fullmatch(host):
        server = scope.get("server")
        host = f"{server[0]}:{server[1]}" if server and server[0] else ""
        if not _HOST.fullmatch(host):
            return links_base()
    scheme = scope.get("scheme") if scope.get("scheme") in ("http", "https") else "http"
    return f"{scheme}://{host}"


# Query parameters whose value is SQL: they all go through one gate and one time limit (plugins/nianbao_limits.py).
SQL_PARAMETERS = frozenset({"sql", "_where"})


def sql_parameters(query_string: bytes | str) -> list[str]:
    """The SQL-carrying parameters of a query string, decoded exactly as Datasette decodes them
    (``%73ql`` is ``sql``)."""
    text = query_string.decode("latin-1") if isinstance(query_string, bytes) else query_string
    return [key for key, _ in parse_qsl(text, keep_blank_values=True) if key in SQL_PARAMETERS]


def carries_sql(query_string: bytes | str) -> bool:
    return bool(sql_parameters(query_string))


@dataclass(frozen=True)
class SqlLimits:
    max_length: int        # SQLITE_LIMIT_LENGTH: no string, blob or row longer (bytes)
    heap_bytes: int        # PRAGMA hard_heap_limit
    max_result: int        # bytes of values one query may return
    at_once: int           # arbitrary SQL requests running at once
    wait_s: float          # how long one waits for its turn before a 503
    time_limit_ms: int     # Datasette's sql_time_limit_ms


def sql_limits() -> SqlLimits:
    return SqlLimits(
        max_length=int(value("NIANBAO_SQL_MAX_LENGTH")),
        heap_bytes=int(value("NIANBAO_SQL_HEAP_MB")) * 1024 * 1024,
        max_result=int(value("NIANBAO_SQL_MAX_RESULT_MB")) * 1024 * 1024,
        at_once=max(1, int(value("NIANBAO_SQL_AT_ONCE"))),
        wait_s=2.0,
        time_limit_ms=max(1, int(value("NIANBAO_SQL_TIME_LIMIT_MS"))),
    )
