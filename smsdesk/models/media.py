"""The pictures of MMS texts (services/media.py): one row per picture of a text, in or out."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column

from smsdesk.models.base import Base, utcnow


class MessageMedia(Base):
    """One picture of a text. Inbound: ``provider_url`` is where Twilio keeps it (fetched with the
    account's credentials on first view, then ``content`` holds the bytes). Outbound: ``content``
    is the agent's upload, served without login at ``/media/<token>`` so Twilio can fetch it."""

    __tablename__ = "message_media"
    __table_args__ = (UniqueConstraint("message_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)  # Twilio's MediaUrl{position}
    content_type: Mapped[str] = mapped_column(String(100))
    provider_url: Mapped[str | None] = mapped_column(String(500))
    token: Mapped[str] = mapped_column(String(64), unique=True)  # unguessable (secrets.token_urlsafe)
    size: Mapped[int | None]  # bytes, once known
    # The bytes (at most [media] max_bytes); deferred: listing a thread never loads them.
    content: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    error: Mapped[str] = mapped_column(Text, default="", server_default="")  # why it can't be shown
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
