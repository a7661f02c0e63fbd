"""Shared fixtures: the bundled pages copied into a temporary raw folder, and a pipeline runner."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from pipeline.config import PipelineConfig

REPO = Path(__file__).resolve().parent.parent
BUNDLED = REPO / "raw" / "naht"


@pytest.fixture
def naht_raw(tmp_path: Path) -> Path:
    raw = tmp_path / "raw"
    shutil.copytree(BUNDLED, raw / "naht")
    return raw


def run_and_read(
    raw: Path, out: Path, cfg: PipelineConfig | None = None
) -> tuple[dict, dict[str, pd.DataFrame]]:
    """Run the library end to end, write Parquet, and read every dataset back with pandas."""
    cfg = cfg or PipelineConfig()
    from pipeline import run_incremental

    output = run_incremental(raw, out, cfg)
    return output, {
        name: pd.read_parquet(out / name) for name in ("documents", "blocks", "boilerplate", "skipped")
    }


def write_files(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
    return root
