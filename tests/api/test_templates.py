"""Owner template API: list, save (422 with the line and reason), preview; owners only."""
import time

import pytest
from sqlalchemy import func, select

from smsdesk.models import AuditEvent, Message, Order
from smsdesk.reasons import Reason
from smsdesk.services.template_kinds import KINDS
from tests.webhooks.payloads import GENERIC_SECRET, as_body, generic_event, generic_headers


@pytest.fixture
def owner(make):
    return {"Authorization": f"Bearer {make.token(role='owner')}"}


def test_lists_every_kind_with_segments(client, make, owner):
    store = make.store()
    rows = client.get(f"/api/stores/{store.slug}/templates", headers=owner).json["templates"]
    assert [r["kind"] for r in rows] == list(KINDS)
    first = rows[0]
    assert first["body"] == KINDS["order_confirmed"].default_body and first["enabled"] is True
    assert first["encoding"] == "GSM-7" and first["segments"] >= 1 and first["customized"] is False


def test_put_saves_and_reports_segments(client, make, owner):
    store = make.store()
    body = "{{ store.name }}: order #{{ order.number }} confirmed 🎉"
    response = client.put(f"/api/stores/{store.slug}/templates/order_confirmed", headers=owner,
                          json={"body": body, "enabled": False, "delay_minutes": 5})
    assert response.status_code == 200
    assert (response.json["body"], response.json["enabled"], response.json["delay_minutes"]) == (body, False, 5)
    assert response.json["encoding"] == "UCS-2" and response.json["customized"] is True
    listed = client.get(f"/api/stores/{store.slug}/templates", headers=owner).json["templates"]
    assert listed[0]["body"] == body and listed[0]["enabled"] is False


@pytest.mark.parametrize("body, line, reason", [
    ("Hi {{ order.numbr }}", 1, "unknown variable 'order.numbr'"),
    ("Hi\n{% if order.number %}#{{ order.number }}", 2, "Unexpected end of template"),
    ("", None, "template is empty"),
])
def test_put_refuses_a_bad_template_with_line_and_reason(client, make, owner, body, line, reason):
    store = make.store()
    response = client.put(f"/api/stores/{store.slug}/templates/order_shipped", headers=owner, json={"body": body})
    assert response.status_code == 422
    assert response.json["error"] == "invalid_template" and response.json["line"] == line
    assert reason in response.json["reason"]
    listed = client.get(f"/api/stores/{store.slug}/templates", headers=owner).json["templates"]
    assert listed[1]["customized"] is False


@pytest.mark.parametrize("payload, message", [
    ({"enabled": "yes"}, "enabled"), ({"delay_minutes": "10"}, "delay_minutes"),
    ({"delay_minutes": -1}, "delay_minutes"), ({"body": 5}, "body"),
])
def test_put_refuses_bad_values(client, make, owner, payload, message):
    store = make.store()
    response = client.put(f"/api/stores/{store.slug}/templates/cart_reminder_1", headers=owner, json=payload)
    assert response.status_code == 422 and message in response.json["message"]


def test_preview_renders_sample_data(client, make, owner):
    store = make.store(name="Nordic Knits")
    response = client.post(f"/api/stores/{store.slug}/templates/order_shipped/preview", headers=owner,
                           json={"body": "{{ store.name }} ships #{{ order.number }} ✅"})
    assert response.status_code == 200
    assert response.json["text"].startswith("Nordic Knits ships #") and response.json["encoding"] == "UCS-2"
    assert response.json["non_gsm_characters"] == ["✅"]


def test_preview_without_body_uses_the_saved_one(client, make, owner):
    store = make.store(name="Nordic Knits")
    response = client.post(f"/api/stores/{store.slug}/templates/help_reply/preview", headers=owner)
    assert response.status_code == 200 and "Nordic Knits" in response.json["text"]
    assert response.json["segments"] >= 1 and response.json["encoding"] == "GSM-7"


def test_preview_of_a_bad_body_is_422(client, make, owner):
    store = make.store()
    response = client.post(f"/api/stores/{store.slug}/templates/help_reply/preview", headers=owner,
                           json={"body": "{{ cart.nope }}"})
    assert response.status_code == 422 and response.json["reason"] == "unknown variable 'cart.nope'"


@pytest.mark.parametrize("method, path", [
    ("get", "/api/stores/missing/templates"), ("put", "/api/stores/{slug}/templates/no_such_kind"),
    ("post", "/api/stores/{slug}/templates/no_such_kind/preview"),
])
def test_unknown_store_or_kind_is_404(client, make, owner, method, path):
    store = make.store()
    response = getattr(client, method)(path.format(slug=store.slug), headers=owner, json={"body": "x"})
    assert response.status_code == 404 and response.json["error"] in ("not_found", "unknown_kind")


def test_agents_token_is_403(client, make):
    store = make.store()
    agent = {"Authorization": f"Bearer {make.token(role='agent')}"}
    response = client.get(f"/api/stores/{store.slug}/templates", headers=agent)
    assert response.status_code == 403 and response.json["error"] == "forbidden"


def test_no_token_is_401(client, make):
    store = make.store()
    assert client.get(f"/api/stores/{store.slug}/templates").status_code == 401


def test_refund_text_is_listed_off_and_the_owner_can_turn_it_on(client, make, owner):
    store = make.store()
    rows = {r["kind"]: r for r in client.get(f"/api/stores/{store.slug}/templates", headers=owner).json["templates"]}
    assert rows["order_refunded"]["enabled"] is False and "refund" in rows["order_refunded"]["body"]
    response = client.put(f"/api/stores/{store.slug}/templates/order_refunded", headers=owner, json={"enabled": True})
    assert response.status_code == 200 and response.json["enabled"] is True
    preview = client.post(f"/api/stores/{store.slug}/templates/order_refunded/preview", headers=owner, json={})
    assert "we have issued a refund of 54.00 USD for your order #1042" in preview.json["text"]


def test_partial_shipment_variables_are_accepted(client, make, owner):
    store = make.store()
    body = ("{{ store.name }}: {% if shipment.partial %}{{ shipment.item_count }} of {{ shipment.order_item_count }}"
            " items ({{ shipment.items }}){% else %}all items{% endif %} of #{{ order.number }} shipped")
    response = client.put(f"/api/stores/{store.slug}/templates/order_shipped", headers=owner, json={"body": body})
    assert response.status_code == 200
    bad = client.put(f"/api/stores/{store.slug}/templates/order_shipped", headers=owner,
                     json={"body": "{{ shipment.partal }}"})
    assert bad.status_code == 422 and "shipment.partal" in bad.json["reason"]


# --- budget: preview cap, refused tricks, a template that breaks only at send time ---------------------

FAN_OUT = "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}"


@pytest.mark.parametrize("body, length, cut", [
    ("{{ store.name }} #{{ order.number }}", len("Acme Outfitters #1042"), False),
    ("{{ 'x' * 1600 }}", 1600, False),
    ("{{ 'x' * 2000 }}", 1600, True),
    ("{% for i in range(999) %}{{ 'x' * 9999 }}{% endfor %}", 1600, True),  # was a 100 MB body
])
def test_preview_never_returns_more_than_one_sms_and_says_it_was_cut(client, make, owner, body, length, cut):
    store = make.store()
    response = client.post(f"/api/stores/{store.slug}/templates/order_shipped/preview", headers=owner,
                           json={"body": body})
    assert response.status_code == 200
    assert len(response.json["text"]) == length and response.json["characters"] == length
    assert response.json["cut"] is cut and (response.json["cut_message"] is not None) is cut
    assert len(response.data) < 5000


@pytest.mark.parametrize("body, reason", [
    (FAN_OUT + "{{ f(40) }}", "takes longer than 50 ms to render"),
    ("{{ store.name|center(10**9) }}", "width 1000000000 is over 1600"),
    ("{{ '%999999999s' % store.name }}", "width 999999999 is over 1600"),
])
def test_preview_and_save_refuse_a_template_over_budget(client, make, owner, body, reason):
    store = make.store()
    url = f"/api/stores/{store.slug}/templates/order_shipped"
    for response in (client.post(url + "/preview", headers=owner, json={"body": body}),
                     client.put(url, headers=owner, json={"body": body})):
        assert response.status_code == 422 and response.json["reason"] == reason


def test_a_template_over_budget_only_for_real_data_is_a_template_error_at_the_webhook(client, make, owner,
                                                                                      db_session):
    """Validation passes with the sample's "Emma"; the webhook's Jonas takes the branch. The webhook
    still answers 200 at once, the order records why it got no text, and no worker spins."""
    store = make.store(platform="generic", domain=None, webhook_secret=GENERIC_SECRET, country="DE")
    body = FAN_OUT + "{% if customer.first_name != 'Emma' %}{{ f(40) }}{% endif %}Thanks #{{ order.number }}"
    saved = client.put(f"/api/stores/{store.slug}/templates/order_confirmed", headers=owner, json={"body": body})
    assert saved.status_code == 200
    event = as_body(generic_event("order.placed", order={"id": "1001", "number": "1001", "total": "19.90"},
                                  customer={"first_name": "Jonas", "phone": "0151 12345678", "country": "DE"}))
    start = time.perf_counter()
    response = client.post(f"/webhooks/generic/{store.slug}", data=event, headers=generic_headers(event))
    assert response.status_code == 200 and time.perf_counter() - start < 2
    db_session.fresh()
    assert db_session.scalar(select(Order.no_text_reason)) == Reason.TEMPLATE_ERROR
    assert db_session.scalar(select(func.count()).select_from(Message)) == 0
    problem = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "template_error"))
    assert "takes longer than 50 ms to render" in problem.reason and problem.detail == {"kind": "order_confirmed"}
