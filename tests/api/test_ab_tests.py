"""Owner API for A/B test results: every test of the store with both versions side by side and
the verdict; owners of that store only."""
from __future__ import annotations

from datetime import datetime, timezone

from smsdesk.models import AbTest, AbVariant, Direction, Message, MessageStatus

AT = datetime(2025, 6, 10, 14, 0, tzinfo=timezone.utc)


def _test_with_texts(db_session, make, store) -> AbTest:
    test = AbTest(store_id=store.id, kind="cart_reminder_2", language="en", name="urgency", body_b="B",
                  split_percent=30, started_at=AT)
    db_session.add(test)
    db_session.flush()
    customer = make.customer(store)
    for variant, status in ((AbVariant.A, MessageStatus.DELIVERED), (AbVariant.B, MessageStatus.SENT),
                            (AbVariant.B, MessageStatus.SCHEDULED)):
        db_session.add(Message(store_id=store.id, customer_id=customer.id, direction=Direction.OUT,
                               kind="cart_reminder_2", body="x", status=status, sent_at=AT, ab_test_id=test.id,
                               ab_variant=variant))
    db_session.commit()
    return test


def test_lists_the_stores_tests_with_results(client, make, db_session):
    store = make.store()
    test = _test_with_texts(db_session, make, store)
    owner = {"Authorization": f"Bearer {make.token(role='owner')}"}
    response = client.get(f"/api/stores/{store.slug}/ab-tests", headers=owner)
    assert response.status_code == 200
    [found] = response.json["ab_tests"]
    assert (found["id"], found["kind"], found["split_percent"], found["ended_at"]) == (test.id, "cart_reminder_2",
                                                                                       30, None)
    assert found["variants"]["A"] == {"sent": 1, "delivered": 1, "clicked": 0, "recovered": 0,
                                      "recovery_rate": 0.0, "revenue": {}}
    assert found["variants"]["B"]["sent"] == 1  # the scheduled one has not gone yet
    assert found["verdict"]["headline"] == "Not yet significant" and found["verdict"]["p_value"] is None


def test_only_the_stores_owners_see_them(client, make, db_session):
    store, other = make.store(), make.store()
    _test_with_texts(db_session, make, store)
    elsewhere = make.token(role="owner", stores=[other])
    agent = make.token(role="agent", stores=[store])
    path = f"/api/stores/{store.slug}/ab-tests"
    assert client.get(path).status_code == 401
    assert client.get(path, headers={"Authorization": f"Bearer {elsewhere}"}).status_code == 404
    assert client.get(path, headers={"Authorization": f"Bearer {agent}"}).status_code == 403
