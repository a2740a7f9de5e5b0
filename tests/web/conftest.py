"""Web fixtures: log a test client in through the real login form (with its CSRF token)."""
from __future__ import annotations

import re

import pytest

PASSWORD = "correct horse battery"
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def csrf_token(client, path: str = "/login") -> str:
    """The CSRF token a page carries (it is bound to the client's session)."""
    html = client.get(path).get_data(as_text=True)
    return CSRF_META.search(html).group(1)


class Browser:
    """A test client that logs in through /login and posts forms with their CSRF token."""

    def __init__(self, client):
        self.client = client
        self.token = None

    def login(self, agent, password: str = PASSWORD):
        self.token = csrf_token(self.client)
        response = self.client.post("/login", data={"email": agent.email, "password": password,
                                                     "csrf_token": self.token})
        self.token = csrf_token(self.client, "/inbox")  # the session is renewed on login
        return response

    def get(self, path: str, **kwargs):
        return self.client.get(path, **kwargs)

    def post(self, path: str, data: dict | None = None, **kwargs):
        return self.client.post(path, data={"csrf_token": self.token, **(data or {})}, **kwargs)

    def post_json(self, path: str, payload: dict):
        return self.client.post(path, json=payload, headers={"X-CSRFToken": self.token})


@pytest.fixture
def browser(client):
    return Browser(client)


@pytest.fixture
def owner(make, browser):
    agent = make.agent(role="owner")
    browser.login(agent)
    return agent


@pytest.fixture
def agent(make, browser):
    agent = make.agent(role="agent")
    browser.login(agent)
    return agent
