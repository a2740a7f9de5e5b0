"""Short links in outgoing texts and the clicks on them, and each store's "Links & sending"
settings (short links on or off, smart sending).

A click row carries its message, store, customer and time itself (copied from its link), so
revenue attribution ("the last marketing text the customer clicked within a window") reads one
indexed table. No IP address is stored, raw or hashed.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from smsdesk.models.base import Base, utcnow

if TYPE_CHECKING:  # relationships name their targets; SQLAlchemy resolves them by class name
    from smsdesk.models.conversations import Message
    from smsdesk.models.customers import Customer

DEFAULT_SMART_SENDING_HOURS = 16  # Postscript's default
# Revenue attribution (services/attribution.py): an order is credited to the last marketing text
# clicked within the click window (Klaviyo's SMS default: 5 days), else, where the owner turns view
# attribution on, to the last one received within the shorter view window.
DEFAULT_CLICK_WINDOW_HOURS = 120
DEFAULT_VIEW_WINDOW_HOURS = 24
CODE_LENGTH = 8  # base62: 62**8 ~ 2**47.6 codes


class LinkSettings(Base):
    """A store's link and sending settings; no row means short links off, smart sending and the
    attribution windows at their defaults."""

    __tablename__ = "link_settings"

    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), primary_key=True)
    short_links: Mapped[bool] = mapped_column(Boolean, default=False)
    # Where short links point (``<base_url>/r/<code>``): the server's public_url when the owner
    # saved the page, so texts can be shortened by jobs that know no request.
    base_url: Mapped[str] = mapped_column(String(255), default="")
    smart_sending_hours: Mapped[int] = mapped_column(Integer, default=DEFAULT_SMART_SENDING_HOURS)
    click_window_hours: Mapped[int] = mapped_column(Integer, default=DEFAULT_CLICK_WINDOW_HOURS,
                                                    server_default=str(DEFAULT_CLICK_WINDOW_HOURS))
    view_attribution: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    view_window_hours: Mapped[int] = mapped_column(Integer, default=DEFAULT_VIEW_WINDOW_HOURS,
                                                   server_default=str(DEFAULT_VIEW_WINDOW_HOURS))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ShortLink(Base):
    """One target URL of one outgoing text, behind an unguessable code."""

    __tablename__ = "short_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)  # the redirect's one indexed read
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    # Many-to-one, for the unit of work's order only (see Message.conversation)
    message: Mapped[Message] = relationship(lazy="raise")
    customer: Mapped[Customer] = relationship(lazy="raise")


class LinkClick(Base):
    """A person opened a short link (GET, not a link-preview bot). No IP address is kept."""

    __tablename__ = "link_clicks"
    __table_args__ = (
        Index("ix_link_clicks_customer_clicked", "customer_id", "clicked_at"),  # attribution: last click
        Index("ix_link_clicks_store_clicked", "store_id", "clicked_at"),  # dashboards per store
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The link and its text, store and customer, copied from the link row the redirect read
    # (whose own foreign keys guard them). Foreign keys here made every click lock those rows,
    # which stalled the redirects' reads (migration 0024).
    link_id: Mapped[int] = mapped_column(index=True)
    message_id: Mapped[int] = mapped_column(index=True)
    store_id: Mapped[int]
    customer_id: Mapped[int]
    clicked_at: Mapped[datetime] = mapped_column(default=utcnow)
    device: Mapped[str] = mapped_column(String(10), default="other")  # ios, android, desktop, other
