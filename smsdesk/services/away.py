"""The away message: outside the store's business hours, a text that waits for an agent gets
one acknowledgement per conversation per ``AWAY_EVERY`` saying when the team is back.

It is an automatic text of its own kind (``away_message``, edited on the Templates page) sent
through the outbox, so opt-outs and the rest of compliance apply as to any text. On/off per
store on the /hours page; without business hours the store is always open and never away.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from smsdesk.models import Conversation, Customer, Message, Store
from smsdesk.services.business_hours import is_open
from smsdesk.services.desk_settings import back_text, routing_row, schedule_of, settings_for
from smsdesk.services.outbox import enqueue_kind
from smsdesk.services.template_store import language_of, resolve_template
from smsdesk.services.templates import build_context

AWAY_KIND = "away_message"
AWAY_EVERY = timedelta(hours=12)  # at most one acknowledgement per conversation this often


def acknowledge(session: Session, *, store: Store, customer: Customer, conversation: Conversation,
                now: datetime) -> Message | None:
    """Queue the away message for a waiting text received at ``now`` when the store is closed
    and the conversation had none in the last 12 hours; None otherwise."""
    settings = settings_for(session, store.id)
    if settings is None or not settings.away_message or customer.opted_out:
        return None
    schedule = schedule_of(store, settings)
    if is_open(schedule, now):
        return None
    routing = routing_row(session, conversation)
    previous = routing.away_sent_at
    if previous is not None and now - previous < AWAY_EVERY:
        return None
    context = build_context(store={"name": store.name, "support_contact": store.help_text},
                            customer={"first_name": customer.first_name})
    # The back time in the language of the version that will be sent (the customer's, else the
    # store's default, else English).
    template = resolve_template(session, store_id=store.id, kind=AWAY_KIND, language=language_of(store, customer),
                                default_language=store.default_language)
    context["hours"]["back_at"] = back_text(store, schedule, now, template.language)
    # Keyed by the previous acknowledgement: two texts racing in both read the same one, so
    # only one of them can queue the next.
    key = f"away:{conversation.id}:{int(previous.timestamp()) if previous else 0}"
    message = enqueue_kind(session, store=store, customer=customer, kind=AWAY_KIND, context=context, dedupe_key=key,
                           template=template)
    if message is not None:
        routing.away_sent_at = now
    return message
