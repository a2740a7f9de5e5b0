"""The shop platforms: one package each (its payload mapping, API client, catch-up poller and
privacy topics, declared in its ``SPEC``), found here by the Platform enum. Adding a platform
is one package, one line below and its webhook adapter in webhooks/ (tests/platforms/
test_registry.py fails while enum, registry and adapters disagree)."""
from __future__ import annotations

from smsdesk.enums import Platform
from smsdesk.platforms import bigcommerce, generic, shopify, woocommerce
from smsdesk.platforms.spec import PlatformSpec

PLATFORMS: dict[Platform, PlatformSpec] = {spec.platform: spec for spec in (
    shopify.SPEC, woocommerce.SPEC, bigcommerce.SPEC, generic.SPEC)}


def platform_of(source: str) -> PlatformSpec | None:
    """The registry entry of a webhook source or Platform value; None for another (twilio)."""
    try:
        return PLATFORMS.get(Platform(source))
    except ValueError:
        return None
