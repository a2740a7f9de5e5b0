"""The permission matrix: every API route and page × who asks → the expected answer.

Two stores, "own" and "other", each with a customer, a conversation and a canned reply.
Who asks:
  own        an owner of the own store, on the own store's ids
  agent      an agent of the own store, on the own store's ids (owner pages: 403)
  other      that same owner, on the other store's ids (404: they tell nothing)
  none       a user with no store, on the own store's ids
  removed    a removed user's token / session cookie
  revoked    a revoked token / a session ended by "log out everywhere"
  logged_out a copy of a session cookie replayed after logout (API: a cookie, no token)
  admin      the deployment admin, on the other store's ids (answers like "own")
Every answer to anyone but the admin is also checked to hold nothing of a store they don't reach.

A route of the app that is neither in ROUTES nor in PUBLIC fails the coverage test: a new
route needs its row here.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

import pytest
from sqlalchemy import select

from smsdesk.app import create_app
from smsdesk.models import CannedReply, Conversation, FaqEntry, Message, utcnow
from smsdesk.services.ab_tests import start_test
from smsdesk.services.auth import create_token, end_sessions, remove_agent, revoke_token
from smsdesk.services.inbound import handle_inbound
from smsdesk.services.media import add_picture
from tests.conftest import app_settings
from tests.support.pictures import png

PERSONAS = ("own", "agent", "other", "none", "removed", "revoked", "logged_out", "admin")
DENIED = ("removed", "revoked", "logged_out")
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
# What the other store holds, which the own store's users must never see.
OTHER_MARKERS = ("Zed Otherstore", "hello from zed", "Zed canned", "Zedland Goods")
OWN_MARKERS = ("Ann Ownstore", "hello from ann", "Ann canned", "Annland Goods")

# Routes that answer anyone, by their own means: a webhook's signature, a login form, files.
PUBLIC = {
    ("index", "GET"),  # redirects to /inbox, which asks for a login
    ("healthz", "GET"), ("static", "GET"), ("web.static", "GET"),
    ("web.login", "GET"), ("web.login", "POST"), ("web.logout", "GET"), ("web.logout", "POST"),
    ("webhooks.receive_by_header", "POST"), ("webhooks.receive_by_slug", "POST"),
    ("twilio_webhooks.inbound_sms", "POST"), ("twilio_webhooks.status_callback", "POST"),
    ("openapi", "GET"),  # the API's own description (tests/api/test_openapi.py), no data in it
    # An agent's attachment for Twilio to fetch: the unguessable token is the key (tests/web/test_media.py)
    ("web.public_media", "GET"),
    # A short link in a text: the unguessable code is the key (tests/web/test_short_links.py)
    ("web.short_link", "GET"),
}


@dataclass(frozen=True)
class Route:
    """One route. ``path`` holds {store}, {conversation}, {customer}, {phone}, {canned}, {media}, {faq}, {abtest},
    {email};
    ``own`` is the answer to the own store's owner, ``agent`` to its agent, ``other`` to that owner on
    the other store's ids, ``none`` to a user of no store."""

    method: str
    path: str
    own: int
    agent: int | None = None  # None: as own
    other: int = 404
    none: int = 404
    json: dict | None = None
    form: dict = field(default_factory=dict)


OWNER_ONLY = {"agent": 403}
PUSH = 200 if os.environ.get("SMSDESK_TEST_DATABASE_URL", "").startswith("postgresql") else 404
ROUTES: dict[tuple[str, str], Route] = {
    # JSON API (Bearer token)
    ("api.index", "GET"): Route("GET", "/api/conversations?status=all&store={store}", 200),
    ("api.show", "GET"): Route("GET", "/api/conversations/{conversation}", 200),
    ("api.send", "POST"): Route("POST", "/api/conversations/{conversation}/messages", 202, json={"body": "hi"}),
    ("api.assign", "POST"): Route("POST", "/api/conversations/{conversation}/assign", 200, json={"email": "{email}"}),
    ("api.change_status", "POST"): Route("POST", "/api/conversations/{conversation}/close", 200, json={}),
    ("api.show_store", "GET"): Route("GET", "/api/stores/{store}", 200, **OWNER_ONLY),
    ("api.patch_store", "PATCH"): Route("PATCH", "/api/stores/{store}", 200, json={"help_text": "x"}, **OWNER_ONLY),
    ("api.list_deliveries", "GET"): Route("GET", "/api/stores/{store}/deliveries", 200, **OWNER_ONLY),
    ("api.list_templates", "GET"): Route("GET", "/api/stores/{store}/templates", 200, **OWNER_ONLY),
    ("api.put_template", "PUT"): Route("PUT", "/api/stores/{store}/templates/order_shipped", 200,
                                       json={"enabled": False}, **OWNER_ONLY),
    ("api.preview_template", "POST"): Route("POST", "/api/stores/{store}/templates/order_shipped/preview", 200,
                                            json={}, **OWNER_ONLY),
    ("api.export_customer_data", "GET"): Route("GET", "/api/stores/{store}/customers/{phone}/export", 200,
                                               **OWNER_ONLY),
    ("api.erase_customer_data", "DELETE"): Route("DELETE", "/api/stores/{store}/customers/{phone}", 200,
                                                 **OWNER_ONLY),
    # One's own presence for automatic assignment: no store data
    ("api.show_availability", "GET"): Route("GET", "/api/me/availability", 200, other=200, none=200),
    ("api.change_availability", "POST"): Route("POST", "/api/me/availability", 200, other=200, none=200,
                                               json={"away": True}),
    # Pages (session cookie); a list page filtered to another store shows nothing of it.
    ("web.inbox", "GET"): Route("GET", "/inbox?status=all&store={store}", 200, other=200, none=200),
    # Server push: a short stream on PostgreSQL (tests end it after 0.5 s), 404 where pages poll.
    ("web.inbox_event_stream", "GET"): Route("GET", "/inbox/events", PUSH, other=PUSH, none=PUSH),
    ("web.inbox_list", "GET"): Route("GET", "/inbox/list?status=all&store={store}", 200, other=200, none=200),
    ("web.conversation", "GET"): Route("GET", "/inbox/{conversation}", 200),
    ("web.thread", "GET"): Route("GET", "/inbox/{conversation}/thread", 200),
    ("web.conversation_media", "GET"): Route("GET", "/inbox/{conversation}/media/{media}", 200),
    ("web.send_reply", "POST"): Route("POST", "/inbox/{conversation}/reply", 302, form={"body": "hi"}),
    ("web.assign", "POST"): Route("POST", "/inbox/{conversation}/assign", 302, form={"agent_id": "me"}),
    # no such text in the own conversation: 302 back with a message; another store's conversation: 404
    ("web.retry_text", "POST"): Route("POST", "/inbox/{conversation}/messages/999999/retry", 302),
    ("web.change_status", "POST"): Route("POST", "/inbox/{conversation}/close", 302),
    # counts a draft's segments: no store data
    ("web.segments", "POST"): Route("POST", "/segments", 200, other=200, none=200, json={"text": "hi"}),
    ("web.canned", "GET"): Route("GET", "/canned", 200, other=200, none=403, **OWNER_ONLY),
    ("web.add_canned", "POST"): Route("POST", "/canned", 302, none=403, form={"title": "t", "body": "b",
                                                                              "store": "{store}"}, **OWNER_ONLY),
    ("web.delete_canned", "POST"): Route("POST", "/canned/{canned}/delete", 302, none=403, **OWNER_ONLY),
    ("web.canned_preview", "GET"): Route("GET", "/inbox/{conversation}/canned/{canned}", 200),
    ("web.dashboard", "GET"): Route("GET", "/dashboard?store={store}", 200, none=403, **OWNER_ONLY),
    ("web.templates", "GET"): Route("GET", "/templates?store={store}", 200, none=403, **OWNER_ONLY),
    ("web.save", "POST"): Route("POST", "/templates/{store}/order_shipped", 302, none=403,
                                form={"body": "Shipped {{ order.number }}"}, **OWNER_ONLY),
    ("web.preview", "POST"): Route("POST", "/templates/{store}/order_shipped/preview", 200, none=403,
                                   json={"body": "hi"}, **OWNER_ONLY),
    ("web.send_test", "POST"): Route("POST", "/templates/{store}/order_shipped/test", 302, none=403,
                                     form={"phone": "+15025550199"}, **OWNER_ONLY),
    ("web.save_default_language", "POST"): Route("POST", "/templates/{store}/language", 302, none=403,
                                                 form={"default_language": "es"}, **OWNER_ONLY),
    ("web.settings", "GET"): Route("GET", "/settings?store={store}", 200, none=403, **OWNER_ONLY),
    ("web.save_store_settings", "POST"): Route("POST", "/settings/{store}", 302, none=403,
                                               form={"help_text": "x"}, **OWNER_ONLY),
    ("web.hours", "GET"): Route("GET", "/hours?store={store}", 200, none=403, **OWNER_ONLY),
    ("web.save_hours", "POST"): Route("POST", "/hours/{store}", 302, none=403,
                                      form={"day_0": "09:00-17:30", "agent_limit": "5", "answer_minutes": "15"},
                                      **OWNER_ONLY),
    ("web.availability_switch", "POST"): Route("POST", "/me/availability", 302, other=302, none=302,
                                               form={"away": "1"}),
    ("web.feedback", "GET"): Route("GET", "/feedback?store={store}", 200, none=403, **OWNER_ONLY),
    ("web.save_feedback", "POST"): Route("POST", "/feedback/{store}", 302, none=403,
                                         form={"delivered_delay_hours": "24", "close_delay_hours": "24"},
                                         **OWNER_ONLY),
    ("web.export_feedback", "GET"): Route("GET", "/feedback/{store}/export.csv", 200, none=403, **OWNER_ONLY),
    # Links & sending (smsdesk/web/short_links.py): the owner's page
    ("web.links", "GET"): Route("GET", "/links?store={store}", 200, none=403, **OWNER_ONLY),
    ("web.save_links", "POST"): Route("POST", "/links/{store}", 302, none=403,
                                      form={"smart_sending_hours": "16"}, **OWNER_ONLY),
    # Automatic answers (smsdesk/web/answers.py): the owner's page
    ("web.answers", "GET"): Route("GET", "/answers?store={store}", 200, none=403, **OWNER_ONLY),
    ("web.save_answer_settings", "POST"): Route("POST", "/answers/{store}/settings", 302, none=403,
                                                form={"order_status": "on"}, **OWNER_ONLY),
    ("web.add_faq_entry", "POST"): Route("POST", "/answers/{store}/entries", 302, none=403,
                                         form={"title": "t", "questions": "q?", "answer": "a"}, **OWNER_ONLY),
    ("web.edit_faq_entry", "POST"): Route("POST", "/answers/{store}/entries/{faq}", 302, none=403,
                                          form={"title": "t", "questions": "q?", "answer": "a"}, **OWNER_ONLY),
    ("web.delete_faq_entry", "POST"): Route("POST", "/answers/{store}/entries/{faq}/delete", 302, none=403,
                                            **OWNER_ONLY),
    ("web.try_answer", "POST"): Route("POST", "/answers/{store}/try", 200, none=403,
                                      form={"message": "where is my order"}, **OWNER_ONLY),
    # Revenue behind the dashboard, and A/B tests of cart reminders (smsdesk/web/ab_tests.py): owners'
    ("web.revenue_csv", "GET"): Route("GET", "/dashboard/revenue.csv?store={store}", 200, none=403, **OWNER_ONLY),
    ("web.ab_test", "GET"): Route("GET", "/templates/{store}/cart_reminder_1/ab-test", 200, none=403, **OWNER_ONLY),
    ("web.start_ab_test", "POST"): Route("POST", "/templates/{store}/cart_reminder_2/ab-test", 302, none=403,
                                         form={"name": "t", "body_b": "Come back {{ cart.recovery_url }}",
                                               "split_percent": "50"}, **OWNER_ONLY),
    ("web.end_ab_test", "POST"): Route("POST", "/templates/{store}/ab-tests/{abtest}/end", 302, none=403,
                                       **OWNER_ONLY),
    ("api.list_ab_tests", "GET"): Route("GET", "/api/stores/{store}/ab-tests", 200, **OWNER_ONLY),
    ("web.simulator", "GET"): Route("GET", "/simulator?customer={customer}", 200),
    ("web.simulator_screen", "GET"): Route("GET", "/simulator/{customer}/screen", 200),
    ("web.simulator_reply", "POST"): Route("POST", "/simulator/{customer}/reply", 302, form={"body": "hi"}),
    ("web.simulator_failure", "POST"): Route("POST", "/simulator/{customer}/failure", 302,
                                             form={"failure": "unreachable"}),
}


@pytest.fixture
def app(engine, database_url, twilio_server):
    """The app with the simulator provider, so the phone simulator's routes are there."""
    app = create_app(app_settings(database_url, twilio_server.url) | {"sms": {"provider": "simulator"}})
    app.config["TESTING"] = True
    yield app
    app.extensions["smsdesk.engine"].dispose()


def _tenant(make, db_session, *, name: str, first: str, last: str, said: str, canned: str) -> dict:
    store = make.store(name=name)
    customer = make.customer(store, first_name=first, last_name=last)
    handle_inbound(db_session, store=store, customer=customer, body=said, provider_sid=f"SMtest{store.id:026d}")
    db_session.flush()
    picture = add_picture(db_session, db_session.scalar(select(Message).where(Message.store_id == store.id)), png(),
                          max_bytes=10**6)
    row = CannedReply(store_id=store.id, title=canned, body=canned)
    entry = FaqEntry(store_id=store.id, title=f"{canned} FAQ", questions=[said], answer=canned)
    db_session.add_all([row, entry])
    test = start_test(db_session, store=store, kind="cart_reminder_1", language="en", body_b=f"{canned} B",
                      split_percent=50, name=f"{canned} test", now=utcnow())
    db_session.commit()
    conversation = db_session.scalar(select(Conversation).where(Conversation.store_id == store.id))
    return {"store": store.slug, "conversation": conversation.id, "customer": customer.id, "canned": row.id,
            "phone": customer.phone, "media": picture.id, "faq": entry.id,
            "abtest": test.id}


@pytest.fixture
def world(make, db_session):
    own = _tenant(make, db_session, name="Annland Goods", first="Ann", last="Ownstore", said="hello from ann",
                  canned="Ann canned")
    other = _tenant(make, db_session, name="Zedland Goods", first="Zed", last="Otherstore", said="hello from zed",
                    canned="Zed canned")
    own_store = make.session.get(Conversation, own["conversation"]).store
    users = {"owner": make.agent(role="owner", stores=[own_store]),
             "agent": make.agent(role="agent", stores=[own_store]),
             "none": make.agent(stores=[]), "admin": make.agent(role="admin"),
             "removed": make.agent(role="owner", stores=[own_store])}
    return {"own": own, "other": other, "users": users}


def _ids_for(persona: str, world: dict) -> dict:
    return world["other"] if persona in ("other", "admin") else world["own"]


def _user_for(persona: str, world: dict):
    users = world["users"]
    return {"agent": users["agent"], "none": users["none"], "admin": users["admin"],
            "removed": users["removed"]}.get(persona, users["owner"])


def expected(route: Route, persona: str, api: bool) -> int:
    if persona in DENIED:
        return 401 if api else 302  # the API says so; a page sends the browser to the login form
    answer = {"own": route.own, "admin": route.own, "agent": route.own if route.agent is None else route.agent,
              "other": route.other, "none": route.none}[persona]
    return answer


def _fill(value, ids: dict, email: str):
    if isinstance(value, dict):
        return {key: _fill(item, ids, email) for key, item in value.items()}
    return value.format(email=email, **ids) if isinstance(value, str) and "{" in value and "{{" not in value \
        else value


def _api_headers(persona: str, world: dict, db_session, client) -> dict:
    user = _user_for(persona, world)
    token = create_token(db_session, user)
    if persona == "revoked":
        revoke_token(db_session, db_session.scalar(select_token_id(user.id)))
    if persona == "removed":
        remove_agent(db_session, user)
    db_session.commit()
    if persona == "logged_out":
        _sign_in(client, user)  # a browser session is no API credential
        return {}
    return {"Authorization": f"Bearer {token}"}


def select_token_id(agent_id: int):
    from smsdesk.models import ApiToken

    return select(ApiToken.id).where(ApiToken.agent_id == agent_id).order_by(ApiToken.id.desc()).limit(1)


def _sign_in(client, user) -> str:
    """A session cookie for ``user`` (the login form itself is tests/web/test_auth.py's); its CSRF token."""
    with client.session_transaction() as session:
        session["agent_id"], session["session_version"] = user.id, user.session_version
    return CSRF_META.search(client.get("/login").get_data(as_text=True)).group(1)


def _web_session(persona: str, world: dict, db_session, client) -> str:
    user = _user_for(persona, world)
    csrf = _sign_in(client, user)
    if persona == "removed":
        remove_agent(db_session, user)
    elif persona == "revoked":
        end_sessions(user)
    db_session.commit()
    if persona == "logged_out":
        cookie = client.get_cookie("session").value
        client.post("/logout", data={"csrf_token": csrf})
        client.set_cookie("session", cookie)  # a copy kept from before the logout
    return csrf


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("key", sorted(ROUTES), ids=lambda key: f"{key[0]}-{key[1]}")
def test_matrix(client, db_session, world, key, persona):
    route = ROUTES[key]
    api = key[0].startswith("api.")
    ids = _ids_for(persona, world)
    email = _user_for(persona, world).email
    path = _fill(route.path, ids, email)
    kwargs: dict = {}
    if api:
        kwargs["headers"] = _api_headers(persona, world, db_session, client)
        if route.json is not None:
            kwargs["json"] = _fill(route.json, ids, email)
    else:
        csrf = _web_session(persona, world, db_session, client)
        if route.json is not None:
            kwargs.update(json=_fill(route.json, ids, email), headers={"X-CSRFToken": csrf})
        else:
            kwargs["data"] = {"csrf_token": csrf, **_fill(route.form, ids, email)} if route.method == "POST" else None
    response = client.open(path, method=route.method, **kwargs)
    assert response.status_code == expected(route, persona, api), response.get_data(as_text=True)[:500]
    if persona in DENIED and not api:
        assert "/login" in response.headers["Location"]
    _assert_nothing_leaks(response.get_data().decode("utf-8", "replace"), persona)  # pictures are bytes


def _assert_nothing_leaks(body: str, persona: str) -> None:
    if persona == "admin":
        return
    hidden = OTHER_MARKERS + (OWN_MARKERS if persona in ("none",) + DENIED else ())
    assert not [marker for marker in hidden if marker in body]


def test_every_route_is_in_the_matrix_or_public(app):
    routes = {(rule.endpoint, method) for rule in app.url_map.iter_rules()
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    missing = routes - set(ROUTES) - PUBLIC
    assert not missing, f"add these routes to the permission matrix (tests/test_permissions.py): {sorted(missing)}"
    assert not (set(ROUTES) | PUBLIC) - routes, "the matrix names routes the app no longer has"


def test_own_store_owner_sees_own_data(client, db_session, world):
    """The matrix's leak check can fail: the owner's own inbox does show their customer."""
    _sign_in(client, world["users"]["owner"])
    html = client.get("/inbox?status=all").get_data(as_text=True)
    assert "Ann Ownstore" in html and "Zed Otherstore" not in html
    _sign_in(client, world["users"]["admin"])
    html = client.get("/inbox?status=all").get_data(as_text=True)
    assert "Ann Ownstore" in html and "Zed Otherstore" in html
