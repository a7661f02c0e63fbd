"""`sitesift` given bad values and paths: one line naming the option and the value, exit 2, before
Prefect starts (its PREFECT_HOME is never created); help, version, CPU defaults and empty inputs."""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys

import pytest

from flows.checks import usable_cpus
from tests.flows import cli_process as cp
from tests.support import REPO


@pytest.fixture
def home(tmp_path):
    return tmp_path / "prefect-home"  # must still not exist after each command: Prefect never started


def sitesift(home, *args: str) -> subprocess.CompletedProcess:
    return cp.run([str(a) for a in args], cp.cli_env(home), timeout=cp.HANG)


def one_error_line(proc: subprocess.CompletedProcess, home) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = cp.lines(proc.stderr)
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert not home.exists(), "Prefect was started"
    return lines[0]


@pytest.mark.parametrize(
    "args,named",
    [
        (["run", "--workers", "-1"], "--workers -1"),
        (["run", "--workers", "two"], "--workers two"),
        (["run", "--min-share", "2"], "--min-share 2"),
        (["run", "--min-pages", "0"], "--min-pages 0"),
        (["run", "--page-timeout", "0"], "--page-timeout 0"),
        (["run", "--layout-sample", "-3"], "--layout-sample -3"),
        (["crawl", "http://example.org/", "--max-pages", "0"], "--max-pages 0"),
        (["crawl", "http://example.org/", "--delay", "-1"], "--delay -1"),
    ],
)
def test_a_bad_value_is_one_line_naming_option_and_value(home, args, named):
    assert named in one_error_line(sitesift(home, *args), home)


def test_an_unknown_option_is_one_line(home):
    assert "--bogus" in one_error_line(sitesift(home, "run", "--bogus"), home)


def test_out_naming_a_file(home, tmp_path, naht_raw):
    (tmp_path / "notes.txt").write_text("not a folder")
    line = one_error_line(sitesift(home, "run", "--raw", naht_raw, "--out", tmp_path / "notes.txt"), home)
    assert "--out" in line and "notes.txt is a file, not a folder" in line
    line = one_error_line(
        sitesift(home, "run", "--raw", naht_raw, "--out", tmp_path / "notes.txt" / "x"), home
    )
    assert "notes.txt is a file, not a folder" in line


def test_raw_naming_a_file_or_nothing(home, tmp_path):
    (tmp_path / "page.html").write_text("<p>hi</p>")
    assert "--raw" in (line := one_error_line(sitesift(home, "run", "--raw", tmp_path / "page.html"), home))
    assert "is a file, not a folder" in line
    assert "does not exist" in one_error_line(sitesift(home, "run", "--raw", tmp_path / "nope"), home)


@pytest.mark.parametrize(
    ("option", "url", "says"),
    [
        ("--raw", "nosuchfs://bucket/raw", "Protocol not known: nosuchfs"),
        ("--out", "abfs://container/out", "Install adlfs"),  # fsspec knows it; its package is not here
    ],
)
def test_a_store_fsspec_cannot_open_is_one_line(home, naht_raw, option, url, says):
    args = {"--raw": str(naht_raw), "--out": "processed", option: url}
    line = one_error_line(sitesift(home, "run", *[x for kv in args.items() for x in kv]), home)
    assert line.startswith(f"error: {option} {url}: ") and says in line, line


@pytest.mark.skipif(os.geteuid() == 0, reason="permissions do not stop root (see the read-only test)")
def test_out_not_writable(home, tmp_path, naht_raw):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    line = one_error_line(sitesift(home, "run", "--raw", naht_raw, "--out", locked / "out"), home)
    assert "not writable" in line


def unshare_works() -> bool:
    if not shutil.which("unshare"):
        return False
    probe = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "true"], capture_output=True, timeout=30
    )
    return probe.returncode == 0


def in_own_mounts(home, setup: str, args: list) -> subprocess.CompletedProcess:
    """The command inside a private mount namespace (no privileges needed): `setup` mounts what
    the test needs, which nobody else sees and which goes with the process."""
    command = " ".join([sys.executable, "-m", "flows.cli", *map(str, args)])
    return subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", f"{setup} && exec {command}"],
        cwd=REPO,
        env=cp.cli_env(home),
        capture_output=True,
        text=True,
        timeout=cp.HANG,
    )


@pytest.mark.skipif(not unshare_works(), reason="needs unprivileged mount namespaces (unshare)")
def test_out_on_a_read_only_or_full_disk(home, tmp_path, naht_raw):
    disk = tmp_path / "disk"
    disk.mkdir()
    read_only = in_own_mounts(
        home, f"mount -t tmpfs -o ro tmpfs {disk}", ["run", "--raw", naht_raw, "--out", disk]
    )
    assert "--out" in (line := one_error_line(read_only, home)) and "read-only file system" in line
    fill = f"mount -t tmpfs -o size=64k tmpfs {disk} && (head -c 1000000 /dev/zero > {disk}/fill 2>/dev/null || true)"
    full = in_own_mounts(home, fill, ["run", "--raw", naht_raw, "--out", disk / "out"])
    assert "--out" in (line := one_error_line(full, home)) and ("full" in line or "MB free" in line)


def test_help_and_version(home):
    for args in (["-h"], ["--help"], ["run", "-h"], ["crawl", "--help"]):
        proc = sitesift(home, *args)
        assert proc.returncode == 0 and "Usage: sitesift" in proc.stdout, proc.stderr
        assert "<bool>" not in proc.stdout  # flags take no value
    assert "--quiet" in sitesift(home, "run", "-h").stdout
    proc = sitesift(home, "--version")
    assert (
        proc.returncode == 0 and proc.stdout.strip() == f"sitesift {importlib.metadata.version('sitesift')}"
    )
    assert sitesift(home).returncode == 0  # no command: the help
    assert not home.exists()


def test_workers_default_to_the_usable_cpus_and_are_capped_at_them(home, tmp_path):
    help_text = " ".join(sitesift(home, "run", "-h").stdout.split())
    workers = re.search(r"--workers .*?\[default: (\d+)\]", help_text)
    assert workers and int(workers.group(1)) == usable_cpus() == len(os.sched_getaffinity(0))
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = sitesift(home, "run", "--raw", empty, "--workers", "1000")
    assert proc.returncode == 0
    assert f"warning: --workers 1000 is more than the {usable_cpus()} CPUs" in proc.stderr


def test_an_empty_raw_folder_says_so(home, tmp_path):
    empty = tmp_path / "raw"
    (empty / ".hidden").mkdir(parents=True)
    (empty / ".DS_Store").write_text("")
    proc = sitesift(home, "run", "--raw", empty, "--out", tmp_path / "out")
    assert proc.returncode == 0 and cp.lines(proc.stderr) == [f"no pages under {empty}: nothing to do"]
    assert not (tmp_path / "out").exists() and not home.exists()


def test_quiet_and_verbose_together(home):
    assert "--quiet and --verbose" in one_error_line(sitesift(home, "run", "-q", "-v"), home)
