"""A real HTTP server for a fake shop-platform API: request recording, injected failures
(``fail_next(status, count, retry_after=)``; ``down = True`` drops every connection without an
answer), and a ``route`` each platform's fake implements. The Shopify, WooCommerce and
BigCommerce fakes in tests/support/ are built on it."""
from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Answer:
    status: int
    payload: Any = None
    headers: dict[str, str] | None = None


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    app: FakeApi

    def handle_error(self, request, client_address):
        pass  # dropped connections (down mode) are on purpose


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    server: _HttpServer

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        app = self.server.app
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        parts = urlsplit(self.path)
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        request = Recorded(self.command, parts.path, query, dict(self.headers), body)
        with app.lock:
            app.recorded.append(request)
            failure = app.failures.popleft() if app.failures else None
        if app.down:
            self.close_connection = True
            return  # no status line at all: the client sees the connection drop
        answer = failure or app.route(request)
        data = b"" if answer.payload is None else json.dumps(answer.payload).encode()
        self.send_response(answer.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (answer.headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    do_POST = do_PUT = do_DELETE = do_GET


class FakeApi:
    name = "fake-api"

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._httpd: _HttpServer | None = None
        self._thread: threading.Thread | None = None
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.recorded: list[Recorded] = []
            self.failures: deque[Answer] = deque()
            self.down = False

    def route(self, request: Recorded) -> Answer:
        raise NotImplementedError

    def fail_next(self, status: int, count: int = 1, *, retry_after: float | None = None) -> None:
        """Answer the next ``count`` requests with ``status`` (and Retry-After, if given)."""
        headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
        with self.lock:
            self.failures.extend(Answer(status, [{"status": status, "title": "Injected failure"}], headers)
                                 for _ in range(count))

    @property
    def requests(self) -> list[Recorded]:
        with self.lock:
            return list(self.recorded)

    @property
    def url(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def start(self):
        self._httpd = _HttpServer(("127.0.0.1", 0), _Handler)
        self._httpd.app = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=self.name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        assert self._httpd is not None and self._thread is not None
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
