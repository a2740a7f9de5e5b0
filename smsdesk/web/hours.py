"""The owner's "Hours & assignment" page (/hours): the weekly business hours, the away message
and automatic assignment; and the agents' "away" switch in the inbox header. Every signed-in
request also records the agent as seen (for assignment), at most once a minute."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from smsdesk.db import get_session
from smsdesk.models import Role, Store, utcnow
from smsdesk.services.access import assignable_agents, stores_for
from smsdesk.services.assignment import waiting_counts
from smsdesk.services.business_hours import WEEKDAYS
from smsdesk.services.desk_settings import (
    FormResult,
    current_values,
    day_field,
    save_form,
    schedule_of,
    settings_for,
    status_text,
)
from smsdesk.services.presence import availability, seen_in_request, set_away
from smsdesk.web import bp
from smsdesk.web.auth import current_agent, login_required, owner_required, safe_next, signed_in_agent
from smsdesk.web.editor import owner_store


@bp.before_request
def _record_seen() -> None:
    """A signed-in page or fragment request means the agent is at work (the inbox polls)."""
    if request.endpoint == "web.static":  # files: no database work for them
        return
    agent = current_agent()
    if agent is not None:
        seen_in_request(get_session(), agent)


def _page(store: Store, result: FormResult):
    session = get_session()
    now = utcnow()
    row = settings_for(session, store.id)
    counts = waiting_counts(session, store.id)
    team = [{"email": agent.email, "waiting": counts.get(agent.id, 0), **availability(agent, now=now)}
            for agent in assignable_agents(session, store.id) if not agent.is_admin]
    return render_template(
        "hours.html", store=store, stores=stores_for(session, signed_in_agent(), role=Role.OWNER),
        values=result.values, errors=result.errors, weekdays=list(enumerate(WEEKDAYS)), day_field=day_field,
        status=status_text(store, schedule_of(store, row), now), team=team), result.status


@bp.get("/hours")
@owner_required
def hours():
    """One store's hours and assignment settings (the user's first store by default)."""
    store = owner_store(request.args.get("store"))
    return _page(store, FormResult(values=current_values(store, settings_for(get_session(), store.id))))


@bp.post("/hours/<slug>")
@owner_required
def save_hours(slug: str):
    """Save the whole form, or show it again (422) with the refused fields marked."""
    store = owner_store(slug)
    session = get_session()
    result = save_form(session, store, request.form)
    if not result.saved:
        session.rollback()
        return _page(owner_store(slug), result)
    session.commit()
    flash("Hours and assignment saved.", "ok")
    return redirect(url_for("web.hours", store=store.slug))


@bp.post("/me/availability")
@login_required
def availability_switch():
    """Set oneself away (no new assignments) or back; then back to the page it came from."""
    agent = signed_in_agent()
    away = request.form.get("away") == "1"
    set_away(agent, away)
    get_session().commit()
    flash("You are away: no new conversations are assigned to you." if away
          else "You are back: new conversations can be assigned to you.", "ok")
    return redirect(safe_next(request.form.get("next")))
