"""A real S3-compatible server on 127.0.0.1 for the tests: moto's S3 app served by werkzeug in a
thread of the test process, behind a gate that can hold the write of one object (the pointer that
publishes a version), so a test can kill a run at that moment."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server


@dataclass
class Gate:
    """Notes every PUT; holds one whose path ends with `suffix` while closed: `reached` is set when one
    arrives, and when the gate opens the held request fails (503), so the writer never gets it."""

    suffix: str | None = None
    reached: threading.Event = field(default_factory=threading.Event)
    opened: threading.Event = field(default_factory=threading.Event)
    writes: list[tuple[str, bool]] = field(default_factory=list)  # (path, a copy inside the store) per PUT

    def wsgi(self, app):
        def gated(environ, start_response):
            path = environ.get("PATH_INFO", "")
            if environ["REQUEST_METHOD"] == "PUT":
                self.writes.append((path, "HTTP_X_AMZ_COPY_SOURCE" in environ))
            if self.suffix and environ["REQUEST_METHOD"] == "PUT" and path.endswith(self.suffix):
                self.reached.set()
                self.opened.wait(60)
                start_response("503 Service Unavailable", [("Content-Length", "0")])
                return [b""]
            return app(environ, start_response)

        return gated


@dataclass
class S3Server:
    server: BaseWSGIServer
    thread: threading.Thread
    gate: Gate

    @property
    def endpoint(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self.gate.opened.set()
        self.server.shutdown()
        self.thread.join(10)


def start() -> S3Server:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    gate = Gate()
    app = gate.wsgi(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="s3-server")
    thread.start()
    return S3Server(server, thread, gate)
