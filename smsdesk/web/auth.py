"""Login and logout for agents, the session, permission checks and login throttling.

Failed logins are throttled per email + client IP in memory, per process: a gunicorn
deployment with N workers allows up to N times the limit, which still turns a password
guesser's millions of tries into a handful per window.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from functools import wraps
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, g, redirect, render_template, request, session, url_for

from smsdesk.db import get_session
from smsdesk.models import Agent, Role
from smsdesk.services.access import is_owner_somewhere, role_label
from smsdesk.services.auth import check_password, end_sessions
from smsdesk.web import bp

MAX_FAILURES = 5  # failed logins per email + IP ...
FAILURE_WINDOW = 15 * 60  # ... within this many seconds, then 429 until the oldest ages out
THROTTLE_KEY = "smsdesk.login_throttle"
MAX_TRACKED = 10_000  # email+IP keys kept before expired ones are swept (bounds memory under a spray)


class LoginThrottle:
    """Counts failed logins per key within a sliding window; ``clock`` is injectable for tests."""

    def __init__(self, *, limit: int = MAX_FAILURES, window: float = FAILURE_WINDOW,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, key: tuple[str, str]) -> int:
        """Seconds until ``key`` may try again; 0 when it may now."""
        with self._lock:
            recent = self._recent(key)
            if len(recent) < self.limit:
                return 0
            return max(1, int(recent[0] + self.window - self.clock()) + 1)

    def failed(self, key: tuple[str, str]) -> None:
        with self._lock:
            if len(self._failures) >= MAX_TRACKED:
                self._sweep()
            self._recent(key).append(self.clock())

    def _sweep(self) -> None:
        """Forget keys with no failure inside the window."""
        for key in list(self._failures):
            if not self._recent(key):
                del self._failures[key]

    def succeeded(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._failures.pop(key, None)

    def _recent(self, key: tuple[str, str]) -> deque[float]:
        """The key's failures inside the window (older ones dropped)."""
        recent = self._failures.setdefault(key, deque())
        while recent and recent[0] <= self.clock() - self.window:
            recent.popleft()
        return recent


def init_app(app: Flask) -> None:
    app.extensions[THROTTLE_KEY] = LoginThrottle()


def current_agent() -> Agent | None:
    """The logged-in agent (loaded once per request), or None: also for a removed agent or a
    cookie from before their logout, removal or password change (an older session version)."""
    if "web_agent" not in g:
        agent_id = session.get("agent_id")
        agent = get_session().get(Agent, agent_id) if isinstance(agent_id, int) else None
        if agent is not None and (agent.removed_at is not None
                                  or session.get("session_version") != agent.session_version):
            agent = None
        g.web_agent = agent
    return g.web_agent


def signed_in_agent() -> Agent:
    """The logged-in agent inside a ``login_required`` view (never None there)."""
    agent = current_agent()
    if agent is None:
        abort(401)
    return agent


def login_required(view):
    """Anonymous visitors go to the login page and come back afterwards."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        if current_agent() is None:
            return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)
    return wrapper


def owner_required(view):
    """Owners (of some store) and admins only; others get a 403 page. Which store's data the
    page shows is the view's business (services/access.py)."""
    @wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        if not is_owner_somewhere(get_session(), signed_in_agent()):
            abort(403, description="Only store owners can open this page.")
        return view(*args, **kwargs)
    return wrapper


@bp.app_context_processor
def _inject_agent() -> dict:
    agent = current_agent() if "agent_id" in session else None
    return {"agent": agent, "Role": Role,
            "is_owner": agent is not None and is_owner_somewhere(get_session(), agent),
            "role_label": role_label(get_session(), agent) if agent is not None else "",
            "simulator_enabled": current_app.extensions["smsdesk.provider"].name == "simulator"}


def safe_next(target: str | None) -> str:
    """A path of this site, else the inbox. Browsers drop tabs and newlines inside URLs and
    read ``\\`` as ``/``, so ``/\t/evil.example`` is ``//evil.example``: strip those first."""
    path = "".join(ch for ch in (target or "") if ch.isprintable() and not ch.isspace())
    try:
        parts = urlsplit(path)
    except ValueError:
        return url_for("web.inbox")
    if parts.scheme or parts.netloc or not path.startswith("/") or path.startswith(("//", "/\\")):
        return url_for("web.inbox")
    return path


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The login form; a failed attempt counts against the email + IP throttle."""
    if request.method == "GET":
        return render_template("login.html", next=request.args.get("next", ""))
    email = request.form.get("email", "").strip().lower()
    key = (email, request.remote_addr or "")
    throttle: LoginThrottle = current_app.extensions[THROTTLE_KEY]
    wait = throttle.retry_after(key)
    if wait:
        minutes = -(-wait // 60)
        return render_template("login.html", email=email, next=request.form.get("next", ""),
                               error=f"Too many failed attempts. Try again in {minutes} min."), 429
    agent = check_password(get_session(), email, request.form.get("password", ""))
    if agent is None:
        throttle.failed(key)
        return render_template("login.html", email=email, next=request.form.get("next", ""),
                               error="Wrong email or password."), 401
    throttle.succeeded(key)
    session.clear()  # a fresh session on login: no fixation of a pre-login session
    session["agent_id"] = agent.id
    session["session_version"] = agent.session_version
    session.permanent = True
    return redirect(safe_next(request.form.get("next")))


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    """GET asks for confirmation: logging out changes state, so it takes a (CSRF-checked) POST."""
    if request.method == "GET":
        return render_template("logout.html")
    agent = current_agent()
    if agent is not None:
        # The cookie lives in the browser, so clearing it does not end a copy of it: bumping the
        # version does (and logs this agent out on their other devices too).
        end_sessions(agent)
        get_session().commit()
    session.clear()
    return redirect(url_for("web.login"))
