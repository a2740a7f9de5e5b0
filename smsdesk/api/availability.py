"""The signed-in user's presence for automatic assignment: ``GET/POST /api/me/availability``
(``{"away": true}`` sets them away, ``false`` back). Every API call also records the user as
seen, at most once a minute (services/presence.py)."""
from __future__ import annotations

from flask import g

from smsdesk.api import ApiError, bp, json_body
from smsdesk.db import get_session
from smsdesk.services.presence import availability, seen_in_request, set_away


@bp.before_request
def record_seen() -> None:
    """Runs after ``authenticate`` (registered later): only a known token's user is recorded."""
    if getattr(g, "agent", None) is not None:
        seen_in_request(get_session(), g.agent)


@bp.get("/me/availability")
def show_availability():
    return availability(g.agent)


@bp.post("/me/availability")
def change_availability():
    away = json_body().get("away")
    if not isinstance(away, bool):
        raise ApiError('send {"away": true} to be away (no new assignments) or {"away": false} to be back',
                       "invalid_away")
    set_away(g.agent, away)
    get_session().commit()
    return availability(g.agent)
