"""Canned replies: owners keep ready-made answers that agents insert into a reply.

An owner manages the replies of the stores they own; replies for all stores (no store) are
the admin's (owners see them, and so do agents in every conversation).
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import or_, select

from smsdesk.db import get_session
from smsdesk.models import CannedReply, Role
from smsdesk.services.access import NoAccess, conversation_for, require_owner, store_for, stores_for
from smsdesk.services.canned import TemplateError, canned_for_conversation, check_canned
from smsdesk.services.replies import MAX_BODY
from smsdesk.web import bp
from smsdesk.web.auth import login_required, owner_required, signed_in_agent

MAX_TITLE = 100  # characters, as the column allows


@bp.get("/canned")
@owner_required
def canned():
    """Every canned reply, and a form to add one."""
    session = get_session()
    stores = stores_for(session, signed_in_agent(), role=Role.OWNER)
    query = select(CannedReply).order_by(CannedReply.title)
    if not signed_in_agent().is_admin:
        query = query.where(or_(CannedReply.store_id.is_(None), CannedReply.store_id.in_([s.id for s in stores])))
    return render_template("canned.html", replies=session.scalars(query).all(), stores=stores,
                           may_global=signed_in_agent().is_admin,
                           store_names={s.id: s.name for s in stores}, max_body=MAX_BODY)


def _validated(form) -> tuple[dict | None, str | None]:
    """(fields, None) for a good form, else (None, what is wrong)."""
    title, body = form.get("title", "").strip(), form.get("body", "").strip()
    if not title or len(title) > MAX_TITLE:
        return None, f"A title is needed (at most {MAX_TITLE} characters)."
    if not body or len(body) > MAX_BODY:
        return None, f"The text is needed (at most {MAX_BODY} characters)."
    slug = form.get("store", "")
    if not slug and not signed_in_agent().is_admin:
        return None, "Choose one of your stores (replies for all stores are the admin's)."
    try:
        warnings = check_canned(body)
    except TemplateError as exc:
        return None, (f"The text can't be used as a canned reply: {exc}. "
                      "Variables are written like {{ customer.first_name }}.")
    # Another store's slug is a 404 page, one where the user is an agent a 403 (services/access.py).
    store = store_for(get_session(), signed_in_agent(), slug, role=Role.OWNER) if slug else None
    for warning in warnings:
        flash(warning, "warn")
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
    if row is None:
        abort(404, description=f"There is no canned reply {reply_id}.")
    _require_manager(row)
    session.delete(row)
    session.commit()
    flash(f"Deleted “{row.title}”.", "ok")
    return redirect(url_for("web.canned"))


def _require_manager(row: CannedReply) -> None:
    """Another store's reply is a 404; one for all stores is the admin's (403 for owners)."""
    if row.store_id is not None:
        require_owner(get_session(), signed_in_agent(), row.store_id)
    elif not signed_in_agent().is_admin:
        abort(403, description="Replies for all stores are the admin's.")


@bp.get("/inbox/<int:conversation_id>/canned/<int:reply_id>")
@login_required
def canned_preview(conversation_id: int, reply_id: int):
    """A canned reply rendered for this conversation (what the reply box gets), with warnings."""
    session = get_session()
    try:
        conversation = conversation_for(session, signed_in_agent(), conversation_id)
    except NoAccess:
        abort(404, description=f"There is no conversation {conversation_id}.")
    row = session.get(CannedReply, reply_id)
    if row is None or row.store_id not in (None, conversation.store_id):
        abort(404, description=f"There is no canned reply {reply_id}.")
    try:
        rendered = canned_for_conversation(session, conversation=conversation, reply=row)
    except TemplateError as exc:
        return {"error": "template_error", "message": f"This canned reply can't be used: {exc}"}, 422
    return {"text": rendered.text, "warnings": rendered.warnings}
