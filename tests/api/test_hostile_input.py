"""Hostile input at the JSON API: never a 5xx, errors are {"error", "message"}, a refusal writes nothing.

Property-based (hypothesis) over the main routes, plus a table of every case once seen to give a 500.
"""
from __future__ import annotations

from urllib.parse import urlencode

import pytest
from hypothesis import given, strategies as st
from sqlalchemy import select

from smsdesk.models import Conversation, Message
from tests.factories import inbound_sms
from tests.support.hostile import (
    HOSTILE_SETTINGS,
    RowCounter,
    dumps,
    hostile_string,
    hostile_value,
    mutate,
    mutations,
    nested,
)
from tests.webhooks.test_twilio import post_signed

SETTINGS = {"name": "Acme", "timezone": "Europe/Berlin", "quiet_hours": "21:00-08:00", "from_number": "+15005550006",
            "messaging_service_sid": None, "rate_per_second": 1.5, "help_text": "Call us",
            "send_opt_out_confirmation": True}
TEMPLATE = {"body": "Hi {{ customer.first_name }}, order {{ order.number }} is on its way.", "enabled": True,
            "delay_minutes": 5}
PATH_IDS = ["99999999999999999999", str(2 ** 31), "0", "-1", "١٢", "1.5", "abc"]


class World:
    """A store with one waiting conversation, an agent's and an owner's token."""

    def __init__(self, client, make):
        self.client = client
        self.store = make.store(from_number="+15005550006")
        self.agent = {"Authorization": f"Bearer {make.token()}"}
        self.owner = {"Authorization": f"Bearer {make.token(role='owner')}"}
        params = inbound_sms(self.store, from_="+15025550123", body="Where is my parcel?")
        assert post_signed(client, "/webhooks/twilio/sms", params).status_code == 200
        self.conversation_id = client.get("/api/conversations", headers=self.agent).json["conversations"][0]["id"]

    def send(self, method: str, path: str, body: bytes | None = None, *, owner: bool = False, query: str = ""):
        headers = dict(self.owner if owner else self.agent, **({"Content-Type": "application/json"} if body else {}))
        return self.client.open(path + (f"?{query}" if query else ""), method=method, data=body, headers=headers)


@pytest.fixture
def world(client, make):
    return World(client, make)


@pytest.fixture
def rows(engine, world):
    return RowCounter(engine)


def query(params: dict) -> str:
    return urlencode(params, encoding="utf-8", errors="surrogatepass")


# -- property-based ---------------------------------------------------------------

@given(changes=mutations({"body": "On its way!"}), path_id=st.one_of(st.none(), st.sampled_from(PATH_IDS)))
@HOSTILE_SETTINGS
def test_reply_never_500(world, rows, changes, path_id):
    body = dumps(mutate({"body": "On its way!"}, changes))
    response = world.send("POST", f"/api/conversations/{path_id or world.conversation_id}/messages", body)
    rows.check(response, f"reply {body[:200]!r}")


@given(email=hostile_value, action=st.sampled_from(["assign", "close", "reopen"]))
@HOSTILE_SETTINGS
def test_assign_close_never_500(world, rows, email, action):
    body = dumps({"email": email})
    rows.check(world.send("POST", f"/api/conversations/{world.conversation_id}/{action}", body), f"{action} {body!r}")


@given(changes=mutations(SETTINGS))
@HOSTILE_SETTINGS
def test_settings_never_500(world, rows, changes):
    body = dumps(mutate(SETTINGS, changes))
    rows.check(world.send("PATCH", f"/api/stores/{world.store.slug}", body, owner=True), f"settings {body[:200]!r}")


@given(changes=mutations(TEMPLATE), preview=st.booleans())
@HOSTILE_SETTINGS
def test_template_save_never_500(world, rows, changes, preview):
    body = dumps(mutate(TEMPLATE, changes))
    path = f"/api/stores/{world.store.slug}/templates/order_confirmed"
    response = world.send("POST", path + "/preview", body, owner=True) if preview else \
        world.send("PUT", path, body, owner=True)
    rows.check(response, f"template {body[:200]!r}")


PAGE_VALUES = st.one_of(hostile_string, st.sampled_from([
    "", "0", "200", "201", "-1", "9" * 30, "eyJ4IjoxfQ", "WyJjdyIsIngiLDFd", "WyJjciIsIjIwMjYtMDEtMDEiLDld",
    "WyJjdyIsIjAwMDEtMDEtMDFUMDA6MDA6MDAiLDEwMDAwMDAwMDAwMDBd", "0001-01-01T00:00:00", "9999-12-31T23:59:59Z",
    "2026-11-25T12:00:00+14:00", "2026-02-30", "+00:00", "Z"]))


@given(q=hostile_string, store=hostile_string, status=st.one_of(st.just("all"), hostile_string),
       path_id=st.sampled_from(PATH_IDS), limit=PAGE_VALUES, cursor=PAGE_VALUES, since=PAGE_VALUES)
@HOSTILE_SETTINGS
def test_search_and_show_never_500(world, rows, q, store, status, path_id, limit, cursor, since):
    rows.check(world.send("GET", "/api/conversations", query=query({"q": q, "store": store, "status": status})),
               f"search {q!r} {store!r} {status!r}")
    paging = {"limit": limit, "cursor": cursor, "since": since}
    rows.check(world.send("GET", "/api/conversations", query=query({"q": q, "status": status, **paging})),
               f"page {q!r} {paging!r}")
    rows.check(world.send("GET", f"/api/conversations/{path_id}"), f"show {path_id!r}")
    rows.check(world.send("GET", f"/api/conversations/{world.conversation_id}", query=query(paging)),
               f"thread {paging!r}")


@given(limit=st.one_of(hostile_string, st.sampled_from(["1", "200", "201", "0", "١٢", "²", "9" * 30])),
       status=st.one_of(st.just("all"), hostile_string), cursor=PAGE_VALUES, since=PAGE_VALUES)
@HOSTILE_SETTINGS
def test_deliveries_never_500(world, rows, limit, status, cursor, since):
    response = world.send("GET", f"/api/stores/{world.store.slug}/deliveries", owner=True,
                          query=query({"limit": limit, "status": status, "cursor": cursor, "since": since}))
    rows.check(response, f"deliveries {limit!r} {status!r} {cursor!r} {since!r}")


# -- the cases once seen as a 500 ---------------------------------------------------

REPLY_CASES = [
    ("NUL", b'{"body": "hi\\u0000"}', 400, "invalid_json"),
    ("lone surrogate", b'{"body": "\\ud800"}', 400, "invalid_json"),
    ("deep nesting", dumps({"body": nested(40)}), 400, "invalid_json"),
    ("NaN", b'{"body": NaN}', 400, "invalid_json"),
    ("huge int", b'{"body": ' + b"9" * 400 + b"}", 400, "invalid_json"),
    ("object", b'{"body": {"a": 1}}', 422, "invalid_body"),
    ("list", b'{"body": ["hi"]}', 422, "invalid_body"),
    ("boolean", b'{"body": true}', 422, "invalid_body"),
    ("float", b'{"body": 1.5}', 422, "invalid_body"),
    ("number", b'{"body": 12}', 422, "invalid_body"),
    ("not JSON", b"{", 400, "invalid_json"),
    ("not an object", b"[]", 400, "invalid_json"),
]


@pytest.mark.parametrize(("case", "body", "status", "code"), REPLY_CASES, ids=[c[0] for c in REPLY_CASES])
def test_reply_hostile_cases(world, rows, db_session, case, body, status, code):
    response = world.send("POST", f"/api/conversations/{world.conversation_id}/messages", body)
    assert (response.status_code, response.json["error"]) == (status, code) and response.json["message"]
    rows.check(response, case)


def test_reply_still_queued(world, db_session):
    response = world.send("POST", f"/api/conversations/{world.conversation_id}/messages", b'{"body": "On its way!"}')
    assert response.status_code == 202
    db_session.fresh()
    assert db_session.scalar(select(Message).where(Message.kind == "agent_reply")).body == "On its way!"


@pytest.mark.parametrize("email", [{"a": 1}, ["x@example.com"], 5, True])
def test_assign_email_not_a_string_is_400(world, rows, email):
    response = world.send("POST", f"/api/conversations/{world.conversation_id}/assign", dumps({"email": email}))
    assert (response.status_code, response.json["error"]) == (400, "invalid_email")
    rows.check(response, "assign")


@pytest.mark.parametrize("path", [
    "/api/conversations/99999999999999999999", "/api/conversations/2147483648",
    "/api/conversations/99999999999999999999/messages", "/api/conversations/99999999999999999999/close"])
def test_ids_beyond_the_integer_range_are_404(world, rows, path):
    response = world.send("GET" if path.count("/") == 3 else "POST", path, b'{"body": "x"}')
    assert (response.status_code, response.json["error"]) == (404, "not_found")
    rows.check(response, path)


@pytest.mark.parametrize(("path", "params", "owner"), [
    ("/api/conversations", {"q": "a\x00b"}, False),
    ("/api/conversations", {"store": "\x00"}, False),
    ("/api/stores/{slug}/deliveries", {"limit": "١٢"}, True),
    ("/api/stores/{slug}/deliveries", {"limit": "²"}, True),
    ("/api/stores/{slug}/deliveries", {"limit": "9" * 30}, True),
    ("/api/conversations", {"cursor": "WyJjdyIsIjAwMDEtMDEtMDFUMDA6MDA6MDAiLDEwMDAwMDAwMDAwMDBd"}, False),  # id > int
    ("/api/conversations", {"cursor": "WyJjdyIsMSwxXQ"}, False),  # ["cw",1,1]: a number for a time
    ("/api/conversations", {"cursor": "WyJjdyIsIngiLHRydWVd"}, False),  # ["cw","x",true]
    ("/api/conversations", {"cursor": "x" * 5000}, False),
    ("/api/conversations", {"since": "2026-13-01"}, False),
    ("/api/conversations", {"since": "9" * 60}, False),
    ("/api/conversations", {"limit": "1e3"}, False),
    ("/api/stores/{slug}/deliveries", {"cursor": "W10"}, True),  # []
])
def test_query_hostile_cases_are_400(world, rows, path, params, owner):
    response = world.send("GET", path.format(slug=world.store.slug), owner=owner, query=query(params))
    assert response.status_code == 400 and response.json["error"] in (
        "invalid_query", "invalid_limit", "invalid_cursor", "invalid_since")
    rows.check(response, path)


def test_undecodable_query_is_plain_text(world):
    """werkzeug keeps a %-escape that is no UTF-8 (a lone surrogate's) as text: nothing to refuse."""
    response = world.send("GET", "/api/conversations", query=query({"q": "\ud800"}))
    assert response.status_code == 200 and response.json["conversations"] == []


@pytest.mark.parametrize("body", [b'{"name": "A\\u0000"}', b'{"help_text": "\\udfff"}', b'{"rate_per_second": NaN}',
                                  b'{"rate_per_second": 1e400}', b'{"rate_per_second": ' + b"9" * 200 + b"}"])
def test_settings_hostile_cases_are_400(world, rows, db_session, body):
    response = world.send("PATCH", f"/api/stores/{world.store.slug}", body, owner=True)
    assert (response.status_code, response.json["error"]) == (400, "invalid_json")
    rows.check(response, "settings")


def test_nul_in_a_store_slug_is_404(world, rows):
    response = world.send("GET", "/api/stores/shop%00x", owner=True)
    assert (response.status_code, response.json["error"]) == (404, "not_found")


def test_conversation_untouched_by_refusals(world, db_session):
    world.send("POST", f"/api/conversations/{world.conversation_id}/messages", b'{"body": {"x": 1}}')
    db_session.fresh()
    assert db_session.get(Conversation, world.conversation_id).waiting_since is not None
