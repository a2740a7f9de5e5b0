"""The owner's A/B test page of a cart reminder: linked from the editor, starts a test (422 on a
bad body or split, 409 for a second one), shows both versions' results and the verdict, ends it
(keeping A or making B the template); another store's tests and agents are kept out."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from smsdesk.models import AbTest, AbVariant
from smsdesk.services.template_store import resolve_template

B_BODY = "Hi {{ customer.first_name }}! Your cart misses you: {{ cart.recovery_url }}"


@pytest.fixture
def store(make):
    return make.store(name="Nordic Knits")


def page(store, kind="cart_reminder_1", **query) -> str:
    suffix = "".join(f"&{k}={v}" for k, v in query.items()).replace("&", "?", 1)
    return f"/templates/{store.slug}/{kind}/ab-test{suffix}"


def start(browser, store, **fields):
    return browser.post(page(store), data={"name": "friendlier", "body_b": B_BODY, "split_percent": "50",
                                           "language": "en", **fields})


def saved_tests(db_session) -> list[AbTest]:
    db_session.fresh()
    return db_session.scalars(select(AbTest).order_by(AbTest.id)).all()


def test_the_editor_links_cart_reminders_to_their_ab_test(browser, owner, store):
    html = browser.get(f"/templates?store={store.slug}&kind=cart_reminder_2").get_data(as_text=True)
    assert f'href="/templates/{store.slug}/cart_reminder_2/ab-test?language=en"' in html
    html = browser.get(f"/templates?store={store.slug}&kind=order_shipped").get_data(as_text=True)
    assert 'id="ab-test-link"' not in html
    assert browser.get(page(store, "order_shipped")).status_code == 404


def test_owner_starts_a_test_and_sees_both_versions_with_the_note(browser, owner, store, db_session):
    html = browser.get(page(store)).get_data(as_text=True)
    assert 'id="start-test"' in html and "data-preview-url" in html
    response = start(browser, store)
    assert response.status_code == 302
    [test] = saved_tests(db_session)
    assert (test.kind, test.language, test.body_b, test.split_percent, test.name, test.created_by) == (
        "cart_reminder_1", "en", B_BODY, 50, "friendlier", owner.id)
    html = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert 'id="running-results"' in html and "Your cart misses you" in html  # B beside A
    assert "A · template" in html and "B · 50 % of customers" in html
    assert "Not yet significant" in html and "too few texts so far: A 0, B 0" in html
    assert "cart recovery rate" in html


@pytest.mark.parametrize("fields, shown", [
    ({"body_b": "Hi {{ cart.recovery_ur }}"}, "unknown variable &#39;cart.recovery_ur&#39;"),
    ({"body_b": "{% if %}"}, "line 1:"),
    ({"body_b": "   "}, "template is empty"),
    ({"split_percent": "0"}, "between 1 and 99"),
    ({"split_percent": "half"}, "a whole number of percent"),
])
def test_a_bad_test_is_refused_with_the_reason(browser, owner, store, db_session, fields, shown):
    response = start(browser, store, **fields)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="ab-error"' in html and shown in html
    assert saved_tests(db_session) == []


def test_a_second_running_test_of_the_kind_is_a_conflict(browser, owner, store, db_session):
    assert start(browser, store).status_code == 302
    assert start(browser, store, body_b="Other {{ cart.recovery_url }}").status_code == 409
    assert len(saved_tests(db_session)) == 1
    assert start(browser, store, language="fr").status_code == 302  # French has its own


def test_ending_with_b_makes_it_the_template_and_lists_the_test_as_past(browser, owner, store, db_session):
    start(browser, store)
    [test] = saved_tests(db_session)
    response = browser.post(f"/templates/{store.slug}/ab-tests/{test.id}/end", data={"keep": "B"})
    assert response.status_code == 302
    [test] = saved_tests(db_session)
    assert test.ended_at is not None and test.winner is AbVariant.B
    assert resolve_template(db_session, store_id=store.id, kind="cart_reminder_1", language="en").body == B_BODY
    html = browser.get(page(store)).get_data(as_text=True)
    assert 'id="start-test"' in html and f'id="past-{test.id}"' in html and "B became the template" in html


def test_ending_keeping_a_leaves_the_template(browser, owner, store, db_session):
    before = resolve_template(db_session, store_id=store.id, kind="cart_reminder_1", language="en").body
    start(browser, store)
    [test] = saved_tests(db_session)
    browser.post(f"/templates/{store.slug}/ab-tests/{test.id}/end", data={"keep": "A"})
    [test] = saved_tests(db_session)
    assert test.winner is AbVariant.A
    assert resolve_template(db_session, store_id=store.id, kind="cart_reminder_1", language="en").body == before


def test_another_stores_test_and_page_are_not_found(browser, make, store, db_session):
    other = make.store(name="Elsewhere")
    owner = make.agent(role="owner", stores=[store])
    browser.login(owner)
    db_session.add(AbTest(store_id=other.id, kind="cart_reminder_1", language="en", body_b="x", split_percent=50))
    db_session.commit()
    [test] = saved_tests(db_session)
    assert browser.get(page(other)).status_code == 404
    assert browser.post(f"/templates/{store.slug}/ab-tests/{test.id}/end", data={"keep": "B"}).status_code == 404
    assert browser.post(f"/templates/{other.slug}/ab-tests/{test.id}/end", data={"keep": "B"}).status_code == 404
    assert saved_tests(db_session)[0].ended_at is None


def test_agents_may_not_start_tests(browser, agent, store, db_session):
    assert browser.get(page(store)).status_code == 403
    assert start(browser, store).status_code == 403
    assert saved_tests(db_session) == []


def test_forms_need_their_csrf_token(browser, owner, store, db_session):
    response = browser.client.post(page(store), data={"body_b": B_BODY, "split_percent": "50"})
    assert response.status_code == 400
    assert saved_tests(db_session) == []
