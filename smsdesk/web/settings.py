"""The owner's store settings page: sender, quiet hours (with the legal floor), sending rate,
HELP and STOP texts, time zone and country. Owners only; a refused value is shown beside its
field with a 422 (409 for a sender that is another store's), and nothing of the form is saved."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from smsdesk.db import get_session
from smsdesk.models import Role, Store
from smsdesk.services.access import stores_for
from smsdesk.services.legal_hours import floor_summary
from smsdesk.services.store_settings import SettingsResult, current_values, save_settings
from smsdesk.services.stores import MAX_RATE, MIN_RATE
from smsdesk.web import bp
from smsdesk.web.auth import owner_required, signed_in_agent
from smsdesk.web.editor import owner_store


def _page(store: Store, result: SettingsResult):
    owned = stores_for(get_session(), signed_in_agent(), role=Role.OWNER)
    return render_template("settings.html", store=store, stores=owned, values=result.values, errors=result.errors,
                           legal_floor=floor_summary(), min_rate=MIN_RATE, max_rate=MAX_RATE), result.status


@bp.get("/settings")
@owner_required
def settings():
    """One store's settings (the user's first store by default)."""
    store = owner_store(request.args.get("store"))
    return _page(store, SettingsResult(values=current_values(get_session(), store)))


@bp.post("/settings/<slug>")
@owner_required
def save_store_settings(slug: str):
    """Save the whole form, or show it again with the refused fields marked."""
    store = owner_store(slug)
    session = get_session()
    result = save_settings(session, store, request.form)
    if not result.saved:
        session.rollback()
        return _page(owner_store(slug), result)
    session.commit()
    flash("Store settings saved.", "ok")
    return redirect(url_for("web.settings", store=store.slug))
