"""HTTP content codings (gzip, deflate, br; stacked ones too) decoded incrementally with a bound on
the output of every step. Pure.

httpx decodes each network chunk through every layer at once, so one 1 KB chunk of `gzip, gzip`
can become 512 MiB before any limit is looked at. Here every layer hands on about CHUNK bytes per
step and the caller stops pulling at its limit, so memory stays at a few chunks whatever the body.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Iterator

from pipeline.acquire.errors import PermanentFetchError

CHUNK = 64 * 1024  # bytes a layer produces per step (brotli may overshoot it by one buffer)

try:  # br only when the installed brotli can bound its output (brotli >= 1.2)
    import brotli

    _BROTLI = "output_buffer_limit" in (brotli.Decompressor.process.__doc__ or "")
except ImportError:  # pragma: no cover - brotli is a dependency; a stripped install still works
    brotli = None
    _BROTLI = False

SUPPORTED = ("gzip", "deflate", "br") if _BROTLI else ("gzip", "deflate")
ACCEPT_ENCODING = ", ".join(SUPPORTED)  # what the crawler offers: only codings it can bound

Layer = Callable[[Iterable[bytes]], Iterator[bytes]]


def _bad(coding: str, why: object) -> PermanentFetchError:
    return PermanentFetchError(f"body is not valid {coding}: {why}", "bad_encoding")


def _inflate(chunks: Iterable[bytes], wbits: int, coding: str) -> Iterator[bytes]:
    """zlib/gzip/raw deflate, at most CHUNK bytes per step; concatenated gzip members are one body."""
    d = zlib.decompressobj(wbits)
    started = False
    for chunk in chunks:
        data = chunk
        while data:
            try:
                out = d.decompress(data, CHUNK)
            except zlib.error as exc:
                raise _bad(coding, exc) from exc
            started = True
            if out:
                yield out
            if d.eof:
                rest = d.unused_data
                if coding == "gzip" and rest[:2] == b"\x1f\x8b":
                    d = zlib.decompressobj(wbits)
                    data = rest
                    continue
                data = b""  # trailing bytes after the stream: ignored, as browsers do
            else:
                data = d.unconsumed_tail
            while len(out) == CHUNK and not data and not d.eof:  # output still pending inside zlib
                out = d.decompress(b"", CHUNK)
                if out:
                    yield out
    if not started:
        return  # an empty body is a valid empty body
    if not d.eof:
        raise _bad(coding, "truncated")


def _gzip(chunks: Iterable[bytes]) -> Iterator[bytes]:
    return _inflate(chunks, 16 + zlib.MAX_WBITS, "gzip")


def _deflate(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """zlib-wrapped deflate as the RFC says, or raw deflate, which many servers send (httpx reads both),
    told apart by the zlib header check bits."""
    it = iter(chunks)
    first = b""
    for chunk in it:
        first = chunk
        if chunk:
            break
    if not first:
        return iter(())
    raw = (first[0] & 0x0F) != 8 or ((first[0] << 8) | (first[1] if len(first) > 1 else 0)) % 31 != 0

    def rest() -> Iterator[bytes]:
        yield first
        yield from it

    return _inflate(rest(), -zlib.MAX_WBITS if raw else zlib.MAX_WBITS, "deflate")


def _brotli(chunks: Iterable[bytes]) -> Iterator[bytes]:
    d = brotli.Decompressor()
    started = False
    try:
        for chunk in chunks:
            data = chunk
            started = started or bool(chunk)
            while True:  # new input only once the decoder has handed out what it holds
                out = d.process(data, output_buffer_limit=CHUNK)
                data = b""
                if out:
                    yield out
                if len(out) < CHUNK and d.can_accept_more_data():
                    break
        while started and not d.is_finished():
            out = d.process(b"", output_buffer_limit=CHUNK)
            if not out:
                break
            yield out
    except brotli.error as exc:
        raise _bad("br", exc) from exc
    if started and not d.is_finished():
        raise _bad("br", "truncated")


_LAYERS: dict[str, Layer] = {"gzip": _gzip, "x-gzip": _gzip, "deflate": _deflate}
if _BROTLI:
    _LAYERS["br"] = _brotli


def codings(header: str | None) -> list[str]:
    """The Content-Encoding list in the order applied, identity dropped."""
    names = [c.strip().lower() for c in (header or "").split(",")]
    return [c for c in names if c and c != "identity"]


def decode(chunks: Iterable[bytes], header: str | None, limit: int | None) -> Iterator[bytes]:
    """The decoded body, in pieces of about CHUNK bytes (a caller that stops pulling stops the
    decoding). Raises PermanentFetchError with reason "too_large" once more than `limit` decoded
    bytes came out (nothing beyond is decoded),
    "bad_encoding" for a broken body and "unsupported_encoding" for a coding we did not offer."""
    stream: Iterable[bytes] = chunks
    for name in reversed(codings(header)):  # listed in the order applied: the last one is undone first
        layer = _LAYERS.get(name)
        if layer is None:
            raise PermanentFetchError(f"content coding {name!r} is not supported", "unsupported_encoding")
        stream = layer(stream)
    total = 0
    for piece in stream:
        total += len(piece)
        if limit is not None and total > limit:
            raise PermanentFetchError(f"body over {limit} bytes", "too_large")
        yield piece
