"""The audit trail: every consent change, suppression, failure and agent action."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from smsdesk.models import AuditEvent


def record(
    session: Session, action: str, *, store_id: int | None = None, customer_id: int | None = None,
    message_id: int | None = None, reason: str = "", source: str = "", detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add one audit event to the session's transaction."""
    event = AuditEvent(action=action, store_id=store_id, customer_id=customer_id, message_id=message_id,
                       reason=reason, source=source, detail=detail)
    session.add(event)
    return event
