"""Root test configuration. Runs before anything imports Prefect: a throw-away PREFECT_HOME per test
session (cached results and the database never leak between runs), no telemetry, and room for the
ephemeral API's cold start on a 2-core machine. The folder is removed when the session's process
exits (registered first, so it runs after Prefect has stopped its temporary server)."""

import atexit
import os
import shutil
import tempfile

_home = tempfile.mkdtemp(prefix="sitesift-prefect-home-")
atexit.register(shutil.rmtree, _home, ignore_errors=True)
os.environ["PREFECT_HOME"] = _home
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
