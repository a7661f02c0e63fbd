"""One bad input costs that input only: it becomes a skip row with its reason (or, when its bytes are
fine, a page), and the run neither fails nor blocks. Real files, real named pipes and devices, real
permissions; every run through pipeline.run_incremental, in a subprocess where a run could hang or
must run without root's permission override."""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipeline import run_incremental
from tests.support import REPO, assert_same_as_fresh, tables, write_files

RUN = (
    "import json, sys; from pathlib import Path; from pipeline import run_incremental; "
    "print(json.dumps(run_incremental(Path(sys.argv[1]), Path(sys.argv[2]), workers=int(sys.argv[3]))))"
)


def page(title: str, words: str = "café and croissants") -> str:
    return (
        f"<html><head><title>{title}</title></head><body><nav><a href='/'>Home</a> <a href='/about'>About</a></nav>"
        f"<article><h1>{title}</h1><p>{title} is a story about {words}, told at length for the readers.</p>"
        f"<p>A second paragraph of {title} with more words in it.</p></article></body></html>"
    )


def run_in_subprocess(raw: Path, out: Path, workers: int = 0, prefix: list[str] | None = None) -> dict:
    """A run in its own process, stopped after 3 minutes: a run that blocks fails the test."""
    proc = subprocess.run(
        [*(prefix or []), sys.executable, "-c", RUN, str(raw), str(out), str(workers)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def warc_records(records: list[tuple[str, str, bytes]], gzip: bool = True) -> tuple[bytes, list[int]]:
    """A WARC file of response records (url, content type, body), and each record's offset."""
    buf, offsets = io.BytesIO(), []
    writer = WARCWriter(buf, gzip=gzip)
    for url, ctype, body in records:
        offsets.append(buf.tell())
        headers = StatusAndHeaders("200 OK", [("Content-Type", ctype)], protocol="HTTP/1.1")
        writer.write_record(
            writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=headers)
        )
    return buf.getvalue(), offsets


def reasons(out: Path) -> dict[str, str]:
    skipped = pd.read_parquet(out / "skipped")
    return dict(zip(skipped.source, skipped.reason))


def test_a_bogus_or_non_text_charset_label_is_ignored_not_fatal(tmp_path):
    body = page("Bogus").encode()
    files = {
        "s/base64.html": page("Base64").replace("<head>", "<head><meta charset=base64>"),
        "s/rot13.html": page("Rot13").replace("<head>", '<head><meta charset="rot13">'),
        "s/nosuch.html": page("Nosuch").replace(
            "<head>", '<head><meta http-equiv="Content-Type" content="text/html; charset=x-no-such">'
        ),
        "s/punycode.html": page("Puny").replace("<head>", "<head><meta charset=punycode>"),
        "w/crawl.warc.gz": warc_records(
            [
                ("https://example.org/rot13", "text/html; charset=rot13", body),
                (
                    "https://example.org/zlib",
                    "text/html; charset=zlib_codec",
                    body.replace(b"Bogus", b"Zlib"),
                ),
            ]
        )[0],
    }
    raw = write_files(tmp_path / "raw", files)
    summary = run_incremental(raw, tmp_path / "out")
    docs = pd.read_parquet(tmp_path / "out" / "documents").set_index("title")
    assert summary["skipped"] == 0
    assert sorted(docs.index) == ["Base64", "Bogus", "Nosuch", "Puny", "Rot13", "Zlib"]
    assert docs.text.str.contains("café and croissants").all()  # decoded as the UTF-8 it is


def test_file_and_folder_names_that_are_not_utf8_get_a_printable_stable_source(tmp_path):
    names = {
        b"s/caf\xe9.html": page("Latin one name"),  # a latin-1 name: not UTF-8
        b"s/caf\\xe9.html": page("Backslash name"),  # a valid name that looks like the escape
        b"d\xfe/x.html": page("Odd folder"),
        b"w/crawl\xff.warc.gz": warc_records(
            [("https://example.org/a", "text/html", page("Crawled").encode())]
        )[0],
    }
    raw = write_files(tmp_path / "raw", {os.fsdecode(k): v for k, v in names.items()})
    out = tmp_path / "out"
    summary = run_incremental(raw, out)
    docs = pd.read_parquet(out / "documents")
    by_source = dict(zip(docs.source.str.replace(r"#\d+$", "#N", regex=True), docs.title))
    assert by_source == {
        "s/caf\\xe9.html": "Latin one name",
        "s/caf\\\\xe9.html": "Backslash name",
        "d\\xfe/x.html": "Odd folder",
        "w/crawl\\xff.warc.gz#N": "Crawled",
    }
    assert summary["skipped"] == 0 and set(docs.site) == {"s", "d\\xfe", "example.org"}

    again = run_incremental(raw, out)  # the same sources again: nothing new, nothing removed
    assert (again["pages_unchanged"], again["pages_new"], again["pages_removed"]) == (4, 0, 0)
    (raw / os.fsdecode(b"s/caf\xe9.html")).write_text(page("Latin one name, edited"), encoding="utf-8")
    edited = run_incremental(raw, out)  # read again from the file its source names
    assert edited["pages_changed"] == 1
    assert "Latin one name, edited" in set(pd.read_parquet(out / "documents").title)
    assert_same_as_fresh(raw, out, tmp_path)


def test_named_pipes_and_devices_are_skipped_without_being_opened(tmp_path):
    raw = write_files(tmp_path / "raw", {"s/good.html": page("Good"), "s/other.html": page("Other")})
    os.mkfifo(raw / "s" / "pipe.html")  # opening it for reading would wait for a writer forever
    os.mkfifo(raw / "s" / "pipe.warc.gz")
    expected = {"s/pipe.html": "named pipe (FIFO)", "s/pipe.warc.gz": "named pipe (FIFO)"}
    try:
        os.mknod(
            raw / "s" / "zero.html", stat.S_IFCHR | 0o600, os.makedev(1, 5)
        )  # like /dev/zero: never ends
        expected["s/zero.html"] = "character device"
    except PermissionError:
        pass  # creating a device needs CAP_MKNOD (root); the named pipes still test the check
    summary = run_in_subprocess(raw, tmp_path / "out")
    skipped = pd.read_parquet(tmp_path / "out" / "skipped")
    assert set(skipped.reason) == {"special_file"}
    assert {s: d.split(":")[0] for s, d in zip(skipped.source, skipped.detail)} == expected
    assert summary["pages"] == 2


def test_the_incomplete_last_record_of_a_truncated_warc_is_a_skip_row(tmp_path):
    def crawl(name: str, gzip: bool) -> tuple[bytes, list[int]]:
        return warc_records(
            [
                (f"https://{name}.example.org/{i}", "text/html", page(f"{name} {i}", "words " * 40).encode())
                for i in range(3)
            ],
            gzip,
        )

    (heads, at_h), (bodies, at_b), (plain, at_p) = (
        crawl("heads", True),
        crawl("bodies", True),
        crawl("plain", False),
    )
    raw = write_files(
        tmp_path / "raw",
        {
            "crawl/heads.warc.gz": heads[: at_h[2] + 30],  # the crawl died inside a record's headers
            "crawl/bodies.warc.gz": bodies[: at_b[2] + 300],  # ...or inside its body
            "crawl/plain.warc": plain[: at_p[2] + 30],
        },
    )
    out = tmp_path / "out"
    summary = run_incremental(raw, out)
    expected = {
        f"crawl/heads.warc.gz#{at_h[2]}": "truncated",
        f"crawl/bodies.warc.gz#{at_b[2]}": "truncated",
        f"crawl/plain.warc#{at_p[2]}": "unreadable",  # warcio cannot parse the cut headers
    }
    assert reasons(out) == expected
    docs = pd.read_parquet(out / "documents")
    assert sorted(docs.title) == [f"{name} {i}" for name in ("bodies", "heads", "plain") for i in (0, 1)]
    assert summary["pages"] == 6
    again = run_incremental(raw, out)
    assert again["pages_unchanged"] == 6 and reasons(out) == expected


@pytest.mark.parametrize("workers", [0, 2])
def test_pages_at_the_root_on_both_sides_of_a_folder(tmp_path, workers):
    files = {
        "a.html": page("Root page A"),
        "b/x.html": page("Folder page X"),
        "c.html": page("Root page C"),
        "_root/y.html": page("Page in a folder named like the root site"),
    }
    raw = write_files(tmp_path / "raw", files)
    out = tmp_path / "out"
    first = run_incremental(raw, out, workers=workers)
    assert sorted(pd.read_parquet(out / "documents").source) == sorted(files)
    assert first["pages"] == 4 and first["skipped"] == 0

    again = run_incremental(raw, out, workers=workers)  # the same command again
    assert (again["pages_unchanged"], again["pages_removed"], again["parsed"]) == (4, 0, 0)
    write_files(raw, {"c.html": page("Root page C, edited"), "d.html": page("Root page D")})
    changed = run_incremental(raw, out, workers=workers)
    assert (changed["pages_changed"], changed["pages_new"]) == (1, 1)
    assert sorted(pd.read_parquet(out / "documents").source) == sorted([*files, "d.html"])
    assert_same_as_fresh(raw, out, tmp_path)


def without_permission_override() -> list[str]:
    """A command prefix under which file permissions hold: as root (whom a chmod 000 folder does not
    stop) the run goes without the capabilities that bypass them (setpriv, util-linux)."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: a chmod 000 folder stays listable")
    drop = "-dac_override,-dac_read_search"
    return ["setpriv", f"--bounding-set={drop}", f"--inh-caps={drop}", "--"]


@pytest.fixture
def restore_permissions(tmp_path):
    yield
    for dirpath, dirnames, _ in os.walk(tmp_path):
        for d in dirnames:
            os.chmod(os.path.join(dirpath, d), 0o755)


def test_an_unreadable_folder_is_a_skip_row_and_keeps_its_pages(tmp_path, restore_permissions):
    files = {
        "b/top.html": page("Top of b"),
        "b/sub/one.html": page("One in b/sub"),
        "b/sub/two.html": page("Two in b/sub"),
        "c/x.html": page("X in c"),
        "c/y.html": page("Y in c"),
        "d/z.html": page("Z in d"),
    }
    raw, out = write_files(tmp_path / "raw", files), tmp_path / "out"
    prefix = without_permission_override()
    run_in_subprocess(raw, out, prefix=prefix)
    before = tables(out)

    os.chmod(raw / "b" / "sub", 0)  # a sub-folder of a raw folder, and a whole raw folder
    os.chmod(raw / "c", 0)
    summary = run_in_subprocess(raw, out, prefix=prefix)
    assert reasons(out) == {"b/sub/": "unreadable_folder", "c/": "unreadable_folder"}
    assert (summary["pages_removed"], summary["pages_unchanged"], summary["pages"]) == (0, 6, 6)
    for name in ("documents", "blocks", "boilerplate"):  # its pages are as they were
        pd.testing.assert_frame_equal(tables(out)[name], before[name], obj=name)

    os.chmod(raw / "b" / "sub", 0o755)
    os.chmod(raw / "c", 0o755)
    run_in_subprocess(raw, out, prefix=prefix)
    assert reasons(out) == {}
    for name in ("documents", "blocks", "boilerplate"):
        pd.testing.assert_frame_equal(tables(out)[name], before[name], obj=name)
