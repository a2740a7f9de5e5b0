"""GET /api/stores/<slug>/customers/<phone>/export and DELETE /api/stores/<slug>/customers/<phone>."""
from sqlalchemy import select

from smsdesk.models import AuditEvent, Conversation, Customer
from tests.support.privacy import BOB, BOB_PHONE, bob_with_history, dashboard_counts, remaining


def test_owner_exports_then_erases(client, make, db_session):
    store = make.store()
    owner = make.agent(role="owner", stores=[store])
    headers = {"Authorization": f"Bearer {make.token(owner)}"}
    bob_with_history(client, make, db_session, store)
    exported = client.get(f"/api/stores/{store.slug}/customers/(502) 459-2181/export", headers=headers)
    assert exported.status_code == 200 and exported.json["customer"]["last_name"] == "Norman"
    before = dashboard_counts(db_session, store)
    erased = client.delete(f"/api/stores/{store.slug}/customers/+15024592181", headers=headers)
    assert erased.status_code == 200 and erased.json["erased"]["customers"] == 1
    assert remaining(db_session, BOB) == [] and dashboard_counts(db_session, store) == before
    event = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "customer_erased"))
    assert event.detail["requested_by"] == f"api {owner.email}"
    again = client.delete(f"/api/stores/{store.slug}/customers/+15024592181", headers=headers)
    assert again.status_code == 404 and again.json["error"] == "not_found"


def test_unknown_or_unreadable_phone_is_404(client, make, db_session):
    store = make.store()
    headers = {"Authorization": f"Bearer {make.token(role='owner', stores=[store])}"}
    make.customer(store, "+15025550123")
    for phone in ("+15025550100", "not-a-phone"):
        response = client.get(f"/api/stores/{store.slug}/customers/{phone}/export", headers=headers)
        assert response.status_code == 404 and set(response.json) == {"error", "message"}
    assert db_session.scalar(select(Customer.phone)) == "+15025550123"


def test_an_agent_may_not_export_or_erase(client, make, db_session):
    store = make.store()
    headers = {"Authorization": f"Bearer {make.token(role='agent', stores=[store])}"}
    make.customer(store, "+15025550123", first_name="Dora")
    assert client.get(f"/api/stores/{store.slug}/customers/+15025550123/export", headers=headers).status_code == 403
    assert client.delete(f"/api/stores/{store.slug}/customers/+15025550123", headers=headers).status_code == 403
    db_session.fresh()
    assert db_session.scalar(select(Customer.first_name)) == "Dora"


def test_an_erased_customer_cannot_be_texted(client, make, db_session):
    store = make.store()
    headers = {"Authorization": f"Bearer {make.token(role='owner', stores=[store])}"}
    bob_with_history(client, make, db_session, store)
    conversation_id = db_session.scalar(select(Conversation.id).join(Customer).where(Customer.phone == BOB_PHONE))
    assert client.delete(f"/api/stores/{store.slug}/customers/{BOB_PHONE}", headers=headers).status_code == 200
    response = client.post(f"/api/conversations/{conversation_id}/messages", json={"body": "hi"}, headers=headers)
    assert response.status_code == 409 and response.json["error"] == "customer_erased"
