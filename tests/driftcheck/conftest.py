"""A recording HTTP server on 127.0.0.1 standing in for the Pushgateway and the CI API."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeServer:
    url: str
    requests: list[Recorded] = field(default_factory=list)
    group_state: list[dict[str, object]] = field(default_factory=list)  # what /api/v1/metrics answers
    status: int = 200

    def bodies(self, method: str, path_part: str = "") -> list[str]:
        return [r.body.decode() for r in self.requests if r.method == method and path_part in r.path]


@pytest.fixture
def fake_server() -> Iterator[FakeServer]:
    state = FakeServer(url="")

    class Handler(BaseHTTPRequestHandler):
        def _record(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            state.requests.append(Recorded(self.command, self.path, dict(self.headers), body))
            answer = b""
            if self.command == "GET" and self.path == "/api/v1/metrics":
                answer = json.dumps({"status": "success", "data": state.group_state}).encode()
            self.send_response(state.status if self.command != "GET" else 200)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        do_GET = do_PUT = do_POST = _record

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
