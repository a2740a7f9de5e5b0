"""WooCommerce: whole-order webhooks, the REST API v3 for the catch-up poll. No privacy
webhooks of its own (owners erase and export with ``smsdesk customer``)."""
from smsdesk.enums import Platform
from smsdesk.platforms.spec import PlatformSpec
from smsdesk.platforms.woocommerce import mapping
from smsdesk.platforms.woocommerce.api import WooCommerceClient, has_credentials
from smsdesk.platforms.woocommerce.poll import poll

SPEC = PlatformSpec(platform=Platform.WOOCOMMERCE, mapping=mapping, client=WooCommerceClient,
                    has_credentials=has_credentials, poll=poll)
