"""The owner's /feedback page: when customers are asked for a rating (after a delivery, after a
closed conversation, and how many hours later), the store's latest ratings, and their CSV export.
The request's text is a message kind, edited on the Templates page like the others."""
from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for

from smsdesk.db import get_session
from smsdesk.models import Role, Store
from smsdesk.services.access import stores_for
from smsdesk.services.feedback_admin import MAX_DELAY_HOURS, FeedbackForm, current_form, export_rows, save_form
from smsdesk.web import bp
from smsdesk.web.auth import owner_required, signed_in_agent
from smsdesk.web.editor import owner_store


def _page(store: Store, form: FeedbackForm):
    owned = stores_for(get_session(), signed_in_agent(), role=Role.OWNER)
    return render_template("feedback.html", store=store, stores=owned, values=form.values, errors=form.errors,
                           max_delay=MAX_DELAY_HOURS), form.status


@bp.get("/feedback")
@owner_required
def feedback():
    """One store's feedback settings (the user's first store by default)."""
    store = owner_store(request.args.get("store"))
    return _page(store, current_form(get_session(), store))


@bp.post("/feedback/<slug>")
@owner_required
def save_feedback(slug: str):
    """Save the settings, or show the form again with the refused fields marked (422)."""
    store = owner_store(slug)
    session = get_session()
    form = save_form(session, store, request.form)
    if form.errors:
        session.rollback()
        return _page(owner_store(slug), form)
    session.commit()
    flash("Feedback settings saved.", "ok")
    return redirect(url_for("web.feedback", store=store.slug))


@bp.get("/feedback/<slug>/export.csv")
@owner_required
def export_feedback(slug: str):
    """Every rating of the store as CSV (cells a spreadsheet would run as formulas are quoted)."""
    store = owner_store(slug)
    body = "".join(export_rows(get_session(), store))
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="feedback-{store.slug}.csv"'})


