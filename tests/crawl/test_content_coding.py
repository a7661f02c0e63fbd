"""Content codings decoded step by step (pure): stacked layers never expand at once."""

from __future__ import annotations

import gzip
import tracemalloc
import zlib

import brotli
import pytest

from pipeline.acquire.content_coding import decode
from pipeline.acquire.errors import PermanentFetchError
from tests.crawl import site_server as ss

DATA = b"<p>A page sent with a content coding.</p>" * 3000


def pieces(body: bytes, size: int = 1000) -> list[bytes]:
    return [body[i : i + size] for i in range(0, len(body), size)]


@pytest.mark.parametrize(
    "header,body",
    [
        ("gzip", gzip.compress(DATA)),
        ("x-gzip", gzip.compress(DATA)),
        ("gzip, gzip", gzip.compress(gzip.compress(DATA))),
        ("gzip", gzip.compress(DATA[:5000]) + gzip.compress(DATA[5000:])),  # two members, one body
        ("deflate", zlib.compress(DATA)),
        ("deflate", zlib.compress(DATA)[2:-4]),  # raw deflate
        ("br", brotli.compress(DATA)),
        ("gzip, br", brotli.compress(gzip.compress(DATA))),
        ("identity", DATA),
        ("", DATA),
    ],
)
def test_codings_decode_in_bounded_pieces(header, body):
    out = list(decode(pieces(body), header, 10 << 20))
    assert b"".join(out) == DATA
    assert max(len(p) for p in out) <= 2 * 64 * 1024


@pytest.mark.parametrize(
    "header,body,reason",
    [
        ("gzip", gzip.compress(DATA)[:-20], "bad_encoding"),
        ("gzip", b"not gzip" * 10, "bad_encoding"),
        ("br", brotli.compress(DATA)[:-5], "bad_encoding"),
        ("deflate", b"\x78", "bad_encoding"),
        ("zstd", b"(\xb5/\xfd", "unsupported_encoding"),
        ("gzip", gzip.compress(DATA), "too_large"),
    ],
)
def test_broken_unknown_and_oversized_bodies_raise_a_typed_error(header, body, reason):
    limit = 1000 if reason == "too_large" else 10 << 20
    with pytest.raises(PermanentFetchError) as err:
        list(decode(pieces(body), header, limit))
    assert err.value.reason == reason


def test_decoding_is_bounded_in_memory():
    bomb = ss.stacked_gzip_bomb(256)  # a few KB that hold 256 MiB of zeros
    tracemalloc.start()
    try:
        with pytest.raises(PermanentFetchError) as err:
            for _ in decode([bomb[i : i + 1024] for i in range(0, len(bomb), 1024)], "gzip, gzip", 10 << 20):
                pass
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert err.value.reason == "too_large"
    assert peak < 4 << 20, peak  # a few 64 KB steps, never the inner layer at once
