"""The phone every adapter picks (platforms/payload.customer_from, read by the apply job's
read_phone; smsdesk.services.phones): billing and shipping countries both tried, the store's
last; labels read; landlines and invalid numbers give no phone but a reason."""
import pytest

from smsdesk.models import Store
from smsdesk.platforms.bigcommerce.mapping import fetch_events
from smsdesk.platforms.payload import read_phone
from smsdesk.reasons import Reason
from tests.factories import shopify_order
from tests.webhooks.payloads import (
    CART_ID,
    bigcommerce_callback,
    bigcommerce_checkout,
    bigcommerce_order,
    generic_event,
    woo_order,
)
from webhooks.generic import GenericAdapter
from webhooks.shopify import ShopifyAdapter
from webhooks.woocommerce import WooCommerceAdapter


def shopify(phone, *, billing, shipping, store):
    """The buyer's phone on the order; both addresses without one."""
    payload = shopify_order(phone=phone, sms_marketing_phone=None, customer={"first_name": "Ada"},
                            billing_address={"phone": None, "country_code": billing},
                            shipping_address={"phone": None, "country_code": shipping})
    [event] = ShopifyAdapter().parse(Store(country=store), "orders/create", payload)
    return read_phone(event.customer)


def woocommerce(phone, *, billing, shipping, store):
    """The phone on the shipping address (WooCommerce 5.6+ has one), none on billing."""
    payload = woo_order(billing=dict(woo_order()["billing"], phone="", country=billing),
                        shipping=dict(woo_order()["shipping"], phone=phone, country=shipping))
    [event] = WooCommerceAdapter().parse(Store(country=store), "order.created", payload)
    return read_phone(event.customer)


def generic(phone, *, billing, shipping, store):
    """smsdesk's own JSON names one country per customer: the shipping one here."""
    data = generic_event("order.placed", order={"id": "1"}, customer={"phone": phone, "country": shipping})["data"]
    [event] = GenericAdapter().parse(Store(country=store), "order.placed", {"data": data})
    return read_phone(event.customer)


class BigCommerceOrder:
    """The reads fetch_events makes: the order (billing address) and its shipping addresses."""

    def __init__(self, phone, billing, shipping):
        self._order = bigcommerce_order(status_id=11, billing_address=dict(
            bigcommerce_order()["billing_address"], phone="", country_iso2=billing))
        self._addresses = [{"phone": phone, "country_iso2": shipping}]

    def order(self, order_id):
        return self._order

    def shipping_addresses(self, order_id):
        return self._addresses


def bigcommerce(phone, *, billing, shipping, store):
    """The phone on the shipping address, none on the billing one."""
    [event] = fetch_events(BigCommerceOrder(phone, billing, shipping),
                           bigcommerce_callback("store/order/created", 250), default_country=store)
    return event.customer


ADAPTERS = [shopify, woocommerce, bigcommerce]


@pytest.mark.parametrize("adapter", ADAPTERS + [generic])
@pytest.mark.parametrize(("raw", "phone", "problem"), [
    ("Cell: 212-555-0123", "+12125550123", None),
    ("212-555-0123 (mobile)", "+12125550123", None),
    ("Mobile - +44 7700 900124", "+447700900124", None),
    ("tel:+1-502-459-2181", "+15024592181", None),
    ("+49 30 1234567", None, Reason.LANDLINE),  # Berlin
    ("+44 20 7946 0000", None, Reason.LANDLINE),  # London
    ("+33 1 42 68 53 00", None, Reason.LANDLINE),  # Paris
    ("+49 151 12345678", "+4915112345678", None),
    ("+33 6 12 34 56 78", "+33612345678", None),
    ("555-555-SHIP", None, Reason.INVALID_NUMBER),
    ("1234567890", None, Reason.INVALID_NUMBER),
    ("", None, Reason.NO_PHONE),
])
def test_every_adapter_reads_the_same_phone(adapter, raw, phone, problem):
    customer = adapter(raw, billing="US", shipping="US", store="US")
    assert (customer.phone, customer.phone_problem) == (phone, problem)


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize(("billing", "shipping", "store"), [
    ("GB", "US", "US"),  # a UK buyer's gift shipped to the US
    ("US", "GB", "US"),
    ("", "US", "GB"),  # only the store's country knows: tried last
])
def test_national_number_is_read_in_the_billing_and_the_shipping_country(adapter, billing, shipping, store):
    customer = adapter("07700 900124", billing=billing, shipping=shipping, store=store)
    assert (customer.phone, customer.phone_problem) == ("+447700900124", None)


@pytest.mark.parametrize("adapter", ADAPTERS + [generic])
def test_national_number_of_no_country_involved_is_invalid(adapter):
    customer = adapter("07700 900124", billing="US", shipping="US", store="US")
    assert (customer.phone, customer.phone_problem) == (None, Reason.INVALID_NUMBER)


def test_generic_reads_its_one_country_then_the_stores():
    assert generic("07700 900124", billing="", shipping="US", store="GB").phone == "+447700900124"




class BigCommerceCart:
    """The reads an abandoned cart makes: the V3 checkout and the cart's recovery link."""

    def __init__(self, checkout):
        self._checkout = checkout

    def checkout(self, cart_id):
        return self._checkout

    def cart_recovery_url(self, cart_id):
        return f"https://shop.example.com/cart.php?recover={cart_id}"


@pytest.mark.parametrize(("billing_phone", "consignment_phone", "phone", "problem"), [
    ("", "07700 900124", "+447700900124", None),  # billing GB, consignment US: read in GB too
    ("Tel: 020 7946 0000", "", None, Reason.LANDLINE),
    ("", "", None, Reason.NO_PHONE),
])
def test_bigcommerce_cart_phone_tries_every_address_country(billing_phone, consignment_phone, phone, problem):
    checkout = bigcommerce_checkout(
        billing_address={"first_name": "Ada", "phone": billing_phone, "country_code": "GB"},
        consignments=[{"address": {"phone": consignment_phone, "country_code": "US"}}])
    [event] = fetch_events(BigCommerceCart(checkout), bigcommerce_callback("store/cart/abandoned", CART_ID),
                           default_country="US")
    assert (event.customer.phone, event.customer.phone_problem) == (phone, problem)
