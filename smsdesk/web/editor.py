"""The owners' template editor: every kind per store, live preview, test sends (settings: web/settings.py)."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from smsdesk.api.templates import preview_dict, template_dict, template_error_dict
from smsdesk.db import get_session
from smsdesk.models import Role, Store
from smsdesk.services.ab_tests import AB_KINDS
from smsdesk.services.access import store_for, stores_for
from smsdesk.services.languages import BUILT_IN_LANGUAGES, NAMES, name as language_name
from smsdesk.services.template_kinds import KINDS, VARIABLES
from smsdesk.services.template_languages import Version, kind_versions, language_or_default, set_default_language
from smsdesk.services.template_store import resolve_template, save_template
from smsdesk.services.template_test import SendTestRefused, phone_hint, readable, send_template_test
from smsdesk.services.templates import TemplateError
from smsdesk.web import bp
from smsdesk.web.auth import owner_required, signed_in_agent


def owner_store(slug: str | None) -> Store:
    """The store named in the URL, else the user's first; a 404 page for none or another
    store's slug, a 403 one where the user is only an agent."""
    session = get_session()
    if slug:
        return store_for(session, signed_in_agent(), slug, role=Role.OWNER)
    store = next(iter(stores_for(session, signed_in_agent(), role=Role.OWNER)), None)
    if store is None:
        abort(404, description="No store yet: add one with `smsdesk store add`.")
    return store


def _kind(kind: str | None) -> str:
    if kind is None:
        return next(iter(KINDS))
    if kind not in KINDS:
        abort(404, description=f"There is no message kind {kind!r}.")
    return kind


def page_language(store: Store, raw: str | None) -> str:
    """The language a page shows (``?language=``, else the store's default); 400 for an unknown one."""
    try:
        return language_or_default(store, raw)
    except ValueError as exc:
        abort(400, description=str(exc))


def _page(store: Store, kind: str, *, language: str | None = None, body: str | None = None,
          error: dict | None = None, status: int = 200):
    session = get_session()
    language = language or store.default_language
    templates = [template_dict(store, resolve_template(session, store_id=store.id, kind=k, language=language,
                                                       default_language=store.default_language)) for k in KINDS]
    current = next(t for t in templates if t["kind"] == kind)
    # The kind's languages side by side: whose text each one's customers get, and its segments.
    versions = [(version, template_dict(store, version.template))
                for version in kind_versions(session, store, kind)]
    if not any(version.language == language for version, _ in versions):
        versions.append((Version(language, language_name(language), resolve_template(
            session, store_id=store.id, kind=kind, language=language, default_language=store.default_language),
            "fallback", False), current))
    owned = stores_for(session, signed_in_agent(), role=Role.OWNER)
    return render_template("templates.html", store=store, stores=owned, templates=templates,
                           current=current, body=current["body"] if body is None else body, error=error,
                           all_variables=sorted(VARIABLES), language=language, versions=versions,
                           language_names=NAMES, built_in_languages=BUILT_IN_LANGUAGES,
                           phone_hint=phone_hint(store.country), ab_kinds=AB_KINDS), status


@bp.get("/templates")
@owner_required
def templates():
    """The editor for one kind of one store (the first of each by default)."""
    store = owner_store(request.args.get("store"))
    return _page(store, _kind(request.args.get("kind")), language=page_language(store, request.args.get("language")))


@bp.post("/templates/<slug>/<kind>")
@owner_required
def save(slug: str, kind: str):
    """Save a template; an invalid one is shown again with its line and reason (422)."""
    store, kind = owner_store(slug), _kind(kind)
    language = page_language(store, request.form.get("language"))
    session = get_session()
    delay = request.form.get("delay_minutes", "").strip()
    if delay and not delay.isdigit():
        return _page(store, kind, language=language, body=request.form.get("body"),
                     error={"line": None, "reason": "delay must be a whole number of minutes"}, status=422)
    try:
        save_template(session, store_id=store.id, kind=kind, body=request.form.get("body", ""),
                      enabled=request.form.get("enabled") == "on", delay_minutes=int(delay) if delay else None,
                      language=language)
    except TemplateError as exc:
        session.rollback()
        return _page(store, kind, language=language, body=request.form.get("body"),
                     error=template_error_dict(exc), status=422)
    except ValueError as exc:
        session.rollback()
        return _page(store, kind, language=language, body=request.form.get("body"),
                     error={"line": None, "reason": str(exc)}, status=422)
    session.commit()
    flash(f"Saved “{KINDS[kind].label}” ({language_name(language)}).", "ok")
    return redirect(url_for("web.templates", store=store.slug, kind=kind, language=language))


@bp.post("/templates/<slug>/language")
@owner_required
def save_default_language(slug: str):
    """The store's default language: customers of no known language get texts in it."""
    store = owner_store(slug)
    session = get_session()
    try:
        language = set_default_language(session, store, request.form.get("default_language"))
    except ValueError as exc:
        session.rollback()
        abort(400, description=str(exc))
    session.commit()
    flash(f"Default language: {language_name(language)}.", "ok")
    return redirect(url_for("web.templates", store=store.slug, kind=_kind(request.form.get("kind") or None)))


@bp.post("/templates/<slug>/<kind>/preview")
@owner_required
def preview(slug: str, kind: str):
    """Live preview for the editor: JSON, like the API's preview."""
    store, _ = owner_store(slug), _kind(kind)
    language = page_language(store, request.args.get("language"))
    payload = request.get_json(silent=True)
    body = payload.get("body") if isinstance(payload, dict) else None
    if not isinstance(body, str):
        return {"error": "invalid_body", "message": "send {\"body\": \"...\"}"}, 400
    try:
        return preview_dict(store, body, language)
    except TemplateError as exc:
        return {"error": "invalid_template"} | template_error_dict(exc), 422


@bp.post("/templates/<slug>/<kind>/test")
@owner_required
def send_test(slug: str, kind: str):
    """Queue the template, rendered with sample data, to the owner's own phone."""
    store, kind = owner_store(slug), _kind(kind)
    session = get_session()
    try:
        phone = send_template_test(session, store=store, kind=kind, raw_phone=request.form.get("phone", ""))
    except SendTestRefused as exc:
        session.rollback()
        flash(str(exc), "error")
    else:
        session.commit()
        flash(f"Test text queued to {phone} ({readable(phone)}).", "ok")
    return redirect(url_for("web.templates", store=store.slug, kind=kind))
