"""Owner API for a store's message templates: list, save, preview (DESIGN §5).

Each takes an optional ``language`` (query parameter, or a field of a PUT's body): the version in
that language (default: the store's default language); an invalid one is a 400 ``invalid_language``.

``template_dict`` and ``preview_dict`` are also what the web template editor shows, so
the API and the page can never disagree about segments or encoding.
"""
from __future__ import annotations

from flask import request

from smsdesk.api import NotFound, bp, error, json_body, owner_required, store_or_404
from smsdesk.db import get_session
from smsdesk.models import Store
from smsdesk.services import short_links
from smsdesk.services.segments import non_gsm_characters, segment_info
from smsdesk.services.template_kinds import KINDS
from smsdesk.services.template_languages import language_or_default
from smsdesk.services.template_store import ResolvedTemplate, resolve_template, save_template
from smsdesk.services.templates import MAX_BODY_LENGTH, TemplateError, render_preview, sample_context

PREVIEW_CAP = MAX_BODY_LENGTH  # a preview never shows more than one whole SMS can carry


def preview_dict(store: Store, body: str, language: str = "en") -> dict:
    """``body`` rendered with sample data (as ``language``'s customers get it), with its segments
    and encoding; raises TemplateError.

    The text is cut at PREVIEW_CAP characters; ``cut`` and ``cut_message`` say so.
    """
    text, stopped = render_preview(body, sample_context(store.name, language))
    text = short_links.preview(get_session(), store.id, text)  # links as the store sends them
    cut = stopped or len(text) > PREVIEW_CAP
    text = text[:PREVIEW_CAP]
    info = segment_info(text)
    forcing = non_gsm_characters(text)
    # What the text would cost without the characters that force UCS-2 (the editor warns).
    gsm7 = segment_info("".join(ch for ch in text if ch not in forcing)).segments if forcing else info.segments
    return {"text": text, "segments": info.segments, "encoding": info.encoding,
            "characters": info.characters, "per_segment": info.per_segment,
            "non_gsm_characters": forcing, "segments_without_non_gsm": gsm7, "cut": cut,
            "cut_message": f"The text is longer than {PREVIEW_CAP:,} characters, the most one text can carry; "
                           f"the preview stops there." if cut else None}


def template_dict(store: Store, template: ResolvedTemplate) -> dict:
    """One kind as the API lists it; segments/encoding are of the sample rendering."""
    data = {"kind": template.spec.kind, "label": template.spec.label, "body": template.body,
            "language": template.language,
            "enabled": template.enabled, "delay_minutes": template.delay_minutes,
            "customized": template.customized, "marketing": template.spec.marketing,
            "variables": list(template.spec.variables), "segments": None, "encoding": None, "error": None}
    try:
        preview = preview_dict(store, template.body)
    except TemplateError as exc:  # a saved body that no longer renders: show why, don't fail the list
        data["error"] = template_error_dict(exc)
    else:
        data.update(segments=preview["segments"], encoding=preview["encoding"])
    return data


def template_error_dict(exc: TemplateError) -> dict:
    """A TemplateError as JSON: line, reason, message."""
    return {"line": exc.line, "reason": exc.reason, "message": str(exc)}


def _language(store: Store, raw: object) -> str:
    try:
        return language_or_default(store, raw)
    except ValueError as exc:
        raise BadLanguage(str(exc)) from exc


class BadLanguage(ValueError):
    pass


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise NotFound(f"unknown message kind {kind!r}; one of {', '.join(KINDS)}", "unknown_kind")


@bp.get("/stores/<slug>/templates")
@owner_required
def list_templates(slug: str):
    """Every message kind of the store."""
    store = store_or_404(slug)
    session = get_session()
    try:
        language = _language(store, request.args.get("language"))
    except BadLanguage as exc:
        return error("invalid_language", str(exc), 400)
    return {"language": language, "default_language": store.default_language,
            "templates": [template_dict(store, resolve_template(session, store_id=store.id, kind=kind,
                                                                language=language,
                                                                default_language=store.default_language))
                          for kind in KINDS]}


@bp.put("/stores/<slug>/templates/<kind>")
@owner_required
def put_template(slug: str, kind: str):
    """Save body / enabled / delay; 422 with the template error."""
    store = store_or_404(slug)
    _check_kind(kind)
    payload = json_body()
    problem = _check_fields(payload)
    if problem:
        return error("invalid_value", problem, 422)
    try:
        language = _language(store, payload.get("language", request.args.get("language")))
    except BadLanguage as exc:
        return error("invalid_language", str(exc), 400)
    session = get_session()
    try:
        saved = save_template(session, store_id=store.id, kind=kind, body=payload.get("body"),
                              enabled=payload.get("enabled"), delay_minutes=payload.get("delay_minutes"),
                              language=language)
    except TemplateError as exc:
        session.rollback()
        return {"error": "invalid_template", "message": str(exc), "line": exc.line, "reason": exc.reason}, 422
    except ValueError as exc:
        session.rollback()
        return error("invalid_value", str(exc), 422)
    session.commit()
    return template_dict(store, saved)


def _check_fields(payload: dict) -> str | None:
    """Type problems in a template PUT, as a message, or None."""
    if "body" in payload and not isinstance(payload["body"], str):
        return "body must be a string"
    if "enabled" in payload and not isinstance(payload["enabled"], bool):
        return "enabled must be true or false"
    delay = payload.get("delay_minutes")
    if delay is not None and (isinstance(delay, bool) or not isinstance(delay, int)):
        return "delay_minutes must be a whole number of minutes"
    return None


@bp.post("/stores/<slug>/templates/<kind>/preview")
@owner_required
def preview_template(slug: str, kind: str):
    """Render a body (or the saved one) with sample data."""
    store = store_or_404(slug)
    _check_kind(kind)
    payload = json_body() if request.get_data() else {}  # an empty request previews the saved body
    try:
        language = _language(store, payload.get("language", request.args.get("language")))
    except BadLanguage as exc:
        return error("invalid_language", str(exc), 400)
    body = payload.get("body")
    if body is None:
        body = resolve_template(get_session(), store_id=store.id, kind=kind, language=language,
                                default_language=store.default_language).body
    if not isinstance(body, str):
        return error("invalid_value", "body must be a string", 422)
    try:
        return preview_dict(store, body, language)
    except TemplateError as exc:
        return {"error": "invalid_template", "message": str(exc), "line": exc.line, "reason": exc.reason}, 422
