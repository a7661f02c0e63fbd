"""Fixtures named after the state they give: a raw folder holding a site (`naht_raw`, `html_site_raw`,
`drifting_site_raw`, `layout_site_raw`), a finished run's output folder (`processed_naht`,
`processed_drifting_site`; shared by the session, so tests only read them) or a served HTTP site
(`polite_site`). The sites themselves are built in tests/support.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline import run_incremental
from tests.crawl import site_server as ss
from tests.support import copy_naht, drift_site, gazette, serve_polite_site, write_files, write_layout_site


@pytest.fixture
def naht_raw(tmp_path: Path) -> Path:
    """raw/naht/: the five bundled pages of one real site."""
    return copy_naht(tmp_path / "raw")


@pytest.fixture
def html_site_raw(tmp_path: Path) -> Path:
    """raw/gazette/: the five story pages of the HTML site."""
    return write_files(tmp_path / "raw", gazette())


@pytest.fixture
def naht_and_html_site_raw(naht_raw: Path) -> Path:
    """raw/naht/ and raw/gazette/: two folders, two templates."""
    return write_files(naht_raw, gazette())


@pytest.fixture
def drifting_site_raw(tmp_path: Path) -> Path:
    """raw/garden/: the six text pages whose template drifts."""
    return write_files(tmp_path / "raw", drift_site())


@pytest.fixture
def layout_site_raw(tmp_path: Path) -> Path:
    """raw/gazette/page0000.html .. page0039.html: a site large enough for a layout sample of 4."""
    raw = tmp_path / "raw"
    write_layout_site(raw, range(40))
    return raw


@pytest.fixture(scope="session")
def processed_naht(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """processed/ after one run over the bundled pages (default settings, in-process). Read only."""
    root = tmp_path_factory.mktemp("naht")
    out = root / "processed"
    run_incremental(copy_naht(root / "raw"), out)
    return out


@pytest.fixture(scope="session")
def processed_drifting_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """processed/ after one run over the drifting site (default settings, in-process). Read only."""
    root = tmp_path_factory.mktemp("garden")
    out = root / "processed"
    run_incremental(write_files(root / "raw", drift_site()), out)
    return out


@pytest.fixture
def polite_site() -> Iterator[ss.Site]:
    """The polite HTTP site, served on 127.0.0.1 for the test's duration."""
    site = serve_polite_site()
    yield site
    ss.stop(site)
