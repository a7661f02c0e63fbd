"""Progress reporting for flows: a Prefect progress artifact, and the CLI's rich bar when the CLI
started the flow in this process (handed over through a context variable, not a global)."""

from __future__ import annotations

import contextvars
import threading
from dataclasses import dataclass, field
from uuid import UUID

from prefect.artifacts import create_progress_artifact, update_progress_artifact
from rich.progress import Progress, TaskID

# Set by the CLI around a flow call; flows run in the caller's thread, so they see it.
cli_progress: contextvars.ContextVar[tuple[Progress, TaskID] | None] = contextvars.ContextVar(
    "sitesift_cli_progress", default=None
)


@dataclass
class RunProgress:
    total: int
    description: str
    done: int = 0
    artifact_id: UUID | None = field(default=None)

    def start(self) -> None:
        self.artifact_id = create_progress_artifact(
            0.0, key="sitesift-progress", description=self.description
        )
        bar = cli_progress.get()
        if bar:
            bar[0].update(bar[1], total=self.total, completed=0, description=self.description)

    reported_pct: float = -1.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def advance(self, n: int) -> None:
        """Cheap to call often (every few pages): the artifact is updated once per percentage point.
        Safe from several task threads at once (two parse chunks can be running)."""
        if n <= 0:
            return
        with self._lock:
            self.done += n
            pct = min(100.0, 100.0 * self.done / self.total) if self.total else 100.0
            if self.artifact_id is not None and (
                pct >= self.reported_pct + 1.0 or pct == 100.0 > self.reported_pct
            ):
                update_progress_artifact(self.artifact_id, pct)
                self.reported_pct = pct
            bar = cli_progress.get()
            if bar:
                bar[0].update(bar[1], completed=self.done)
