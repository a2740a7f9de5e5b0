"""Production serving: gunicorn runs the app factory (README's gthread command), and a worker
process sends the texts."""
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import func, select

from smsdesk.models import WebhookDelivery
from tests.factories import shopify_headers, shopify_order
from tests.test_end_to_end import _wait_healthy, free_port

pytestmark = pytest.mark.slow

# README's production command: threads let one process hold many commits in flight at once
# (PostgreSQL flushes them together) and serve open inbox event streams.
GUNICORN = [sys.executable, "-m", "gunicorn", "-k", "gthread", "-w", "2", "--threads", "8"]


def test_gunicorn_serves_the_app_and_records_concurrent_webhooks(engine, database_url, tmp_path, make, db_session):
    store = make.store(platform="shopify")
    db_session.commit()
    bodies = [json.dumps(shopify_order(id=7_000_000 + n, name=f"#G{n}")).encode() for n in range(24)]
    port = free_port()
    env = os.environ | {"SMSDESK_DATABASE_URL": database_url, "SMSDESK_SCHEDULER_ENABLED": "false"}
    process = subprocess.Popen([*GUNICORN, "-b", f"127.0.0.1:{port}", "smsdesk.app:create_app()"],
                               env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, process)
        assert requests.get(f"{base}/healthz", timeout=5).json() == {"status": "ok", "db": "ok"}
        assert requests.get(f"{base}/api/conversations", timeout=5).status_code == 401

        def post(body: bytes) -> int:
            return requests.post(f"{base}/webhooks/shopify", data=body, headers=shopify_headers(store, body),
                                 timeout=10).status_code

        with ThreadPoolExecutor(12) as pool:
            statuses = list(pool.map(post, bodies))
    finally:
        process.terminate()
        process.wait(timeout=15)
    assert statuses == [200] * len(bodies)
    recorded = db_session.scalar(select(func.count()).select_from(WebhookDelivery)
                                 .where(WebhookDelivery.store_id == store.id))
    assert recorded == len(bodies)
