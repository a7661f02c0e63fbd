"""What `sitesift run` shows on the terminal: a bar per stage whose count ends on its total (for
plain files and for WARC records, fresh runs and re-runs), Prefect's log lines only when asked for,
nothing but errors and the summary with --quiet, and no telemetry notice."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys

import pytest
from prefect.settings import PREFECT_API_URL
from rich.console import Console

from bench.generate import write_site
from flows.console import StageBars, Verbosity
from flows.process import process
from flows.progress import cli_display
from tests.flows import cli_process as cp
from tests.support import REPO, write_files
from tests.unit.test_warc_reload import warc_bytes

STAGES = ["list", "parse", "build sites", "publish"]


class StageLog:
    """A flows.progress.Display that keeps every update of every stage."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.updates: list[list[tuple[int, int | None]]] = []

    def add_stage(self, name: str, total: int | None) -> int:
        self.names.append(name)
        self.updates.append([(0, total)])
        return len(self.names) - 1

    def update_stage(self, key: int, completed: int, total: int | None, name: str | None = None) -> None:
        self.updates[key].append((completed, total))

    def stopping(self) -> bool:
        return False

    def flow_started(self) -> None:
        pass

    def counted(self) -> dict[str, tuple[int, int | None]]:
        """Per stage, (completed, total) when its count first reached its end: the total must be
        right by then, not corrected when the stage is declared over."""
        out = {}
        for name, updates in zip(self.names, self.updates):
            final = updates[-1][0]
            out[name] = next(u for u in updates if u[0] == final)
            assert all(total is not None and done <= total for done, total in updates[1:]), (name, updates)
        return out


def run_counted(raw, out) -> tuple[dict, dict]:
    log = StageLog()
    token = cli_display.set(log)
    try:
        summary = process(raw=str(raw), out=str(out))
    finally:
        cli_display.reset(token)
    return summary, log.counted()


def test_each_stage_counts_up_to_its_total_for_files_and_warc_records(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "processed"
    for site in ("alpha", "beta"):
        write_site(raw, site, 0, 60)
    write_files(raw, {"crawl/capture.warc.gz": warc_bytes(40, gzip=True)})  # one file, 40 pages
    summary, stages = run_counted(raw, out)
    assert list(stages) == STAGES
    assert stages["list"] == (121, 121)  # files
    assert stages["parse"] == (160, 160) and summary["parsed"] == 160  # pages
    assert stages["build sites"] == (3, 3) and stages["publish"] == (2, 2)

    for i in range(20, 60):  # alpha falls below 4 x the layout sample: its pages enter the sample
        (raw / "alpha" / f"page-{i:06d}.html").unlink()
    write_site(raw, "beta", 0, 5, seed=1)
    summary, stages = run_counted(raw, out)
    assert summary["pages_changed"] == 5 and summary["parsed_again"] > 0
    assert stages["list"] == (81, 81)
    assert stages["parse"] == (5 + summary["parsed_again"],) * 2  # the changed pages, then the re-parsed
    assert stages["build sites"] == (3, 3) and stages["publish"] == (2, 2)


def test_the_cli_bars_end_on_the_same_counts(tmp_path):
    """The same run through the CLI's own bars (flows.console.StageBars) on a console of ours."""
    raw, out = tmp_path / "raw", tmp_path / "processed"
    write_site(raw, "alpha", 0, 12)
    bars = StageBars(Verbosity.NORMAL, stopping=lambda: False, console=Console(file=io.StringIO(), width=120))
    token = cli_display.set(bars)
    try:
        with bars:
            process(raw=str(raw), out=str(out))
    finally:
        cli_display.reset(token)
    shown = {t.description: (t.completed, t.total) for t in bars.progress.tasks}
    assert shown == {"list": (12, 12), "parse": (12, 12), "build sites": (1, 1), "publish": (2, 2)}


def cli_run(tmp_path, naht_raw, *flags: str) -> subprocess.CompletedProcess:
    """`sitesift run` on the harness's API server (this test is about the terminal, not Prefect's
    start-up)."""
    env = cp.cli_env(tmp_path / "prefect-home", PREFECT_API_URL.value())
    out = tmp_path / "processed"
    proc = cp.run(["run", "--raw", str(naht_raw), "--out", str(out), *flags], env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "pages 5" in proc.stdout and "naht" in proc.stdout  # the closing summary
    return proc


def test_by_default_the_bars_and_no_info_lines(tmp_path, naht_raw):
    proc = cli_run(tmp_path, naht_raw)
    shown = cp.lines(proc.stderr)
    assert len(shown) == len(STAGES), proc.stderr  # the bars, and nothing else
    for line, stage, count in zip(shown, STAGES, ("5/5", "5/5", "1/1", "2/2")):
        assert line.startswith(stage) and count in line, line
    assert "INFO" not in proc.stderr and "Flow run" not in proc.stderr


def test_verbose_adds_prefect_info_lines(tmp_path, naht_raw):
    proc = cli_run(tmp_path, naht_raw, "--verbose")
    assert "Beginning flow run" in proc.stderr and "INFO" in proc.stderr
    assert any(line.startswith("parse") and "5/5" in line for line in cp.lines(proc.stderr))


def test_quiet_shows_only_the_summary(tmp_path, naht_raw):
    proc = cli_run(tmp_path, naht_raw, "--quiet")
    assert proc.stderr == ""


@pytest.mark.skipif(not hasattr(pty, "openpty"), reason="needs a pseudo-terminal")
def test_no_telemetry_notice_in_a_terminal(tmp_path):
    """Prefect prints its telemetry notice once per PREFECT_HOME, in interactive terminals only:
    the CLI's module turns the client's telemetry off before Prefect is imported."""
    env = {k: v for k, v in os.environ.items() if k not in ("DO_NOT_TRACK", "CI")}
    env["PREFECT_HOME"] = str(tmp_path / "fresh-home")
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-c", "import flows.cli, prefect.main; print('imported')"],
        cwd=REPO,
        env=env,
        stdin=follower,
        stdout=follower,
        stderr=follower,
    )
    os.close(follower)
    output = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        output += chunk
    os.close(leader)
    assert proc.wait(timeout=cp.HANG) == 0
    text = output.decode(errors="replace")
    assert "imported" in text
    assert "anonymous usage data" not in text and "telemetry" not in text.lower(), text
