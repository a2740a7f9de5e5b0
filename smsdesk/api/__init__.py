"""JSON API for agents and owners: Bearer-token auth, errors as {"error", "message"}."""
from __future__ import annotations

from datetime import datetime
from functools import wraps

from flask import Blueprint, g, jsonify, request
from werkzeug.exceptions import HTTPException

from smsdesk.db import get_session
from smsdesk.models import Role
from smsdesk.services.access import NoAccess, NotAllowed, is_owner_somewhere, store_for
from smsdesk.services.auth import find_token, needs_touch, touch_token
from smsdesk.services.paging import BadPage, parse_limit, parse_since
from smsdesk.services.untrusted import UntrustedInput, parse_json, unstorable

bp = Blueprint("api", __name__, url_prefix="/api")


def error(code: str, message: str, status: int):
    return jsonify({"error": code, "message": message}), status


@bp.before_request
def check_query():
    """Query text is compared in SQL, where NUL fails (a 500); a lone surrogate can't be encoded."""
    if any(unstorable(key) or unstorable(value) for key, value in request.args.items(multi=True)):
        return error("invalid_query", "query parameters may not contain NUL characters or lone surrogates", 400)
    return None


def bearer_token() -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, if the request has one."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


@bp.before_request
def authenticate():
    token = bearer_token()
    if token is None:
        return error("unauthorized", "send an API token as 'Authorization: Bearer <token>'", 401)
    session = get_session()
    row = find_token(session, token)
    if row is None:
        return error("unauthorized", "unknown or revoked API token", 401)
    g.agent = row.agent
    if needs_touch(row):
        # Ended first: on SQLite a read-only request's transaction began DEFERRED, and one whose
        # first statement writes waits for the write lock instead of failing on a stale read.
        session.commit()
        touch_token(session, row.id)
        session.commit()
    return None


def owner_required(view):
    """The owner role at the store in the URL (``<slug>``), else at some store; admins pass.
    Another store's slug is a 404, an agent of that store gets a 403 (services/access.py)."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        if "slug" in kwargs:
            store_or_404(kwargs["slug"], role=Role.OWNER)
        elif not is_owner_somewhere(get_session(), g.agent):
            return error("forbidden", "this needs an owner's token", 403)
        return view(*args, **kwargs)
    return wrapper


class ApiError(HTTPException):
    """An error answer whose code says what went wrong (``{"error": "bad_json", ...}``)."""

    code = 400

    def __init__(self, message: str, error_code: str = "bad_request"):
        super().__init__(description=message)
        self.error_code = error_code


class NotFound(ApiError):
    """A 404 whose error code says what was missing (``{"error": "not_found", ...}``)."""

    code = 404

    def __init__(self, message: str, error_code: str = "not_found"):
        super().__init__(message, error_code)


def store_or_404(slug: str, *, role: Role = Role.AGENT):
    """The store with this slug if the token's user holds ``role`` there, or a JSON 404 (403
    for a member whose role is too small)."""
    if unstorable(slug):
        raise NotFound(f"no store {slug!r}")
    return store_for(get_session(), g.agent, slug, role=role)


def json_body() -> dict:
    """The request's JSON object (bounded: see services/untrusted.py), or a 400 saying why."""
    if not request.is_json:
        raise ApiError("the body must be a JSON object (Content-Type: application/json)", "invalid_json")
    try:
        payload = parse_json(request.get_data())
    except UntrustedInput as exc:
        raise ApiError(str(exc), "invalid_json") from None
    if not isinstance(payload, dict):
        raise ApiError("the body must be a JSON object", "invalid_json")
    return payload


def page_args() -> tuple[int, str | None, datetime | None]:
    """``limit``, ``cursor`` and ``since`` of a list request (DESIGN §8), or a 400 saying which is wrong."""
    since = request.args.get("since")
    return parse_limit(request.args.get("limit")), request.args.get("cursor"), \
        parse_since(since) if since is not None else None


@bp.errorhandler(NoAccess)
def no_access(exc: NoAccess):
    """Another store's rows answer like missing ones: their ids tell nothing."""
    return error("not_found", str(exc), 404)


@bp.errorhandler(NotAllowed)
def not_allowed(exc: NotAllowed):
    return error("forbidden", str(exc), 403)


@bp.errorhandler(BadPage)
def bad_page(exc: BadPage):
    return error(exc.code, str(exc), 400)


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException):
    if isinstance(exc, ApiError):
        return error(exc.error_code, exc.description or exc.name, exc.code or 400)
    return error(exc.name.lower().replace(" ", "_"), exc.description or exc.name, exc.code or 500)


def init_app(app) -> None:
    from smsdesk.api import (  # noqa: F401 - routes
        ab_tests,
        availability,
        conversations,
        customers,
        deliveries,
        openapi,
        stores,
        templates,
    )

    app.register_blueprint(bp)
    openapi.init_app(app)
