"""The conversation page says whether the customer's number may get marketing texts."""
import pytest

from smsdesk.events import SmsConsent
from smsdesk.models import ConsentLevel, ConsentSource
from smsdesk.services.consent import record_consent
from tests.web.test_inbox import conversation_id, text_in


@pytest.mark.parametrize("granted, badge", [(True, "Marketing consent</span>"), (False, "No marketing consent")])
def test_conversation_shows_marketing_consent(browser, agent, make, db_session, granted, badge):
    store = make.store()
    customer = make.customer(store, "+15025550123")
    record_consent(db_session, customer, SmsConsent(phone=customer.phone, granted=granted, source=ConsentSource.SHOPIFY,
                                                    level=ConsentLevel.CONFIRMED_OPT_IN))
    db_session.commit()
    text_in(browser.client, store)
    html = browser.get(f"/inbox/{conversation_id(db_session)}").get_data(as_text=True)
    assert badge in html
    assert ('title="confirmed_opt_in via shopify"' in html) is granted
