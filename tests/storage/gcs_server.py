"""A real Google Cloud Storage emulator on 127.0.0.1 for the tests: gcp-storage-emulator's JSON API
handler over an in-memory store, served by one thread of the test process (requests one at a time:
its store has no locks)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import partial
from http.server import HTTPServer

from gcp_storage_emulator.handlers import buckets
from gcp_storage_emulator.server import RequestHandler
from gcp_storage_emulator.storage import Storage


@dataclass
class GcsServer:
    server: HTTPServer
    thread: threading.Thread

    @property
    def endpoint(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)


def start(bucket: str) -> GcsServer:
    storage = Storage(use_memory_fs=True)
    buckets.create_bucket(bucket, storage)
    server = HTTPServer(("127.0.0.1", 0), partial(RequestHandler, storage))
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="gcs-server")
    thread.start()
    return GcsServer(server, thread)
