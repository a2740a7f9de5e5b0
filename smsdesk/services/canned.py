"""Canned replies as templates: checked when saved, rendered for one conversation when inserted.

Canned replies use the same variables and the same sandbox (with its render budget) as the
message templates. They are rendered on the server when an agent inserts one into the reply
box, so the agent sees, and may edit, the very text that goes out; what the agent then sends
is sent as typed (replies.py refuses a body that still holds template syntax, which can only
be a mistake). An unknown variable is a warning, not a refusal: it renders as nothing.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from smsdesk.models import CannedReply, Conversation
from smsdesk.services.orders import order_context
from smsdesk.services.queries import latest_orders
from smsdesk.services.templates import (
    TemplateError,
    build_context,
    render_message,
    sample_context,
    unknown_variables,
)


@dataclass(frozen=True)
class CannedText:
    """A canned reply rendered for one conversation, and the unknown variables it uses."""

    text: str
    unknown: list[str]

    @property
    def warnings(self) -> list[str]:
        return [unknown_warning(name) for name in self.unknown]


def unknown_warning(name: str) -> str:
    return f"“{name}” is not a variable smsdesk knows; it is left out of the text."


def check_canned(body: str) -> list[str]:
    """Warnings for a canned reply about to be saved; raises TemplateError when it cannot be used."""
    return render_canned(body, sample_context()).warnings


def render_canned(body: str, context: Mapping) -> CannedText:
    """``body`` rendered with ``context``; unknown variables render as nothing. Raises TemplateError."""
    unknown = unknown_variables(body)
    return CannedText(render_message(body, _with_blanks(context, unknown)), unknown)


def canned_for_conversation(session: Session, *, conversation: Conversation, reply: CannedReply) -> CannedText:
    """The reply rendered with the conversation's store, customer and latest order."""
    return render_canned(reply.body, conversation_context(session, conversation))


def conversation_context(session: Session, conversation: Conversation) -> dict:
    """Template variables for a conversation: its store, its customer and their latest order."""
    store, customer = conversation.store, conversation.customer
    order = latest_orders(session, [customer.id]).get(customer.id)
    if order is not None:
        return order_context(store, order, customer)
    return build_context(store={"name": store.name, "support_contact": store.help_text},
                         customer={"first_name": customer.first_name})


def _with_blanks(context: Mapping, names: list[str]) -> dict:
    """A copy of ``context`` where each unknown dotted name exists and is empty."""
    result: dict[str, Any] = {key: dict(value) if isinstance(value, Mapping) else value
                              for key, value in context.items()}
    for name in names:
        head, *rest = name.split(".")
        if not rest:
            result.setdefault(head, "")
            continue
        level = result.setdefault(head, {})
        if not isinstance(level, dict):
            continue  # "store.name.x": the sandbox answers for the attribute of a string
        for part in rest[:-1]:
            level = level.setdefault(part, {})
            if not isinstance(level, dict):
                break
        else:
            level.setdefault(rest[-1], "")
    return result


__all__ = ["CannedText", "TemplateError", "canned_for_conversation", "check_canned", "render_canned"]
