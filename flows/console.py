"""The terminal of the `sitesift` command: one rich console for the progress bars, Prefect's log
lines and errors (stderr), one for results (stdout). Prefect's log lines go through the bars'
console, so they print above the bars, never through them; how many depends on the verbosity."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from enum import Enum

from rich.console import Console
from rich.logging import RichHandler
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

out = Console()  # results: the summary tables
err = Console(stderr=True, soft_wrap=True)  # progress, log lines, errors


class Verbosity(Enum):
    QUIET = "quiet"  # no bars, no log lines: errors and the closing summary only
    NORMAL = "normal"  # bars, and Prefect's warnings and errors
    VERBOSE = "verbose"  # bars, and Prefect's INFO lines (every task run, every folder)

    @property
    def log_level(self) -> int:
        return {"quiet": logging.ERROR, "normal": logging.WARNING, "verbose": logging.INFO}[self.value]


def error(message: str) -> None:
    """One line on stderr, as every error of the command is reported."""
    err.print(f"[red]error:[/red] {message}", markup=True, highlight=False)


def warning(message: str) -> None:
    err.print(f"[yellow]warning:[/yellow] {message}", markup=True, highlight=False)


def route_prefect_logs(verbosity: Verbosity, muted: Callable[[], bool]) -> None:
    """Prefect's console handler replaced by one on `err` at the verbosity's level; nothing while
    `muted()` (an interrupt is being handled: Prefect's crash reports are for its API, not the
    terminal). Prefect's own levels are only ever lowered (--verbose), so its API still gets every
    line it would have had."""
    import prefect.main  # noqa: F401  (Prefect sets its logging up here; later set-ups change levels only)
    from prefect.logging.formatters import PrefectFormatter
    from prefect.logging.handlers import PrefectConsoleHandler

    handler = _ConsoleLogHandler(
        console=err,
        level=verbosity.log_level,
        show_path=False,
        markup=False,
        log_time_format="%H:%M:%S",
    )
    handler.setFormatter(
        PrefectFormatter(
            "%(name)s - %(message)s",
            flow_run_fmt="Flow run %(flow_run_name)r - %(message)s",
            task_run_fmt="Task run %(task_run_name)r - %(message)s",
        )
    )
    handler.addFilter(lambda record: not muted() and not _interrupt_in_flight())
    prefect_logger = logging.getLogger("prefect")
    if prefect_logger.getEffectiveLevel() > verbosity.log_level:  # e.g. PREFECT_LOGGING_LEVEL=WARNING
        prefect_logger.setLevel(verbosity.log_level)
    loggers = [logging.getLogger()] + [
        lg for lg in logging.Logger.manager.loggerDict.values() if isinstance(lg, logging.Logger)
    ]
    for logger in loggers:
        replaced: tuple[type[logging.Handler], ...] = (PrefectConsoleHandler, _ConsoleLogHandler)
        if logger.name == "prefect._internal":  # its own stream handler, for its errors at exit
            replaced = (logging.StreamHandler,)
        for old in [h for h in logger.handlers if isinstance(h, replaced)]:
            logger.removeHandler(old)
            logger.addHandler(handler)


class _ConsoleLogHandler(RichHandler):
    """Ours, so that a second routing (crawl, then run) replaces the first."""


def _interrupt_in_flight() -> bool:
    """A record logged while a KeyboardInterrupt or Prefect's TerminationSignal unwinds this thread
    (Prefect's "Crash detected!" lines after Ctrl-C or SIGTERM)."""
    from prefect.exceptions import TerminationSignal

    return isinstance(sys.exc_info()[1], KeyboardInterrupt | TerminationSignal)


class RateColumn(ProgressColumn):
    """Items per second, once rich has an estimate."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f}/s" if speed else "", style="progress.data.speed")


class StageBars:
    """flows.progress.Display for the CLI: a bar per stage (count, rate, time left) on `err`, or
    none when quiet; `stopping()` tells the flows' progress hooks that an interrupt came."""

    def __init__(
        self,
        verbosity: Verbosity,
        stopping: Callable[[], bool],
        flow_started: Callable[[], None] = lambda: None,
        waiting: str = "starting Prefect",
        console: Console = err,
    ):
        self._stopping, self._flow_started = stopping, flow_started
        self.progress: Progress | None = None
        self._waiting: TaskID | None = None
        if verbosity is not Verbosity.QUIET:
            self.progress = Progress(
                SpinnerColumn(finished_text=" "),
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                RateColumn(),
                TimeRemainingColumn(compact=True, elapsed_when_finished=True),
                console=console,
            )
            self._waiting = self.progress.add_task(waiting, total=None)

    def __enter__(self) -> StageBars:
        if self.progress is not None:
            self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.progress is None:
            return
        self._drop_waiting()
        if self._stopping() or exc[0] is not None:  # interrupted or failed: its one line says it
            self.progress.live.transient = True
            self.progress.live.stop()  # not Progress.stop(): no blank line on a non-terminal
        else:
            self.progress.stop()

    def _drop_waiting(self) -> None:
        if self.progress is not None and self._waiting is not None:
            self.progress.remove_task(self._waiting)
            self._waiting = None

    def add_stage(self, name: str, total: int | None) -> int:
        if self.progress is None:
            return 0
        self._drop_waiting()
        return int(self.progress.add_task(name, total=total))

    def update_stage(self, key: int, completed: int, total: int | None, name: str | None = None) -> None:
        if self.progress is not None:  # description None: unchanged
            self.progress.update(TaskID(key), completed=completed, total=total, description=name)

    def stopping(self) -> bool:
        return self._stopping()

    def flow_started(self) -> None:
        self._flow_started()
