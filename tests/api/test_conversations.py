"""The agents' JSON API: auth, the reply queue, a thread, replying."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from smsdesk.events import CustomerInfo, OrderInfo, OrderPlaced, SmsConsent
from smsdesk.models import ConsentSource, Conversation, MessageStatus, Order, utcnow
from smsdesk.services import search
from smsdesk.services.consent import record_consent
from smsdesk.services.events import apply_event
from smsdesk.services.queries import iso
from tests.factories import inbound_sms
from tests.webhooks.test_twilio import post_signed


@pytest.fixture
def auth(make):
    return {"Authorization": f"Bearer {make.token()}"}


def text_in(client, store, phone="+15025550123", body="Where is my parcel?"):
    assert post_signed(client, "/webhooks/twilio/sms", inbound_sms(store, from_=phone, body=body)).status_code == 200


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer nope", "Basic dXNlcjpwYXNz", "sd_token"])
def test_missing_or_wrong_token_is_401(client, make, header):
    make.token()
    headers = {"Authorization": header} if header else {}
    response = client.get("/api/conversations", headers=headers)
    assert response.status_code == 401
    assert response.json["error"] == "unauthorized" and response.json["message"]


def test_open_conversations_oldest_waiting_first(client, make, auth):
    store = make.store()
    text_in(client, store, "+15025550101", "first")
    text_in(client, store, "+15025550102", "second")
    rows = client.get("/api/conversations", headers=auth).json["conversations"]
    assert [r["customer_phone"] for r in rows] == ["+15025550101", "+15025550102"]
    first = rows[0]
    assert first["status"] == "open" and first["unread"] == 1 and first["store"] == store.slug
    assert first["last_message"]["body"] == "first" and first["last_message"]["direction"] == "in"
    assert first["waiting_since"].endswith("Z")


def test_conversation_detail_and_reply(client, make, auth, drain, twilio_server):
    store = make.store()
    text_in(client, store)
    conversation_id = client.get("/api/conversations", headers=auth).json["conversations"][0]["id"]
    response = client.post(f"/api/conversations/{conversation_id}/messages", json={"body": "On its way!"},
                           headers=auth)
    assert response.status_code == 202 and response.json["message"]["status"] == "queued"
    assert drain() == 1
    sent = twilio_server.messages
    assert [(m["to"], m["body"]) for m in sent] == [("+15025550123", "On its way!")]
    detail = client.get(f"/api/conversations/{conversation_id}", headers=auth).json
    assert [(m["direction"], m["body"], m["status"]) for m in detail["messages"]] == [
        ("in", "Where is my parcel?", "received"), ("out", "On its way!", "sent")]
    assert detail["waiting_since"] is None and detail["unread"] == 0


def test_reply_to_opted_out_customer_is_409(client, make, auth):
    store = make.store()
    text_in(client, store, body="STOP")
    conversation_id = client.get("/api/conversations?status=all", headers=auth).json["conversations"][0]["id"]
    response = client.post(f"/api/conversations/{conversation_id}/messages", json={"body": "hi"}, headers=auth)
    assert response.status_code == 409 and response.json["error"] == "opted_out"


@pytest.mark.parametrize("payload, status", [({"body": ""}, 422), ({"body": "x" * 1601}, 422), ({}, 422),
                                             ({"body": "Hi {{ customer.first_name }}"}, 422)])
def test_bad_reply_is_4xx(client, make, auth, payload, status):
    store = make.store()
    text_in(client, store)
    conversation_id = client.get("/api/conversations", headers=auth).json["conversations"][0]["id"]
    response = client.post(f"/api/conversations/{conversation_id}/messages", json=payload, headers=auth)
    assert response.status_code == status and response.json["message"]


def test_reply_body_not_json_is_400(client, make, auth):
    store = make.store()
    text_in(client, store)
    conversation_id = client.get("/api/conversations", headers=auth).json["conversations"][0]["id"]
    response = client.post(f"/api/conversations/{conversation_id}/messages", data="nope", headers=auth)
    assert response.status_code == 400 and response.json["error"]


def test_unknown_conversation_is_404(client, auth):
    assert client.get("/api/conversations/999", headers=auth).status_code == 404


def test_bad_status_filter_is_400(client, auth):
    assert client.get("/api/conversations?status=maybe", headers=auth).status_code == 400


def test_assign_close_reopen(client, make, auth):
    store = make.store()
    colleague = make.agent(email="sam@example.com")
    text_in(client, store)
    cid = client.get("/api/conversations", headers=auth).json["conversations"][0]["id"]
    assert client.post(f"/api/conversations/{cid}/assign", json={"email": colleague.email},
                       headers=auth).json["assigned_to"] == "sam@example.com"
    assert client.post(f"/api/conversations/{cid}/assign", json={"email": "who@example.com"},
                       headers=auth).status_code == 422
    assert client.post(f"/api/conversations/{cid}/close", headers=auth).json["status"] == "closed"
    assert client.get("/api/conversations", headers=auth).json["conversations"] == []
    assert client.post(f"/api/conversations/{cid}/reopen", headers=auth).json["status"] == "open"


def test_filters_by_store_and_search(client, make, auth):
    one, two = make.store(from_number="+15005550001"), make.store(from_number="+15005550002")
    text_in(client, one, "+15025550101")
    text_in(client, two, "+15025550102")
    by_store = client.get(f"/api/conversations?store={two.slug}", headers=auth).json["conversations"]
    assert [r["customer_phone"] for r in by_store] == ["+15025550102"]
    found = client.get("/api/conversations?q=550101", headers=auth).json["conversations"]
    assert [r["customer_phone"] for r in found] == ["+15025550101"]


def test_healthz(client):
    assert client.get("/healthz").json == {"status": "ok", "db": "ok"}


def test_conversation_shows_the_numbers_consent(client, make, auth, db_session):
    store = make.store()
    customer = make.customer(store, "+15025550123")
    record_consent(db_session, customer, SmsConsent(phone=customer.phone, granted=True, source=ConsentSource.SHOPIFY,
                                                    collected_from="checkout", delivery_id="evt-9"))
    db_session.commit()
    text_in(client, store, body="STOP")
    conversation_id = client.get("/api/conversations?status=all", headers=auth).json["conversations"][0]["id"]
    detail = client.get(f"/api/conversations/{conversation_id}", headers=auth).json
    assert detail["marketing_consent"] is False
    assert [(c["state"], c["source"], c["delivery_id"]) for c in detail["consents"]] == [
        ("granted", "shopify", "evt-9"), ("withdrawn", "keyword", None)]
    assert detail["consents"][0]["level"] == "unknown" and detail["consents"][1]["platform_state"] == "STOP"


def test_orders_say_why_they_got_no_text(client, make, auth, db_session):
    """An order of an opted-out customer got no text: the API names the reason beside it."""
    store = make.store()
    text_in(client, store, body="STOP")
    apply_event(db_session, store=store, event=OrderPlaced(order=OrderInfo(external_id="77", number="1077"),
                                                            customer=CustomerInfo(phone="+15025550123")),
                source="test")
    db_session.commit()
    row = client.get("/api/conversations?status=all", headers=auth).json["conversations"][0]
    assert (row["latest_order"]["no_text_reason"], row["latest_order"]["no_text_reason_label"]) == (
        "opted_out", "the customer opted out (STOP)")
    [order] = client.get(f"/api/conversations/{row['id']}", headers=auth).json["orders"]
    assert (order["number"], order["no_text_reason"]) == ("1077", "opted_out")


def test_assigning_to_a_user_of_another_store_is_422(client, make, db_session):
    ours, theirs = make.store(), make.store()
    owner = make.agent(role="owner", stores=[ours])
    stranger, admin = make.agent(stores=[theirs]), make.agent(role="admin")
    auth = {"Authorization": f"Bearer {make.token(owner)}"}
    text_in(client, ours)
    cid = client.get("/api/conversations", headers=auth).json["conversations"][0]["id"]
    refused = client.post(f"/api/conversations/{cid}/assign", json={"email": stranger.email}, headers=auth)
    assert refused.status_code == 422 and refused.json["error"] == "unknown_agent"
    assert client.post(f"/api/conversations/{cid}/assign", json={"email": admin.email},
                       headers=auth).json["assigned_to"] == admin.email  # an admin reaches every store


def test_an_admin_lists_every_store_and_a_member_only_theirs(client, make):
    one, two = make.store(), make.store()
    text_in(client, one, "+15025550101")
    text_in(client, two, "+15025550102")
    member = {"Authorization": f"Bearer {make.token(make.agent(stores=[two]))}"}
    admin = {"Authorization": f"Bearer {make.token(make.agent(role='admin'))}"}
    phones = [r["customer_phone"] for r in client.get("/api/conversations", headers=member).json["conversations"]]
    assert phones == ["+15025550102"]
    assert client.get(f"/api/conversations?store={one.slug}", headers=member).status_code == 404
    assert len(client.get("/api/conversations", headers=admin).json["conversations"]) == 2


# -- paging (DESIGN §8) ---------------------------------------------------------------

def walk(client, auth, url: str) -> list[list[str]]:
    """Every page of a list, following next_cursor; each page as its customers' phones."""
    pages, cursor = [], None
    while True:
        answer = client.get(url + (f"&cursor={cursor}" if cursor else ""), headers=auth).json
        pages.append([r["customer_phone"] for r in answer["conversations"]])
        cursor = answer["next_cursor"]
        if cursor is None:
            return pages


def test_pages_follow_the_queue_order_waiting_first_then_newest(client, make, auth, db_session):
    store = make.store()
    for n in range(1, 6):
        text_in(client, store, f"+1502555010{n}", f"text {n}")
    for cid in [c["id"] for c in client.get("/api/conversations", headers=auth).json["conversations"]][:2]:
        client.post(f"/api/conversations/{cid}/close", headers=auth)  # 0101, 0102 leave the queue
    pages = walk(client, auth, "/api/conversations?status=all&limit=2")
    assert pages == [["+15025550103", "+15025550104"], ["+15025550105", "+15025550102"], ["+15025550101"]]
    assert walk(client, auth, "/api/conversations?status=open&limit=2") == [
        ["+15025550103", "+15025550104"], ["+15025550105"]]


def test_default_limit_is_50_and_at_most_200(client, make, auth, db_session):
    store = make.store()
    for n in range(51):
        text_in(client, store, f"+150255502{n:02d}", "hi")
    first = client.get("/api/conversations", headers=auth).json
    assert len(first["conversations"]) == 50 and first["next_cursor"]
    rest = client.get(f"/api/conversations?cursor={first['next_cursor']}", headers=auth).json
    assert len(rest["conversations"]) == 1 and rest["next_cursor"] is None
    assert client.get("/api/conversations?limit=201", headers=auth).json["error"] == "invalid_limit"


@pytest.mark.parametrize("params", ["limit=0", "limit=x", "cursor=abc", "cursor=", "since=yesterday", "since=",
                                    "cursor=WyJjdyIsIjIwMjYtMTEtMjVUMDA6MDA6MDBaIiwtMV0"])
def test_bad_paging_parameters_are_400(client, make, auth, params):
    response = client.get(f"/api/conversations?{params}", headers=auth)
    assert response.status_code == 400
    assert response.json["error"] in ("invalid_limit", "invalid_cursor", "invalid_since") and response.json["message"]


def test_a_cursor_of_another_list_is_refused(client, make, auth):
    store = make.store()
    for n in range(3):
        text_in(client, store, f"+1502555030{n}", "one\ntwo")
    cid = client.get("/api/conversations", headers=auth).json["conversations"][0]["id"]
    for _ in range(2):
        text_in(client, store, "+15025550300", "again")
    thread_cursor = client.get(f"/api/conversations/{cid}?limit=1", headers=auth).json["next_cursor"]
    assert thread_cursor
    assert client.get(f"/api/conversations?cursor={thread_cursor}", headers=auth).status_code == 400


def test_since_lists_only_what_changed_and_what_left(client, make, auth):
    store = make.store()
    text_in(client, store, "+15025550401", "old")
    text_in(client, store, "+15025550402", "old too")
    rows = client.get("/api/conversations", headers=auth).json["conversations"]
    mark = iso(utcnow())
    idle = client.get(f"/api/conversations?since={mark}", headers=auth)
    assert idle.json == {"conversations": [], "removed": [], "next_cursor": None, "next_since": idle.json["next_since"]}
    client.post(f"/api/conversations/{rows[0]['id']}/close", headers=auth)
    text_in(client, store, "+15025550402", "new")
    changed = client.get(f"/api/conversations?since={mark}", headers=auth).json
    assert [r["last_message"]["body"] for r in changed["conversations"]] == ["new"]
    assert changed["removed"] == [rows[0]["id"]]  # closed: no longer in the open list
    everything = client.get(f"/api/conversations?status=all&since={mark}", headers=auth).json
    assert len(everything["conversations"]) == 2 and everything["removed"] == []


def test_an_order_change_counts_as_a_change_of_the_conversation(client, make, auth, db_session):
    store = make.store()
    text_in(client, store, "+15025550501", "where is it?")
    apply_event(db_session, store=store, event=OrderPlaced(order=OrderInfo(external_id="77", number="1077"),
                                                            customer=CustomerInfo(phone="+15025550501")), source="test")
    db_session.commit()
    mark = iso(utcnow())
    assert client.get(f"/api/conversations?since={mark}", headers=auth).json["conversations"] == []
    db_session.scalars(select(Order)).one().status = "shipped"  # no text goes out with this change
    db_session.commit()
    changed = client.get(f"/api/conversations?since={mark}", headers=auth).json["conversations"]
    assert [r["latest_order"]["status"] for r in changed] == ["shipped"]


def test_thread_pages_back_in_time_and_since_shows_new_texts(client, make, auth):
    store = make.store()
    for n in range(5):
        text_in(client, store, "+15025550601", f"text {n}")
    cid = client.get("/api/conversations", headers=auth).json["conversations"][0]["id"]
    latest = client.get(f"/api/conversations/{cid}?limit=2", headers=auth).json
    assert [m["body"] for m in latest["messages"]] == ["text 3", "text 4"]
    older = client.get(f"/api/conversations/{cid}?limit=2&cursor={latest['next_cursor']}", headers=auth).json
    assert [m["body"] for m in older["messages"]] == ["text 1", "text 2"]
    oldest = client.get(f"/api/conversations/{cid}?limit=2&cursor={older['next_cursor']}", headers=auth).json
    assert [m["body"] for m in oldest["messages"]] == ["text 0"] and oldest["next_cursor"] is None
    mark = iso(utcnow())
    assert client.get(f"/api/conversations/{cid}?since={mark}", headers=auth).json["messages"] == []
    text_in(client, store, "+15025550601", "text 5")
    assert [m["body"] for m in client.get(f"/api/conversations/{cid}?since={mark}", headers=auth).json["messages"]] \
        == ["text 5"]


@pytest.mark.parametrize(("q", "phone"), [("Larsen", "+15025550702"), ("mma lar", "+15025550702"),
                                          ("#1042", "+15025550701"), ("parcel", "+15025550703"),
                                          ("0703", "+15025550703"), ("(502) 555-0701", "+15025550701"),
                                          ('"parcel', None), ("a%", None), ("pa", "+15025550703")])
@pytest.mark.parametrize("probe", [1000, 0], ids=["selective", "broad"])
def test_search_by_name_order_text_and_phone(client, make, auth, db_session, monkeypatch, q, phone, probe):
    """Both ways a search runs: from the index's matches, or each listed conversation checked."""
    monkeypatch.setattr(search, "PROBE", probe)
    store = make.store()
    text_in(client, store, "+15025550701", "hello")
    text_in(client, store, "+15025550702", "hi")
    text_in(client, store, "+15025550703", "where is my parcel?")
    make.customer(store, "+15025550702", first_name="Emma", last_name="Larsen")
    apply_event(db_session, store=store, event=OrderPlaced(order=OrderInfo(external_id="1", number="1042"),
                                                            customer=CustomerInfo(phone="+15025550701")), source="test")
    db_session.commit()
    found = client.get("/api/conversations", headers=auth, query_string={"q": q, "status": "all"}).json
    assert [r["customer_phone"] for r in found["conversations"]] == ([phone] if phone else [])


def test_search_follows_a_renamed_customer(client, make, auth, db_session):
    store = make.store()
    text_in(client, store, "+15025550801", "hi")
    make.customer(store, "+15025550801", first_name="Ingrid", last_name="Holm")
    make.customer(store, "+15025550801", first_name="Greta", last_name="Lund")

    def found(q):
        return client.get("/api/conversations", headers=auth, query_string={"q": q}).json["conversations"]
    assert found("Ingrid") == [] and [r["customer_name"] for r in found("Greta Lu")] == ["Greta Lund"]


def test_since_with_a_search_shows_matching_changes_and_removes_the_rest(client, make, auth):
    store = make.store()
    text_in(client, store, "+15025550901", "my parcel is late")
    text_in(client, store, "+15025550902", "hello")
    mark = iso(utcnow())
    text_in(client, store, "+15025550901", "still waiting")
    text_in(client, store, "+15025550902", "anyone?")
    changed = client.get("/api/conversations", headers=auth, query_string={"since": mark, "q": "parcel"}).json
    assert [r["customer_phone"] for r in changed["conversations"]] == ["+15025550901"]
    assert len(changed["removed"]) == 1


def test_list_row_shows_the_newest_text_order_and_failure(client, make, auth, db_session):
    """A row's last text is the newest by id; the failed marker follows the newest text *to* the
    customer (a reply after it clears it, an inbound after it does not); the order is the newest."""
    store = make.store()
    text_in(client, store, body="hello")
    conversation = db_session.scalar(select(Conversation))
    customer = conversation.customer
    make.order(store, customer, at=utcnow(), number="2001")
    make.order(store, customer, at=utcnow() - timedelta(days=1), number="2002")  # older date, newer id
    make.text(store, customer, at=utcnow(), status=MessageStatus.FAILED, conversation_id=conversation.id)
    text_in(client, store, body="anyone there?")

    def row():
        [listed] = client.get("/api/conversations", headers=auth).json["conversations"]
        detail = client.get(f"/api/conversations/{listed['id']}", headers=auth).json
        assert {key: detail[key] for key in listed} == listed  # the thread's summary is the list row
        return listed

    first = row()
    assert (first["last_message"]["body"], first["last_out_failed"]) == ("anyone there?", True)
    assert first["latest_order"]["number"] == "2002"
    make.text(store, customer, at=utcnow(), body="Sorry, on it", conversation_id=conversation.id)
    second = row()
    assert (second["last_message"]["body"], second["last_out_failed"]) == ("Sorry, on it", False)
