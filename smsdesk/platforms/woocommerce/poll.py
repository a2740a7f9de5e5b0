"""WooCommerce catch-up: orders modified since the watermark (``modified_after``), each read
as an order.updated webhook carrying it would be."""
from __future__ import annotations

from datetime import datetime

from smsdesk.models import Store
from smsdesk.platforms.payload import BadPayload, text, timestamp
from smsdesk.platforms.spec import Change, Polled
from smsdesk.platforms.woocommerce.api import WooCommerceClient
from smsdesk.platforms.woocommerce.mapping import order_events


def poll(client: WooCommerceClient, since: datetime, until: datetime, country: str) -> Polled:
    orders = client.changed_orders(since, until)
    store = Store(country=country)  # the mapping reads only the store's country (never added to a session)
    changes = []
    for order in orders:
        modified = text(order.get("date_modified_gmt"))
        try:
            events = order_events(store, order)
        except BadPayload:
            continue  # an order we can't read (no id) would be refused as a webhook too
        changes.append(Change(key=f"order:{text(order.get('id'))}@{modified}", changed_at=timestamp(modified) or until,
                              events=events))
    return Polled(changes=changes, complete=len(orders) < client.page_limit)
