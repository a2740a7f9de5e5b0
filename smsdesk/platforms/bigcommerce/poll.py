"""BigCommerce catch-up: the V2 orders modified since the watermark (``min_date_modified``),
each read as a callback naming it would be (its status now, shipments and all)."""
from __future__ import annotations

from datetime import datetime

from smsdesk.platforms.bigcommerce.api import BigCommerceClient
from smsdesk.platforms.bigcommerce.mapping import order_events
from smsdesk.platforms.payload import text
from smsdesk.platforms.spec import Change, Polled
from smsdesk.retry import http_date_of


def poll(client: BigCommerceClient, since: datetime, until: datetime, country: str) -> Polled:
    orders = client.changed_orders(since, until)
    changes = [Change(key=f"order:{text(order.get('id'))}@{text(order.get('date_modified'))}",
                      changed_at=http_date_of(order.get("date_modified")) or until,
                      events=order_events(client, order, default_country=country))
               for order in orders]
    return Polled(changes=changes, complete=len(orders) < client.page_limit)
