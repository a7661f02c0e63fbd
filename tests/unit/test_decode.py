import codecs

import pytest

from pipeline.acquire.decode import UndecodableError, decode_bytes, looks_binary, normalise_text


def test_bom_wins_over_declaration():
    data = codecs.BOM_UTF8 + '<meta charset="iso-8859-1"><p>café</p>'.encode()
    assert decode_bytes(data) == ('<meta charset="iso-8859-1"><p>café</p>', "utf-8")


def test_declared_charset_is_used():
    data = '<meta charset="koi8-r"><p>привет</p>'.encode("koi8-r")
    text, enc = decode_bytes(data)
    assert "привет" in text and enc == "koi8-r"


def test_header_charset_beats_document_declaration():
    data = '<meta charset="utf-8"><p>café</p>'.encode("cp1252")
    assert "café" in decode_bytes(data, declared="windows-1252")[0]


def test_utf8_then_cp1252():
    assert decode_bytes("naïve “quotes”".encode()) == ("naïve “quotes”", "utf-8")
    assert decode_bytes("naïve “quotes”".encode("cp1252")) == ("naïve “quotes”", "cp1252")


def test_mostly_utf8_with_one_bad_byte_stays_utf8():
    data = ("é" * 2000).encode() + b"\xff"
    text, enc = decode_bytes(data)
    assert enc == "utf-8" and text.endswith("\ufffd")


def test_undecodable_raises():
    with pytest.raises(UndecodableError):
        decode_bytes(b"abc \x81\x8d\x8f\x90\x9d" * 20)


def test_normalise_crlf_nbsp_and_invisibles():
    assert normalise_text("a\r\nb\rc\u00a0d\u200be\u202ff\x07") == "a\nb\nc de f"


def test_binary_detection():
    assert looks_binary(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert not looks_binary(b"plain text, nothing odd\n")
    assert not looks_binary(codecs.BOM_UTF16_LE + "hi".encode("utf-16-le"))


@pytest.mark.parametrize("label", ["base64", "rot13", "zlib", "punycode", "x-no-such-charset"])
def test_a_label_that_names_no_character_set_is_ignored(label):
    data = f'<meta charset="{label}"><p>café</p>'.encode()
    assert decode_bytes(data) == (f'<meta charset="{label}"><p>café</p>', "utf-8")
    assert decode_bytes(data, declared=label)[1] == "utf-8"  # from an HTTP header too
