"""WooCommerce REST API v3 order objects -> normalized events (webhook bodies and the catch-up poll alike).

Order webhooks carry the whole order, so every delivery says where the order stands; its
``status`` is mapped to normalized events. Replays and transitions already texted are
harmless: the order service texts each stage once and never backwards.

Refunds: a fully refunded order has status ``refunded``; a partly refunded one keeps its status
and lists the refund in ``refunds``, so order.updated tells both, with the refund's id. The
``action.woocommerce_order_refunded`` action topics only carry the order id (no refund id to text
each refund once by), so they are not needed and are ignored.
"""
from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from smsdesk.events import (
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
from smsdesk.models import Store
from smsdesk.platforms.payload import (
    MAX_ID_LENGTH,
    amount,
    as_dict,
    cart_items,
    customer_from,
    object_list,
    quantity,
    require_id,
    text,
)
from smsdesk.services.languages import normalize as normalize_language

ORDER_TOPICS = ("order.created", "order.updated")
# Order status -> what it means for the customer. pending/checkout-draft: not paid yet, no text.
PLACED_STATUSES = ("processing", "on-hold")  # on-hold: ordered, paying by bank transfer (funds not in yet)
SHIPPED_STATUSES = ("completed",)  # WooCommerce's "fulfilled"
CANCELLED_STATUSES = ("cancelled",)
REFUNDED_STATUS = "refunded"  # fully refunded (WooCommerce sets it itself once every cent went back)
DECLINED_STATUS = "failed"  # "the customer's payment failed or was declined": nothing was bought
MAX_LINE_ITEMS = 250  # line items counted per order
TRACKING_META_KEY = "_wc_shipment_tracking_items"  # WooCommerce Shipment Tracking extension
# A tracking item without a custom link names its carrier; these carriers' public tracking pages.
PROVIDER_LINKS = {
    "usps": "https://tools.usps.com/go/TrackConfirmAction_input?qtc_tLabels1={number}",
    "ups": "https://www.ups.com/track?loc=en_US&tracknum={number}",
    "fedex": "https://www.fedex.com/fedextrack/?trknbr={number}",
    "dhl": "https://www.dhl.com/en/express/tracking.html?AWB={number}",
}
PROVIDER_NAMES = {"usps": "USPS", "ups": "UPS", "fedex": "FedEx", "dhl": "DHL"}



def order_events(store: Store, payload: dict) -> list[Event]:
    """The events an order's current status stands for ([] for unpaid or unknown states), and its
    newest refund while it is only partly refunded (WooCommerce keeps the status then)."""
    order, customer = order_info(payload), order_customer(store, payload)
    status = text(payload.get("status")).lower()
    if status == REFUNDED_STATUS:
        return [refund_event(payload, order=order, customer=customer, partial=False)]
    if status == DECLINED_STATUS:
        return [PaymentDeclined(order=order, customer=customer)]
    if status in CANCELLED_STATUSES:
        return [OrderCancelled(order=order, customer=customer)]
    events: list[Event] = []
    if status in PLACED_STATUSES:
        events.append(OrderPlaced(order=order, customer=customer))
    if status in SHIPPED_STATUSES:
        events += shipment_events(payload, order=order, customer=customer)
    if events and refunds(payload):
        events.append(refund_event(payload, order=order, customer=customer, partial=True))
    return events


def order_info(payload: dict) -> OrderInfo:
    items = object_list(payload.get("line_items"), "line_items")[:MAX_LINE_ITEMS]
    return OrderInfo(external_id=require_id(payload, "id"), number=text(payload.get("number")),
                     total=text(payload.get("total")), currency=text(payload.get("currency")),
                     item_count=sum(quantity(i.get("quantity")) for i in items),
                     items=cart_items(items, title_keys=("name",)))


def refunds(payload: dict) -> list[dict]:
    """The order's refunds (``[{id, reason, total: "-10.00"}]``), newest first as WooCommerce lists them."""
    return [r for r in object_list(payload.get("refunds"), "refunds") if text(r.get("id"))]


def refund_event(payload: dict, *, order: OrderInfo, customer: CustomerInfo, partial: bool) -> OrderRefunded:
    """The newest refund of the order: its id makes its text once, its total is what went back."""
    newest = max(refunds(payload), key=lambda r: amount(r.get("id")), default={})
    return OrderRefunded(order=order, customer=customer, refund_id=text(newest.get("id"))[:MAX_ID_LENGTH],
                         amount=_amount(newest.get("total")), partial=partial)


def _amount(value: object) -> str:
    """A refund total as WooCommerce sends it ("-10.00") as money given back ("10.00"); "" if none."""
    money = abs(amount(value))
    return str(money.quantize(Decimal("0.01"))) if money else ""


def order_customer(store: Store, payload: dict) -> CustomerInfo:
    """The buyer: billing phone first (WooCommerce asks for it there), then the shipping one;
    national numbers read in their address's country, then the other's, then the store's."""
    billing, shipping = as_dict(payload.get("billing")), as_dict(payload.get("shipping"))
    phones = [(billing.get("phone"), billing.get("country")), (shipping.get("phone"), shipping.get("country"))]
    info = customer_from(phones=phones, countries=[billing.get("country"), shipping.get("country")],
                         default_country=store.country,
                         first_name=billing.get("first_name") or shipping.get("first_name"),
                         last_name=billing.get("last_name") or shipping.get("last_name"),
                         email=billing.get("email"))
    return replace(info, language=order_language(payload))


# Where multilingual plugins keep the language an order was placed in: WPML's ``wpml_language`` order
# meta, Polylang (for WooCommerce)'s ``pll_language`` (``_pll_language`` on older set-ups).
LANGUAGE_META_KEYS = ("wpml_language", "pll_language", "_pll_language")


def order_language(payload: dict) -> str | None:
    """The order's language from WPML's or Polylang's meta ("es", "fr_CA" -> "fr"); None without one."""
    meta = {m.get("key"): m.get("value") for m in object_list(payload.get("meta_data"), "meta_data")}
    for key in LANGUAGE_META_KEYS:
        language = normalize_language(meta.get(key))
        if language is not None:
            return language
    return None


def shipment_events(payload: dict, *, order: OrderInfo, customer: CustomerInfo) -> list[Event]:
    """One shipped package per Shipment Tracking item (oldest first, so the order keeps the newest
    tracking); a completed order without the extension is one package for the whole order."""
    items = tracking_items(payload)
    if not items:
        return [ShipmentUpdated(order=order, status="shipped", customer=customer)]
    return [ShipmentUpdated(order=order, status="shipped", tracking=tracking(item), customer=customer,
                            shipment_id=text(item.get("tracking_id") or item.get("tracking_number"))[:MAX_ID_LENGTH])
            for item in items]


def tracking_items(payload: dict) -> list[dict]:
    """The order's Shipment Tracking items, if the extension is installed."""
    return [item for meta in object_list(payload.get("meta_data"), "meta_data")
            if meta.get("key") == TRACKING_META_KEY and isinstance(meta.get("value"), list)
            for item in meta["value"] if isinstance(item, dict)]


def tracking(item: dict) -> Tracking:
    """One Shipment Tracking item as tracking: its custom link, else its carrier's public page."""
    number = text(item.get("tracking_number"))
    provider = text(item.get("tracking_provider"))
    link = text(item.get("custom_tracking_link"))
    if not link and number and provider.lower() in PROVIDER_LINKS:
        link = PROVIDER_LINKS[provider.lower()].format(number=number)
    company = text(item.get("custom_tracking_provider")) or PROVIDER_NAMES.get(provider.lower(), provider)
    return Tracking(number=number, company=company, url=link)

