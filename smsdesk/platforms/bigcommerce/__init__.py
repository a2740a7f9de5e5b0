"""BigCommerce: thin callbacks (the fetch job reads what they name), the V2 Orders API, and a
catch-up poll of orders modified since the watermark. No privacy webhooks of its own."""
from smsdesk.enums import Platform
from smsdesk.platforms.bigcommerce import mapping
from smsdesk.platforms.bigcommerce.api import BigCommerceClient, has_credentials
from smsdesk.platforms.bigcommerce.poll import poll
from smsdesk.platforms.spec import PlatformSpec


def _fetch(client: BigCommerceClient, payload: dict, country: str) -> list:
    return mapping.fetch_events(client, payload, default_country=country)


SPEC = PlatformSpec(platform=Platform.BIGCOMMERCE, mapping=mapping, client=BigCommerceClient,
                    has_credentials=has_credentials, poll=poll, fetch=_fetch)
