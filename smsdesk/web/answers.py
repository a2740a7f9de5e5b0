"""The owner's "Automatic answers" page (/answers): order-status and FAQ answers on or off, FAQ
entries added, changed and deleted, and a box to try a message. Owners only; a refused entry is
shown again beside its fields with a 422."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from smsdesk.db import get_session
from smsdesk.models import FaqEntry, Role, Store
from smsdesk.services import faq
from smsdesk.services.access import stores_for
from smsdesk.services.intents import THRESHOLD, Classification, classify
from smsdesk.web import bp
from smsdesk.web.auth import owner_required, signed_in_agent
from smsdesk.web.editor import owner_store

MAX_TRY = 1600  # characters: one text's limit


def _page(store: Store, *, form: dict | None = None, errors: dict | None = None, editing: int | None = None,
          tried: str | None = None, result: Classification | None = None, status: int = 200):
    session = get_session()
    entries = faq.entries_of(session, store)
    return render_template(
        "answers.html", store=store, stores=stores_for(session, signed_in_agent(), role=Role.OWNER),
        settings=faq.settings_of(session, store), entries=entries, values=form or {}, errors=errors or {},
        editing=editing, tried=tried, result=result, entry_titles={e.id: e.title for e in entries},
        threshold=THRESHOLD, limits={"title": faq.MAX_TITLE, "answer": faq.MAX_ANSWER, "try": MAX_TRY},
    ), status


def _entry(store: Store, entry_id: int) -> FaqEntry:
    row = get_session().get(FaqEntry, entry_id)
    if row is None or row.store_id != store.id:
        abort(404, description=f"There is no FAQ entry {entry_id} at {store.name}.")
    return row


@bp.get("/answers")
@owner_required
def answers():
    """One store's automatic answers (the user's first store by default)."""
    store = owner_store(request.args.get("store"))
    edit = request.args.get("edit", type=int)
    form = faq.entry_values(_entry(store, edit)) if edit else None
    return _page(store, form=form, editing=edit)


@bp.post("/answers/<slug>/settings")
@owner_required
def save_answer_settings(slug: str):
    store = owner_store(slug)
    faq.save_settings(get_session(), store, request.form)
    get_session().commit()
    flash("Automatic answers saved.", "ok")
    return redirect(url_for("web.answers", store=store.slug))


@bp.post("/answers/<slug>/entries")
@owner_required
def add_faq_entry(slug: str):
    return _save(owner_store(slug), None)


@bp.post("/answers/<slug>/entries/<int:entry_id>")
@owner_required
def edit_faq_entry(slug: str, entry_id: int):
    store = owner_store(slug)
    return _save(store, _entry(store, entry_id))


def _save(store: Store, entry: FaqEntry | None):
    session = get_session()
    result = faq.save_entry(session, store, request.form, entry)
    if result.errors:
        session.rollback()
        return _page(owner_store(store.slug), form=result.values, errors=result.errors,
                     editing=entry.id if entry else None, status=422)
    session.commit()
    flash(f"Saved “{result.values['title'].strip()}”.", "ok")
    return redirect(url_for("web.answers", store=store.slug))


@bp.post("/answers/<slug>/entries/<int:entry_id>/delete")
@owner_required
def delete_faq_entry(slug: str, entry_id: int):
    store = owner_store(slug)
    row = _entry(store, entry_id)
    session, title = get_session(), row.title  # read before the commit expires the deleted row
    session.delete(row)
    session.commit()
    flash(f"Deleted “{title}”.", "ok")
    return redirect(url_for("web.answers", store=store.slug))


@bp.post("/answers/<slug>/try")
@owner_required
def try_answer(slug: str):
    """Which answer a message would get, how sure, and why (nothing is sent)."""
    store = owner_store(slug)
    text = request.form.get("message", "")
    if not text.strip() or len(text) > MAX_TRY:
        return _page(store, tried=text, errors={"message": f"Type a message (at most {MAX_TRY} characters)."},
                     status=422)
    session = get_session()
    settings = faq.settings_of(session, store)
    entries = faq.entries_of(session, store) if settings.faq else []
    result = classify(text, faq=faq.candidates(entries), order_status=settings.order_status)
    return _page(store, tried=text, result=result)
