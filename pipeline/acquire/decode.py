"""Bytes -> normalised Unicode text: BOM, declared charset, UTF-8, then cp1252. Pure.

Not bs4's UnicodeDammit: it asks charset_normalizer before UTF-8 and cp1252 and, on our decode tests,
took cp1252 text for windows-1250 and mostly-UTF-8 bytes for cp932."""

from __future__ import annotations

import codecs
import re
import unicodedata

_BOMS = [
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
]
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.I)
_XML_ENCODING = re.compile(rb"""<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_\-.]+)""", re.I)
# Non-breaking and other fixed-width spaces that fetchers keep from &nbsp; and typography.
_SPACES = "\u00a0\u2007\u202f\u2000-\u200a\u3000"
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad"  # and control characters below: removed
_SPECIAL = re.compile(f"[{_SPACES}{_INVISIBLE}\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # one scan, not three
_IS_SPACE = re.compile(f"[{_SPACES}]")
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13))  # counted by looks_binary


# Python text codecs that decode bytes no web page is written in (silently, into other text)
_NOT_CHARSETS = {"idna", "punycode", "undefined", "unicode-escape", "raw-unicode-escape", "utf-7"}


class UndecodableError(ValueError):
    """No candidate encoding decodes the bytes."""


def sniff_declared_charset(data: bytes) -> str | None:
    """Charset declared inside the document (meta tag or XML declaration), if any."""
    head = data[:4096]
    m = _META_CHARSET.search(head) or _XML_ENCODING.search(head)
    return m.group(1).decode("ascii", "ignore").lower() if m else None


def _known(encoding: str | None) -> str | None:
    """A declared charset as a Python codec name; None for a label that names no character set (a
    bogus or unknown one, or a Python codec such as base64 or rot13: ignored, as browsers do)."""
    if not encoding:
        return None
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        return None
    if name in _NOT_CHARSETS:
        return None
    # Browsers treat a declared latin-1 / ascii as windows-1252 (WHATWG encoding spec).
    return "cp1252" if name in {"latin-1", "iso8859-1", "ascii"} else name


def decode_bytes(data: bytes, declared: str | None = None) -> tuple[str, str]:
    """Return (text, encoding used). Order: BOM, declared (header, then in-document), UTF-8, cp1252.

    Raises UndecodableError when nothing fits; mostly-UTF-8 bytes with a few bad sequences are
    decoded as UTF-8 with replacement characters rather than as cp1252 mojibake.
    """
    for bom, enc in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(enc, errors="replace"), enc
    candidates = [_known(declared), _known(sniff_declared_charset(data)), "utf-8", "cp1252"]
    tried: list[str] = []
    for enc in (c for c in candidates if c):
        if enc in tried:
            continue
        tried.append(enc)
        try:
            return data.decode(enc), enc
        except LookupError:  # a bytes-to-bytes codec (base64, rot13, zlib): not a character set
            continue
        except UnicodeError:  # UnicodeDecodeError, and the bare UnicodeError some codecs raise
            if enc == "utf-8" and _mostly_utf8(data):
                return data.decode("utf-8", errors="replace"), "utf-8"
    raise UndecodableError(f"none of {', '.join(tried)} decodes the bytes")


def _mostly_utf8(data: bytes) -> bool:
    """True when UTF-8 fails on at most 1 in 1,000 bytes and multi-byte sequences do occur."""
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    return bad <= max(1, len(data) // 1000) and any(ord(c) > 127 and c != "\ufffd" for c in text)


def normalise_text(text: str) -> str:
    """NFC, CRLF/CR -> LF, non-breaking spaces -> space, invisible and control characters removed."""
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _SPECIAL.sub(_replacement, text)


def _replacement(match: re.Match) -> str:
    return " " if _IS_SPACE.match(match.group()) else ""


def looks_binary(data: bytes) -> bool:
    """NUL bytes or many control bytes in the first 8 KiB: not a text or HTML page."""
    head = data[:8192]
    if not head:
        return False
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return False
    if b"\x00" in head:
        return True
    control = len(head) - len(head.translate(None, _CONTROL_BYTES))  # counted in C, not byte by byte
    return control / len(head) > 0.1
