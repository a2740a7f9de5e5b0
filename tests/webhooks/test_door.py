"""The door's one durable write: it survives a dropped connection, webhooks arriving at the same
moment are each recorded once (on SQLite in shared transactions), and a delivery it cannot
record (its store gone) is no 500 and writes nothing."""
import threading
from collections import Counter

from sqlalchemy import select, text

from smsdesk.db import THREAD_CONNECTIONS
from smsdesk.models import WebhookDelivery
from tests.factories import shopify_order
from tests.webhooks.test_shopify import count, post_order
from webhooks import DELIVERY_WRITES


def test_a_delivery_survives_its_threads_connection_being_dropped(app, client, make, db_session):
    """A PostgreSQL restart ends the door's own connection: the next webhook opens a new one."""
    store = make.store()
    assert post_order(client, store, shopify_order(), event_id="evt-1").json["status"] == "accepted"
    connections = app.extensions[THREAD_CONNECTIONS]
    if app.extensions["smsdesk.engine"].dialect.name == "postgresql":
        pid = connections.run(lambda cursor: cursor.execute("SELECT pg_backend_pid()").fetchone()[0])
        db_session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    response = post_order(client, store, shopify_order(id=2002), event_id="evt-2")
    assert response.json["status"] == "accepted" and count(db_session, WebhookDelivery) == 2


def test_a_store_gone_while_cached_records_nothing_and_is_no_500(app, client, make, db_session, caplog):
    """Stores are never deleted, but should the one in memory be gone, its insert's foreign key
    fails: a warning, and nothing half-written."""
    store = make.store()
    assert post_order(client, store, shopify_order(), event_id="evt-1").status_code == 200  # now in memory
    (_, cached), = app.extensions["smsdesk.webhook_stores"].entries.values()
    cached.id = store.id + 1000  # what the memory holds points at no store now
    response = post_order(client, store, shopify_order(), event_id="evt-2")
    assert response.status_code == 200 and count(db_session, WebhookDelivery) == 1
    assert "the store is gone" in caplog.text


def test_webhooks_at_the_same_moment_are_each_recorded_once(app_applying_later, make, db_session):
    """Twelve requests in twelve threads, each event id sent twice: each id is accepted once and
    answered duplicate once, and recorded once. On SQLite they share transactions."""
    store = make.store()
    db_session.commit()
    start, answers = threading.Barrier(12), Counter()

    def send(n: int) -> None:
        start.wait()
        response = post_order(app_applying_later.test_client(), store, shopify_order(id=3000 + n % 6),
                              event_id=f"evt-{n % 6}")
        answers[(n % 6, response.json["status"])] += 1

    threads = [threading.Thread(target=send, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert answers == Counter({(n, status): 1 for n in range(6) for status in ("accepted", "duplicate")})
    db_session.fresh()
    assert sorted(db_session.scalars(select(WebhookDelivery.delivery_id))) == [f"evt-{n}" for n in range(6)]
    writes = app_applying_later.extensions.get(DELIVERY_WRITES)
    assert writes is None or 0 < writes.commits <= 12
