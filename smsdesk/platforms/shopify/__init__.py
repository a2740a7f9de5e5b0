"""Shopify: HMAC-signed webhooks (REST shapes), the Admin GraphQL API for the catch-up poll,
and the mandatory privacy webhooks (applied by services/privacy.py)."""
from smsdesk.enums import Platform
from smsdesk.platforms.shopify import mapping
from smsdesk.platforms.shopify.api import ShopifyClient, has_credentials
from smsdesk.platforms.shopify.poll import poll
from smsdesk.platforms.spec import PlatformSpec

SPEC = PlatformSpec(platform=Platform.SHOPIFY, mapping=mapping, client=ShopifyClient,
                    has_credentials=has_credentials, poll=poll, privacy_topics=mapping.PRIVACY_TOPICS)
