"""Owner API for a store's settings: ``GET`` and ``PATCH /api/stores/<slug>`` (DESIGN §5)."""
from __future__ import annotations

from flask import jsonify

from smsdesk.api import bp, json_body, owner_required, store_or_404
from smsdesk.db import get_session
from smsdesk.models import Store
from smsdesk.services.stores import InvalidStore, SenderTaken, update_store

# Settings an owner may change here, and the JSON type each must have.
EDITABLE: dict[str, type | tuple[type, ...]] = {
    "name": str, "timezone": str, "quiet_hours": str, "from_number": (str, type(None)),
    "messaging_service_sid": (str, type(None)), "rate_per_second": (int, float), "help_text": str,
    # false when the platform or Twilio already confirms STOP (no second confirmation)
    "send_opt_out_confirmation": bool}
MAX_LENGTHS = {"name": 200, "timezone": 64, "quiet_hours": 11, "from_number": 20,
               "messaging_service_sid": 40, "help_text": 1000}  # characters, as the columns allow


def store_dict(store: Store) -> dict:
    """The settings of a store as the API shows them (never its secrets)."""
    return {"slug": store.slug, "name": store.name, "platform": store.platform.value, "domain": store.domain,
            "country": store.country, "timezone": store.timezone, "quiet_hours": store.quiet_hours,
            "from_number": store.from_number, "messaging_service_sid": store.messaging_service_sid,
            "rate_per_second": store.rate_per_second, "help_text": store.help_text,
            "send_opt_out_confirmation": store.send_opt_out_confirmation}


def settings_changes(payload: dict) -> dict:
    """The accepted fields of a PATCH body, cleaned; raises InvalidStore naming a bad one."""
    unknown = sorted(set(payload) - set(EDITABLE))
    if unknown:
        raise InvalidStore(f"unknown setting(s): {', '.join(unknown)}; editable: {', '.join(EDITABLE)}",
                           field=unknown[0])
    changes = {}
    for key, value in payload.items():
        wants_bool = EDITABLE[key] is bool
        if isinstance(value, bool) != wants_bool or not isinstance(value, EDITABLE[key]):
            raise InvalidStore(f"{key} has the wrong type", field=key)
        if isinstance(value, str):
            value = value.strip()
            if len(value) > MAX_LENGTHS[key]:
                raise InvalidStore(f"{key} is longer than {MAX_LENGTHS[key]} characters", field=key)
            if key in ("from_number", "messaging_service_sid") and not value:
                value = None  # an empty field clears the setting
        changes[key] = value
    return changes


def invalid_value(exc: InvalidStore):
    """422 naming the refused setting (``field``) beside the usual error body."""
    return jsonify({"error": "invalid_value", "message": str(exc), "field": exc.field}), 422


@bp.get("/stores/<slug>")
@owner_required
def show_store(slug: str):
    """A store's settings."""
    store = store_or_404(slug)
    return store_dict(store)


@bp.patch("/stores/<slug>")
@owner_required
def patch_store(slug: str):
    """Change some settings; 422 names a bad value, 409 a sender that is another store's."""
    session = get_session()
    store = store_or_404(slug)
    try:
        update_store(session, store, settings_changes(json_body()))
    except SenderTaken as exc:
        session.rollback()
        return jsonify({"error": "sender_taken", "message": str(exc), "field": exc.field}), 409
    except InvalidStore as exc:
        session.rollback()
        return invalid_value(exc)
    session.commit()
    return store_dict(store)
