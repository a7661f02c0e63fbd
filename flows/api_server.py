"""Prefect's temporary API server for one `sitesift run`, started before Prefect is imported.

Prefect starts its temporary server on the first API call, after `import prefect` and after importing
its whole server application into the calling process (only to launch a subprocess): ~8-10 s that
nothing else overlaps. Started here instead, with the same command Prefect uses, the server comes up
while the CLI imports Prefect and the pipeline and the fork server preloads the parser; Prefect then
talks to it as to any running server (PREFECT_API_URL). Only when the user configured no API URL
(environment, active profile, or a settings file in the working folder): otherwise Prefect's own
behaviour is left alone. Touches processes and the environment.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

PORTS = range(8000, 9000)  # Prefect's range for its temporary server
PORT_IN_USE = 3  # uvicorn's exit code when it cannot bind
SETTINGS_FILES = (".env", "prefect.toml", "pyproject.toml")  # sources Prefect reads in the working folder


class ServerFailed(RuntimeError):
    """The temporary API server did not come up."""


def configured_api_url() -> bool:
    """Whether the user may have set an API URL: in the environment, in the active profile, or
    (any mention, to be safe) in a settings file Prefect reads from the working folder."""
    if os.environ.get("PREFECT_API_URL"):
        return True
    for name in SETTINGS_FILES:
        with contextlib.suppress(OSError):
            text = Path(name).read_text(encoding="utf8", errors="replace")
            if "PREFECT_API_URL" in text or "[api]" in text or "tool.prefect" in text:
                return True
    home = Path(os.environ.get("PREFECT_HOME") or Path.home() / ".prefect").expanduser()
    path = Path(os.environ.get("PREFECT_PROFILES_PATH") or home / "profiles.toml").expanduser()
    try:
        profiles = tomllib.loads(path.read_text(encoding="utf8"))
    except FileNotFoundError:
        return False
    except (OSError, tomllib.TOMLDecodeError):
        return True  # Prefect will make sense of it, or complain
    active = os.environ.get("PREFECT_PROFILE") or profiles.get("active") or "ephemeral"
    return bool(profiles.get("profiles", {}).get(active, {}).get("PREFECT_API_URL"))


def free_port() -> int:
    for _ in range(20):
        port = random.choice(PORTS)
        with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise ServerFailed("no free port for Prefect's temporary API server")


class TemporaryServer:
    """`start()` launches the server and points PREFECT_API_URL at it (for this process and its
    children); `wait_ready()` blocks until it answers; `stop()` ends it (as Prefect ends its own:
    terminate, then kill after 5 s). Its output goes to an unnamed temporary file, not the terminal:
    a Ctrl-C reaches the server too, and what it logs while dying would bury the CLI's one line; the
    file's end is in the error when the server does not come up."""

    def __init__(self) -> None:
        self.port = 0
        self.process: subprocess.Popen | None = None
        self.output = tempfile.TemporaryFile()  # noqa: SIM115  # open as long as the server runs

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def start(self) -> None:
        self.port = free_port()
        self.process = self._launch()
        os.environ["PREFECT_API_URL"] = self.api_url

    def _launch(self) -> subprocess.Popen:
        spec = importlib.util.find_spec("prefect")  # finds the package without importing it
        assert spec is not None and spec.origin is not None, "prefect is not installed"
        app_dir = Path(spec.origin).parent.parent
        env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
        env |= {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
        command = [sys.executable, "-m", "uvicorn", "--app-dir", str(app_dir), "--factory"]
        command += ["prefect.server.api.server:create_app", "--host", "127.0.0.1", "--port", str(self.port)]
        command += ["--log-level", "error", "--lifespan", "on"]
        return subprocess.Popen(command, env=env, stdout=self.output, stderr=subprocess.STDOUT)

    def _tail(self) -> str:
        self.output.seek(0)
        text = self.output.read().decode(errors="replace").strip()
        return f": {text[-2000:]}" if text else ""

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            code = self.process.poll()
            if code == PORT_IN_USE:  # taken since we looked: another port
                self.start()
                continue
            if code is not None:
                raise ServerFailed(f"Prefect's temporary API server exited with code {code}{self._tail()}")
            with (
                contextlib.suppress(urllib.error.URLError, OSError),
                urllib.request.urlopen(f"{self.api_url}/health", timeout=2) as response,
            ):
                if response.status == 200:
                    return
            time.sleep(0.05)
        raise ServerFailed(
            f"Prefect's temporary API server did not answer within {timeout:g} s{self._tail()}"
        )

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.output.close()
