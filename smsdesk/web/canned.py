"""Canned replies: owners keep ready-made answers that agents insert into a reply."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select

from smsdesk.db import get_session
from smsdesk.models import CannedReply
from smsdesk.services.replies import MAX_BODY
from smsdesk.services.stores import get_store, list_stores
from smsdesk.web import bp
from smsdesk.web.auth import owner_required

MAX_TITLE = 100  # characters, as the column allows


@bp.get("/canned")
@owner_required
def canned():
    """Every canned reply, and a form to add one."""
    session = get_session()
    replies = session.scalars(select(CannedReply).order_by(CannedReply.title)).all()
    stores = list_stores(session)
    return render_template("canned.html", replies=replies, stores=stores,
                           store_names={s.id: s.name for s in stores}, max_body=MAX_BODY)


def _validated(form) -> tuple[dict | None, str | None]:
    """(fields, None) for a good form, else (None, what is wrong)."""
    title, body = form.get("title", "").strip(), form.get("body", "").strip()
    if not title or len(title) > MAX_TITLE:
        return None, f"A title is needed (at most {MAX_TITLE} characters)."
    if not body or len(body) > MAX_BODY:
        return None, f"The text is needed (at most {MAX_BODY} characters)."
    slug = form.get("store", "")
    store = get_store(get_session(), slug) if slug else None
    if slug and store is None:
        return None, f"There is no store {slug!r}."
    return {"title": title, "body": body, "store_id": store.id if store else None}, None


@bp.post("/canned")
@owner_required
def add_canned():
    """Add a canned reply (for all stores or one)."""
    fields, problem = _validated(request.form)
    if problem:
        flash(problem, "error")
    else:
        session = get_session()
        session.add(CannedReply(**fields))
        session.commit()
        flash(f"Added “{fields['title']}”.", "ok")
    return redirect(url_for("web.canned"))


@bp.post("/canned/<int:reply_id>/delete")
@owner_required
def delete_canned(reply_id: int):
    """Delete a canned reply."""
    session = get_session()
    row = session.get(CannedReply, reply_id)
    if row is not None:
        session.delete(row)
        session.commit()
        flash(f"Deleted “{row.title}”.", "ok")
    return redirect(url_for("web.canned"))
