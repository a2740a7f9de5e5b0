"""Error pages: a styled page for browsers (404, 405, 500 ...), JSON for /api and /webhooks,
and never a secret or an exception's details in either."""
from __future__ import annotations

import pytest

SECRET = "sk_live_do_not_show_me"


@pytest.fixture
def app_with_a_broken_page(app):
    """A page that fails with a secret in its exception, as a bug in a view would."""
    def broken():
        raise RuntimeError(f"database password {SECRET}")

    app.add_url_rule("/broken-page", "broken_page", broken)
    app.add_url_rule("/api/broken", "broken_api", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # TESTING would re-raise it instead of answering
    return app


def _is_styled_page(response) -> bool:
    html = response.get_data(as_text=True)
    return (response.mimetype == "text/html" and "/static/web/app.css" in html
            and 'class="card narrow error-page"' in html)


@pytest.mark.parametrize("path", ["/no/such/page", "/inboxx", "/inbox/999999"])
def test_unknown_urls_get_a_styled_404(client, browser, agent, path):
    response = client.get(path)
    html = response.get_data(as_text=True)
    assert response.status_code == 404 and _is_styled_page(response)
    assert '<p class="error-code" aria-hidden="true">404</p>' in html
    assert '<h1 id="error-title">Not Found</h1>' in html
    assert 'class="topbar"' in html  # a signed-in agent keeps the navigation


def test_a_logged_out_visitor_gets_the_page_and_a_login_link(client):
    response = client.get("/definitely-not-here")
    html = response.get_data(as_text=True)
    assert response.status_code == 404 and _is_styled_page(response)
    assert 'href="/login"' in html and 'class="topbar"' not in html


def test_a_wrong_method_gets_a_styled_405(client, browser, owner, make):
    store = make.store()
    response = client.get(f"/settings/{store.slug}")  # POST only
    assert response.status_code == 405 and _is_styled_page(response)
    assert "Method Not Allowed" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/api/nope", "/webhooks/nope/at/all"])
def test_api_and_webhooks_answer_json(client, path):
    response = client.get(path)
    assert response.status_code in (404, 405) and response.is_json
    assert response.get_json()["error"] in ("not_found", "method_not_allowed")


def test_a_failing_page_shows_no_details(app_with_a_broken_page, caplog):
    client = app_with_a_broken_page.test_client()
    response = client.get("/broken-page")
    html = response.get_data(as_text=True)
    assert response.status_code == 500 and _is_styled_page(response)
    assert "Something went wrong" in html and SECRET not in html and "RuntimeError" not in html
    assert "Traceback" not in html
    api = client.get("/api/broken")
    assert api.status_code == 500 and api.get_json()["error"] == "internal_error"
    assert SECRET not in api.get_data(as_text=True)


def test_error_pages_do_not_show_the_config(app, client):
    secret_key = app.config["SECRET_KEY"]
    token = app.config["SMSDESK"].twilio.auth_token
    for path in ("/nope", "/api/nope", "/webhooks/twilio/nope"):
        body = client.get(path).get_data(as_text=True)
        assert secret_key not in body and (not token or token not in body)
