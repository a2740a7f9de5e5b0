"""BigCommerce orders -> normalized events (no HTTP here: the client is passed in).

A callback only names the order; what the customer hears depends on the order's status
*now* (``status_id``, samples/bigcommerce/v2_order_statuses.json), so a late, replayed or
shuffled callback still leads to the right text, and the order service texts each stage once.

Status decisions:
- 7 Awaiting Payment, 9 Awaiting Shipment, 11 Awaiting Fulfillment: order placed (confirmed).
- 8 Awaiting Pickup: ready for pickup.
- 2 Shipped, 3 Partially Shipped: shipped, one package per shipment, each with its own
  tracking and items (named from the order's products; fewer units than ``items_total``:
  a partial shipment).
  A store/shipment/created callback: that shipment.
- 10 Completed: delivered (the whole order, one text). BigCommerce defines it as "shipped/picked
  up and receipt confirmed" (or a digital download made available), the closest it has to
  "delivered".
- 5 Cancelled: cancelled.
- 4 Refunded, 14 Partially Refunded: refunded (``refunded_amount``), not cancelled: the goods
  may be on their way or already home.
- 6 Declined: the payment was declined; nothing was bought, so no text (recorded).
- 0 Incomplete, 1 Pending (checkout not finished), 12 Manual Verification Required,
  13 Disputed: recorded, nothing to tell the customer.

An abandoned cart (store/cart/abandoned) becomes a CheckoutUpdated from the V3 checkout
(phone and name from its billing or shipping address, items, total) and the cart's
recovery link. BigCommerce has no SMS marketing consent, so its consent stays unknown.
A cart that is gone by the time we look (bought or deleted) gives no event.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from smsdesk.events import (
    CartItem,
    CheckoutUpdated,
    CustomerInfo,
    Event,
    OrderCancelled,
    OrderInfo,
    OrderPlaced,
    OrderRefunded,
    PaymentDeclined,
    ShipmentUpdated,
    Tracking,
)
from smsdesk.platforms.payload import MAX_CART_ITEMS, as_dict, as_int, text
from smsdesk.services.phones import PhoneCheck, first_textable

ORDER_SCOPES = ("store/order/created", "store/order/statusUpdated")
SHIPMENT_SCOPE = "store/shipment/created"
CART_SCOPE = "store/cart/abandoned"
FETCHED_SCOPES = ORDER_SCOPES + (SHIPMENT_SCOPE, CART_SCOPE)
STATUS_FOR_ID: dict[int | None, str] = {
    7: "placed", 9: "placed", 11: "placed", 8: "ready_for_pickup", 2: "shipped", 3: "shipped", 10: "delivered",
    5: "cancelled", 4: "refunded", 14: "partially_refunded", 6: "declined"}
NEEDS_TRACKING = ("shipped", "delivered")
ITEM_KINDS = ("physical_items", "digital_items", "custom_items", "gift_certificates")  # a V3 cart's line_items


class OrderSource(Protocol):
    """What the mapping needs from the API client (smsdesk.platforms.bigcommerce.api)."""

    def order(self, order_id: str) -> dict: ...
    def shipping_addresses(self, order_id: str) -> list: ...
    def shipments(self, order_id: str) -> list: ...
    def products(self, order_id: str) -> list: ...
    def checkout(self, checkout_id: str) -> dict | None: ...
    def cart_recovery_url(self, cart_id: str) -> str: ...


def fetch_events(api: OrderSource, payload: dict, *, default_country: str) -> list[Event]:
    """Fetch what a recorded callback names and return its events (API errors propagate)."""
    data = payload.get("data") or {}
    if payload.get("scope") == CART_SCOPE:
        return cart_events(api, str(data["id"]), default_country=default_country)
    is_shipment = payload.get("scope") == SHIPMENT_SCOPE
    order_id = str(data["orderId"] if is_shipment else data["id"])
    return order_events(api, api.order(order_id), shipment_id=str(data["id"]) if is_shipment else None,
                        default_country=default_country)


def order_events(api: OrderSource, order: dict, *, shipment_id: str | None = None,
                 default_country: str) -> list[Event]:
    """The events of an order as it stands now (``shipment_id``: a callback named that shipment);
    the catch-up poll calls this with each order of its listing."""
    order_id = text(order.get("id"))
    status = STATUS_FOR_ID.get(as_int(order.get("status_id")))
    if shipment_id is not None and status != "delivered":
        status = "shipped"  # the shipment itself says so, whatever the status says yet
    if status is None:
        return []
    customer = order_customer(order, api.shipping_addresses(order_id), default_country=default_country)
    info = order_info(order)
    if status == "placed":
        return [OrderPlaced(order=info, customer=customer)]
    if status == "cancelled":
        return [OrderCancelled(order=info, customer=customer)]
    if status in ("refunded", "partially_refunded"):
        return [OrderRefunded(order=info, customer=customer, amount=money(order.get("refunded_amount")),
                              partial=status == "partially_refunded")]
    if status == "declined":
        return [PaymentDeclined(order=info, customer=customer)]
    shipments = api.shipments(order_id) if status in NEEDS_TRACKING else []
    if status == "shipped":
        packages = shipped_packages(shipments, shipment_id)
        names = product_names(api.products(order_id)) if any(p.get("items") for p in packages) else {}
        return [package_event(p, order=info, customer=customer, names=names) for p in packages]
    # The order as a whole (delivered, ready for pickup): one text, with the newest tracking.
    return [ShipmentUpdated(order=info, status=status, tracking=tracking(pick_shipment(shipments, None)),
                            customer=customer)]


def shipped_packages(shipments: list, named: str | None) -> list[dict]:
    """The shipment a callback named, else every shipment oldest first ([{}]: none listed yet)."""
    if named is not None:
        return [pick_shipment(shipments, named)]
    listed = sorted((s for s in shipments or [] if isinstance(s, dict)), key=lambda s: as_int(s.get("id")) or 0)
    return listed or [{}]


def product_names(products: list) -> dict[str, str]:
    """The order's products by their order product id."""
    return {text(p.get("id")): text(p.get("name")) for p in products or [] if isinstance(p, dict)}


def package_event(shipment: dict, *, order: OrderInfo, customer: CustomerInfo,
                  names: dict[str, str]) -> ShipmentUpdated:
    """One shipment as a shipped package; its items name order products by id, named from ``names``."""
    items = tuple(CartItem(title=names.get(text(i.get("order_product_id")), ""),
                           quantity=max(as_int(i.get("quantity")) or 1, 1))
                  for i in shipment.get("items") or [] if isinstance(i, dict))
    return ShipmentUpdated(order=order, status="shipped", tracking=tracking(shipment), customer=customer,
                           shipment_id=text(shipment.get("id")), items=items)


def order_info(order: dict) -> OrderInfo:
    """BigCommerce shows the order id to shoppers as the order number; it has no status page URL."""
    return OrderInfo(external_id=text(order.get("id")), number=text(order.get("id")),
                     total=money(order.get("total_inc_tax")), currency=text(order.get("currency_code")),
                     checkout_token=text(order.get("cart_id")) or None,  # closes the abandoned cart
                     item_count=max(as_int(order.get("items_total")) or 0, 0))


def cart_events(api: OrderSource, cart_id: str, *, default_country: str) -> list[Event]:
    """An abandoned cart as a CheckoutUpdated keyed by the cart id ([] when the cart is gone)."""
    checkout = api.checkout(cart_id)
    if checkout is None:
        return []
    cart = as_dict(checkout.get("cart"))
    billing = as_dict(checkout.get("billing_address"))
    addresses = [billing] + [as_dict(as_dict(c).get("address")) for c in checkout.get("consignments") or []]
    check = _first_phone(addresses, country_key="country_code", default_country=default_country)
    customer = CustomerInfo(phone=check.phone, phone_problem=check.problem,
                            first_name=text(billing.get("first_name")), last_name=text(billing.get("last_name")),
                            email=text(cart.get("email") or billing.get("email")))
    return [CheckoutUpdated(token=cart_id, customer=customer, recovery_url=api.cart_recovery_url(cart_id),
                            total=money(cart.get("cart_amount")),
                            currency=text(as_dict(cart.get("currency")).get("code")), items=cart_items(cart))]


def cart_items(cart: dict) -> tuple[CartItem, ...]:
    lines = as_dict(cart.get("line_items"))
    items = [item for kind in ITEM_KINDS for item in lines.get(kind) or [] if isinstance(item, dict)]
    return tuple(CartItem(title=text(i.get("name")), quantity=max(as_int(i.get("quantity")) or 1, 1))
                 for i in items[:MAX_CART_ITEMS])


def order_customer(order: dict, addresses: list, *, default_country: str) -> CustomerInfo:
    """The buyer: billing phone first, then each shipping address's."""
    billing = as_dict(order.get("billing_address"))
    candidates = [billing] + [as_dict(a) for a in addresses or []]
    check = _first_phone(candidates, country_key="country_iso2", default_country=default_country)
    return CustomerInfo(phone=check.phone, phone_problem=check.problem, first_name=text(billing.get("first_name")),
                        last_name=text(billing.get("last_name")), email=text(billing.get("email")))


def _first_phone(addresses: list[dict], *, country_key: str, default_country: str) -> PhoneCheck:
    """The first address phone that can receive texts, read in that address's country, then in
    every address's country (billing first), then the store's."""
    countries = [a.get(country_key) for a in addresses]
    return first_textable([(a.get("phone"), a.get(country_key)) for a in addresses],
                          countries=[*countries, default_country])


def pick_shipment(shipments: list, shipment_id: str | None) -> dict:
    """The shipment a callback named, else the newest one (highest id), else {}."""
    shipments = [s for s in shipments or [] if isinstance(s, dict)]
    named = [s for s in shipments if shipment_id is not None and text(s.get("id")) == shipment_id]
    if named:
        return named[0]
    return max(shipments, key=lambda s: as_int(s.get("id")) or 0, default={})


def tracking(shipment: dict) -> Tracking:
    company = (shipment.get("shipping_provider_display_name") or shipment.get("tracking_carrier")
               or shipment.get("shipping_provider"))
    url = shipment.get("tracking_link") or shipment.get("generated_tracking_link")
    return Tracking(number=text(shipment.get("tracking_number")), company=text(company), url=text(url))


def money(value: Any) -> str:
    """"69.8400" -> "69.84" (BigCommerce sends four decimals)."""
    try:
        return str(Decimal(text(value)).quantize(Decimal("0.01")))
    except InvalidOperation:
        return text(value)
