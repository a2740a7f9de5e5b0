"""Pictures (MMS): the pictures customers send (Twilio keeps them; we fetch each once, with the
account's credentials, and keep the bytes) and the ones agents attach to a reply (kept here and
served to Twilio at ``/media/<token>``, an unguessable address, when the text is sent).

Only images a browser shows safely are shown or sent: JPEG, PNG, GIF and WebP, recognised by
their first bytes (never by a name or a claimed type). Twilio takes up to 5 MB per message.
"""
from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass

from sqlalchemy import Select, delete, select, update
from sqlalchemy.orm import Session, undefer

from smsdesk.models import Conversation, Direction, Message, MessageMedia

# Twilio's own limit per message; [media] max_bytes may lower it.
TWILIO_MAX_BYTES = 5 * 1024 * 1024
MAX_PER_MESSAGE = 10  # Twilio: at most 10 MediaUrl per message (inbound NumMedia too)
TOKEN_BYTES = 32  # 256 bits of randomness in /media/<token>
PHOTO_PREVIEW = "📷 Photo"  # what the list shows for a text that is only a picture
SHOWN_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
_MAGIC = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"),
          (b"GIF87a", "image/gif"), (b"GIF89a", "image/gif"))


class MediaRefused(ValueError):
    """A picture that can't be taken or shown; ``status`` is the HTTP answer (413 too large,
    415 not an image we show, 502 the provider failed), the message says why in plain words."""

    def __init__(self, message: str, *, status: int):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class InboundMedia:
    """One picture of an inbound MMS, as the provider's webhook described it."""

    url: str
    content_type: str


def sniff(data: bytes) -> str | None:
    """The image type of ``data`` from its first bytes, if it is one we show."""
    for magic, content_type in _MAGIC:
        if data.startswith(magic):
            return content_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def check_image(data: bytes, *, max_bytes: int) -> str:
    """The sniffed type of an image we may keep and show; ``MediaRefused`` otherwise."""
    if len(data) > max_bytes:
        raise MediaRefused(f"the picture is {_mb(len(data))}; the limit is {_mb(max_bytes)}", status=413)
    content_type = sniff(data)
    if content_type is None:
        raise MediaRefused("only JPEG, PNG, GIF and WebP pictures can be sent and shown", status=415)
    return content_type


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB"


def _token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def read_picture(upload) -> bytes | None:
    """The bytes of an uploaded file (a werkzeug FileStorage), or None when no file was chosen.
    The request's size was bounded before (app.py: server.max_body_bytes + media.max_bytes)."""
    if upload is None or not upload.filename:
        return None
    return upload.read()


def add_inbound(session: Session, message: Message, items: list[InboundMedia]) -> None:
    """Record the pictures of an inbound MMS (fetched later, when an agent looks)."""
    for position, item in enumerate(items[:MAX_PER_MESSAGE]):
        session.add(MessageMedia(message_id=message.id, position=position, content_type=item.content_type[:100],
                                 provider_url=item.url, token=_token()))
    message.media_count = min(len(items), MAX_PER_MESSAGE)


def add_picture(session: Session, message: Message, data: bytes, *, max_bytes: int) -> MessageMedia:
    """Keep a picture with a text (an agent's attachment, a simulated phone's photo); it is
    checked first (``MediaRefused``). An MMS is billed as one message, whatever its text's length."""
    content_type = check_image(data, max_bytes=max_bytes)
    media = MessageMedia(message_id=message.id, position=message.media_count, content_type=content_type,
                         token=_token(), size=len(data), content=data)
    session.add(media)
    message.media_count += 1
    message.segments = 1
    return media


def copy_pictures(session: Session, source: Message, target: Message) -> None:
    """A text sent again (a retry) goes with its pictures, each at an address of its own."""
    query = (select(MessageMedia).where(MessageMedia.message_id == source.id, MessageMedia.content.is_not(None))
             .order_by(MessageMedia.position).options(undefer(MessageMedia.content)))
    for media in session.scalars(query):
        assert media.content is not None  # selected so
        add_picture(session, target, media.content, max_bytes=len(media.content))


def media_of(session: Session, message_ids: list[int]) -> dict[int, list[MessageMedia]]:
    """The pictures of these texts (one query, no bytes loaded), in order."""
    found: dict[int, list[MessageMedia]] = {}
    if message_ids:
        query = (select(MessageMedia).where(MessageMedia.message_id.in_(message_ids))
                 .order_by(MessageMedia.message_id, MessageMedia.position))
        for media in session.scalars(query):
            found.setdefault(media.message_id, []).append(media)
    return found


def in_thread(session: Session, conversation: Conversation, media_id: int) -> MessageMedia | None:
    """A picture of this conversation's thread (the customer's texts at its store), with its bytes."""
    return session.scalar(
        select(MessageMedia).join(Message, Message.id == MessageMedia.message_id)
        .where(MessageMedia.id == media_id, Message.customer_id == conversation.customer_id,
               Message.store_id == conversation.store_id).options(undefer(MessageMedia.content)))


def public(session: Session, token: str) -> MessageMedia | None:
    """An agent's attachment by its token (what Twilio fetches); customers' pictures never."""
    return session.scalar(
        select(MessageMedia).join(Message, Message.id == MessageMedia.message_id)
        .where(MessageMedia.token == token, Message.direction == Direction.OUT, MessageMedia.content.is_not(None))
        .options(undefer(MessageMedia.content)))


def tokens_of(session: Session, message_id: int) -> tuple[str, ...]:
    """The tokens of a text's attachments, in order (their ``/media/<token>`` go to the provider)."""
    return tuple(session.scalars(select(MessageMedia.token).where(MessageMedia.message_id == message_id)
                                 .order_by(MessageMedia.position)))


def media_summary(media: MessageMedia) -> dict:
    """A picture as the thread lists it: ``shown`` when it is (or may be, once fetched) an image we show."""
    return {"id": media.id, "content_type": media.content_type, "size": media.size,
            "shown": media.content_type in SHOWN_TYPES and not media.error,
            "error": media.error.partition(" ")[2] or None}


def kept(media: MessageMedia) -> tuple[bytes, str] | None:
    """A picture's bytes and type when kept here; ``MediaRefused`` when it was refused before (a
    picture too large is not fetched again at every view); None when it is still at the provider."""
    if media.content is not None:
        return media.content, media.content_type
    if media.error:
        status, _, message = media.error.partition(" ")
        raise MediaRefused(message, status=int(status) if status.isdigit() else 415)
    if not media.provider_url:
        raise MediaRefused("this picture was not kept", status=404)
    return None


def fetch_picture(fetcher, url: str) -> tuple[bytes, str]:
    """Fetch a picture from the provider (no transaction open: it may take seconds) and check it."""
    data, _claimed = fetcher.fetch(url)  # the claimed type is not trusted: the bytes say what it is
    return data, check_image(data, max_bytes=fetcher.max_bytes)


def remember(session: Session, media_id: int, data: bytes, content_type: str) -> None:
    """Keep fetched bytes: the next view is served from here."""
    session.execute(update(MessageMedia).where(MessageMedia.id == media_id).values(
        content=data, content_type=content_type, size=len(data), error=""))


def remember_refusal(session: Session, exc: MediaRefused, media_id: int) -> None:
    """Keep why a picture can't be shown when that is the picture's own doing (too large, not an
    image); a provider that failed this time is asked again next time."""
    if exc.status in (413, 415):
        session.execute(update(MessageMedia).where(MessageMedia.id == media_id).values(error=f"{exc.status} {exc}"))


def preview(body: str, media_count: int) -> str:
    """A list row's text: the words, or "📷 Photo" for a text that is only pictures."""
    return body if body or not media_count else PHOTO_PREVIEW


def export_for_customer(session: Session, customer_id: int) -> list[dict]:
    """Every picture of a customer's texts for a data export: what it is, and its bytes (base64)
    where they are held here (an inbound one never viewed is still only at the provider)."""
    rows = session.scalars(select(MessageMedia).join(Message, Message.id == MessageMedia.message_id)
                           .where(Message.customer_id == customer_id).order_by(MessageMedia.id)
                           .options(undefer(MessageMedia.content)))
    return [{"message_id": row.message_id, "position": row.position, "content_type": row.content_type,
             "size": row.size, "created_at": row.created_at.isoformat(),
             "content_base64": base64.b64encode(row.content).decode() if row.content is not None else None}
            for row in rows]


def erase_for_customer(session: Session, customer_id: int) -> int:
    """Delete every picture of a customer's texts (erasure); returns how many."""
    return erase_of(session, select(Message.id).where(Message.customer_id == customer_id))


def erase_of(session: Session, message_ids: Select) -> int:
    """Delete the pictures of the texts ``message_ids`` selects (erasure, retention); returns how many."""
    result = session.execute(delete(MessageMedia).where(MessageMedia.message_id.in_(message_ids.scalar_subquery()))
                             .execution_options(synchronize_session=False))
    return result.rowcount  # type: ignore[attr-defined]  # a DELETE gives a CursorResult
