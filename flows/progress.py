"""Progress of a run, stage by stage: a Prefect progress artifact, and the CLI's bars when the CLI
started the flow in this process (handed over through a context variable, not a global).

The protocol the flows call, whatever the run looks like inside:
    progress = RunProgress(("list", "parse"), description="...")   # the run's stages, in order
    progress.start()                                               # the Prefect artifact
    listing = progress.stage("list", total=120)                    # a bar, its share of the artifact
    listing.advance(8)                                             # cheap; safe from any thread
    listing.add_total(3)                                           # a total learned as the run goes
    listing.finish()                                               # the stage is over: done is its total
A stage's total is what it will count (a test holds every stage to it); once the stage is over,
what was really done is its total.
Every call can raise Stopped, when the caller of the flow asked it to stop (Ctrl-C): the hooks are
called often from every thread that works, so they are where that thread ends.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Protocol
from uuid import UUID

from prefect.artifacts import create_progress_artifact, update_progress_artifact

from pipeline.records import RawInput


class Stopped(KeyboardInterrupt):
    """The run was asked to stop (Ctrl-C, SIGTERM) while this thread was working."""


class Display(Protocol):
    """Where stage counters are shown (flows.console.StageBars for the CLI)."""

    def add_stage(self, name: str, total: int | None) -> int: ...

    def update_stage(self, key: int, completed: int, total: int | None, name: str | None = None) -> None: ...

    def stopping(self) -> bool: ...

    def flow_started(self) -> None:
        """Called in the flow's own thread as it starts (the CLI takes SIGTERM back from Prefect)."""


# Set by the CLI around a flow call; flows run in the caller's thread, so they see it.
cli_display: contextvars.ContextVar[Display | None] = contextvars.ContextVar(
    "sitesift_cli_display", default=None
)


class Stage:
    """One stage's counter (see the module docstring). `total=None`: not known yet."""

    def __init__(self, run: RunProgress, name: str, total: int | None):
        self.run, self.name, self.total, self.done = run, name, total, 0
        self.finished = False
        display = run.display
        self._key = display.add_stage(name, total) if display else None

    def advance(self, n: int = 1) -> None:
        self._change(done=n)

    def add_total(self, n: int) -> None:
        self._change(total=n)

    def rename(self, name: str) -> None:
        """A new description for the bar (e.g. a crawl's live counts)."""
        self.name = name
        self._change()

    def set(self, done: int, total: int | None) -> None:
        """Both counts at once, for work that knows them (a crawl: fetched, fetched + queued)."""
        with self.run.lock:
            self.total = total
            delta = done - self.done
        self._change(done=delta)

    def finish(self) -> None:
        with self.run.lock:
            self.finished = True
            self.total = self.done
        self._change()

    def fraction(self) -> float:
        if self.finished:
            return 1.0
        return min(1.0, self.done / self.total) if self.total else 0.0

    def _change(self, done: int = 0, total: int = 0) -> None:
        run = self.run
        if run.display is not None and run.display.stopping():
            raise Stopped
        with run.lock:
            if total:
                self.total = (self.total or 0) + total
            if done > 0:
                self.done += done
            if run.display is not None and self._key is not None:
                run.display.update_stage(self._key, self.done, self.total, self.name)
        run.changed()


ARTIFACT_EVERY_S = 2.0  # the progress artifact is updated at most this often, and once at 100%


class RunProgress:
    """The stages of one run. The artifact shows the mean of the declared stages' fractions, updated
    once per percentage point and at most every ARTIFACT_EVERY_S seconds: each update is an API call
    and, from a task's thread, a new API client (20-40 ms of CPU for its TLS context alone), which a
    short run paid a hundred times on the threads that feed the parser processes."""

    def __init__(self, stages: Sequence[str], description: str, key: str = "sitesift-progress"):
        self.names, self.description, self.key = tuple(stages), description, key
        self.stages: dict[str, Stage] = {}
        self.lock = threading.RLock()
        self.display = cli_display.get()
        if self.display is not None:
            self.display.flow_started()
        self.artifact_id: UUID | None = None
        self.reported, self.reported_at = -1.0, 0.0

    def start(self) -> None:
        self.artifact_id = create_progress_artifact(0.0, key=self.key, description=self.description)  # type: ignore[assignment]  # sync in a flow

    def stage(self, name: str, total: int | None = None) -> Stage:
        stage = Stage(self, name, total)
        with self.lock:
            self.stages[name] = stage
        return stage

    def percent(self) -> float:
        with self.lock:
            fractions = [self.stages[n].fraction() if n in self.stages else 0.0 for n in self.names]
        return 100.0 * sum(fractions) / len(fractions) if fractions else 100.0

    def changed(self) -> None:
        pct, now = self.percent(), time.monotonic()
        with self.lock:
            soon = now - self.reported_at < ARTIFACT_EVERY_S
            due = (pct >= self.reported + 1.0 and not soon) or (pct == 100.0 > self.reported)
            if due:
                self.reported, self.reported_at = pct, now
        if due and self.artifact_id is not None:
            update_progress_artifact(self.artifact_id, pct)


class ParseProgress:
    """The list and parse stages of an incremental run, from the hooks the run has: folders as they
    are listed, chunks as they are submitted, folders as they are finished. The parse total is what
    the listing found to parse, plus the pages parsed a second time (layout sample), so its count
    ends on its total; pages that could not be read count as handled when their folder is done."""

    def __init__(self, progress: RunProgress, files_per_folder: Counter):
        self.files_per_folder = files_per_folder
        self.listing = progress.stage("list", total=sum(files_per_folder.values()))
        self.parsing = progress.stage("parse", total=0)
        self._folders: dict[str, set[tuple[str, str]]] = {}  # folder -> pages listed to parse
        self._expected: set[tuple[str, str]] = set()  # of folders not finished yet
        self._submitted: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def listed(self, folder: str, to_parse: Iterable[RawInput]) -> None:
        keys = {(r.site_hint, r.identity) for r in to_parse}
        with self._lock:
            self._folders[folder] = keys
            self._expected |= keys
        self.listing.advance(self.files_per_folder.get(folder, 0))
        self.parsing.add_total(len(keys))

    def submitted(self, inputs: Iterable[RawInput]) -> int:
        """Note a chunk handed to the parser; the pages in it parsed for the second time are added to
        the total. Returns the chunk's size."""
        again = n = 0
        with self._lock:
            for raw in inputs:
                n += 1
                key = (raw.site_hint, raw.identity)
                if key in self._expected and key not in self._submitted:
                    self._submitted.add(key)
                else:
                    again += 1
        if again:
            self.parsing.add_total(again)
        return n

    def folder_done(self, folder: str) -> None:
        with self._lock:
            keys = self._folders.pop(folder, set())
            never = len(keys - self._submitted)  # unreadable: skipped without a parse
            self._expected -= keys
            self._submitted -= keys
        self.parsing.advance(never)

    def finish(self) -> None:
        self.listing.finish()
        self.parsing.finish()


class ChunkProgress:
    """One parse chunk's share of the parse stage: counts what its task reported, so that what a
    cached chunk did not report is added when its tables arrive (two chunks can be running at once)."""

    def __init__(self, stage: Stage, pages: int):
        self.stage, self.pages, self.reported = stage, pages, 0

    def advance(self, n: int) -> None:
        self.reported += n
        self.stage.advance(n)

    def finish(self) -> None:
        self.stage.advance(self.pages - self.reported)
