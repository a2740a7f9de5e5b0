"""The agents' inbox: the reply queue, a conversation, replying, assigning, closing.

The list and the thread are also served as HTML fragments that the page polls, so a reply
or a delivery status shows up without a reload and is rendered (and escaped) in one place.
The actions (reply, retry, assign, close, reopen) answer a page's script that asks for JSON
(``Accept: application/json``) with the changed fragments; a plain form post is redirected.
"""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import or_, select

from smsdesk.db import get_session, writes_on_get
from smsdesk.models import Agent, CannedReply, Conversation
from smsdesk.services import conversations as service, failures, short_links
from smsdesk.services.access import (
    NoAccess,
    assignable_agents,
    conversation_for,
    may_be_assigned,
    store_ids_for,
    stores_for,
)
from smsdesk.services.closing import close_conversation
from smsdesk.services.conversation_list import (
    ConversationFilters,
    ConversationPage,
    changed_conversations,
    list_conversations,
    waiting_count,
)
from smsdesk.services.media import MediaRefused, read_picture
from smsdesk.services.paging import BadPage, parse_since
from smsdesk.services.push import inbox_events, push_available
from smsdesk.services.queries import conversation_detail, thread_changes
from smsdesk.services.replies import CustomerOptedOut, InvalidReply, reply
from smsdesk.services.segments import non_gsm_characters, segment_info
from smsdesk.services.untrusted import small_int
from smsdesk.web import bp
from smsdesk.web.auth import current_agent, login_required, signed_in_agent

STATUSES = ("open", "closed", "all")
POLL_SECONDS = 3  # how often open pages ask for new texts and statuses
MAX_SEARCH = 100  # characters


def _filters() -> dict:
    """The list filters from the query string, cleaned (unknown values fall back to defaults)."""
    status = request.args.get("status", "open")
    return {"status": status if status in STATUSES else "open",
            "store": request.args.get("store", "").strip()[:64],
            "mine": request.args.get("mine") == "1",
            "failed": request.args.get("failed") == "1",
            "q": request.args.get("q", "").strip()[:MAX_SEARCH]}


def _scope(filters: dict) -> ConversationFilters:
    return ConversationFilters(status=filters["status"], store_slug=filters["store"] or None,
                               search=filters["q"] or None,
                               assigned_to=signed_in_agent().id if filters["mine"] else None, failed=filters["failed"],
                               store_ids=store_ids_for(get_session(), signed_in_agent()))


def _page(filters: dict) -> ConversationPage:
    """A page of the list: the first, or the one after ``?cursor=`` ("Load more")."""
    try:
        return list_conversations(get_session(), _scope(filters), cursor=request.args.get("cursor"))
    except BadPage as exc:
        abort(400, description=str(exc))


def _load(conversation_id: int) -> Conversation:
    """The conversation, or a 404 page (also for another store's)."""
    try:
        return conversation_for(get_session(), signed_in_agent(), conversation_id)
    except NoAccess:
        abort(404, description=f"There is no conversation {conversation_id}.")


def _waiting() -> int:
    """Open conversations waiting in all the agent's stores: the count in the tab's title."""
    return waiting_count(get_session(), store_ids_for(get_session(), signed_in_agent()))


@bp.app_template_filter("waited")
def waited(since: str | None) -> str:
    """How long a customer has waited, like app.js writes it: "12 min", "3 h", "2 d"."""
    if not since:
        return ""
    at = datetime.fromisoformat(since.replace("Z", "+00:00"))
    minutes = int((datetime.now(timezone.utc) - at).total_seconds() // 60)
    if minutes < 1:
        return "<1 min"
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h" if minutes < 1440 else f"{minutes // 1440} d"


def _list_args(filters: dict) -> dict:
    """Filters as query arguments for links (defaults left out)."""
    args = {"status": filters["status"], "store": filters["store"], "q": filters["q"],
            "mine": "1" if filters["mine"] else "", "failed": "1" if filters["failed"] else ""}
    return {key: value for key, value in args.items() if value and not (key == "status" and value == "open")}


@bp.get("/inbox")
@login_required
def inbox():
    """The reply queue with its filters."""
    filters = _filters()
    return render_template("inbox.html", filters=filters, list_args=_list_args(filters), page=_page(filters),
                           stores=stores_for(get_session(), signed_in_agent()), detail=None, poll_seconds=POLL_SECONDS,
                           waiting=_waiting(), push=_push_seconds() > 0)


def _push_seconds() -> float:
    """How long one event stream lasts; 0 when this database can't push (pages poll)."""
    seconds = current_app.config["SMSDESK"].server.event_stream_seconds
    return seconds if push_available(current_app.extensions["smsdesk.engine"], seconds) else 0.0


@bp.get("/inbox/events")
@login_required
def inbox_event_stream():
    """Server-sent events: a ``change`` event when a conversation in the user's stores changed
    (services/push.py); the page then asks ``/inbox/list?since=``. 404 where pages poll instead."""
    seconds = _push_seconds()
    if not seconds:
        abort(404, description="Server push needs PostgreSQL (and server.event_stream_seconds > 0); the inbox polls.")
    # Read before streaming: the request's session (and its connection) closes when the view returns.
    stores = store_ids_for(get_session(), signed_in_agent())
    return Response(inbox_events(current_app.extensions["smsdesk.engine"], stores, seconds=seconds),
                    mimetype="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@bp.get("/inbox/list")
@login_required
def inbox_list():
    """A page of the list as an HTML fragment, or with ``?since=`` the rows changed since the
    page's last poll as JSON (204, no body, when nothing changed: the idle poll)."""
    filters = _filters()
    since = request.args.get("since")
    if since is not None:
        return _list_changes(filters, since)
    page = _page(filters)
    html = render_template("_conversation_list.html", page=page, list_args=_list_args(filters),
                           current_id=request.args.get("current", type=int), first=not request.args.get("cursor"))
    return html, {"X-Next-Since": page.next_since, "X-Waiting-Count": str(_waiting())}


def _list_changes(filters: dict, since: str):
    try:
        changes = changed_conversations(get_session(), _scope(filters), since=parse_since(since))
    except BadPage as exc:
        abort(400, description=str(exc))
    if not changes.conversations and not changes.removed:
        return "", 204
    if changes.next_cursor:  # more changed than one answer holds: the page reloads its first page
        return {"reset": True, "next_since": changes.next_since}
    current_id, list_args = request.args.get("current", type=int), _list_args(filters)
    rows = [{"id": c["id"], "key": changes.keys[c["id"]], "name": c["customer_name"] or c["customer_phone"],
             "inbound": _inbound(c), "html": render_template("_conversation_row.html", c=c, key=changes.keys[c["id"]],
                                                             current_id=current_id, list_args=list_args)}
            for c in changes.conversations]
    return {"next_since": changes.next_since, "removed": changes.removed, "rows": rows, "waiting": _waiting()}


def _inbound(row: dict) -> str | None:
    """When the customer's latest text came, if it waits for an answer (the page notifies once per text)."""
    last = row["last_message"]
    return last["at"] if last and last["direction"] == "in" and row["waiting_since"] else None


@bp.get("/inbox/<int:conversation_id>")
@writes_on_get
@login_required
def conversation(conversation_id: int):
    """A conversation beside the queue; opening it marks it read."""
    session = get_session()
    current = _load(conversation_id)
    service.mark_read(current)
    session.commit()
    filters = _filters()
    return render_template(
        "inbox.html", filters=filters, list_args=_list_args(filters), page=_page(filters),
        stores=stores_for(session, signed_in_agent()), detail=conversation_detail(session, current),
        conversation=current, agents=assignable_agents(session, current.store_id),
        canned=_canned_for(current.store_id), poll_seconds=POLL_SECONDS, waiting=_waiting(),
        push=_push_seconds() > 0, media_max_bytes=current_app.config["SMSDESK"].media.max_bytes)


@bp.get("/inbox/<int:conversation_id>/thread")
@writes_on_get
@login_required
def thread(conversation_id: int):
    """The thread fragment; seeing it counts as reading it. ``?cursor=``: older texts;
    ``?since=``: 204 when no text of the thread changed since, else its latest texts."""
    session = get_session()
    current = _load(conversation_id)
    if current.unread:
        service.mark_read(current)
        session.commit()
    cursor, since = request.args.get("cursor"), request.args.get("since")
    try:
        if since is not None and not thread_changes(session, current, since=parse_since(since), limit=1)[0]:
            return "", 204
        detail = conversation_detail(session, current, cursor=cursor)
    except BadPage as exc:
        abort(400, description=str(exc))
    return render_template("_thread.html", detail=detail), {"X-Next-Since": detail["next_since"]}


def _canned_for(store_id: int) -> list[CannedReply]:
    return list(get_session().scalars(select(CannedReply).where(
        or_(CannedReply.store_id.is_(None), CannedReply.store_id == store_id)).order_by(CannedReply.title)))


def _wants_json() -> bool:
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


def _done(current: Conversation, message: str, category: str = "ok", *, quiet: bool = False, status: int = 422):
    """After an action: to a page's script, the conversation's changed fragments as JSON (422
    when it was refused); to a plain form post, the conversation again with a flash (none
    when ``quiet``: a sent reply shows in the thread)."""
    if not _wants_json():
        if not quiet:
            flash(message, category)
        return redirect(url_for("web.conversation", conversation_id=current.id,
                                **request.args.to_dict()))  # type: ignore[arg-type]
    session = get_session()
    detail = conversation_detail(session, current)
    fragments = {"detail": detail, "conversation": current, "list_args": _list_args(_filters()),
                 "agents": assignable_agents(session, current.store_id)}
    return {"ok": category != "error", "message": message, "status": detail["status"],
            "assigned_to": detail["assigned_to"], "next_since": detail["next_since"],
            "thread": render_template("_thread.html", **fragments),
            "actions": render_template("_conversation_actions.html", **fragments),
            "assign": render_template("_assign.html", **fragments)}, 200 if category != "error" else status


@bp.post("/inbox/<int:conversation_id>/reply")
@login_required
def send_reply(conversation_id: int):
    """Queue the agent's reply; an opted-out customer or a bad body is refused with a message."""
    session = get_session()
    current = _load(conversation_id)
    try:
        reply(session, conversation=current, agent=signed_in_agent(), body=request.form.get("body", ""),
              picture=read_picture(request.files.get("picture")),
              max_picture_bytes=current_app.config["SMSDESK"].media.max_bytes)
    except (CustomerOptedOut, InvalidReply) as exc:
        session.rollback()
        return _done(current, str(exc), "error")
    except MediaRefused as exc:
        session.rollback()
        return _done(current, f"Not sent: {exc}.", "error", status=exc.status)
    session.commit()
    return _done(current, "Reply queued.", quiet=True)


@bp.post("/inbox/<int:conversation_id>/messages/<int:message_id>/retry")
@login_required
def retry_text(conversation_id: int, message_id: int):
    """Queue a failed text again (a new text, same body), where retrying can help."""
    session = get_session()
    current = _load(conversation_id)
    try:
        failures.retry(session, conversation=current, message_id=message_id, agent=signed_in_agent())
    except failures.NotRetryable as exc:
        session.rollback()
        return _done(current, str(exc), "error")
    session.commit()
    return _done(current, "Queued again.")


@bp.post("/inbox/<int:conversation_id>/assign")
@login_required
def assign(conversation_id: int):
    """Assign to me, to another agent, or to nobody."""
    session = get_session()
    current = _load(conversation_id)
    choice = request.form.get("agent_id", "")  # "me", an agent id, or "" for nobody
    agent_id = small_int(choice)
    agent = current_agent() if choice == "me" else session.get(Agent, agent_id) if agent_id else None
    if choice and (agent is None or not may_be_assigned(session, agent, current.store_id)):
        return _done(current, "That agent does not exist at this store.", "error")
    service.assign(current, agent)
    session.commit()
    return _done(current, f"Assigned to {agent.email}." if agent else "Unassigned.")


@bp.post("/inbox/<int:conversation_id>/<any(close, reopen):action>")
@login_required
def change_status(conversation_id: int, action: str):
    """Close or reopen the conversation."""
    session = get_session()
    current = _load(conversation_id)
    if action == "close":
        close_conversation(session, current, agent=current_agent())
    else:
        service.reopen(current)
    session.commit()
    return _done(current, "Conversation closed." if action == "close" else "Conversation reopened.")


@bp.post("/segments")
@login_required
def segments():
    """Segment count and encoding of a draft (the reply box counts while the agent types)."""
    payload = request.get_json(silent=True)
    text = payload.get("text") if isinstance(payload, dict) else None
    if not isinstance(text, str):
        return {"error": "invalid_body", "message": "send {\"text\": \"...\"}"}, 400
    conversation = small_int(str(payload.get("conversation", "")))
    if conversation is not None:
        # A reply's links go out short when its store has short links on: count them so.
        text = short_links.preview(get_session(), _load(conversation).store_id, text)
    info = segment_info(text)
    return {"segments": info.segments, "encoding": info.encoding, "characters": info.characters,
            "per_segment": info.per_segment, "non_gsm_characters": non_gsm_characters(text)}
