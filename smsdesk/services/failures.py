"""Texts that did not arrive, for the agents: a plain reason, a list marker and filter, a retry.

The words come from the one list of reasons (smsdesk/reasons.py; Twilio's carrier codes map
onto it in services/delivery.py and services/sending.py), with the carrier's code beside them.
A retry is a new text with the same body, queued like any other, so the compliance rules
(opt-out, quiet hours, consent) apply to it at send time.
"""
from __future__ import annotations

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from smsdesk.models import Agent, Conversation, Direction, Message
from smsdesk.reasons import Reason
from smsdesk.services.conversations import FAILED_STATUSES
from smsdesk.services.media import copy_pictures
from smsdesk.services.outbox import enqueue_text

# Failures a later attempt can cure: the phone was off, a queue or the carrier had a passing
# problem, or our own retries ran out. A blocked, unknown or landline number fails again.
RETRYABLE = frozenset({Reason.UNREACHABLE_HANDSET, Reason.QUEUE_OVERFLOW, Reason.CARRIER_ERROR, Reason.GAVE_UP})


class NotRetryable(Exception):
    """This text cannot be retried (not failed, another conversation's, or retrying can't help)."""


def failure_text(reason: Reason | None, code: int | None) -> str | None:
    """"The phone was off or out of coverage (carrier code 30003)."; None without a reason."""
    if reason is None:
        return None
    words = reason.label[0].upper() + reason.label[1:]
    return f"{words} (carrier code {code})." if code else f"{words}."


def is_retryable(message: Message) -> bool:
    return message.direction == Direction.OUT and message.status in FAILED_STATUSES and message.reason in RETRYABLE


def latest_outbound_failed() -> ColumnElement[bool]:
    """True for a conversation whose latest text to the customer failed (for the list's filter)."""
    latest = (select(Message.status).where(Message.conversation_id == Conversation.id,
                                           Message.direction == Direction.OUT)
              .order_by(Message.id.desc()).limit(1).correlate(Conversation).scalar_subquery())
    return latest.in_(FAILED_STATUSES)


def retry(session: Session, *, conversation: Conversation, message_id: int, agent: Agent) -> Message:
    """Queue a failed text of this conversation again, as a new text; raises NotRetryable."""
    message = session.get(Message, message_id)
    if message is None or message.conversation_id != conversation.id:
        raise NotRetryable(f"There is no text {message_id} in this conversation.")
    if not is_retryable(message):
        raise NotRetryable("Only a text that failed for a passing reason (phone off, carrier trouble) can be "
                           "retried.")
    if conversation.customer.opted_out:
        raise NotRetryable(f"{conversation.customer.phone} opted out of texts from this store.")
    again = enqueue_text(session, store=conversation.store, customer=conversation.customer, kind=message.kind,
                         body=message.body, marketing=message.marketing, validity_seconds=message.validity_seconds,
                         order_id=message.order_id, checkout_id=message.checkout_id, agent_id=agent.id)
    assert again is not None  # only a dedupe key makes enqueue_text decline, and a retry has none
    if message.media_count:
        copy_pictures(session, message, again)
    return again
