"""The public redirect of short links (``/r/<code>``) and the owner's "Links & sending" page.

The redirect is built to be fast: answered in front of Flask (RedirectFastPath) with no login,
session cookie, CSRF or template; one read by the unique index on the thread's own connection
(clicks.LinkReader); the click is queued for a background writer (services/clicks.py) so the
answer never waits for a write or a database lock.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask, Response, current_app, flash, redirect, render_template, request, url_for
from werkzeug.urls import iri_to_uri

from smsdesk.db import THREAD_CONNECTIONS, get_session
from smsdesk.models import Role, Store, utcnow
from smsdesk.models.links import DEFAULT_CLICK_WINDOW_HOURS, DEFAULT_VIEW_WINDOW_HOURS
from smsdesk.services import clicks
from smsdesk.services.access import stores_for
from smsdesk.services.click_relay import ClickRelay
from smsdesk.services.link_settings import (
    MAX_SMART_SENDING_HOURS,
    MAX_WINDOW_HOURS,
    LinksForm,
    current_form,
    save_form,
)
from smsdesk.services.short_links import CODE
from smsdesk.web import bp
from smsdesk.web.auth import owner_required, signed_in_agent
from smsdesk.web.editor import owner_store

WRITER = "smsdesk.click_writer"
READER = "smsdesk.link_reader"
NOT_FOUND = ("<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><meta name=\"viewport\" "
             "content=\"width=device-width\"><title>Link not found</title><h1>Link not found</h1>"
             "<p>This link is not known or has expired. Please check the text you received.</p></html>")
# Each text's link is its own: caches must not keep an answer, nor send it on as a Referer.
HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}
# What clicks.counts reads of a request, by its WSGI environ key.
_COUNTED_HEADERS = {"User-Agent": "HTTP_USER_AGENT", "Sec-Purpose": "HTTP_SEC_PURPOSE", "Purpose": "HTTP_PURPOSE",
                    "X-Moz": "HTTP_X_MOZ"}


def click_writer(app: Flask | None = None) -> clicks.ClickWriter | ClickRelay:
    app = app or current_app
    writer = app.extensions.get(WRITER)
    if writer is None:
        writer = app.extensions.setdefault(WRITER, clicks.writer_for(app.extensions["smsdesk.engine"]))
    return writer


def link_reader(app: Flask) -> clicks.LinkReader:
    reader = app.extensions.get(READER)
    if reader is None:
        reader = app.extensions.setdefault(READER, clicks.LinkReader(app.extensions[THREAD_CONNECTIONS]))
    return reader


def answer(app: Flask, code: str, method: str, headers: Any) -> str | None:  # a Mapping, or the request's Headers
    """The target of ``code`` (None: 404), with the click queued when a person opened it."""
    target = link_reader(app).lookup(code) if CODE.match(code) else None
    if target is None or not target.url:  # unknown, or its customer's data was erased
        return None
    if clicks.counts(method, headers):
        click_writer(app).record(clicks.click_row(target, at=utcnow(), user_agent=headers.get("User-Agent", "")))
    return target.url


class RedirectFastPath:
    """WSGI in front of Flask answering GET/HEAD ``/r/<code>`` by itself.

    A redirect needs no request context, session, CSRF check or hook: skipping Flask's
    machinery made it several times cheaper. The response carries what the app adds to every
    response (``security_headers``). Anything else, and a redirect whose read fails (the
    database is down), goes on to the Flask app: its view answers it the same way, and
    reports a failure as every other view does."""

    def __init__(self, app: Flask, wsgi_app: Callable, security_headers: Mapping[str, str]) -> None:
        self._app, self._wsgi_app = app, wsgi_app
        self._headers = list({**security_headers, **HEADERS}.items())  # the view's own win, as with setdefault

    def __call__(self, environ: dict, start_response: Callable):
        method, path = environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", "")
        if method not in ("GET", "HEAD") or not path.startswith("/r/"):
            return self._wsgi_app(environ, start_response)
        request_headers = {name: environ[key] for name, key in _COUNTED_HEADERS.items() if key in environ}
        try:
            target = answer(self._app, path[3:], method, request_headers)
        except Exception:
            return self._wsgi_app(environ, start_response)
        if target is None:
            body = NOT_FOUND.encode()
            start_response("404 NOT FOUND", [*self._headers, ("Content-Type", "text/html; charset=utf-8"),
                                             ("Content-Length", str(len(body)))])
            return [body if method == "GET" else b""]
        start_response("302 FOUND", [*self._headers, ("Location", iri_to_uri(target)), ("Content-Length", "0")])
        return [b""]


@bp.route("/r/<code>", methods=["GET", "HEAD"])
def short_link(code: str):
    """302 to the link's target (a person's GET is counted as a click); 404 for an unknown code.
    RedirectFastPath answers these first; this view is its fallback."""
    target = answer(current_app._get_current_object(), code, request.method, request.headers)  # type: ignore[attr-defined]
    if target is None:
        return Response(NOT_FOUND, 404, mimetype="text/html", headers=HEADERS)
    return Response(status=302, headers={"Location": target, **HEADERS})


def _page(store: Store, form: LinksForm):
    owned = stores_for(get_session(), signed_in_agent(), role=Role.OWNER)
    base = current_app.config["SMSDESK"].server.public_url.rstrip("/")
    defaults = {"click": DEFAULT_CLICK_WINDOW_HOURS, "view": DEFAULT_VIEW_WINDOW_HOURS}
    return render_template("links.html", store=store, stores=owned, values=form.values, errors=form.errors,
                           max_hours=MAX_SMART_SENDING_HOURS, example=f"{base}/r/aB3dE5gH",
                           max_window=MAX_WINDOW_HOURS, defaults=defaults), form.status


@bp.get("/links")
@owner_required
def links():
    """One store's link and sending settings (the user's first store by default)."""
    store = owner_store(request.args.get("store"))
    return _page(store, current_form(get_session(), store))


@bp.post("/links/<slug>")
@owner_required
def save_links(slug: str):
    """Save the settings, or show the form again with the refused field marked (422)."""
    store = owner_store(slug)
    session = get_session()
    form = save_form(session, store, request.form, base_url=current_app.config["SMSDESK"].server.public_url)
    if form.errors:
        session.rollback()
        return _page(owner_store(slug), form)
    session.commit()
    flash("Link and sending settings saved.", "ok")
    return redirect(url_for("web.links", store=store.slug))
