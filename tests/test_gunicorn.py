"""Production serving: gunicorn runs the app factory, and a worker process sends the texts."""
import os
import subprocess
import sys

import pytest
import requests

from tests.test_end_to_end import _wait_healthy, free_port

pytestmark = pytest.mark.slow


def test_gunicorn_serves_the_app(engine, database_url, tmp_path):
    port = free_port()
    env = os.environ | {"SMSDESK_DATABASE_URL": database_url, "SMSDESK_SCHEDULER_ENABLED": "false"}
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "smsdesk.app:create_app()"],
        env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_healthy(f"http://127.0.0.1:{port}", process)
        assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json() == {"status": "ok", "db": "ok"}
        assert requests.get(f"http://127.0.0.1:{port}/api/conversations", timeout=5).status_code == 401
    finally:
        process.terminate()
        process.wait(timeout=15)
