"""The owners' dashboard: texts per day and kind, opt-outs, the send queue, replies waiting,
first-response time (the figures come from services/dashboard.py).

Every figure covers the stores the user owns (all of them for an admin), or one of those when
``?store=<slug>`` names it (filtered in SQL).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import Response, abort, render_template, request
from sqlalchemy.orm import Session

from smsdesk.db import get_session
from smsdesk.models import Role, Store, utcnow
from smsdesk.services import revenue
from smsdesk.services.access import store_for, store_ids_for, stores_for
from smsdesk.services.catch_up import warnings
from smsdesk.services.dashboard import (
    DAYS,
    SERIES,
    chart,
    daily_stats,
    display_zone,
    local_today,
    median_first_response,
    replies_waiting,
    send_queue,
    store_zones,
)
from smsdesk.services.desk_settings import business_elapsed
from smsdesk.services.metrics import BadRange, date_range, section
from smsdesk.services.no_text import recent_untexted_orders
from smsdesk.web import bp
from smsdesk.web.auth import owner_required, signed_in_agent


def _chosen_store(session: Session) -> Store | None:
    """The store named by ``?store=<slug>``; None for all; a 404 page for another store's slug
    (a 403 one where the user is only an agent)."""
    slug = request.args.get("store", "").strip()[:64]
    return store_for(session, signed_in_agent(), slug, role=Role.OWNER) if slug else None


@bp.get("/dashboard")
@owner_required
def dashboard():
    """Numbers and a chart of the last DAYS days, for all stores or the one chosen."""
    session = get_session()
    store = _chosen_store(session)
    store_ids = [store.id] if store else store_ids_for(session, signed_in_agent(), role=Role.OWNER)
    now = utcnow()
    zone = display_zone(store_zones(session, store_ids))
    days_rows, kind_rows = daily_stats(session, today=local_today(zone, now), store_ids=store_ids)
    median = median_first_response(session, since=now - timedelta(days=DAYS), store_ids=store_ids)
    totals = {name: sum(row[name] for row in days_rows) for name in SERIES}
    untexted = recent_untexted_orders(session, since=now - timedelta(days=DAYS), store_ids=store_ids)
    owned = stores_for(session, signed_in_agent(), role=Role.OWNER)
    first_day, last_day = _days(zone, now)
    shown = {s.id: s.name for s in ([store] if store else owned)}
    metrics = section(session, stores=shown, first_day=first_day, last_day=last_day, zone=zone,
                      elapsed=business_elapsed(session))  # each store's business hours (/hours)
    start, end = revenue.bounds(first_day, last_day, zone)  # recovered revenue: the same days
    recovered = revenue.report(session, stores=shown, start=start, end=end)
    return render_template("dashboard.html", days=days_rows, kinds=kind_rows, totals=totals, chart=chart(days_rows),
                           recovered=recovered,
                           waiting=replies_waiting(session, store_ids=store_ids), median=median, span=DAYS,
                           store=store, stores=owned, metrics=metrics,
                           untexted=untexted, queue=send_queue(session, store_ids=store_ids), zone=zone,
                           catch_up=warnings(session, store_ids))


def _days(zone: str, now: datetime) -> tuple[date, date]:
    """The days of ``?from=..&to=`` (the last 30 by default); a 400 page for a range it can't use."""
    try:
        return date_range(request.args.get("from"), request.args.get("to"), zone=zone, today=local_today(zone, now))
    except BadRange as exc:
        abort(400, description=str(exc))


@bp.get("/dashboard/revenue.csv")
@owner_required
def revenue_csv():
    """The attributed orders behind "Recovered revenue" (same stores and days as the dashboard)."""
    session = get_session()
    store = _chosen_store(session)
    shown = {s.id: s.name for s in ([store] if store else stores_for(session, signed_in_agent(), role=Role.OWNER))}
    zone = display_zone(store_zones(session, list(shown)))
    first_day, last_day = _days(zone, utcnow())
    start, end = revenue.bounds(first_day, last_day, zone)
    body = "".join(revenue.export_rows(session, stores=shown, start=start, end=end))
    name = f"revenue-{store.slug if store else 'all'}-{first_day}-{last_day}.csv"
    return Response(body, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'})
