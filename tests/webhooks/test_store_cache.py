"""The receiver keeps each store in memory for a moment (webhooks.STORE_TTL) instead of
looking it up on every request: a change made in this process takes effect at once, one
made by another process within the TTL."""
import time

from sqlalchemy import update

import webhooks
from smsdesk.models import Store
from smsdesk.services.stores import add_webhook_secret, drop_previous_secret
from tests.factories import shopify_headers


def post(client, store, secret: str) -> int:
    return client.post("/webhooks/shopify", data=b"{}", headers=shopify_headers(
        store, b"{}", topic="app/uninstalled", secret=secret)).status_code


def test_a_secret_dropped_in_this_process_stops_verifying_at_once(client, db_session, make):
    store = make.store(webhook_secret="old-secret")
    add_webhook_secret(db_session, store, "new-secret")
    db_session.commit()
    assert post(client, store, "old-secret") == 200  # the store is now in memory

    assert drop_previous_secret(db_session, store)
    db_session.commit()

    assert (post(client, store, "old-secret"), post(client, store, "new-secret")) == (401, 200)


def test_a_secret_changed_by_another_process_takes_effect_within_the_ttl(app, client, make, monkeypatch):
    monkeypatch.setattr(webhooks, "STORE_TTL", 0.3)
    store = make.store(webhook_secret="old-secret")
    assert post(client, store, "old-secret") == 200
    with app.extensions["smsdesk.engine"].begin() as conn:  # not through this process's sessions
        conn.execute(update(Store.__table__).where(Store.id == store.id).values(webhook_secret="new-secret"))

    stale = post(client, store, "old-secret")  # served from memory: at most STORE_TTL more
    time.sleep(0.35)

    assert (stale, post(client, store, "old-secret"), post(client, store, "new-secret")) == (200, 401, 200)
