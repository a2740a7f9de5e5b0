"""Factories for rows and signed requests, so tests don't copy fixtures around."""
from __future__ import annotations

import copy
import functools
import itertools
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator
from werkzeug.security import generate_password_hash

from smsdesk.models import (
    Agent,
    Customer,
    Direction,
    LinkClick,
    Message,
    MessageStatus,
    Order,
    Role,
    ShortLink,
    Store,
)
from smsdesk.services.auth import create_agent, create_token, grant_roles
from smsdesk.services.customers import get_or_create_customer
from smsdesk.services.stores import create_store
from webhooks.base import hmac_sha256_base64

SAMPLES = Path(__file__).resolve().parent / "samples"  # with their sources and licences (SOURCES.md)
_seq = itertools.count(1)


def sample(relative: str) -> Any:
    """A payload from tests/samples, parsed."""
    return json.loads((SAMPLES / relative).read_text())


def shopify_order(**changes: Any) -> dict:
    """The real Shopify order sample as an orders/create webhook sends it (unwrapped)."""
    order = copy.deepcopy(sample("shopify/order_get_rest_2025-07.json")["order"])
    order.update(changes)
    return order


def shopify_headers(store: Store, body: bytes, *, topic: str = "orders/create", event_id: str | None = None,
                    secret: str | None = None) -> dict:
    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": store.domain,
        "X-Shopify-Hmac-Sha256": hmac_sha256_base64((secret or store.webhook_secret).encode(), body),
        "X-Shopify-Event-Id": event_id or f"evt-{next(_seq)}",
        "X-Shopify-Webhook-Id": f"wh-{next(_seq)}",
        "X-Shopify-API-Version": "2025-07",
    }


def twilio_signature(auth_token: str, url: str, params: dict) -> str:
    return RequestValidator(auth_token).compute_signature(url, params)


def inbound_sms(store: Store | None = None, *, from_: str, body: str, sid: str | None = None,
                to: str | None = None) -> dict:
    """Form params of an inbound-SMS webhook, shaped like the real capture in the samples."""
    sid = sid or f"SM{next(_seq):032x}"
    return {"ToCountry": "US", "SmsMessageSid": sid, "NumMedia": "0", "SmsSid": sid, "SmsStatus": "received",
            "Body": body, "FromCountry": "US", "To": to or store.from_number or "", "NumSegments": "1",
            "MessageSid": sid, "AccountSid": "AC" + "1" * 32, "From": from_, "ApiVersion": "2010-04-01"}


# scrypt as the app uses it, at a test cost: werkzeug reads the cost from the stored hash, so a
# login of a factory-made agent checks its password in microseconds instead of ~0.4 s (the
# app's own cost, werkzeug's default, is asserted on an agent the CLI adds: tests/test_cli.py).
TEST_PASSWORD_METHOD = "scrypt:256:8:1"  # the lowest cost OpenSSL accepts with r=8 is ~128


@functools.cache
def cached_password_hash(password: str) -> str:
    """A real scrypt hash of ``password`` at a low cost (TEST_PASSWORD_METHOD), computed once
    per distinct password."""
    return generate_password_hash(password, method=TEST_PASSWORD_METHOD)


DEFAULT_SENDER = "+15005550006"  # Twilio's magic test "From"; a sender belongs to one store


class Factory:
    """Rows for a test. An agent made without ``stores`` holds its role at every store the
    test makes, before or after it (most tests use one store); pass ``stores=[...]`` (maybe
    empty) for an agent of only those."""

    def __init__(self, session: Session):
        self.session = session
        self._everywhere: list[tuple[Agent, str]] = []

    def store(self, **fields: Any) -> Store:
        n = next(_seq)
        values = {"slug": f"shop-{n}", "name": "Acme Outfitters", "platform": "shopify",
                  "domain": f"shop-{n}.myshopify.com", "webhook_secret": f"secret-{n}",
                  "from_number": self._free_sender(n), "timezone": "America/New_York", "country": "US"}
        values.update(fields)
        store = create_store(self.session, **values)
        for agent, role in self._everywhere:
            grant_roles(self.session, agent, role=Role(role), stores=[store])
        self.session.commit()
        return store

    def _free_sender(self, n: int) -> str:
        taken = self.session.scalar(select(Store.id).where(Store.from_number == DEFAULT_SENDER))
        return DEFAULT_SENDER if taken is None else f"+1415555{n % 10000:04d}"

    def agent(self, *, email: str | None = None, password: str = "correct horse battery", role: str = "agent",
              stores: list[Store] | None = None) -> Agent:
        everywhere = stores is None and role != "admin"
        agent = create_agent(self.session, email=email or f"agent{next(_seq)}@example.com", password=password,
                             role=role, password_hash=cached_password_hash(password),
                             stores=self.session.scalars(select(Store)).all() if everywhere else stores or [])
        if everywhere:
            self._everywhere.append((agent, role))
        self.session.commit()
        return agent

    def token(self, agent: Agent | None = None, *, role: str = "agent", stores: list[Store] | None = None) -> str:
        token = create_token(self.session, agent or self.agent(role=role, stores=stores))
        self.session.commit()
        return token

    def customer(self, store: Store, phone: str = "+15025550123", **fields: Any) -> Customer:
        customer = get_or_create_customer(self.session, store_id=store.id, phone=phone)
        for key, value in fields.items():
            setattr(customer, key, value)
        self.session.commit()
        return customer

    def text(self, store: Store, customer: Customer, *, at: datetime, kind: str = "cart_reminder_1",
             marketing: bool = True, status: MessageStatus = MessageStatus.DELIVERED, **fields: Any) -> Message:
        """An outbound text queued and sent at ``at`` (sent_at None unless it left smsdesk)."""
        left = status in (MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.UNDELIVERED, MessageStatus.FAILED)
        message = Message(store_id=store.id, customer_id=customer.id, direction=Direction.OUT, kind=kind,
                          body=fields.pop("body", f"{kind} text"), status=status, marketing=marketing,
                          created_at=at, sent_at=at if left else None, **fields)
        self.session.add(message)
        self.session.commit()
        return message

    def click(self, message: Message, *, at: datetime, url: str = "https://shop.example/cart") -> LinkClick:
        """A person opened the text's short link at ``at``."""
        link = ShortLink(code=f"c{next(_seq):07d}", store_id=message.store_id, message_id=message.id,
                         customer_id=message.customer_id, url=url)
        self.session.add(link)
        self.session.flush()
        click = LinkClick(link_id=link.id, message_id=message.id, store_id=message.store_id,
                          customer_id=message.customer_id, clicked_at=at)
        self.session.add(click)
        self.session.commit()
        return click

    def order(self, store: Store, customer: Customer | None, *, at: datetime, total: str = "10.00",
              currency: str = "USD", **fields: Any) -> Order:
        """An order recorded at ``at`` (attribution is the caller's: pass attributed_* fields)."""
        n = next(_seq)
        order = Order(store_id=store.id, external_id=str(9000 + n), number=fields.pop("number", str(1000 + n)),
                      customer_id=customer.id if customer else None, status="placed", total=total,
                      currency=currency, created_at=at, **fields)
        self.session.add(order)
        self.session.commit()
        return order
