"""The only tests that pay for a Prefect API: one temporary server for the whole session."""

import pytest
from prefect.testing.utilities import prefect_test_harness


@pytest.fixture(scope="session", autouse=True)
def prefect_api():
    with prefect_test_harness(server_startup_timeout=120):
        yield
