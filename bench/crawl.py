"""Crawl benchmark (not a test): the crawler against 8 local HTTP servers on 127.0.0.1.

    python bench/crawl.py [--pages-per-host 250] [--hosts 8]

The servers run in separate processes, one per host (so their CPU is not counted); each serves a generated site
whose pages link to each other. The crawler runs one thread per host, as the `crawl` flow does,
with zero politeness delay and WARC writing included. Prints pages/s and crawler CPU per page.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import shutil
import socket
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from pipeline.acquire.crawler import HostCrawler, host_folder
from pipeline.acquire.urls import normalise
from pipeline.acquire.warc_writer import WarcSink
from pipeline.config import CrawlConfig
from pipeline.store.crawl_log import CrawlLogWriter


def _serve(n_hosts: int, n_pages: int, ports, ready, index: int) -> None:
    body_text = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 60

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def setup(self):
            super().setup()  # headers and body go out in two writes: without TCP_NODELAY, Nagle's
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # 40 ms stalls dominate

        def do_GET(self):
            if self.path == "/robots.txt":
                body, ctype = b"User-agent: *\nAllow: /\n", "text/plain"
            else:
                i = int(self.path.strip("/") or 0)
                links = "".join(f'<a href="/{(i * 7 + k) % n_pages}">p{k}</a> ' for k in range(1, 6))
                body = (
                    f"<html><head><title>Page {i}</title></head><body><nav>{links}</nav><h1>Page {i}</h1>"
                    f"<p>{body_text}</p></body></html>"
                ).encode()
                ctype = "text/html"
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    ports[index] = server.server_address[1]
    ready.release()
    server.serve_forever()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hosts", type=int, default=8)
    ap.add_argument("--pages-per-host", type=int, default=250)
    args = ap.parse_args()
    ports, ready = mp.Array("i", args.hosts), mp.Semaphore(0)
    servers = [
        mp.Process(target=_serve, args=(args.hosts, args.pages_per_host, ports, ready, i), daemon=True)
        for i in range(args.hosts)
    ]  # one process per host: the servers must not be the bottleneck
    for s in servers:
        s.start()
    for _ in servers:
        ready.acquire(timeout=30)
    tmp = Path(tempfile.mkdtemp(prefix="sitesift-crawl-bench-"))
    hosts = [f"127.0.0.1:{p}" for p in ports]
    cfg = CrawlConfig(min_delay=0.0, max_pages=args.pages_per_host, max_depth=1000, allow_hosts=tuple(hosts))

    def one(host: str):
        sink = WarcSink(tmp / "raw" / host_folder(host), "bench", cfg.warc_records_per_file)
        log = CrawlLogWriter(tmp / "processed" / "crawl_log", "bench", host_folder(host))
        return HostCrawler(host, cfg, "bench", sink, log, {}).run([normalise(f"http://{host}/")])

    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(hosts)) as pool:
        stats = list(pool.map(one, hosts))
    wall = time.perf_counter() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    pages = sum(s.stored for s in stats)
    warc_bytes = sum(f.stat().st_size for f in (tmp / "raw").rglob("*.warc.gz"))
    print(f"{'hosts':>5} {'pages':>6} {'wall s':>7} {'pages/s':>8} {'CPU ms/page':>12} {'WARC MB':>8}")
    print(
        f"{len(hosts):5d} {pages:6d} {wall:7.2f} {pages / wall:8.1f} {1000 * cpu / pages:12.2f} {warc_bytes / 1e6:8.2f}"
    )
    for s in servers:
        s.terminate()
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
