"""The owner's "Links & sending" page: short links on or off, smart sending's hours, and the
revenue attribution windows (services/attribution.py)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from smsdesk.models import LinkSettings, Store
from smsdesk.services.short_links import Settings, settings_for
from smsdesk.services.untrusted import small_int

MAX_SMART_SENDING_HOURS = 24 * 7  # a week; longer would silence a reminder sequence for good
MAX_WINDOW_HOURS = 24 * 30  # an order a month after a text owes it nothing
WINDOWS = ("click_window_hours", "view_window_hours")


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
                             "smart_sending_hours": settings.smart_sending_hours,
                             "click_window_hours": settings.click_window_hours,
                             "view_attribution": settings.view_attribution,
                             "view_window_hours": settings.view_window_hours})


def save_form(session: Session, store: Store, form: Mapping[str, str], *, base_url: str) -> LinksForm:
    """Apply a submitted form (nothing changes when a field is refused); the caller commits.

    ``base_url`` (the server's public_url) is where this store's short links will point."""
    raw = (form.get("smart_sending_hours") or "").strip()
    values: dict[str, object] = {"short_links": form.get("short_links") in ("on", "1", "true"),
                                 "smart_sending_hours": raw,
                                 "view_attribution": form.get("view_attribution") in ("on", "1", "true")}
    result = LinksForm(values=values)
    hours = small_int(raw)  # ASCII digits only: "١٢" is no number of hours here
    if hours is None or hours > MAX_SMART_SENDING_HOURS:
        result.errors["smart_sending_hours"] = (f"A whole number of hours from 0 (off) to {MAX_SMART_SENDING_HOURS}.")
    values["smart_sending_hours"] = raw if hours is None else hours
    windows = _windows(form, result, current=settings_for(session, store.id))
    if result.errors or hours is None or windows is None:
        return result
    settings = session.get(LinkSettings, store.id) or LinkSettings(store_id=store.id)
    settings.short_links, settings.smart_sending_hours = bool(values["short_links"]), hours
    settings.click_window_hours, settings.view_window_hours = windows
    settings.view_attribution = bool(values["view_attribution"])
    settings.base_url = base_url.rstrip("/")
    session.add(settings)
    return result


def _windows(form: Mapping[str, str], result: LinksForm, *, current: Settings) -> tuple[int, int] | None:
    """The attribution windows: whole hours from 1 to MAX_WINDOW_HOURS, the view window the shorter
    (it is checked even while view attribution is off, so turning it on needs no second look). A
    form without a window's field (an older page) keeps its current value."""
    for name in WINDOWS:
        given = form.get(name)
        raw = str(getattr(current, name)) if given is None else given.strip()
        hours = small_int(raw)
        result.values[name] = raw if hours is None else hours
        if hours is None or not 1 <= hours <= MAX_WINDOW_HOURS:
            result.errors[name] = f"A whole number of hours from 1 to {MAX_WINDOW_HOURS}."
    click, view = result.values["click_window_hours"], result.values["view_window_hours"]
    if set(WINDOWS) & set(result.errors) or not isinstance(click, int) or not isinstance(view, int):
        return None
    if view >= click:
        result.errors["view_window_hours"] = f"Shorter than the click window ({click} hours)."
        return None
    return click, view
