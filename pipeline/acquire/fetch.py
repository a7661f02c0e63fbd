"""One polite, guarded HTTP GET with retries: address check before every connection, redirects
followed by hand (every hop checked, chain recorded, loops caught), content codings decoded under the
body limit, one overall deadline per request and a stop signal that every wait and socket read
honours. Touches network."""

from __future__ import annotations

import datetime as dt
import email.utils
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpcore
import httpx

from pipeline.acquire.addresses import check_destination
from pipeline.acquire.content_coding import ACCEPT_ENCODING, decode
from pipeline.acquire.errors import (
    CrawlInterrupted,
    FetchError,
    PermanentFetchError,
    RefusedURL,
    TransientFetchError,
)
from pipeline.acquire.urls import check_scheme, normalise
from pipeline.config import CrawlConfig

_REDIRECTS = {301, 302, 303, 307, 308}
_HOP_BY_HOP = {"content-encoding", "transfer-encoding", "content-length", "connection", "keep-alive"}
_CHARSET = re.compile(r"""charset\s*=\s*["']?([^"';\s]+)""", re.I)
_SLICE = 0.25  # longest single socket wait, so a stop request is seen within this


@dataclass
class FetchResult:
    url: str  # as requested
    final_url: str  # after redirects
    status: int
    content_type: str = ""
    body: bytes = b""  # decoded body (content codings removed)
    headers: list[tuple[str, str]] = field(default_factory=list)  # response headers, for WARC
    request_headers: list[tuple[str, str]] = field(default_factory=list)  # final request, for WARC
    redirect_chain: list[str] = field(default_factory=list)
    etag: str | None = None
    last_modified: str | None = None
    retries: int = 0
    duration: float = 0.0
    fetched_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    http_version: str = "HTTP/1.1"  # as the server answered
    reason_phrase: str = ""  # as the server answered ("OK", "Not Modified", or none at all)
    request_target: str = ""  # path and query exactly as sent in the request line
    truncated: bool = False  # body cut at the limit on request (robots.txt)

    @property
    def unchanged(self) -> bool:
        return self.status == 304

    @property
    def charset(self) -> str | None:
        """The charset parameter of the Content-Type header, if any."""
        for name, value in self.headers:
            if name.lower() == "content-type":
                return charset_of(value)
        return None


def charset_of(content_type: str) -> str | None:
    """The charset parameter of a Content-Type value, lower case, if any."""
    m = _CHARSET.search(content_type)
    return m.group(1).lower() if m else None


class Budget:
    """Time left for the request in flight, and the crawl's stop signal; read by every socket
    operation (GuardedBackend), so neither a slow-drip server nor a blocked read outlasts them."""

    def __init__(self, stop: threading.Event | None = None):
        self.stop = stop or threading.Event()
        self.deadline: float | None = None

    def check(self) -> None:
        if self.stop.is_set():
            raise CrawlInterrupted("crawl stopped")

    def left(self, timeout: float | None) -> float | None:
        if self.deadline is None:
            return timeout
        remaining = self.deadline - time.monotonic()
        return remaining if timeout is None else min(timeout, remaining)

    def sleep(self, seconds: float) -> None:
        if seconds > 0 and self.stop.wait(seconds):
            raise CrawlInterrupted("crawl stopped")
        self.check()


class HostGate:
    """One request at a time per host, at least `delay` seconds apart (start to start)."""

    def __init__(self, delay: float, budget: Budget | None = None):
        self.delay = delay
        self.budget = budget or Budget()
        self._next = 0.0
        self._lock = threading.Lock()

    def set_delay(self, delay: float) -> None:
        """Change the delay, counting from the last request (robots.txt Crawl-delay arrives late)."""
        with self._lock:
            self._next += delay - self.delay
            self.delay = delay

    def wait(self) -> None:
        with self._lock:
            self.budget.sleep(self._next - time.monotonic())
            self._next = time.monotonic() + self.delay


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


class _BudgetStream(httpcore.NetworkStream):
    """A socket stream whose waits end at the request's deadline and at a stop request."""

    def __init__(self, inner: httpcore.NetworkStream, budget: Budget):
        self.inner, self.budget = inner, budget

    def _limit(self, timeout: float | None) -> float | None:
        self.budget.check()
        left = self.budget.left(timeout)
        if left is not None and left <= 0:
            raise httpcore.ReadTimeout("request deadline reached")
        return left

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        left = self._limit(timeout)
        end = None if left is None else time.monotonic() + left
        while True:  # short waits, so that a stop request or the deadline ends a blocked read
            step = _SLICE if end is None else min(_SLICE, end - time.monotonic())
            if step <= 0:
                raise httpcore.ReadTimeout("read timed out")
            try:
                return self.inner.read(max_bytes, step)
            except httpcore.ReadTimeout:
                self.budget.check()

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.inner.write(buffer, self._limit(timeout))

    def close(self) -> None:
        self.inner.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None) -> httpcore.NetworkStream:
        return _BudgetStream(
            self.inner.start_tls(ssl_context, server_hostname, self._limit(timeout)), self.budget
        )

    def get_extra_info(self, info: str):
        return self.inner.get_extra_info(info)


class GuardedBackend(httpcore.SyncBackend):
    """httpcore's network backend with the address check at the socket: the host is resolved once,
    every address checked, and the connection made to a checked address (no second DNS answer can
    slip in between check and connect: DNS rebinding). TLS still verifies the original host name.
    Every stream it opens keeps to the budget's deadline and stop signal."""

    def __init__(self, allow_hosts: tuple[str, ...], budget: Budget | None = None):
        super().__init__()
        self.allow_hosts = allow_hosts
        self.budget = budget or Budget()

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        addresses = check_destination(host, port, self.allow_hosts)
        error: Exception | None = None
        for address in addresses:
            self.budget.check()
            left = self.budget.left(timeout)
            if left is not None and left <= 0:
                raise httpcore.ConnectTimeout("request deadline reached")
            try:
                stream = super().connect_tcp(address, port, left, local_address, socket_options)
            except httpcore.ConnectError as exc:
                error = exc
                continue
            return _BudgetStream(stream, self.budget)
        raise error if error else httpcore.ConnectError(f"no address for {host}")


def make_client(cfg: CrawlConfig, budget: Budget | None = None) -> httpx.Client:
    timeout = httpx.Timeout(cfg.read_timeout, connect=cfg.connect_timeout)
    transport = httpx.HTTPTransport()
    # httpx has no public hook for the network backend; httpcore's pool takes one (checked by a test)
    transport._pool._network_backend = GuardedBackend(cfg.allow_hosts, budget)
    return httpx.Client(
        headers={"User-Agent": cfg.user_agent, "Accept-Encoding": ACCEPT_ENCODING},
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
        transport=transport,
    )


Permit = Callable[[str], None]  # raises RefusedURL when a URL (a redirect target) may not be requested


@dataclass(frozen=True)
class Want:
    """What a caller accepts: media types (None: any), a decoded-size limit, and whether a body over
    the limit is cut there (robots.txt: RFC 9309 says parse at least the first 500 KiB) or refused."""

    types: tuple[str, ...] | None
    limit: int
    truncate: bool = False


def _read_body(r: httpx.Response, result: FetchResult, want: Want) -> None:
    declared = r.headers.get("content-length", "")
    if not want.truncate and declared.isdigit() and int(declared) > want.limit:
        raise PermanentFetchError(f"Content-Length {declared} over {want.limit}", "too_large")
    body = bytearray()
    pieces = decode(r.iter_raw(), r.headers.get("content-encoding"), None if want.truncate else want.limit)
    for piece in pieces:
        if want.truncate and len(body) + len(piece) > want.limit:
            body += piece[: want.limit - len(body)]
            result.truncated = True
            break
        body += piece
    result.body = bytes(body)


def _fetch_once(
    client: httpx.Client,
    url: str,
    want: Want,
    conditional: dict[str, str],
    permit: Permit | None,
    cfg: CrawlConfig,
) -> FetchResult:
    chain: list[str] = []
    current = url
    for hop in range(cfg.max_redirects + 1):
        check_scheme(current)  # the address itself is checked by GuardedBackend as it connects
        if hop and permit is not None:
            permit(current)  # robots.txt holds for redirect targets too
        headers = dict(conditional) if hop == 0 else {}
        with client.stream("GET", current, headers=headers) as r:
            status = r.status_code
            if status in _REDIRECTS and r.headers.get("location"):
                try:
                    nxt = normalise(r.headers["location"], base=current)
                except RefusedURL as exc:
                    raise PermanentFetchError(f"redirect to {exc}", "bad_redirect") from exc
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
                http_version=r.http_version,
                reason_phrase=r.reason_phrase,
                request_target=r.request.url.raw_path.decode("ascii"),
            )
            if status == 304:
                return result
            if status >= 400:
                raise PermanentFetchError(f"HTTP {status}", f"http_{status}")
            if want.types is not None and result.content_type not in want.types:
                raise PermanentFetchError(
                    f"content type {result.content_type or '(none)'} is not stored", "unsupported_type"
                )
            _read_body(r, result, want)
            return result
    raise PermanentFetchError(f"more than {cfg.max_redirects} redirects", "too_many_redirects")


class Fetcher:
    """One host's HTTP: a guarded client, the politeness gate and the request budget. Not shared
    between threads (one request at a time per host is the crawler's rule anyway)."""

    def __init__(self, cfg: CrawlConfig, stop: threading.Event | None = None):
        self.cfg = cfg
        self.budget = Budget(stop)
        self.gate = HostGate(cfg.min_delay, self.budget)
        self.client = make_client(cfg, self.budget)

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def get(
        self,
        url: str,
        conditional: dict[str, str] | None = None,
        want: Want | None = None,
        permit: Permit | None = None,
    ) -> FetchResult:
        """GET url with retries (exponential backoff with jitter, Retry-After honoured) on the
        transient errors only, all within cfg.request_deadline from the first attempt; each attempt
        waits for the host's politeness slot. Raises a FetchError for the URL, CrawlInterrupted
        when the crawl is stopped."""
        cfg = self.cfg
        want = want or Want(cfg.stored_types, cfg.max_body_bytes)
        outer = self.budget.deadline  # a robots.txt fetched for a redirect runs inside another get
        try:
            self.budget.deadline = None
            self.gate.wait()  # the politeness wait before the first attempt is not the URL's time
            started = time.monotonic()
            deadline = self.budget.deadline = started + cfg.request_deadline
            attempt = 0
            while True:
                if attempt:
                    self.gate.wait()
                try:
                    result = self._attempt(url, want, conditional or {}, permit)
                    result.retries = attempt
                    result.duration = time.monotonic() - started
                    return result
                except TransientFetchError as exc:
                    exc.retries = attempt  # type: ignore[attr-defined]
                    if attempt >= cfg.max_retries:
                        raise
                    if exc.retry_after is not None and exc.retry_after > cfg.max_retry_after:
                        err = PermanentFetchError(
                            f"Retry-After {exc.retry_after:.0f}s is over {cfg.max_retry_after:.0f}s",
                            "retry_after_too_long",
                        )
                        err.retries = attempt  # type: ignore[attr-defined]
                        raise err from exc
                    backoff = min(cfg.backoff_cap, cfg.backoff_base * 2**attempt) * random.uniform(0.5, 1.5)
                    wait = max(backoff, exc.retry_after or 0.0)
                    if time.monotonic() + wait >= deadline:
                        raise  # no time left for another attempt
                    self.budget.sleep(wait)
                    attempt += 1
                except FetchError as exc:
                    exc.retries = attempt  # type: ignore[attr-defined]
                    raise
        finally:
            self.budget.deadline = outer

    def _attempt(
        self, url: str, want: Want, conditional: dict[str, str], permit: Permit | None
    ) -> FetchResult:
        """One try, httpx's errors turned into typed fetch errors."""
        try:
            return _fetch_once(self.client, url, want, conditional, permit, self.cfg)
        except httpx.TimeoutException as exc:
            deadline = self.budget.deadline
            if deadline is not None and time.monotonic() >= deadline:
                raise PermanentFetchError(
                    f"no complete response within {self.cfg.request_deadline:g} s", "deadline"
                ) from exc
            raise TransientFetchError(f"timeout: {type(exc).__name__}", "timeout") from exc
        except httpx.RemoteProtocolError as exc:
            if str(exc).startswith("Invalid URL in location header"):  # httpx parses Location itself
                raise PermanentFetchError(f"redirect to a bad URL: {exc}", "bad_redirect") from exc
            raise TransientFetchError(f"connection error: {type(exc).__name__}: {exc}", "connection") from exc
        except httpx.NetworkError as exc:
            raise TransientFetchError(f"connection error: {type(exc).__name__}: {exc}", "connection") from exc
        except httpx.HTTPError as exc:  # a malformed response, a bad header value, an invalid URL
            raise PermanentFetchError(f"{type(exc).__name__}: {exc}", "bad_response") from exc
