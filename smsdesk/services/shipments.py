"""Packages of an order: each fulfillment / shipment with its own status, tracking and items.

A platform that names its packages (Shopify fulfillments, BigCommerce shipments, WooCommerce
tracking items, generic ``shipment.id``) gets one row per package and one text per package
and stage, each with that package's tracking. A platform that only speaks of the whole order
gets one package with an empty ``external_id``.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from smsdesk.events import CartItem, ShipmentUpdated, Tracking
from smsdesk.models import Order, Shipment
from smsdesk.services.links import text_link

ID_LIMIT = 64  # characters of a platform's package id (models.Shipment.external_id)
TRACKING_LIMIT = 255  # characters of tracking number / company kept
ITEMS_KEPT = 100  # items stored per package
ITEMS_NAMED = 3  # items a text names before "and N more"


def packages_of(session: Session, order: Order) -> list[Shipment]:
    """Every package of the order, oldest first."""
    return list(session.scalars(select(Shipment).where(Shipment.order_id == order.id).order_by(Shipment.id)))


def get_package(session: Session, order: Order, external_id: str) -> Shipment:
    """The order's package with this platform id, created when new (race-safe)."""
    external_id = external_id[:ID_LIMIT]
    package = _find(session, order.id, external_id)
    if package is not None:
        return package
    try:
        with session.begin_nested():
            package = Shipment(store_id=order.store_id, order_id=order.id, external_id=external_id, status="new")
            session.add(package)
    except IntegrityError:  # the same package raced us from another delivery: it exists now
        package = session.scalars(select(Shipment).where(Shipment.order_id == order.id,
                                                         Shipment.external_id == external_id)).one()
    return package


def named_package(session: Session, order: Order, event: ShipmentUpdated) -> tuple[Shipment, bool]:
    """The package an event names, and whether it was the order's unnamed package until now.

    An order texted as a whole (no package id: a status set by hand, a WooCommerce order completed
    before its tracking was added, an order shipped before packages existed) whose first named
    package then arrives is that same parcel when the tracking does not contradict it: the
    unnamed package takes the name, so the parcel is not texted "shipped" twice.
    """
    package = _find(session, order.id, event.shipment_id[:ID_LIMIT])
    if package is not None:
        return package, False
    packages = packages_of(session, order)
    if len(packages) == 1 and not packages[0].external_id and _may_be(packages[0], event.tracking):
        packages[0].external_id = event.shipment_id[:ID_LIMIT]
        return packages[0], True
    return get_package(session, order, event.shipment_id), False


def _may_be(package: Shipment, tracking: Tracking) -> bool:
    """False when the two tracking numbers say these are different parcels."""
    number = tracking.number[:TRACKING_LIMIT]
    return not package.tracking_number or not number or package.tracking_number == number


def _find(session: Session, order_id: int, external_id: str) -> Shipment | None:
    return session.scalar(select(Shipment).where(Shipment.order_id == order_id, Shipment.external_id == external_id))


def record_details(package: Shipment, event: ShipmentUpdated) -> None:
    """Keep what the event says about the package; what it leaves out stays as it was."""
    set_tracking(package, event.tracking)
    if event.items:
        package.items = items_kept(event.items)
        package.item_count = sum(i.quantity for i in event.items)


def items_kept(items: tuple[CartItem, ...]) -> list[dict[str, Any]]:
    """Line items as an order or a package keeps them (JSON), capped."""
    return [{"title": i.title[:255], "quantity": i.quantity} for i in items[:ITEMS_KEPT]]


def mirror_newest(session: Session, order: Order, package: Shipment) -> None:
    """The order's own tracking shows its newest package's (a late event for an older one changes nothing)."""
    newest = session.scalar(select(func.max(Shipment.id)).where(Shipment.order_id == order.id))
    if package.id == newest:
        set_tracking(order, Tracking(number=package.tracking_number, company=package.tracking_company,
                                     url=package.tracking_url))


def set_tracking(row: Order | Shipment, tracking: Tracking) -> None:
    """Tracking of an order or a package; empty fields keep the value known before."""
    row.tracking_number = tracking.number[:TRACKING_LIMIT] or row.tracking_number
    row.tracking_company = tracking.company[:TRACKING_LIMIT] or row.tracking_company
    row.tracking_url = tracking.url or row.tracking_url


def is_partial(package: Shipment | None, order: Order) -> bool:
    """True when the package holds fewer units than were ordered (both known)."""
    return package is not None and 0 < package.item_count < order.item_count


def shipment_vars(package: Shipment | None, order: Order) -> dict[str, Any]:
    """The ``shipment.*`` template variables of a package (None: the whole order)."""
    if package is None:
        return {"partial": False, "item_count": order.item_count or "", "order_item_count": order.item_count or "",
                "items": ""}
    return {"partial": is_partial(package, order), "item_count": package.item_count or "",
            "order_item_count": order.item_count or "", "items": items_text(package.items or [])}


def tracking_vars(package: Shipment | None, order: Order) -> dict[str, str]:
    """A named package's own tracking; the order's latest for a text about the whole order."""
    row: Order | Shipment = package if package is not None and package.external_id else order
    return {"number": row.tracking_number, "company": row.tracking_company, "url": text_link(row.tracking_url)}


def items_text(items: list[Any]) -> str:
    """"Wool Mittens, Scarf x2 and 3 more" (plain ASCII, so the text stays GSM-7)."""
    named = [_item_words(item) for item in items if isinstance(item, dict) and item.get("title")]
    if len(named) > ITEMS_NAMED:
        return f"{', '.join(named[:ITEMS_NAMED])} and {len(named) - ITEMS_NAMED} more"
    return ", ".join(named)


def _item_words(item: dict) -> str:
    quantity = item.get("quantity") or 1
    return f"{item['title']} x{quantity}" if quantity > 1 else str(item["title"])
