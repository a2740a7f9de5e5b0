"""Owner API for a customer's data: export it, or erase it (DESIGN §8)."""
from __future__ import annotations

from dataclasses import asdict

from flask import g

from smsdesk.api import NotFound, bp, owner_required, store_or_404
from smsdesk.db import get_session
from smsdesk.services.privacy import UnknownCustomer, erase_customer, export_customer, find_by_phone


def _customer(store, phone: str):
    try:
        return find_by_phone(get_session(), store, phone)
    except UnknownCustomer as exc:
        raise NotFound(str(exc)) from None


@bp.get("/stores/<slug>/customers/<phone>/export")
@owner_required
def export_customer_data(slug: str, phone: str):
    """Everything held on the customer with this phone (read in the store's country)."""
    store = store_or_404(slug)
    return export_customer(get_session(), store, _customer(store, phone))


@bp.delete("/stores/<slug>/customers/<phone>")
@owner_required
def erase_customer_data(slug: str, phone: str):
    """Erase the customer's personal data; counts, statuses and the fact of an opt-out stay."""
    session = get_session()
    store = store_or_404(slug)
    result = erase_customer(session, store, _customer(store, phone), requested_by=f"api {g.agent.email}")
    session.commit()
    return {"erased": asdict(result)}
