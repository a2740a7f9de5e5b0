"""Secret rotation: while a store holds two webhook secrets, every platform's adapter accepts
a signature made with either; after the old one is dropped only the new one verifies."""
import base64

import pytest

from smsdesk.models import Store
from smsdesk.services.stores import InvalidStore, add_webhook_secret, drop_previous_secret
from tests.factories import shopify_headers
from tests.webhooks.payloads import bigcommerce_headers, generic_headers, woo_headers
from webhooks import ADAPTERS

BODY = b'{"id": 1}'
OLD, NEW = b"old-key-0123456789abcdef", b"new-key-0123456789abcdef"


def secret(platform: str, key: bytes) -> str:
    return "whsec_" + base64.b64encode(key).decode() if platform == "generic" else key.decode()


def signed(platform: str, store: Store, key: bytes) -> dict:
    """Headers the platform sends, signed with ``key``'s secret."""
    value = secret(platform, key)
    return {"shopify": lambda: shopify_headers(store, BODY, secret=value),
            "woocommerce": lambda: woo_headers(store, BODY, secret=value),
            "bigcommerce": lambda: bigcommerce_headers(store, secret=value),
            "generic": lambda: generic_headers(BODY, key=key)}[platform]()


def verifies(app, platform: str, store: Store, key: bytes) -> bool:
    with app.test_request_context(method="POST", data=BODY, headers=signed(platform, store, key)) as ctx:
        return ADAPTERS[platform].verify(store, ctx.request, BODY)


@pytest.fixture(params=sorted(ADAPTERS))
def platform(request):
    return request.param


@pytest.fixture
def store(make, platform):
    return make.store(platform=platform, webhook_secret=secret(platform, OLD),
                      **({} if platform == "shopify" else {"domain": None}))


def test_both_secrets_verify_until_the_old_one_is_dropped(app, db_session, platform, store):
    assert verifies(app, platform, store, OLD) and not verifies(app, platform, store, NEW)
    add_webhook_secret(db_session, store, secret(platform, NEW))
    db_session.commit()
    assert verifies(app, platform, store, OLD) and verifies(app, platform, store, NEW)
    assert drop_previous_secret(db_session, store)
    db_session.commit()
    assert verifies(app, platform, store, NEW) and not verifies(app, platform, store, OLD)


def test_a_third_secret_waits_for_the_old_one_to_go(db_session, platform, store):
    add_webhook_secret(db_session, store, secret(platform, NEW))
    with pytest.raises(InvalidStore, match="drop the old one first"):
        add_webhook_secret(db_session, store, secret(platform, b"third-key-0123456789abc"))


def test_rotation_over_http_with_both_secrets(client, db_session, make):
    store = make.store(webhook_secret="old-secret")
    add_webhook_secret(db_session, store, "new-secret")
    db_session.commit()
    for value, status in (("old-secret", 200), ("new-secret", 200), ("other", 401)):
        response = client.post("/webhooks/shopify", data=b"{}", headers=shopify_headers(
            store, b"{}", topic="app/uninstalled", secret=value))
        assert response.status_code == status, value
