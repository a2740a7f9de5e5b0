"""The outbox: every outbound text is a ``messages`` row first, sent later by a job."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from smsdesk.models import (
    PENDING_STATUSES,
    Customer,
    Direction,
    Message,
    MessageStatus,
    Store,
    utcnow,
)
from smsdesk.reasons import Reason
from smsdesk.services import ab_tests, audit, preload, short_links, template_versions
from smsdesk.services.conversations import touch_conversation
from smsdesk.services.segments import segment_info
from smsdesk.services.template_store import ResolvedTemplate, language_of, resolve_template
from smsdesk.services.templates import MAX_BODY_LENGTH, TemplateError, render_message


def find_by_dedupe_key(session: Session, key: str) -> Message | None:
    found = preload.known(session, "text", key)
    if found is not preload.UNKNOWN:
        return found
    return session.scalar(select(Message).where(Message.dedupe_key == key))


def enqueue_kind(
    session: Session, *, store: Store, customer: Customer, kind: str, context: Mapping[str, Any],
    dedupe_key: str | None, due_at: datetime | None = None, order_id: int | None = None,
    checkout_id: int | None = None, language: str | None = None, template: ResolvedTemplate | None = None,
) -> Message | None:
    """Render the store's template for ``kind`` and queue it; None if disabled or a duplicate.

    ``due_at`` defaults to now plus the template's delay. ``language`` defaults to the customer's
    (else the store's default); services/template_store.py chooses the version in it, unless the
    caller resolved it already (``template``: the away message does, to word its time in that
    version's language).
    """
    if dedupe_key and find_by_dedupe_key(session, dedupe_key) is not None:
        return None
    if template is None:
        template = resolve_template(session, store_id=store.id, kind=kind,
                                    language=language or language_of(store, customer),
                                    default_language=store.default_language)
    if not template.enabled:
        return None
    # A running A/B test may give this customer its version B of the body (services/ab_tests.py).
    template, variant = ab_tests.apply(session, store_id=store.id, customer_id=customer.id, template=template)
    source = template.body  # what is rendered; its version is recorded below (another body: another version)
    try:
        body = render_message(source, context)
    except TemplateError as exc:  # a template saved before a variable went away: say so, send nothing
        audit.record(session, "template_error", store_id=store.id, customer_id=customer.id,
                     reason=str(exc), detail={"kind": kind})
        return None
    version = template_versions.version_id(session, store_id=store.id, kind=kind, language=template.language,
                                           body=source)
    if due_at is None:
        due_at = utcnow() + timedelta(minutes=template.delay_minutes)
    message = enqueue_text(
        session, store=store, customer=customer, kind=kind, body=body, dedupe_key=dedupe_key,
        due_at=due_at, marketing=template.spec.marketing, validity_seconds=template.spec.validity_seconds,
        order_id=order_id, checkout_id=checkout_id, template_version_id=version,
    )
    ab_tests.record(message, variant)
    return message


def enqueue_text(
    session: Session, *, store: Store, customer: Customer, kind: str, body: str,
    dedupe_key: str | None = None, due_at: datetime | None = None, marketing: bool = False,
    validity_seconds: int | None = None, order_id: int | None = None, checkout_id: int | None = None,
    agent_id: int | None = None, template_version_id: int | None = None,
) -> Message | None:
    """Insert one outbound row; a concurrent duplicate (same dedupe_key) returns None.

    A body the provider would refuse (over MAX_BODY_LENGTH) is recorded ``failed`` at once.
    Its web links become short links first when the store has them on (services/short_links.py).
    """
    body, codes = short_links.shorten(session, store.id, body)
    now = utcnow()
    due_at = due_at or now
    info = segment_info(body)
    conversation = touch_conversation(session, store_id=store.id, customer_id=customer.id, at=now)
    status = MessageStatus.SCHEDULED if due_at > now else MessageStatus.QUEUED
    reason, detail = None, ""
    if too_long(body):
        status, reason, detail = MessageStatus.FAILED, Reason.TOO_LONG, f"{len(body)} characters"
    message = Message(
        store_id=store.id, customer_id=customer.id, conversation_id=conversation.id,
        direction=Direction.OUT, kind=kind, body=body, status=status, reason=reason, reason_detail=detail,
        due_at=due_at, dedupe_key=dedupe_key, marketing=marketing, segments=info.segments,
        encoding=info.encoding, validity_seconds=validity_seconds, order_id=order_id,
        checkout_id=checkout_id, agent_id=agent_id, template_version_id=template_version_id,
    )
    try:
        preload.insert(session, message)
    except IntegrityError:  # the same event raced us to the same dedupe_key
        return None
    if codes:
        short_links.attach(session, message, codes)
    if dedupe_key:
        preload.remember(session, "text", dedupe_key, row=message)
    return message


def too_long(body: str) -> bool:
    """Whether the provider would refuse ``body`` for its length (Twilio: over 1,600 characters)."""
    return len(body) > MAX_BODY_LENGTH


def cancel_pending(session: Session, *, reason: Reason, detail: str = "", **filters: Any) -> int:
    """Cancel scheduled/queued outbound rows matching ``filters``; returns how many."""
    conditions = [getattr(Message, name) == value for name, value in filters.items()]
    result = session.execute(
        update(Message)
        .where(Message.status.in_(PENDING_STATUSES), Message.direction == Direction.OUT, *conditions)
        .values(status=MessageStatus.CANCELLED, reason=reason, reason_detail=detail, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount  # type: ignore[attr-defined]  # an UPDATE gives a CursorResult
