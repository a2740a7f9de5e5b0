"""smsdesk served on a free port with its scheduler, for the browser tests."""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from werkzeug.serving import make_server

from smsdesk import db
from smsdesk.app import create_app

SCHEDULER_INTERVAL = 0.2  # seconds between sender sweeps in the live app


@contextmanager
def serving(settings: dict, arrange: Callable[[Flask, str], Any] = lambda app, url: None
            ) -> Iterator[tuple[Flask, str, Any]]:
    """smsdesk on a free port; ``arrange`` writes the test's rows before the scheduler starts
    (on SQLite a test session that reads, then writes, fails at once if a sweep committed
    in between: WAL's busy-snapshot error does not wait for the lock)."""
    settings["scheduler"]["interval_seconds"] = SCHEDULER_INTERVAL
    app = create_app(settings)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["SMSDESK"].server.public_url = url  # Twilio's callbacks are signed over this URL
    arranged = arrange(app, url)
    thread = threading.Thread(target=server.serve_forever, name="live-smsdesk", daemon=True)
    thread.start()
    scheduler = app.extensions["smsdesk.scheduler_factory"]()
    scheduler.start()
    try:
        yield app, url, arranged
    finally:
        scheduler.shutdown(wait=True)
        server.shutdown()
        thread.join(timeout=5)
        db.dispose(app)
