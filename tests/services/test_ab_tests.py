"""A/B tests of cart reminders (services/ab_tests.py): the split is stable per customer (both
carts, a rescheduled body, the text sent), close to its target over many customers, and only
while a test runs; at most one test runs per kind and language."""
from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from smsdesk.models import AbEndReason, AbTest, AbVariant, Customer, Message, Store
from smsdesk.services import ab_tests, preload
from smsdesk.services.ab_tests import InvalidTest, TestRunning, bucket, end_test, start_test, variant_for
from smsdesk.services.outbox import enqueue_kind
from smsdesk.services.template_store import resolve_template
from smsdesk.services.templates import TemplateError, sample_context
from tests.services.test_checkouts import BASE, MINUTE, cart, enable_second_reminder, reminders, sweep, update

B_BODY = "B: {{ customer.first_name }}, your {{ cart.first_item }} is still here {{ cart.recovery_url }}"


@pytest.fixture
def store(make):
    return make.store(rate_per_second=100.0)


def start(db_session, store, *, kind="cart_reminder_1", language="en", split=50, body=B_BODY) -> AbTest:
    test = start_test(db_session, store=store, kind=kind, language=language, body_b=body, split_percent=split,
                      name="first name up front", now=BASE - MINUTE)
    db_session.commit()
    return test


def phone(n: int) -> str:
    return f"+1212555{n:04d}"


def is_b(message: Message) -> bool:
    return message.body.startswith("B: ")


def test_without_a_test_reminders_are_as_before(db_session, store):
    update(db_session, store, cart(), BASE)
    [reminder] = reminders(db_session)
    assert (reminder.ab_test_id, reminder.ab_variant) == (None, None)
    assert not is_b(reminder) and "Wool Mittens" in reminder.body


def test_each_customer_gets_the_version_their_bucket_says_and_the_text_records_it(db_session, store):
    test = start(db_session, store)
    for n in range(30):
        update(db_session, store, cart(f"tok-{n}", phone=phone(n)), BASE)
    texts = reminders(db_session)
    assert len(texts) == 30
    for text in texts:
        expected = variant_for(test, text.customer_id)
        assert (text.ab_test_id, text.ab_variant) == (test.id, expected)
        assert is_b(text) == (expected is AbVariant.B)
    b_texts = [text for text in texts if text.ab_variant is AbVariant.B]
    assert 0 < len(b_texts) < 30  # both versions went out
    assert b_texts[0].body.startswith("B: Emma, your Wool Mittens is still here https://shop.example.com/cart/tok-")
    assert b_texts[0].body.endswith("Reply STOP to opt out.")  # B is a reminder like A: the opt-out line too


def test_a_customer_keeps_their_version_across_carts_reschedules_and_the_send(app, db_session, store,
                                                                              twilio_server):
    test = start(db_session, store)
    customer_b = _customer_with(db_session, store, test, AbVariant.B)
    customer_a = _customer_with(db_session, store, test, AbVariant.A)
    for who, variant in ((customer_b, AbVariant.B), (customer_a, AbVariant.A)):
        update(db_session, store, cart(f"{who}-1", phone=who), BASE)
        update(db_session, store, cart(f"{who}-1", phone=who, items=(("Silk Scarf", 1),)), BASE + 10 * MINUTE)
        update(db_session, store, cart(f"{who}-2", phone=who), BASE + 20 * MINUTE)  # a second cart
        texts = [text for text in reminders(db_session) if text.customer.phone == who]
        assert [text.ab_variant for text in texts] == [variant, variant]
        assert "Silk Scarf" in texts[0].body  # re-rendered with the new cart, in the same version
        assert {is_b(text) for text in texts} == {variant is AbVariant.B}
    assert sweep(app, BASE + 90 * MINUTE) == 2  # each customer's second cart: one sequence a day (DESIGN §7)
    sent_b = [m["body"] for m in twilio_server.messages if m["to"] == customer_b]
    assert len(sent_b) == 1 and sent_b[0].startswith("B: Emma, your Silk Scarf")
    again = _enqueue_again(db_session, store, customer_b)  # one more text of the kind: same version
    assert (again.ab_variant, is_b(again)) == (AbVariant.B, True)


def _customer_with(db_session, store: Store, test: AbTest, variant: AbVariant) -> str:
    """A phone whose customer the test gives ``variant``."""
    first = 5000 if variant is AbVariant.B else 6000
    for n in range(first, first + 100):
        customer = Customer(store_id=store.id, phone=phone(n), marketing_consent=True)
        db_session.add(customer)
        db_session.flush()
        if variant_for(test, customer.id) is variant:
            db_session.commit()
            return customer.phone
    raise AssertionError("no customer in 100 got " + variant.value)


def _enqueue_again(db_session, store: Store, phone_number: str) -> Message:
    db_session.fresh()  # after the sender's commits
    customer = db_session.scalar(select(Customer).where(Customer.phone == phone_number))
    message = enqueue_kind(db_session, store=store, customer=customer, kind="cart_reminder_1",
                           context=sample_context(), dedupe_key=None)
    db_session.commit()
    assert message is not None
    return message


@pytest.mark.parametrize("split", [50, 20])
def test_the_split_is_close_to_its_target_over_2000_customers(split):
    test = AbTest(id=7, split_percent=split)
    got_b = sum(variant_for(test, customer_id) is AbVariant.B for customer_id in range(1, 2001))
    expected = 2000 * split / 100
    spread = (2000 * split / 100 * (1 - split / 100)) ** 0.5  # binomial standard deviation
    assert abs(got_b - expected) < 4 * spread


def test_the_same_customer_gets_the_same_bucket_and_each_test_splits_anew():
    assert [bucket(3, 42) for _ in range(5)] == [bucket(3, 42)] * 5
    first, second = AbTest(id=1, split_percent=50), AbTest(id=2, split_percent=50)
    same = sum(variant_for(first, c) is variant_for(second, c) for c in range(1, 2001))
    assert 850 < same < 1150  # independent splits agree about half the time, not always


def test_an_ended_test_splits_no_more(db_session, store):
    test = start(db_session, store)
    b_phone = _customer_with(db_session, store, test, AbVariant.B)
    end_test(db_session, store=store, test_id=test.id, now=BASE)
    db_session.commit()
    update(db_session, store, cart("after", phone=b_phone), BASE)
    [text] = reminders(db_session)
    assert (text.ab_test_id, text.ab_variant, is_b(text)) == (None, None, False)
    assert (test.ended_reason, test.winner) == (AbEndReason.ENDED, AbVariant.A)


def test_ending_with_b_makes_b_the_template(db_session, store):
    test = start(db_session, store)
    end_test(db_session, store=store, test_id=test.id, adopt_b=True, now=BASE)
    db_session.commit()
    assert resolve_template(db_session, store_id=store.id, kind="cart_reminder_1", language="en").body == B_BODY
    assert (test.ended_reason, test.winner) == (AbEndReason.B_ADOPTED, AbVariant.B)


def test_a_test_covers_only_its_language(db_session, store):
    start(db_session, store, language="es", split=99)
    update(db_session, store, cart(), BASE)  # an English-speaking customer
    [text] = reminders(db_session)
    assert text.ab_test_id is None


def test_one_running_test_per_kind_and_language(db_session, store):
    test = start(db_session, store)
    with pytest.raises(TestRunning):
        start(db_session, store)
    db_session.rollback()
    start(db_session, store, language="fr")  # another language, another kind: their own tests
    start(db_session, store, kind="cart_reminder_2")
    end_test(db_session, store=store, test_id=test.id)
    db_session.commit()
    start(db_session, store)  # once ended, a new one may start


def test_the_database_refuses_a_second_running_test(db_session, store):
    start(db_session, store)
    db_session.add(AbTest(store_id=store.id, kind="cart_reminder_1", language="en", body_b="x", split_percent=50))
    with pytest.raises(IntegrityError):
        db_session.commit()
    db_session.rollback()


@pytest.mark.parametrize("changes, error", [
    ({"body": "Hi {{ cart.recovery_ur }}"}, TemplateError),
    ({"body": "{% include 'x' %}"}, TemplateError),
    ({"split": 0}, InvalidTest),
    ({"split": 100}, InvalidTest),
    ({"kind": "order_shipped"}, InvalidTest),
    ({"language": "it"}, InvalidTest),  # no Italian version: its customers get English
])
def test_refused_tests(db_session, store, changes, error):
    with pytest.raises(error):
        start(db_session, store, **changes)
    db_session.rollback()
    assert db_session.scalars(select(AbTest)).all() == []


def test_another_stores_test_is_not_found(db_session, store, make):
    test = start(db_session, store)
    with pytest.raises(LookupError):
        end_test(db_session, store=make.store(), test_id=test.id)


def test_a_batch_finds_the_running_test_it_preloaded(db_session, store):
    test = start(db_session, store)
    preload.load(db_session, store, order_ids=[], dedupe_keys=[])
    assert ab_tests.running_test(db_session, store_id=store.id, kind="cart_reminder_1", language="en") is test
    assert ab_tests.running_test(db_session, store_id=store.id, kind="cart_reminder_1", language="de") is None
    preload.forget(db_session)


def test_each_step_follows_its_own_test_for_the_customer(app, db_session, store, twilio_server):
    enable_second_reminder(db_session, store, delay_minutes=60)
    first = start(db_session, store)
    second = start(db_session, store, kind="cart_reminder_2", body="B: step two {{ cart.recovery_url }}")
    update(db_session, store, cart(), BASE)
    update(db_session, store, cart(items=(("Silk Scarf", 1),)), BASE + 5 * MINUTE)  # rescheduled
    assert sweep(app, BASE + 65 * MINUTE) == 1
    assert sweep(app, BASE + 125 * MINUTE) == 1  # step 2, an hour after step 1 went
    one, two = reminders(db_session)
    assert (one.kind, two.kind) == ("cart_reminder_1", "cart_reminder_2")
    assert (one.ab_test_id, one.ab_variant) == (first.id, variant_for(first, one.customer_id))
    assert (two.ab_test_id, two.ab_variant) == (second.id, variant_for(second, two.customer_id))
    sent = [message["body"] for message in twilio_server.messages]
    assert [body.startswith("B: ") for body in sent] == [one.ab_variant is AbVariant.B, two.ab_variant is AbVariant.B]
    assert sent == [one.body, two.body]  # what was recorded is what went out


def test_a_reminder_queued_during_the_test_keeps_its_version_after_it_ends(db_session, store):
    test = start(db_session, store)
    b_phone = _customer_with(db_session, store, test, AbVariant.B)
    update(db_session, store, cart("during", phone=b_phone), BASE)
    end_test(db_session, store=store, test_id=test.id, now=BASE + MINUTE)
    db_session.commit()
    update(db_session, store, cart("during", phone=b_phone, items=(("Silk Scarf", 1),)), BASE + 10 * MINUTE)
    [text] = reminders(db_session)
    assert (text.ab_test_id, text.ab_variant) == (test.id, AbVariant.B)
    assert text.body.startswith("B: Emma, your Silk Scarf")  # re-rendered, still B: counted in the test's results


def test_a_reminder_whose_customer_changed_language_leaves_the_test(db_session, store):
    test = start(db_session, store)
    b_phone = _customer_with(db_session, store, test, AbVariant.B)
    update(db_session, store, cart("lang", phone=b_phone), BASE)
    customer = db_session.scalar(select(Customer).where(Customer.phone == b_phone))
    customer.language = "es"
    db_session.commit()
    update(db_session, store, cart("lang", phone=b_phone), BASE + 10 * MINUTE)
    [text] = reminders(db_session)
    assert (text.ab_test_id, text.ab_variant, is_b(text)) == (None, None, False)  # the Spanish text, no test's


def test_versions_a_and_b_are_recorded_as_two_template_versions(db_session, store):
    """Revenue per template version (services/revenue.py) tells the two bodies apart."""
    from smsdesk.models import TemplateVersion
    test = start(db_session, store)
    for n in range(30):
        update(db_session, store, cart(f"tok-{n}", phone=phone(n)), BASE)
    versions = {text.ab_variant: text.template_version_id for text in reminders(db_session)}
    assert set(versions) == {AbVariant.A, AbVariant.B} and None not in versions.values()
    assert versions[AbVariant.A] != versions[AbVariant.B]
    assert db_session.get(TemplateVersion, versions[AbVariant.B]).body == test.body_b
