"""The web UI for agents and owners (inbox, templates, dashboard, phone simulator).

Server-rendered pages; a little JavaScript polls small HTML fragments for live updates.
Every form and state-changing request carries a CSRF token (Flask-WTF); the webhook and
JSON API blueprints are exempt because they authenticate with signatures and tokens.
"""
from __future__ import annotations

import logging

from flask import Blueprint, Flask, redirect, render_template, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect

from smsdesk.services.access import NoAccess, NotAllowed
from smsdesk.services.template_kinds import AUTOMATIC_KINDS

log = logging.getLogger(__name__)
bp = Blueprint("web", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static/web")
csrf = CSRFProtect()

SESSION_HOURS = 12  # a working day; after that the agent logs in again
EXEMPT_PREFIXES = ("/api", "/webhooks")  # signed or token-authenticated; no browser session there


def init_app(app: Flask) -> None:
    """Register the pages, CSRF protection and the session cookie settings."""
    from datetime import timedelta

    from smsdesk.web import (  # noqa: F401 - register views
        ab_tests,
        answers,
        auth,
        canned,
        dashboard,
        editor,
        feedback,
        hours,
        inbox,
        media,
        settings,
        short_links,
        simulator,
    )

    public_url = app.config["SMSDESK"].server.public_url
    # Secure when served over https: the cookie then never travels in clear text.
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      SESSION_COOKIE_SECURE=public_url.lower().startswith("https://"),
                      PERMANENT_SESSION_LIFETIME=timedelta(hours=SESSION_HOURS),
                      WTF_CSRF_TIME_LIMIT=SESSION_HOURS * 3600)  # seconds: a form token lives as long as a session
    csrf.init_app(app)
    for blueprint in list(app.blueprints.values()):
        if (blueprint.url_prefix or "").startswith(EXEMPT_PREFIXES):
            csrf.exempt(blueprint)
    auth.init_app(app)
    # The thread marks the texts smsdesk sends on its own (_thread.html).
    app.jinja_env.globals["automatic_kinds"] = AUTOMATIC_KINDS
    app.register_blueprint(bp)
    app.add_url_rule("/", "index", lambda: redirect(url_for("web.inbox")))
    app.register_error_handler(CSRFError, _csrf_error)


def error_page(title: str, message: str, status: int):
    """An error as a page in the app's own look (the app's handlers call it for every page URL,
    known or not). The message is the exception's public description, never its details; should
    the page itself fail (say, the database is down), plain text says the same."""
    try:
        return render_template("error.html", title=title, message=message, status=status), status
    except Exception:
        log.exception("the error page for a %s could not be rendered", status)
        return f"{title}: {message}", status, {"Content-Type": "text/plain; charset=utf-8"}


@bp.errorhandler(403)
@bp.errorhandler(404)
def _page_error(exc):
    """Forbidden and not-found pages in the app's own look, with the reason."""
    return error_page(exc.name, exc.description, exc.code)


@bp.errorhandler(NoAccess)
def _no_access(exc: NoAccess):
    """Another store's rows answer like missing ones (a 404 page)."""
    return error_page("Not Found", f"There is {exc}.", 404)


@bp.errorhandler(NotAllowed)
def _not_allowed(exc: NotAllowed):
    return error_page("Forbidden", f"{str(exc).capitalize()}.", 403)


def _csrf_error(exc: CSRFError):
    """A missing or stale form token: explain, and offer a way back."""
    return error_page("Form expired", f"{exc.description} Reload the page and try again.", 400)
