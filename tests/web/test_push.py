"""The open inbox learns of changes: server-sent events on PostgreSQL (LISTEN/NOTIFY), an
idle poll of under 1 KB everywhere (services/push.py, web/inbox.py)."""
from __future__ import annotations

import queue
import threading
import time

import pytest
import requests
from werkzeug.serving import make_server

from smsdesk.models import utcnow
from smsdesk.services.queries import iso
from tests.conftest import PUBLIC_URL, TWILIO_TOKEN
from tests.factories import inbound_sms, twilio_signature
from tests.web.conftest import CSRF_META, PASSWORD
from tests.web.test_inbox import text_in

IDLE_LIMIT = 1024  # bytes (issue 11)


def _on_postgres(database_url: str) -> bool:
    return database_url.startswith("postgresql")


def test_an_idle_poll_answers_in_under_1_kb(make, browser, client):
    store = make.store()
    browser.login(make.agent(role="agent", stores=[store]))
    text_in(client, store)
    since = iso(utcnow())
    idle = browser.get(f"/inbox/list?since={since}")
    assert idle.status_code == 204 and len(idle.get_data()) < IDLE_LIMIT
    full = browser.get("/inbox/list?status=all")
    assert full.status_code == 200 and len(full.get_data()) > len(idle.get_data())  # the poll did shrink it


def test_sqlite_pages_poll_and_have_no_event_stream(database_url, agent, browser):
    if _on_postgres(database_url):
        pytest.skip("PostgreSQL pushes; this is the SQLite side")
    page = browser.get("/inbox").get_data(as_text=True)
    assert "data-changes-url" in page and "data-events-url" not in page
    answer = browser.get("/inbox/events")
    assert answer.status_code == 404 and "PostgreSQL" in answer.get_data(as_text=True)


@pytest.fixture
def served(app):
    """The app over real HTTP (a thread): a stream is a long response a test client can't show live."""
    app.config["SESSION_COOKIE_SECURE"] = False  # public_url is https, this server plain http
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


def _logged_in(base: str, agent) -> requests.Session:
    http = requests.Session()
    token = CSRF_META.search(http.get(base + "/login", timeout=5).text).group(1)
    answer = http.post(base + "/login", data={"email": agent.email, "password": PASSWORD, "csrf_token": token},
                       timeout=5)
    assert answer.status_code == 200 and "/login" not in answer.url
    return http


def _listen(http: requests.Session, base: str) -> queue.Queue:
    """Read the event stream in a thread; each event's name goes into the queue when it arrives."""
    events: queue.Queue = queue.Queue()

    def read() -> None:
        with http.get(base + "/inbox/events", stream=True, timeout=10) as answer:
            assert answer.headers["Content-Type"].startswith("text/event-stream")
            for line in answer.iter_lines(decode_unicode=True):
                if line.startswith("event: "):
                    events.put((line.removeprefix("event: "), time.monotonic()))
    threading.Thread(target=read, daemon=True).start()
    return events


def test_an_inbound_text_reaches_the_open_inbox_within_a_second(database_url, app, served, make):
    if not _on_postgres(database_url):
        pytest.skip("server push needs PostgreSQL LISTEN/NOTIFY; on SQLite the inbox polls (test above)")
    app.config["SMSDESK"].server.event_stream_seconds = 4.0  # the streams end soon after the test
    own, other = make.store(), make.store()
    ann, zed = make.agent(role="agent", stores=[own]), make.agent(role="agent", stores=[other])
    ann_http, zed_http = _logged_in(served, ann), _logged_in(served, zed)
    assert 'data-events-url="/inbox/events"' in ann_http.get(served + "/inbox", timeout=5).text
    ann_events, zed_events = _listen(ann_http, served), _listen(zed_http, served)
    assert ann_events.get(timeout=5)[0] == "ready" and zed_events.get(timeout=5)[0] == "ready"

    params = inbound_sms(own, from_="+15025550199", body="Where is my parcel?")
    sent = time.monotonic()
    answer = requests.post(served + "/webhooks/twilio/sms", data=params, timeout=5, headers={
        "X-Twilio-Signature": twilio_signature(TWILIO_TOKEN, PUBLIC_URL + "/webhooks/twilio/sms", params)})
    assert answer.status_code == 200
    name, arrived = ann_events.get(timeout=2)
    assert name == "change" and arrived - sent < 1.0
    with pytest.raises(queue.Empty):  # the other store's user hears nothing of it
        zed_events.get(timeout=1.0)
    changed = ann_http.get(served + f"/inbox/list?since={iso(utcnow().replace(year=2000))}", timeout=5).json()
    assert any("Where is my parcel?" in row["html"] for row in changed["rows"])
