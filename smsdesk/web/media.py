"""Pictures (MMS) in the inbox: a customer's picture through our proxy (the browser never sees
Twilio's URL or the account's credentials), and the public address Twilio fetches an agent's
attachment from."""
from __future__ import annotations

from flask import Response, abort, current_app

from smsdesk.db import end_read, get_session, write_begins_with_insert
from smsdesk.models import MessageMedia
from smsdesk.services import media as service
from smsdesk.services.access import NoAccess, conversation_for
from smsdesk.web import bp
from smsdesk.web.auth import login_required, signed_in_agent

CACHE_SECONDS = 86400  # a picture never changes; only this browser (private) keeps it
MAX_TOKEN = 64  # characters of MessageMedia.token


def picture_response(data: bytes, content_type: str, *, private: bool) -> Response:
    """The bytes as an image the browser shows and never sniffs as anything else."""
    cache = f"private, max-age={CACHE_SECONDS}" if private else f"public, max-age={CACHE_SECONDS}"
    return Response(data, mimetype=content_type, headers={
        "Cache-Control": cache, "Content-Disposition": "inline", "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox", "X-Robots-Tag": "noindex"})


def _in_thread(conversation_id: int, media_id: int) -> MessageMedia:
    """A picture of a conversation the user may see; another store's is a 404 like a missing one."""
    session = get_session()
    try:
        conversation = conversation_for(session, signed_in_agent(), conversation_id)
    except NoAccess:
        abort(404, description=f"There is no conversation {conversation_id}.")
    media = service.in_thread(session, conversation, media_id)
    if media is None:
        abort(404, description=f"There is no picture {media_id} in this conversation.")
    return media


@bp.get("/inbox/<int:conversation_id>/media/<int:media_id>")
@write_begins_with_insert
@login_required
def conversation_media(conversation_id: int, media_id: int):
    """A picture of the thread: kept ones at once, a customer's picture fetched from Twilio on
    the first view (with the account's credentials, server side) and kept."""
    session = get_session()
    media = _in_thread(conversation_id, media_id)
    try:
        found = service.kept(media)
    except service.MediaRefused as exc:
        abort(exc.status, description=str(exc))
    if found is not None:
        return picture_response(*found, private=True)
    url, media_id = media.provider_url or "", media.id
    end_read(session)  # no transaction (and on SQLite no lock) while Twilio answers
    try:
        data, content_type = service.fetch_picture(current_app.extensions["smsdesk.media_fetcher"], url)
    except service.MediaRefused as exc:
        service.remember_refusal(session, exc, media_id)
        session.commit()
        abort(exc.status, description=str(exc))
    service.remember(session, media_id, data, content_type)
    session.commit()
    return picture_response(data, content_type, private=True)


@bp.get("/media/<token>")
def public_media(token: str):
    """An agent's attachment, for Twilio to fetch when the text is sent (no login: the token is
    the key, 256 random bits). Customers' pictures are never served here."""
    media = service.public(get_session(), token) if len(token) <= MAX_TOKEN else None
    if media is None or media.content is None:
        abort(404, description="There is no such picture.")
    return picture_response(media.content, media.content_type, private=False)
