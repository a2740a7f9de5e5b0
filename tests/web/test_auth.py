"""Login, logout, CSRF, session cookie, throttling and the page permissions."""
import pytest

from smsdesk.web.auth import THROTTLE_KEY, LoginThrottle
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
