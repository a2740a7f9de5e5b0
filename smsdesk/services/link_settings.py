"""The owner's "Links & sending" page: short links on or off, and smart sending's hours."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from smsdesk.models import LinkSettings, Store
from smsdesk.services.short_links import settings_for
from smsdesk.services.untrusted import small_int

MAX_SMART_SENDING_HOURS = 24 * 7  # a week; longer would silence a reminder sequence for good


@dataclass
class LinksForm:
    values: dict[str, object]
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def status(self) -> int:
        return 422 if self.errors else 200


def current_form(session: Session, store: Store) -> LinksForm:
    settings = settings_for(session, store.id)
    row = session.get(LinkSettings, store.id)
    return LinksForm(values={"short_links": bool(row and row.short_links),
                             "smart_sending_hours": settings.smart_sending_hours})


def save_form(session: Session, store: Store, form: Mapping[str, str], *, base_url: str) -> LinksForm:
    """Apply a submitted form (nothing changes when a field is refused); the caller commits.

    ``base_url`` (the server's public_url) is where this store's short links will point."""
    raw = (form.get("smart_sending_hours") or "").strip()
    values: dict[str, object] = {"short_links": form.get("short_links") in ("on", "1", "true"),
                                 "smart_sending_hours": raw}
    result = LinksForm(values=values)
    hours = small_int(raw)  # ASCII digits only: "١٢" is no number of hours here
    if hours is None or hours > MAX_SMART_SENDING_HOURS:
        result.errors["smart_sending_hours"] = (f"A whole number of hours from 0 (off) to {MAX_SMART_SENDING_HOURS}.")
        return result
    settings = session.get(LinkSettings, store.id) or LinkSettings(store_id=store.id)
    settings.short_links, settings.smart_sending_hours = bool(values["short_links"]), hours
    settings.base_url = base_url.rstrip("/")
    values["smart_sending_hours"] = hours
    session.add(settings)
    return result
