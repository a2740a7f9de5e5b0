"""The public redirect of short links (``/r/<code>``) and the owner's "Links & sending" page.

The redirect is built to be fast: no login, no session cookie, no CSRF, no template; one read
by the unique index on a pooled connection; the click is queued for a background writer
(services/clicks.py) so the answer never waits for a write or a database lock.
"""
from __future__ import annotations

from flask import Response, current_app, flash, redirect, render_template, request, url_for

from smsdesk.db import get_session
from smsdesk.models import Role, Store, utcnow
from smsdesk.models.links import DEFAULT_CLICK_WINDOW_HOURS, DEFAULT_VIEW_WINDOW_HOURS
from smsdesk.services import clicks
from smsdesk.services.access import stores_for
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
NOT_FOUND = ("<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><meta name=\"viewport\" "
             "content=\"width=device-width\"><title>Link not found</title><h1>Link not found</h1>"
             "<p>This link is not known or has expired. Please check the text you received.</p></html>")
# Each text's link is its own: caches must not keep an answer, nor send it on as a Referer.
HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}


def click_writer() -> clicks.ClickWriter:
    writer = current_app.extensions.get(WRITER)
    if writer is None:
        writer = current_app.extensions.setdefault(
            WRITER, clicks.ClickWriter(current_app.extensions["smsdesk.engine"]))
    return writer


@bp.route("/r/<code>", methods=["GET", "HEAD"])
def short_link(code: str):
    """302 to the link's target (a person's GET is counted as a click); 404 for an unknown code."""
    target = None
    if CODE.match(code):
        target = clicks.lookup(current_app.extensions["smsdesk.read_engine"], code)
    if target is None or not target.url:  # unknown, or its customer's data was erased
        return Response(NOT_FOUND, 404, mimetype="text/html", headers=HEADERS)
    if clicks.counts(request.method, request.headers):
        click_writer().record(clicks.click_row(target, at=utcnow(), user_agent=request.headers["User-Agent"]))
    return Response(status=302, headers={"Location": target.url, **HEADERS})


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
