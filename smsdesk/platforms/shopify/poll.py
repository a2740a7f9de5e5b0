"""Shopify catch-up: Admin GraphQL orders updated since the watermark, read as the webhooks
that would have told us of them (orders/create or orders/cancelled, each shipped fulfillment,
each refund), through the same mapping, so a change seen twice is one text."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from smsdesk.events import Event, OrderInfo, OrderPlaced, OrderRefunded
from smsdesk.models import Store
from smsdesk.platforms.payload import MAX_ID_LENGTH, BadPayload, as_dict, text, timestamp
from smsdesk.platforms.shopify.api import ShopifyClient
from smsdesk.platforms.shopify.mapping import order_customer, order_info, orders_cancelled, shipment_events
from smsdesk.platforms.spec import Change, Polled

# Fulfillment.displayStatus -> the REST shipment_status the mapping reads (others: just shipped).
SHIPMENT_STATUS = {"IN_TRANSIT": "in_transit", "OUT_FOR_DELIVERY": "out_for_delivery", "DELIVERED": "delivered",
                   "PICKED_UP": "delivered", "READY_FOR_PICKUP": "ready_for_pickup",
                   "ATTEMPTED_DELIVERY": "attempted_delivery", "FAILURE": "failure", "NOT_DELIVERED": "failure"}


def poll(client: ShopifyClient, since: datetime, until: datetime, country: str) -> Polled:
    orders = client.changed_orders(since, until)
    store = Store(country=country)  # the mapping reads only the store's country (never added to a session)
    changes = []
    for node in orders:
        try:
            events = order_events(store, node, since=since)
        except BadPayload:
            continue  # no id: nothing we could file it under
        changes.append(Change(key=f"order:{text(node.get('legacyResourceId'))}@{text(node.get('updatedAt'))}",
                              changed_at=timestamp(node.get("updatedAt")) or until, events=events))
    return Polled(changes=changes, complete=len(orders) < client.page_limit)


def order_events(store: Store, node: dict, *, since: datetime) -> list[Event]:
    """Where a GraphQL order stands: cancelled, or its shipped fulfillments and refunds, and
    placed when it was created in the window read (orders/create would have told of it then;
    an older order was placed before an earlier poll, or before smsdesk watched the store)."""
    payload = rest_order(node)
    if node.get("cancelledAt"):
        return orders_cancelled(store, payload)
    order, customer = order_info(payload), order_customer(store, payload)
    created = timestamp(node.get("createdAt"))
    events: list[Event] = [OrderPlaced(order=order, customer=customer)] if created is None or created > since else []
    for fulfillment in payload["fulfillments"]:
        events += shipment_events(fulfillment, order=order, customer=customer)
    events += [refund_event(order, refund) for refund in _nodes(node.get("refunds"))]
    return events


def refund_event(order: OrderInfo, refund: dict) -> OrderRefunded:
    amount = text(as_dict(as_dict(refund.get("totalRefundedSet")).get("shopMoney")).get("amount"))
    return OrderRefunded(order=OrderInfo(external_id=order.external_id),
                         refund_id=text(refund.get("legacyResourceId"))[:MAX_ID_LENGTH], amount=amount)


def rest_order(node: dict) -> dict[str, Any]:
    """A GraphQL order in the REST (webhook) shape smsdesk/platforms/shopify/mapping.py reads."""
    total = as_dict(as_dict(node.get("currentTotalPriceSet")).get("shopMoney"))
    customer = as_dict(node.get("customer"))
    return {
        "id": node.get("legacyResourceId"), "name": node.get("name"), "updated_at": node.get("updatedAt"),
        "current_total_price": total.get("amount"), "currency": node.get("currencyCode") or total.get("currencyCode"),
        "order_status_url": node.get("statusPageUrl"), "phone": node.get("phone"), "email": node.get("email"),
        "customer": {"first_name": customer.get("firstName"), "last_name": customer.get("lastName"),
                     "email": customer.get("email"), "phone": customer.get("phone")},
        "shipping_address": _address(node.get("shippingAddress")),
        "billing_address": _address(node.get("billingAddress")),
        "line_items": [{"name": i.get("name"), "quantity": i.get("quantity"),
                        "current_quantity": i.get("currentQuantity"), "requires_shipping": i.get("requiresShipping")}
                       for i in _nodes(node.get("lineItems"))],
        "fulfillments": [_fulfillment(f) for f in node.get("fulfillments") or [] if isinstance(f, dict)],
    }


def _fulfillment(node: dict) -> dict[str, Any]:
    tracking = next((t for t in node.get("trackingInfo") or [] if isinstance(t, dict)), {})
    return {"id": node.get("legacyResourceId"), "status": text(node.get("status")).lower(),
            "shipment_status": SHIPMENT_STATUS.get(text(node.get("displayStatus"))),
            "tracking_number": tracking.get("number"), "tracking_url": tracking.get("url"),
            "tracking_company": tracking.get("company"),
            "line_items": [{"name": as_dict(i.get("lineItem")).get("name"), "quantity": i.get("quantity")}
                           for i in _nodes(node.get("fulfillmentLineItems"))]}


def _address(value: Any) -> dict[str, Any]:
    address = as_dict(value)
    return {"phone": address.get("phone"), "country_code": address.get("countryCodeV2"),
            "first_name": address.get("firstName"), "last_name": address.get("lastName")}


def _nodes(connection: Any) -> list[dict]:
    """The objects of a GraphQL connection ({nodes: [...]}) or a plain list."""
    items = connection if isinstance(connection, list) else as_dict(connection).get("nodes") or []
    return [item for item in items if isinstance(item, dict)]
