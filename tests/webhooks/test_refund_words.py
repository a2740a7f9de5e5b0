"""Refunds and declined payments, per platform: a refund is never "your order has been cancelled",
it is the store's ``order_refunded`` text (when turned on); a declined payment is no text at all."""
from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from smsdesk.models import AuditEvent, Message, MessageStatus
from smsdesk.reasons import Reason
from smsdesk.services.template_store import save_template
from tests.factories import shopify_order
from tests.support.shops import Shop, shop_for
from tests.webhooks.payloads import bigcommerce_order, generic_event, woo_order

# -- what each platform sends --------------------------------------------------------------

WOO_REFUND = {"id": 730, "reason": "", "total": "-29.35"}
GENERIC_ORDER = {"id": "1001", "number": "1001", "currency": "EUR"}
GENERIC_CUSTOMER = {"first_name": "Jonas", "phone": "+49 151 12345678"}


def shopify_refund() -> dict:
    """The refund the Shopify order sample carries, as a refunds/create webhook sends it."""
    return shopify_order()["refunds"][0]


STEPS: dict[str, Callable[[Shop], None]] = {
    "woocommerce refunded": lambda s: (s.post("order.created", woo_order()),
                                       s.post("order.updated", woo_order(status="refunded", refunds=[WOO_REFUND]))),
    "woocommerce partly refunded": lambda s: (
        s.post("order.created", woo_order()),
        s.post("order.updated", woo_order(refunds=[{"id": 726, "reason": "", "total": "-10.00"}]))),
    "woocommerce failed": lambda s: s.post("order.created", woo_order(status="failed")),
    "bigcommerce 4 Refunded": lambda s: (s.bigcommerce(bigcommerce_order(status_id=11), "store/order/created"),
                                         s.bigcommerce(bigcommerce_order(status_id=4, refunded_amount="69.8400"))),
    "bigcommerce 14 Partially Refunded": lambda s: (
        s.bigcommerce(bigcommerce_order(status_id=11), "store/order/created"),
        s.bigcommerce(bigcommerce_order(status_id=14, refunded_amount="10.0000"))),
    "bigcommerce 6 Declined": lambda s: (s.bigcommerce(bigcommerce_order(status_id=7), "store/order/created"),
                                         s.bigcommerce(bigcommerce_order(status_id=6))),
    "generic order.refunded": lambda s: (
        s.post("", generic_event("order.placed", order=GENERIC_ORDER, customer=GENERIC_CUSTOMER)),
        s.post("", generic_event("order.refunded", order=GENERIC_ORDER,
                                 refund={"id": "r-1", "amount": "10.00", "partial": True}))),
    "shopify refunds/create": lambda s: (s.post("orders/create", shopify_order()),
                                         s.post("refunds/create", shopify_refund())),
}

# (row, platform, texts after the confirmation, words of the refund text)
TABLE = [
    ("woocommerce refunded", "woocommerce", ["order_refunded"], "issued a refund of 29.35 USD for your order #727"),
    ("woocommerce partly refunded", "woocommerce", ["order_refunded"],
     "issued a partial refund of 10.00 USD for your order #727"),
    ("woocommerce failed", "woocommerce", [], None),
    ("bigcommerce 4 Refunded", "bigcommerce", ["order_refunded"], "issued a refund of 69.84 USD for your order #250"),
    ("bigcommerce 14 Partially Refunded", "bigcommerce", ["order_refunded"],
     "issued a partial refund of 10.00 USD for your order #250"),
    ("bigcommerce 6 Declined", "bigcommerce", [], None),
    ("generic order.refunded", "generic", ["order_refunded"],
     "issued a partial refund of 10.00 EUR for your order #1001"),
    ("shopify refunds/create", "shopify", ["order_refunded"], "issued a refund of 209.00 USD for your order #1001"),
]


def outbound(db_session) -> list[Message]:
    db_session.fresh()
    return list(db_session.scalars(select(Message).where(Message.status != MessageStatus.NOTE).order_by(Message.id)))


@pytest.mark.parametrize(("row", "platform", "kinds", "words"), TABLE, ids=[row[0] for row in TABLE])
def test_refund_and_decline_words(request, make, client, db_session, drain, twilio_server, row, platform, kinds,
                                  words):
    shop = shop_for(platform, request, make, client)
    save_template(db_session, store_id=shop.store.id, kind="order_refunded", enabled=True)
    db_session.commit()
    STEPS[row](shop)
    STEPS[row](shop)  # the same again, as new deliveries: nothing is texted twice
    drain()
    messages = outbound(db_session)
    declined = words is None
    assert [m.kind for m in messages] == ([] if row == "woocommerce failed" else ["order_confirmed"]) + kinds
    assert not any("cancel" in m.body for m in messages)
    if words:
        assert words in messages[-1].body
        assert twilio_server.messages[-1]["body"] == messages[-1].body
    no_text = db_session.scalars(select(AuditEvent.reason).where(AuditEvent.action == "no_text")).all()
    assert (Reason.PAYMENT_DECLINED.value in no_text) == declined


@pytest.mark.parametrize(("row", "platform"), [(row, platform) for row, platform, kinds, _ in TABLE if kinds],
                         ids=[row for row, _, kinds, _ in TABLE if kinds])
def test_refund_is_not_texted_unless_the_owner_turned_it_on(request, make, client, db_session, row, platform):
    STEPS[row](shop_for(platform, request, make, client))
    assert [m.kind for m in outbound(db_session)] == ["order_confirmed"]
