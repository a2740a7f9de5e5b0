"""Login, logout, CSRF, session cookie, throttling and the page permissions."""
import pytest

from smsdesk import db
from smsdesk.app import create_app
from smsdesk.models import Agent
from smsdesk.services.auth import end_sessions, remove_agent
from smsdesk.web.auth import THROTTLE_KEY, LoginThrottle
from tests.conftest import app_settings
from tests.web.conftest import PASSWORD, csrf_token

PAGES = ["/inbox", "/templates", "/dashboard", "/canned", "/simulator"]
OWNER_PAGES = ["/templates", "/dashboard", "/canned"]


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_is_sent_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302 and response.location.startswith("/login?next=")


def test_login_sets_a_safe_session_cookie_and_goes_to_next(client, make, browser):
    agent = make.agent()
    token = csrf_token(client)
    response = client.post("/login", data={"email": agent.email.upper(), "password": PASSWORD,
                                           "csrf_token": token, "next": "/inbox?status=all"})
    assert response.status_code == 302 and response.location == "/inbox?status=all"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get("/inbox").status_code == 200


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example"])
def test_login_never_redirects_off_site(client, make, target):
    agent = make.agent()
    response = client.post("/login", data={"email": agent.email, "password": PASSWORD,
                                           "csrf_token": csrf_token(client), "next": target})
    assert response.location == "/inbox"


def test_wrong_password_is_401_with_a_message(client, make):
    agent = make.agent()
    response = client.post("/login", data={"email": agent.email, "password": "wrong password",
                                           "csrf_token": csrf_token(client)})
    assert response.status_code == 401 and "Wrong email or password" in response.get_data(as_text=True)
    assert client.get("/inbox").status_code == 302


def test_login_without_csrf_token_is_400(client, make):
    agent = make.agent()
    response = client.post("/login", data={"email": agent.email, "password": PASSWORD})
    assert response.status_code == 400 and "CSRF" in response.get_data(as_text=True)


def test_failed_logins_are_throttled_per_email_and_ip(app, client, make):
    now = [1000.0]
    app.extensions[THROTTLE_KEY] = LoginThrottle(limit=5, window=900, clock=lambda: now[0])
    agent = make.agent()
    token = csrf_token(client)

    def attempt(password, email=agent.email):
        return client.post("/login", data={"email": email, "password": password, "csrf_token": token}).status_code
    assert [attempt("nope") for _ in range(5)] == [401] * 5
    assert attempt(PASSWORD) == 429  # even the right password waits: the guesser must not learn it
    assert attempt("nope", email="other@example.com") == 401  # another email is not blocked
    now[0] += 901
    assert attempt(PASSWORD) == 302


def test_logout_needs_a_post_and_ends_the_session(browser, agent):
    assert browser.get("/logout").status_code == 200  # a confirmation page, not a logout
    assert browser.get("/inbox").status_code == 200
    assert browser.post("/logout").status_code == 302
    assert browser.get("/inbox").status_code == 302


@pytest.mark.parametrize("path", OWNER_PAGES)
def test_agents_cannot_open_owner_pages(browser, agent, make, path):
    make.store()
    response = browser.get(path)
    assert response.status_code == 403 and "owners" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", OWNER_PAGES + ["/inbox"])
def test_owners_open_every_page(browser, owner, make, path):
    make.store()
    assert browser.get(path).status_code == 200


def test_api_and_webhooks_need_no_csrf_token(client, make):
    token = make.token(role="owner")
    store = make.store()
    response = client.patch(f"/api/stores/{store.slug}", json={"name": "X"},
                            headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_logout_ends_the_old_cookie_too(client, browser, agent):
    stolen = client.get_cookie("session").value
    assert browser.post("/logout").status_code == 302
    client.set_cookie("session", stolen)  # a copy of the cookie taken before the logout
    response = client.get("/inbox")
    assert response.status_code == 302 and response.location.startswith("/login")


def test_removed_agent_is_refused_at_once_in_the_browser_and_the_api(client, browser, agent, make, db_session):
    token = make.token(agent)
    assert client.get("/api/conversations", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    remove_agent(db_session, db_session.get(Agent, agent.id))
    db_session.commit()
    assert browser.get("/inbox").status_code == 302
    assert client.get("/api/conversations", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    again = client.post("/login", data={"email": agent.email, "password": PASSWORD, "csrf_token": csrf_token(client)})
    assert again.status_code == 401  # and cannot log in again


def test_ending_sessions_logs_out_an_open_browser(browser, agent, db_session):
    end_sessions(db_session.get(Agent, agent.id))  # what a password change does
    db_session.commit()
    assert browser.get("/inbox").status_code == 302


@pytest.mark.parametrize("target, expected", [
    ("/inbox?status=all", "/inbox?status=all"),
    ("/\t/evil.example", "/inbox"),
    ("/\n/evil.example", "/inbox"),
    ("/inbox\r\nSet-Cookie: x=1", "/inboxSet-Cookie:x=1"),  # stays a path of this site
    ("//evil.example", "/inbox"),
    ("/\\evil.example", "/inbox"),
    ("\\/evil.example", "/inbox"),
    (" //evil.example", "/inbox"),
    ("https://evil.example/", "/inbox"),
    ("javascript:alert(1)", "/inbox"),
    ("http:/evil.example", "/inbox"),
    ("/\x00/evil.example", "/inbox"),
    ("/\u3000/evil.example", "/inbox"),
    ("", "/inbox"),
])
def test_next_only_leads_to_this_site(client, make, target, expected):
    agent = make.agent()
    response = client.post("/login", data={"email": agent.email, "password": PASSWORD,
                                           "csrf_token": csrf_token(client), "next": target})
    assert response.status_code == 302 and response.location == expected


@pytest.mark.parametrize("public_url, secure", [("https://sms.example.com", True), ("http://localhost:8025", False)])
def test_cookie_is_secure_and_hsts_is_on_behind_https(engine, database_url, twilio_server, make, public_url, secure):
    settings = app_settings(database_url, twilio_server.url)
    settings["server"]["public_url"] = public_url
    app = create_app(settings)
    client = app.test_client()
    agent = make.agent()
    response = client.post("/login", data={"email": agent.email, "password": PASSWORD,
                                           "csrf_token": csrf_token(client)})
    cookie = response.headers["Set-Cookie"]
    assert ("Secure" in cookie) is secure and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert ("Strict-Transport-Security" in response.headers) is secure
    db.dispose(app)
