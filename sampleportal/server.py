"""Serve the sample portal on 127.0.0.1, behaving as the real platforms do.

Static files from ``site/``; dynamic-looking endpoints (Hanweb's dataproxy.jsp,
download.jsp) from ``routes.json``; VSB downloads refuse requests without the
article as Referer; ETag / Last-Modified with 304 answers; HTML is sent without
a charset in the header, so the page's own <meta> must be read.

Every host name is answered from the one ``site/``: ``www.nianbao-sz.onion`` and its department
subdomains (resolver.py) are this one server, as a portal's subdomains are one server. Pages link
those names absolutely, without a port, as the real portal does on port 80; the server writes its
own port into those links (nginx's ``sub_filter`` does as much behind a proxy), so they lead back here.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from .resolver import DEPARTMENTS_DOMAIN, under
from .traps import calendar_page

HERE = Path(__file__).resolve().parent
SITE = HERE / "site"
DEPARTMENTS_LATENCY = 0.1
LAST_MODIFIED = 1700000000  # the portal's files all date from one publication run
_TYPES = {
    ".html": "text/html",
    ".htm": "text/html",
    ".shtml": "text/html",
    ".css": "text/css",
    ".js": "application/javascript",
    ".txt": "text/plain",
    ".xml": "text/xml",
    ".pdf": "application/pdf",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
NOT_FOUND = "<html><head><meta charset='utf-8'><title>404</title></head><body><h1>404 页面不存在</h1></body></html>"
# an absolute link to the department portal's names, with no port of its own
_OWN_LINK = re.compile(rb"(https?://(?:[a-z0-9-]+\.)*" + re.escape(DEPARTMENTS_DOMAIN.encode()) + rb")(?=[/\"'])")
NO_REFERER = "<html><head><meta charset='utf-8'></head><body><p>非法的下载请求！</p></body></html>"


@dataclass
class Hit:
    method: str
    path: str
    status: int
    referer: str | None
    conditional: bool
    fault: str | None = None
    sent: int | None = None  # bytes of body written, where the portal counts them


FAULTS = ("500", "timeout", "reset", "truncated")


@dataclass
class PortalState:
    site: Path = SITE
    routes: dict = field(default_factory=dict)
    log: list[Hit] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    flaky: float = 0.0  # share of requests that fail, as overloaded portals do
    stall: float = 3.0  # seconds a "timeout" fault keeps the client waiting
    seed: int = 0
    attempts: dict = field(default_factory=dict)
    canonical_host: str | None = None  # e.g. www.nianbao-portal.test: other names of the portal redirect there
    latency: float = 0.0  # seconds every GET/HEAD answer takes, as a loaded portal's do
    # seconds the answers of a domain's names take: the department portal's, so that requests sent to its
    # subdomains together would be seen answered together (a loaded portal's answers take a while)
    latencies: dict = field(default_factory=lambda: {DEPARTMENTS_DOMAIN: DEPARTMENTS_LATENCY})
    in_flight: int = 0
    max_in_flight: int = 0  # the most requests this server was answering at once
    arrivals: list = field(default_factory=list)  # (monotonic time, Host header) of every GET/HEAD
    spans: list = field(default_factory=list)  # (arrival, answered, Host header) of every GET/HEAD answered

    def arrive(self, host: str | None) -> float:
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            now = time.monotonic()
            self.arrivals.append((now, host))
            return now

    def leave(self, since: float | None = None, host: str | None = None) -> None:
        with self.lock:
            self.in_flight -= 1
            if since is not None:
                self.spans.append((since, time.monotonic(), host))

    def fault_for(self, path: str) -> str | None:
        """Deterministic per (path, attempt): reruns see the same weather, retries a new draw."""
        if self.flaky <= 0 or path == "/robots.txt":
            return None
        with self.lock:
            attempt = self.attempts[path] = self.attempts.get(path, 0) + 1
        draw = int(hashlib.sha256(f"{self.seed}:{path}:{attempt}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
        return FAULTS[int(draw / self.flaky * len(FAULTS)) % len(FAULTS)] if draw < self.flaky else None

    def record(self, hit: Hit) -> None:
        with self.lock:
            self.log.append(hit)


class PortalHandler(BaseHTTPRequestHandler):
    server_version = "nginx"
    sys_version = ""
    # persistent connections, as nginx keeps them for HTTP/1.1 clients (keepalive_timeout); every answer is sized or
    # closes its connection. TCP_NODELAY as nginx sets on kept connections (tcp_nodelay on): headers and body go out
    # in two writes, and Nagle's algorithm would hold the body until the client's delayed ACK, 40 ms a request
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    state: PortalState  # set on the subclass the server builds

    def log_message(self, format, *args):  # noqa: A002 - the stdlib's name
        pass

    def do_HEAD(self):
        self._serve(head=True)

    def do_GET(self):
        self._serve(head=False)

    def do_POST(self):
        """The list endpoints real platforms page by POST: Hanweb's jpage dataproxy.jsp
        (startrecord/endrecord/perpage in the query, the column's form fields in the body) and the
        Fujian platform's /fjdzapp/search (page/prepage in the body; ``channelid``, the site's document
        store, checked when the route names a ``store``)."""
        from urllib.parse import parse_qs

        parts = urlsplit(self.path)
        route = self.state.routes.get("POST " + parts.path)
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode("utf-8", "replace")).items()}
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        wrong_store = route and route.get("store") and route["store"] != form.get("channelid")
        if not route or route.get("column") not in (form.get("columnid"), form.get("classsql")) or wrong_store:
            # a column asked of another site's document store: the real platform answers nothing of it
            return self._send(HTTPStatus.NOT_FOUND, NOT_FOUND.encode(), "text/html; charset=utf-8", False)
        records = json.loads((self.state.site / route["file"]).read_text(encoding="utf-8"))
        if route["kind"] == "jpage":
            start, end = int(query.get("startrecord", 1)), int(query.get("endrecord", 45))
            chosen = "".join(f"<record><![CDATA[{r}]]></record>" for r in records[start - 1:end])
            body = (f'<?xml version="1.0" encoding="utf-8"?><datastore><totalrecord>{len(records)}</totalrecord>'
                    f"<recordset>{chosen}</recordset></datastore>").encode()
            return self._send(HTTPStatus.OK, body, "text/xml;charset=utf-8", False)
        page, per_page = int(form.get("page", 1)), int(form.get("prepage", 20))
        pages = -(-len(records) // per_page)
        body = json.dumps({"data": records[(page - 1) * per_page: page * per_page], "pageCount": pages,
                           "page": page}, ensure_ascii=False).encode()
        return self._send(HTTPStatus.OK, body, "application/json;charset=utf-8", False)

    def _serve(self, head: bool) -> None:
        host = self.headers.get("Host")
        since = self.state.arrive(host)
        try:
            name = (host or "").partition(":")[0]
            latency = max([self.state.latency, *(t for d, t in self.state.latencies.items() if under(name, d))])
            if latency:
                time.sleep(latency)
            return self._answer(head)
        finally:
            self.state.leave(since, host)

    def _answer(self, head: bool) -> None:
        fault = self.state.fault_for(self.path)
        if fault:
            return self._fail(fault)
        canonical = self.state.canonical_host
        host, _, port = (self.headers.get("Host") or "").partition(":")
        if canonical and host and host != canonical and under(host, canonical.removeprefix("www.")):
            # the bare domain answers with a permanent redirect to www., as most portals do (names of
            # other portals this server also is, 127.0.0.1 among them, are answered as they are)
            return self._redirect(301, f"http://{canonical}{':' + port if port else ''}{self.path}", head)
        parts = urlsplit(self.path)
        key = parts.path + (f"?{parts.query}" if parts.query else "")
        route = self.state.routes.get(key)
        if route:
            if route.get("location"):
                return self._redirect(route["status"], route["location"], head)
            if route.get("referer") and urlsplit(self.headers.get("Referer", "")).path != route["referer"]:
                return self._send(HTTPStatus.FORBIDDEN, NO_REFERER.encode(), "text/html; charset=utf-8", head)
            return self._send_file(self.state.site / route["file"], route["type"], head, route.get("status", 200),
                                   route.get("delivery"), route.get("headers"))
        path = self._resolve(parts.path)
        generated = calendar_page(parts.path) if path is None else None
        if generated is not None:  # a link space without end (sampleportal/traps.py)
            return self._send(HTTPStatus.OK, generated, "text/html; charset=utf-8", head)
        if path is None:
            return self._send(HTTPStatus.NOT_FOUND, NOT_FOUND.encode(), "text/html; charset=utf-8", head)
        return self._send_file(path, _TYPES.get(path.suffix, "application/octet-stream"), head)

    def _resolve(self, url_path: str) -> Path | None:
        relative = url_path.lstrip("/")
        if relative == "" or relative.endswith("/"):  # a folder: its index page, as the CMS published it
            relative += next((n for n in ("index.html", "index.shtml", "index.htm")
                              if (self.state.site / relative / n).is_file()), "index.html")
        candidate = (self.state.site / relative).resolve()
        if self.state.site.resolve() not in candidate.parents or not candidate.is_file():
            return None
        return candidate

    def _fail(self, fault: str) -> None:
        self.state.record(Hit(self.command, self.path, 0 if fault != "500" else 500, None, False, fault))
        if fault == "500":
            body = b"<html><body><h1>500 Internal Server Error</h1></body></html>"
            self.send_response(500)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif fault == "timeout":
            time.sleep(self.state.stall)
            self.close_connection = True
        elif fault == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
        else:  # truncated: promise the whole file, send half
            path = self._resolve(urlsplit(self.path).path)
            data = path.read_bytes() if path else NOT_FOUND.encode()
            self.send_response(200)
            self.send_header("Content-Type", _TYPES.get(path.suffix if path else ".html", "text/html"))
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.close_connection = True

    def _redirect(self, status: int, location: str, head: bool) -> None:
        self.state.record(Hit(self.command, self.path, status, self.headers.get("Referer"), False))
        self.send_response(status)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _send_file(self, path: Path, content_type: str, head: bool, status: int = 200,
                   delivery: str | None = None, headers: dict | None = None) -> None:
        data = self._with_own_port(path.read_bytes(), content_type)
        if status != 200:  # challenges answer the same body whatever the validators say
            return self._send(status, data, content_type, head)
        etag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'
        if self._not_modified(etag):
            return self._send(HTTPStatus.NOT_MODIFIED, b"", None, head, etag=etag)
        if delivery in DELIVERIES:
            return DELIVERIES[delivery](self, data, content_type)
        return self._send(HTTPStatus.OK, data, content_type, head, etag=etag, headers=headers)

    def _with_own_port(self, data: bytes, content_type: str) -> bytes:
        """Links to the department portal's names gain the port this server listens on (module docstring)."""
        port = str(self.server.server_address[1]).encode()
        if not content_type.startswith("text/html") or DEPARTMENTS_DOMAIN.encode() not in data:
            return data
        return _OWN_LINK.sub(rb"\1:" + port, data)

    def _send_unsized(self, data: bytes, content_type: str) -> None:
        """No Content-Length, the end of the body is the end of the connection: as download servlets
        that stream a file do. What was sent before the client hung up is recorded."""
        hit = Hit(self.command, self.path, 200, self.headers.get("Referer"), False, sent=0)
        self.state.record(hit)
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", content_type)
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        try:
            for start in range(0, len(data), 65536):
                self.wfile.write(data[start:start + 65536])
                hit.sent += len(data[start:start + 65536])
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _send_gzipped(self, data: bytes, content_type: str) -> None:
        """Compressed whatever the client asked for, as some misconfigured servers do."""
        import gzip

        body = gzip.compress(data, mtime=0)
        self.state.record(Hit(self.command, self.path, 200, self.headers.get("Referer"), False))
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _send_stalled(self, data: bytes, content_type: str) -> None:
        """Answer only after the portal's stall time, as an overloaded portal does."""
        time.sleep(self.state.stall)
        self._send(HTTPStatus.OK, data, content_type, False)

    def _send_precompressed(self, data: bytes, content_type: str) -> None:
        """A file stored gzip-compressed, sent as it is with Content-Encoding: gzip (a gzip bomb is one)."""
        self.state.record(Hit(self.command, self.path, 200, self.headers.get("Referer"), False))
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _not_modified(self, etag: str) -> bool:
        if self.headers.get("If-None-Match"):
            return etag in self.headers["If-None-Match"]
        since = self.headers.get("If-Modified-Since")
        if since:
            try:
                return parsedate_to_datetime(since).timestamp() >= LAST_MODIFIED
            except (TypeError, ValueError):
                return False
        return False

    def _send(self, status, body: bytes, content_type, head: bool, etag: str | None = None,
              headers: dict | None = None) -> None:
        conditional = bool(self.headers.get("If-None-Match") or self.headers.get("If-Modified-Since"))
        self.state.record(Hit(self.command, self.path, int(status), self.headers.get("Referer"), conditional))
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        if etag:
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", formatdate(LAST_MODIFIED, usegmt=True))
        for name, value in (headers or {}).items():  # e.g. Content-Disposition of a download servlet
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head and status != HTTPStatus.NOT_MODIFIED:
            self.wfile.write(body)


# How a route may deliver its file instead of the usual sized, uncompressed body ("delivery" in routes.json).
DELIVERIES = {"unsized": PortalHandler._send_unsized, "gzip": PortalHandler._send_gzipped,
              "raw-gzip": PortalHandler._send_precompressed, "stall": PortalHandler._send_stalled}


class PortalHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        import sys

        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return  # the crawler hung up (a cancelled download): nothing to report
        super().handle_error(request, client_address)


class Portal:
    """The sample portal, started in a background thread: ``with Portal() as portal: portal.url``."""

    def __init__(self, port: int = 0, site: Path = SITE, host: str = "127.0.0.1", flaky: float = 0.0,
                 seed: int = 0, stall: float = 3.0, routes: Path | None = None, canonical_host: str | None = None):
        routes = json.loads((routes or HERE / "routes.json").read_text(encoding="utf-8"))
        self.state = PortalState(site=site, routes=routes, flaky=flaky, seed=seed, stall=stall,
                                 canonical_host=canonical_host)
        handler = type("BoundPortalHandler", (PortalHandler,), {"state": self.state})
        self.httpd = PortalHTTPServer((host, port), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Portal:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> Portal:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def serve_forever(self) -> None:
        self.httpd.serve_forever()
