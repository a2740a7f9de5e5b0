"""One place per platform: the Platform enum, the registry and the webhook adapters agree."""
import importlib

import pytest

from smsdesk.enums import Platform
from smsdesk.platforms import PLATFORMS, platform_of
from smsdesk.platforms.http import Credentials
from webhooks import ADAPTERS


def test_enum_registry_and_webhook_adapters_name_the_same_platforms():
    assert set(PLATFORMS) == set(Platform)
    assert {Platform(source) for source in ADAPTERS} == set(Platform)
    assert all(adapter.source == source for source, adapter in ADAPTERS.items())


@pytest.mark.parametrize("platform", list(Platform))
def test_each_entry_lives_in_its_own_package(platform):
    spec = PLATFORMS[platform]
    assert spec.platform is platform and platform_of(platform.value) is spec
    package = importlib.import_module(f"smsdesk.platforms.{platform.value}")
    assert package.SPEC is spec
    assert spec.mapping.__name__.startswith(package.__name__ + ".")
    for part in (spec.client, spec.poll, spec.fetch):
        assert part is None or part.__module__.startswith(package.__name__)


@pytest.mark.parametrize("platform", [p for p in Platform if PLATFORMS[p].poll is not None])
def test_a_polled_platform_has_a_client_and_knows_its_credentials(platform):
    spec = PLATFORMS[platform]
    assert spec.client is not None and not spec.has_credentials(Credentials())
    full = Credentials(api_base="https://shop.example.com", store_hash="abc", api_token="t", api_key="k",
                       domain="shop.myshopify.com")
    assert spec.has_credentials(full)


def test_only_shopify_has_privacy_webhooks_and_each_is_a_webhook_topic():
    from smsdesk.platforms.shopify.mapping import TOPICS

    assert {p for p in Platform if PLATFORMS[p].privacy_topics} == {Platform.SHOPIFY}
    assert set(PLATFORMS[Platform.SHOPIFY].privacy_topics) <= set(TOPICS)


def test_twilio_is_no_shop_platform():
    assert platform_of("twilio") is None
