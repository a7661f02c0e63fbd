"""One polite, guarded HTTP GET with retries: address check before every connection, redirects
followed by hand (chain recorded, loops caught), body size enforced while streaming. Touches network."""

from __future__ import annotations

import datetime as dt
import email.utils
import random
import threading
import time
from dataclasses import dataclass, field

import httpcore
import httpx

from pipeline.acquire.addresses import check_destination
from pipeline.acquire.errors import FetchError, PermanentFetchError, TransientFetchError
from pipeline.acquire.urls import check_scheme, normalise
from pipeline.config import CrawlConfig

_REDIRECTS = {301, 302, 303, 307, 308}
_HOP_BY_HOP = {"content-encoding", "transfer-encoding", "content-length", "connection", "keep-alive"}


@dataclass
class FetchResult:
    url: str  # as requested
    final_url: str  # after redirects
    status: int
    content_type: str = ""
    body: bytes = b""  # decoded (gzip/deflate removed) body
    headers: list[tuple[str, str]] = field(default_factory=list)  # response headers, for WARC
    request_headers: list[tuple[str, str]] = field(default_factory=list)  # final request, for WARC
    redirect_chain: list[str] = field(default_factory=list)
    etag: str | None = None
    last_modified: str | None = None
    retries: int = 0
    duration: float = 0.0
    fetched_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    @property
    def unchanged(self) -> bool:
        return self.status == 304


class HostGate:
    """One request at a time per host, at least `delay` seconds apart (start to start)."""

    def __init__(self, delay: float):
        self.delay = delay
        self._next = 0.0
        self._lock = threading.Lock()

    def set_delay(self, delay: float) -> None:
        """Change the delay, counting from the last request (robots.txt Crawl-delay arrives late)."""
        with self._lock:
            self._next += delay - self.delay
            self.delay = delay

    def wait(self) -> None:
        with self._lock:
            now = time.monotonic()
            if now < self._next:
                time.sleep(self._next - now)
            self._next = time.monotonic() + self.delay


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


class GuardedBackend(httpcore.SyncBackend):
    """httpcore's network backend with the address check at the socket: the host is resolved once,
    every address checked, and the connection made to a checked address (no second DNS answer can
    slip in between check and connect: DNS rebinding). TLS still verifies the original host name."""

    def __init__(self, allow_hosts: tuple[str, ...]):
        super().__init__()
        self.allow_hosts = allow_hosts

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        addresses = check_destination(host, port, self.allow_hosts)
        error: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                error = exc
        raise error if error else httpcore.ConnectError(f"no address for {host}")


def make_client(cfg: CrawlConfig) -> httpx.Client:
    timeout = httpx.Timeout(cfg.read_timeout, connect=cfg.connect_timeout)
    transport = httpx.HTTPTransport()
    # httpx has no public hook for the network backend; httpcore's pool takes one (checked by a test)
    transport._pool._network_backend = GuardedBackend(cfg.allow_hosts)
    return httpx.Client(
        headers={"User-Agent": cfg.user_agent},
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
        transport=transport,
    )


def _fetch_once(client: httpx.Client, url: str, cfg: CrawlConfig, conditional: dict[str, str]) -> FetchResult:
    chain: list[str] = []
    current = url
    started = time.monotonic()
    for hop in range(cfg.max_redirects + 1):
        check_scheme(current)  # the address itself is checked by GuardedBackend as it connects
        headers = dict(conditional) if hop == 0 else {}
        with client.stream("GET", current, headers=headers) as r:
            status = r.status_code
            if status in _REDIRECTS and r.headers.get("location"):
                nxt = normalise(r.headers["location"], base=current)
                chain.append(current)
                if nxt in chain:
                    raise PermanentFetchError(f"redirect loop: {' -> '.join(chain + [nxt])}", "redirect_loop")
                current = nxt
                continue
            if status == 429 or status >= 500:
                raise TransientFetchError(
                    f"HTTP {status}",
                    f"http_{status}",
                    retry_after=parse_retry_after(r.headers.get("retry-after")),
                )
            result = FetchResult(
                url=url,
                final_url=current,
                status=status,
                redirect_chain=chain,
                content_type=r.headers.get("content-type", "").split(";")[0].strip().lower(),
                headers=[(k, v) for k, v in r.headers.multi_items() if k.lower() not in _HOP_BY_HOP],
                request_headers=list(r.request.headers.multi_items()),
                etag=r.headers.get("etag"),
                last_modified=r.headers.get("last-modified"),
            )
            if status == 304:
                result.duration = time.monotonic() - started
                return result
            if status >= 400:
                raise PermanentFetchError(f"HTTP {status}", f"http_{status}")
            if result.content_type not in cfg.stored_types:
                raise PermanentFetchError(
                    f"content type {result.content_type or '(none)'} is not stored", "unsupported_type"
                )
            declared = r.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > cfg.max_body_bytes:
                raise PermanentFetchError(f"Content-Length {declared} over {cfg.max_body_bytes}", "too_large")
            body = bytearray()
            for chunk in r.iter_bytes():  # decoded chunks: a gzip bomb stops at the limit
                body += chunk
                if len(body) > cfg.max_body_bytes:
                    raise PermanentFetchError(f"body over {cfg.max_body_bytes} bytes", "too_large")
            result.body = bytes(body)
            result.duration = time.monotonic() - started
            return result
    raise PermanentFetchError(f"more than {cfg.max_redirects} redirects", "too_many_redirects")


def fetch(
    client: httpx.Client,
    url: str,
    cfg: CrawlConfig,
    gate: HostGate,
    conditional: dict[str, str] | None = None,
) -> FetchResult:
    """GET url with retries (exponential backoff with jitter, Retry-After honoured) on the
    transient errors only; each attempt waits for the host's politeness slot. `client` comes from
    make_client: its network backend refuses forbidden addresses before connecting."""
    attempt = 0
    started = time.monotonic()
    while True:
        gate.wait()
        try:
            try:
                result = _fetch_once(client, url, cfg, conditional or {})
            except httpx.TimeoutException as exc:
                raise TransientFetchError(f"timeout: {type(exc).__name__}", "timeout") from exc
            except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                raise TransientFetchError(
                    f"connection error: {type(exc).__name__}: {exc}", "connection"
                ) from exc
            except httpx.HTTPError as exc:
                raise PermanentFetchError(f"{type(exc).__name__}: {exc}", "http_error") from exc
            result.retries = attempt
            result.duration = time.monotonic() - started
            return result
        except TransientFetchError as exc:
            if attempt >= cfg.max_retries:
                exc.retries = attempt  # type: ignore[attr-defined]
                raise
            if exc.retry_after is not None and exc.retry_after > cfg.max_retry_after:
                err = PermanentFetchError(
                    f"Retry-After {exc.retry_after:.0f}s is over {cfg.max_retry_after:.0f}s",
                    "retry_after_too_long",
                )
                err.retries = attempt  # type: ignore[attr-defined]
                raise err from exc
            backoff = min(cfg.backoff_cap, cfg.backoff_base * 2**attempt) * random.uniform(0.5, 1.5)
            time.sleep(max(backoff, exc.retry_after or 0.0))
            attempt += 1
        except FetchError as exc:
            exc.retries = attempt  # type: ignore[attr-defined]
            raise
