"""The composition root: builds the Flask app and wires every subsystem in."""
from __future__ import annotations

import gc
import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, current_app, jsonify, request
from sqlalchemy import text
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from smsdesk import api, crypto, db, logs, sms, web
from smsdesk.api import bearer_token
from smsdesk.config import Config, load_config
from smsdesk.models import Agent
from smsdesk.services import catch_up
from smsdesk.services.access import store_ids_for
from smsdesk.services.auth import find_token
from smsdesk.services.untrusted import MAX_DB_INT
from smsdesk.web.auth import current_agent
from smsdesk.web.short_links import RedirectFastPath

log = logging.getLogger(__name__)
INSECURE_SECRET = "change-me"  # the documented example value
# Scripts and styles only from our own files (no inline ones), no framing, no plugins.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
                           "base-uri 'none'; object-src 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # inbox URLs name conversations: never send them to other sites
}
HSTS = "max-age=31536000"  # a year; only when public_url is https (browsers ignore it over http anyway)
# Routes that take a picture (MMS) take up to [media] max_bytes more than server.max_body_bytes.
UPLOAD_ENDPOINTS = frozenset({"web.send_reply", "api.send", "web.simulator_reply"})


def create_app(overrides: Mapping[str, Mapping[str, Any]] | Config | None = None,
               *, config_path: str | None = None) -> Flask:
    """Build the app: config = defaults < TOML < env < ``overrides`` (a Config is used as is)."""
    import jobs.scheduler  # the app factory is the one place that imports webhooks and jobs
    import webhooks

    logs.install()
    config = overrides if isinstance(overrides, Config) else load_config(config_path, overrides=overrides)
    app = Flask(__name__)
    app.url_map.converters["int"] = RowIdConverter  # before any route is added
    app.config.update(SMSDESK=config, SECRET_KEY=config.server.secret_key,
                      MAX_CONTENT_LENGTH=config.server.max_body_bytes, JSON_SORT_KEYS=False)
    app.before_request(_upload_limit)  # before CSRF protection reads the form
    for subsystem in (crypto, db, sms, webhooks, api, web, jobs.scheduler):
        subsystem.init_app(app)
    if config.server.secret_key == INSECURE_SECRET and config.sms.provider == "twilio":
        log.warning("server.secret_key is the example value; set a random one before going live")
    app.add_url_rule("/healthz", "healthz", healthz)
    app.after_request(_security_headers)
    app.config["SMSDESK_HSTS"] = config.server.public_url.lower().startswith("https://")
    hsts = {"Strict-Transport-Security": HSTS} if app.config["SMSDESK_HSTS"] else {}
    app.wsgi_app = RedirectFastPath(app, app.wsgi_app, SECURITY_HEADERS | hsts)  # type: ignore[method-assign]
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(413, _too_large)
    app.register_error_handler(Exception, _server_error)
    _freeze_startup_heap()
    return app


def _freeze_startup_heap() -> None:
    """Once per process, after the first app is built: hide what exists then (modules, mappers,
    the app: ~140,000 objects that live as long as the process) from the garbage collector. A
    full collection scanned them all, a 100-170 ms pause for whichever request set it off: the
    inbox's p99 (bench/inbox.py). Later apps (tests build many) are left to the collector."""
    if gc.get_freeze_count() == 0:
        gc.collect()  # today's garbage is not frozen with the rest
        gc.freeze()


class RowIdConverter(IntegerConverter):
    """``<int:...>`` path ids stop at what an Integer primary key holds: past it the route is a
    plain 404, where the database would otherwise fail on the lookup (a 500)."""

    def __init__(self, url_map, fixed_digits=0, min=None, max=MAX_DB_INT, signed=False):
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def _upload_limit() -> None:
    """A reply may carry a picture: its route reads a larger body (the picture is checked itself)."""
    if request.endpoint in UPLOAD_ENDPOINTS:
        config = current_app.config["SMSDESK"]
        request.max_content_length = config.server.max_body_bytes + config.media.max_bytes


def healthz():
    """The database answers; ``detail`` lists stores whose catch-up is off or whose webhooks look
    broken (the process is healthy either way: the owner has something to fix at the platform).
    The detail is for the stores of a signed-in user or API token; anyone else gets the count."""
    session = db.get_session()
    try:
        session.execute(text("SELECT 1"))
    except Exception:
        log.exception("health check: database unreachable")
        return jsonify({"status": "error", "db": "unreachable"}), 503
    found = catch_up.warnings(session)
    viewer = _health_viewer(session)
    if viewer is None:  # a monitor: how many stores need a look, not which (their state is theirs)
        return jsonify({"status": "ok", "db": "ok"} | ({"warnings": len(found)} if found else {}))
    visible = store_ids_for(session, viewer)
    detail = {store.slug: warning for store, warning in found if visible is None or store.id in visible}
    return jsonify({"status": "ok", "db": "ok"} | ({"detail": detail} if detail else {}))


def _health_viewer(session) -> Agent | None:
    """The user asking, by API token or login cookie: they see the detail of their own stores."""
    token = bearer_token()
    if token is not None:
        row = find_token(session, token)
        return row.agent if row is not None else None
    return current_agent()


def _security_headers(response):
    """On every response: pages, API, webhooks and errors alike."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if current_app.config["SMSDESK_HSTS"]:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def _http_error(exc: HTTPException):
    """Errors as JSON for machines (API, webhooks), as a styled page for browsers."""
    if _wants_json():
        return jsonify({"error": exc.name.lower().replace(" ", "_"), "message": exc.description,
                        "status": "error"}), exc.code
    if exc.code is None or exc.code < 400:
        return exc
    return web.error_page(exc.name, exc.description or "", exc.code)


def _too_large(exc: HTTPException):
    """A body past the limit; on a route that takes a picture, say how large a picture may be
    (as JSON to a page's script that asks for it, like the reply's other refusals)."""
    if request.endpoint not in UPLOAD_ENDPOINTS:
        return _http_error(exc)
    limit = current_app.config["SMSDESK"].media.max_bytes
    message = f"The picture is too large: pictures can be at most {limit / 1024 / 1024:.1f} MB."
    if _wants_json() or request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json":
        return jsonify({"ok": False, "error": "too_large", "message": message, "status": "error"}), 413
    return web.error_page("Picture too large", message, 413)


def _server_error(exc: Exception):
    log.exception("unhandled error on %s %s", request.method, request.path)
    body = {"error": "internal_error", "message": "internal error; the details are in the server log"}
    if _wants_json():
        return jsonify(body | {"status": "error"}), 500
    try:
        db.get_session().rollback()  # the page reads the signed-in user: not in a failed transaction
    except Exception:
        log.exception("rollback after an unhandled error failed")
    return web.error_page("Something went wrong", "An internal error stopped this page; the details are in the "
                          "server log. Try again, and tell the person who runs smsdesk if it keeps happening.", 500)


def _wants_json() -> bool:
    return request.path.startswith(("/api/", "/webhooks/", "/healthz")) or request.is_json
