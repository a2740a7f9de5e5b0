"""The owner's store settings page: a submitted form -> validated store changes, with one
error per refused field (shown beside that field), and the STOP confirmation text.

The values are checked by the same rules as the API's PATCH (services/stores.py): the web
form only turns its strings into the types those rules expect.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from smsdesk.models import Store
from smsdesk.services.stores import InvalidStore, SenderTaken, update_store
from smsdesk.services.template_store import resolve_template, save_template
from smsdesk.services.templates import TemplateError

OPT_OUT_KIND = "opt_out_confirmation"
# The form's text fields, as the store's columns name them, with the longest value each column holds.
TEXT_FIELDS = {"name": 200, "from_number": 20, "messaging_service_sid": 40, "country": 2, "timezone": 64,
               "quiet_hours": 11, "help_text": 1000}
CLEARABLE = ("from_number", "messaging_service_sid")  # an empty field removes the setting
MAX_OPT_OUT_TEXT = 1600  # characters, a text's limit at Twilio


@dataclass
class SettingsResult:
    """What the page shows again: the submitted values and, per field, why it was refused."""

    values: dict[str, object]
    errors: dict[str, str] = field(default_factory=dict)
    status: int = 200  # 422 for a bad value, 409 for a sender that is another store's

    @property
    def saved(self) -> bool:
        return not self.errors


def current_values(session: Session, store: Store) -> dict[str, object]:
    """The form's values as the store holds them now."""
    values: dict[str, object] = {key: getattr(store, key) or "" for key in TEXT_FIELDS}
    values |= {"rate_per_second": f"{store.rate_per_second:g}",
               "send_opt_out_confirmation": store.send_opt_out_confirmation,
               "opt_out_text": resolve_template(session, store_id=store.id, kind=OPT_OUT_KIND).body}
    return values


def save_settings(session: Session, store: Store, form: Mapping[str, str]) -> SettingsResult:
    """Apply a submitted settings form; nothing is written unless every field is acceptable
    (the caller commits on ``saved``, else rolls back)."""
    values = current_values(session, store) | _submitted(form)
    result = SettingsResult(values=values)
    changes = _changes(values, result)
    if result.errors:
        result.status = 422
        return result
    try:
        update_store(session, store, changes)
    except InvalidStore as exc:
        result.errors[exc.field or "name"] = str(exc)
        result.status = 409 if isinstance(exc, SenderTaken) else 422
        return result
    _save_opt_out_text(session, store, str(values["opt_out_text"]), result)
    return result


def _submitted(form: Mapping[str, str]) -> dict[str, object]:
    values: dict[str, object] = {key: form[key].strip() for key in (*TEXT_FIELDS, "rate_per_second")
                                 if key in form}
    if "opt_out_text" in form:
        values["opt_out_text"] = form["opt_out_text"].strip()
    values["send_opt_out_confirmation"] = form.get("send_opt_out_confirmation") == "on"
    return values


def _changes(values: dict[str, object], result: SettingsResult) -> dict[str, object]:
    """Typed changes; a field that can't even be read (too long, not a number) is an error."""
    changes: dict[str, object] = {}
    for key, limit in TEXT_FIELDS.items():
        value = str(values[key])
        if len(value) > limit:
            result.errors[key] = f"{key} is longer than {limit} characters"
        changes[key] = None if key in CLEARABLE and not value else value
    changes["country"] = str(changes["country"]).upper()
    try:
        changes["rate_per_second"] = float(str(values["rate_per_second"]).replace(",", "."))
    except ValueError:
        result.errors["rate_per_second"] = "rate_per_second must be a number (texts per second), like 1 or 0.5"
    changes["send_opt_out_confirmation"] = bool(values["send_opt_out_confirmation"])
    if len(str(values["opt_out_text"])) > MAX_OPT_OUT_TEXT:
        result.errors["opt_out_text"] = f"the confirmation is longer than {MAX_OPT_OUT_TEXT} characters"
    return changes


def _save_opt_out_text(session: Session, store: Store, body: str, result: SettingsResult) -> None:
    """Saved as the store's opt_out_confirmation template only when it changed (a store that
    never touched it keeps following the built-in default)."""
    if body == resolve_template(session, store_id=store.id, kind=OPT_OUT_KIND).body:
        return
    if not body:
        result.errors["opt_out_text"] = "the confirmation must not be empty (switch it off instead)"
        result.status = 422
        return
    try:
        save_template(session, store_id=store.id, kind=OPT_OUT_KIND, body=body)
    except (TemplateError, ValueError) as exc:
        result.errors["opt_out_text"] = str(exc)  # "line 2: <reason>" for a template error
        result.status = 422
