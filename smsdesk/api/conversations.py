"""Conversations: the reply queue, a thread, replying, assigning, closing."""
from __future__ import annotations

from flask import current_app, g, request

from smsdesk.api import bp, error, json_body, page_args, store_or_404
from smsdesk.db import get_session
from smsdesk.models import Conversation
from smsdesk.services import conversations as service
from smsdesk.services.access import conversation_for, may_be_assigned, store_ids_for
from smsdesk.services.auth import find_agent
from smsdesk.services.closing import close_conversation
from smsdesk.services.conversation_list import ConversationFilters, changed_conversations, list_conversations
from smsdesk.services.media import MediaRefused, read_picture
from smsdesk.services.queries import conversation_detail, conversation_summary
from smsdesk.services.replies import CustomerErased, CustomerOptedOut, InvalidReply, reply

STATUSES = ("open", "closed", "all")


@bp.get("/conversations")
def index():
    """One keyset page of the list (``limit``, ``cursor``), or what changed ``since`` a poll."""
    status = request.args.get("status", "open")
    if status not in STATUSES:
        return error("invalid_status", f"status must be one of {', '.join(STATUSES)}", 400)
    slug = request.args.get("store")
    if slug:
        store_or_404(slug)  # another store's slug is a 404, like its conversations
    limit, cursor, since = page_args()
    session = get_session()
    filters = ConversationFilters(status=status, store_slug=slug, search=request.args.get("q"),
                                  store_ids=store_ids_for(session, g.agent))
    if since is None:
        page = list_conversations(session, filters, limit=limit, cursor=cursor)
    else:
        page = changed_conversations(session, filters, since=since, limit=limit, cursor=cursor)
    return page.as_json(since=since is not None)


def _load(conversation_id: int) -> Conversation:
    """The conversation, or a JSON 404 (also for another store's; ids past the database's integer
    range never get here: the app's int converter answers 404 for them)."""
    return conversation_for(get_session(), g.agent, conversation_id)


@bp.get("/conversations/<int:conversation_id>")
def show(conversation_id: int):
    conversation = _load(conversation_id)
    limit, cursor, since = page_args()
    return conversation_detail(get_session(), conversation, limit=limit, cursor=cursor, since=since)


def _reply_fields() -> tuple[object, bytes | None]:
    """The reply's body, and its picture when sent as multipart/form-data (``body``, ``picture``)."""
    if request.mimetype == "multipart/form-data":
        return request.form.get("body", ""), read_picture(request.files.get("picture"))
    return json_body().get("body"), None


@bp.post("/conversations/<int:conversation_id>/messages")
def send(conversation_id: int):
    """Queue a reply: JSON ``{"body"}``, or multipart with a ``picture`` (an MMS; the body may be empty)."""
    session = get_session()
    conversation = _load(conversation_id)
    body, picture = _reply_fields()
    try:
        message = reply(session, conversation=conversation, agent=g.agent, body=body, picture=picture,
                        max_picture_bytes=current_app.config["SMSDESK"].media.max_bytes)
    except MediaRefused as exc:
        return error("too_large" if exc.status == 413 else "unsupported_media", str(exc), exc.status)
    except CustomerErased as exc:
        return error("customer_erased", str(exc), 409)
    except CustomerOptedOut as exc:
        return error("opted_out", str(exc), 409)
    except InvalidReply as exc:
        return error("invalid_body", str(exc), 422)
    session.commit()
    return {"message": {"id": message.id, "status": message.status.value}}, 202


@bp.post("/conversations/<int:conversation_id>/assign")
def assign(conversation_id: int):
    session = get_session()
    conversation = _load(conversation_id)
    email = json_body().get("email")
    if email is not None and not isinstance(email, str):
        return error("invalid_email", "email must be a string (or null to unassign)", 400)
    agent = find_agent(session, email) if email else None
    if email and (agent is None or not may_be_assigned(session, agent, conversation.store_id)):
        return error("unknown_agent", f"no agent with email {email} at store {conversation.store.slug}", 422)
    service.assign(conversation, agent)
    session.commit()
    return conversation_summary(session, conversation)


@bp.post("/conversations/<int:conversation_id>/<any(close, reopen):action>")
def change_status(conversation_id: int, action: str):
    session = get_session()
    conversation = _load(conversation_id)
    if action == "close":
        close_conversation(session, conversation, agent=g.agent)
    else:
        service.reopen(conversation)
    session.commit()
    return conversation_summary(session, conversation)
