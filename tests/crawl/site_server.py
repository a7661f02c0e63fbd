"""Small real HTTP servers on 127.0.0.1 for crawl tests: a polite site and one full of faults.
Every request is recorded (path, time, headers). Nothing here talks to anything but loopback."""

from __future__ import annotations

import contextlib
import gzip
import socket
import threading
import time
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote

PAGE = """<!DOCTYPE html><html><head><title>{title} | Local Site</title></head><body>
<nav><a href="/">Home</a> <a href="/a">A</a> <a href="/b">B</a></nav>
<article><h1>{title}</h1><p>{body}</p>{links}</article>
<footer><p>Local Site is served from a test. All rights reserved.</p></footer></body></html>"""


def page(title: str, body: str, links: list[str] = ()) -> bytes:
    anchors = "".join(f'<p><a href="{h}">link to {h}</a></p>' for h in links)
    return PAGE.format(title=title, body=body, links=anchors).encode()


@dataclass
class Hit:
    path: str
    at: float
    headers: dict


@dataclass
class Site:
    """routes: path -> callable(handler) or (status, headers, body)."""

    routes: dict = field(default_factory=dict)
    hits: list[Hit] = field(default_factory=list)
    counts: dict = field(default_factory=lambda: defaultdict(int))
    port: int = 0
    server: ThreadingHTTPServer | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def paths(self) -> list[str]:
        return [h.path for h in self.hits]


def serve(site: Site) -> Site:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # keep test output clean
            pass

        def setup(self):
            super().setup()  # no Nagle stalls between the header and body writes
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_GET(self):
            site.hits.append(Hit(self.path, time.monotonic(), dict(self.headers)))
            site.counts[self.path] += 1
            route = site.routes.get(self.path.split("?")[0])
            if route is None:
                return self._send(404, {"Content-Type": "text/html"}, b"<p>not found</p>")
            if callable(route):
                return route(self, site.counts[self.path])
            status, headers, body = route
            if "ETag" in headers and self.headers.get("If-None-Match") == headers["ETag"]:
                return self._send(304, {"ETag": headers["ETag"]}, b"")
            if (
                "Last-Modified" in headers
                and self.headers.get("If-Modified-Since") == headers["Last-Modified"]
            ):
                return self._send(304, {"Last-Modified": headers["Last-Modified"]}, b"")
            self._send(status, headers, body)

        def _send(self, status: int, headers: dict, body: bytes) -> None:
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body:
                self.wfile.write(body)

    class Server(ThreadingHTTPServer):
        def handle_error(self, request, client_address):  # resets and hang-ups are part of the tests
            pass

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    site.server, site.port = server, server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return site


def stop(site: Site) -> None:
    if site.server:
        site.server.shutdown()
        site.server.server_close()


# -- fault handlers ---------------------------------------------------------------------------------
def flaky(handler, n):
    if n <= 2:
        return handler._send(503, {"Content-Type": "text/html"}, b"busy")
    handler._send(200, {"Content-Type": "text/html"}, page("Flaky page", "Third time lucky for this page."))


def rate_limited(handler, n):
    if n == 1:
        return handler._send(429, {"Retry-After": "2", "Content-Type": "text/plain"}, b"slow down")
    handler._send(200, {"Content-Type": "text/html"}, page("Patient page", "Served after waiting as asked."))


def slow(handler, n):
    time.sleep(1.2)
    with contextlib.suppress(OSError):
        handler._send(200, {"Content-Type": "text/html"}, page("Slow", "too late"))


def reset(handler, n):
    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    handler.connection.close()
    handler.close_connection = True


def big(handler, n):
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html")
    handler.send_header("Content-Length", str(30 * 1024 * 1024))
    handler.end_headers()
    chunk = b"<p>" + b"x" * 65530 + b"</p>"
    try:
        for _ in range(30 * 16):
            handler.wfile.write(chunk)
    except OSError:
        pass  # the crawler hung up at its limit, as it should


def big_no_length(handler, n):
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html")
    handler.send_header("Connection", "close")
    handler.end_headers()
    handler.close_connection = True
    try:
        for _ in range(30 * 16):
            handler.wfile.write(b"y" * 65536)
    except OSError:
        pass


_BOMB = gzip.compress(b"\0" * (100 * 1024 * 1024), compresslevel=9)


def bomb(handler, n):
    handler._send(200, {"Content-Type": "text/html", "Content-Encoding": "gzip"}, _BOMB)


# -- more hostile servers ---------------------------------------------------------------------------
def raw_response(head: bytes, body: bytes = b""):
    """A route that writes these exact bytes (status line and headers as given, nothing added)."""

    def handler(h, n):
        h.close_connection = True
        with contextlib.suppress(OSError):
            h.wfile.write(head + b"\r\n" + body)

    return handler


def drip(lines: int, every: float):
    """Sends a header line every `every` seconds, `lines` times, then a small page: each read is
    quick, so only an overall deadline ends it early."""

    def handler(h, n):
        try:
            h.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n")
            for i in range(lines):
                time.sleep(every)
                h.wfile.write(b"X-Drip-%d: x\r\n" % i)
            body = page("Drip", "finally")
            h.wfile.write(b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
        except OSError:
            pass
        h.close_connection = True

    return handler


def held(release: threading.Event, seen: threading.Event, limit: float = 60.0, body: bytes | None = None):
    """Answers only once `release` is set (at most `limit` s); sets `seen` when the request arrives."""

    def handler(h, n):
        seen.set()
        release.wait(limit)
        with contextlib.suppress(OSError):
            h._send(200, {"Content-Type": "text/html"}, body or page("Held", "served late"))

    return handler


def stacked_gzip_bomb(inner_mib: int) -> bytes:
    """`Content-Encoding: gzip, gzip` body: a few KB on the wire, inner_mib MiB of zeros inside
    (one gzip member, as a server would send it)."""
    c = zlib.compressobj(1, zlib.DEFLATED, 31)
    zeros = b"\0" * (1 << 20)
    inner = b"".join(c.compress(zeros) for _ in range(inner_mib)) + c.flush()
    return gzip.compress(inner, 9)


# -- a blog whose links are in many scripts (IRIs the crawler must send as URIs) ---------------------
HEXO_POST = "/2018/01/08/spark2-2新版本编译打包/"
CJK_PAGES = {
    HEXO_POST: ("Spark 2.2 新版本编译打包", "从源码编译 Spark 2.2 并打包成可以部署的版本，步骤如下。"),
    "/tags/大数据/": ("标签: 大数据", "所有关于大数据的文章，按时间排列，最新的在前面。"),
    "/search": ("Suche: Bücher", "Ergebnisse der Suche nach Büchern über Datenverarbeitung."),
}


def cjk_site() -> Site:
    """Served on 127.0.0.1; stop it with stop(site)."""
    site = serve(Site())
    site.routes["/robots.txt"] = (404, {}, b"")
    site.routes["/"] = (
        200,
        {"Content-Type": "text/html; charset=utf-8"},
        page(
            "Blog",
            "Ein Blog mit Pfaden in vielen Schriften.",
            [HEXO_POST + "#comments", "/tags/大数据/", "/search?q=Bücher&page=2"],
        ),
    )
    for path, (title, body) in CJK_PAGES.items():
        site.routes[quote(path)] = (
            200,
            {"Content-Type": "text/html; charset=utf-8"},
            page(title, body, ["/"]),
        )
    return site
