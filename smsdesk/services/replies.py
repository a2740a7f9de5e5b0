"""Agents' replies to customers."""
from __future__ import annotations

import re

from sqlalchemy.orm import Session

from smsdesk.models import Agent, Conversation, Message
from smsdesk.services.media import TWILIO_MAX_BYTES, add_picture, check_image
from smsdesk.services.outbox import enqueue_text
from smsdesk.services.privacy import is_erased
from smsdesk.services.untrusted import unstorable

AGENT_REPLY = "agent_reply"
MAX_BODY = 1600  # characters: Twilio's limit for one message body
# "{{ customer.first_name }}" or "{% if ... %}" left in a reply: a canned reply pasted by hand, or
# template syntax typed from habit. Replies are sent as typed, so it would reach the customer raw.
TEMPLATE_SYNTAX = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)


class CustomerOptedOut(Exception):
    """The customer opted out of texts from this store; agents can't text them."""


class CustomerErased(CustomerOptedOut):
    """The customer's personal data was erased (services/privacy.py): there is no number to text."""


class InvalidReply(ValueError):
    """A reply must have text, and no more than Twilio takes."""


def reply(session: Session, *, conversation: Conversation, agent: Agent, body: object,
          picture: bytes | None = None, max_picture_bytes: int = TWILIO_MAX_BYTES) -> Message:
    """Queue an agent's reply, with a picture (an MMS) or without; answering takes the conversation
    out of the waiting queue. A bad picture raises ``services.media.MediaRefused`` (413, 415)."""
    body = _checked_body(body, has_picture=picture is not None)
    if picture is not None:
        check_image(picture, max_bytes=max_picture_bytes)  # before anything is queued
    if len(body) > MAX_BODY:
        raise InvalidReply(f"reply is {len(body)} characters; the limit is {MAX_BODY}")
    leftover = TEMPLATE_SYNTAX.search(body)
    if leftover:
        raise InvalidReply(f"the reply still holds template syntax ({leftover.group(0)[:60]}); replies are sent "
                           "as typed, so pick the canned reply from the list to fill it in, or write the text out")
    customer = conversation.customer
    if is_erased(customer):
        raise CustomerErased("this customer's data was erased: there is no number to text")
    if customer.opted_out:
        raise CustomerOptedOut(f"{customer.phone} opted out of texts from this store")
    message = enqueue_text(session, store=conversation.store, customer=customer, kind=AGENT_REPLY,
                           body=body, agent_id=agent.id)
    assert message is not None  # only a dedupe key can make enqueue_text decline, and replies have none
    if picture is not None:
        add_picture(session, message, picture, max_bytes=max_picture_bytes)
    conversation.waiting_since = None
    conversation.unread = 0
    return message


def _checked_body(body: object, *, has_picture: bool) -> str:
    """The reply's text, stripped; ``InvalidReply`` when it can't go out as typed."""
    if body is None:
        body = ""
    if not isinstance(body, str):
        raise InvalidReply("reply body must be a string")
    if unstorable(body):
        raise InvalidReply("reply body may not contain NUL characters or lone surrogates")
    body = body.strip()
    if not body and not has_picture:
        raise InvalidReply("reply body is empty: type a text or attach a picture")
    return body
