"""Abandoned-cart reminders: scheduled from checkout events, sent by the sender on a
controlled clock, stopped the moment the customer buys (smsdesk/services/checkouts.py)."""
import dataclasses
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from smsdesk.events import (
    CartItem,
    CheckoutCompleted,
    CheckoutUpdated,
    CustomerInfo,
    OrderInfo,
    OrderPlaced,
    SmsConsent,
)
from smsdesk.models import AuditEvent, Checkout, ConsentSource, Conversation, Customer, Message, Store, utcnow
from smsdesk.reasons import Reason
from smsdesk.services import checkouts, send_outcomes, sending
from smsdesk.services.customers import set_opted_out
from smsdesk.services.events import apply_event
from smsdesk.services.template_store import save_template

PHONE = "+12125550123"  # a New York number: quiet hours are New York's
BASE = datetime(2025, 6, 10, 14, 0, tzinfo=timezone.utc)  # 10:00 in New York (EDT)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)


@pytest.fixture
def store(make):
    # A fast sender: several texts in one sweep never wait for a rate slot.
    return make.store(rate_per_second=100.0)


def cart(token="tok-1", *, phone=PHONE, consent=True, items=(("Wool Mittens", 1),), total="54.00"):
    """A normalized checkout update, as the webhook adapters produce it; ``consent`` (True,
    False or None for nothing said) is about the contact phone."""
    consents = () if consent is None else (SmsConsent(phone=phone, granted=consent, source=ConsentSource.GENERIC),)
    return CheckoutUpdated(
        token=token, customer=CustomerInfo(phone=phone, first_name="Emma", consents=consents),
        recovery_url=f"https://shop.example.com/cart/{token}", total=total, currency="USD",
        items=tuple(CartItem(title, quantity) for title, quantity in items),
    )


def order(external_id="1001", *, phone=PHONE, checkout_token=None):
    return OrderPlaced(order=OrderInfo(external_id=external_id, number=external_id, checkout_token=checkout_token),
                       customer=CustomerInfo(phone=phone, first_name="Emma"))


def update(db_session, store, event, at):
    """Apply a checkout update at ``at`` (the clock the reminder's delay counts from)."""
    checkouts.checkout_updated(db_session, store=store, event=event, source="test", now=at)
    db_session.commit()


def apply(db_session, store, event):
    apply_event(db_session, store=store, event=event, source="test")
    db_session.commit()


def sweep(app, now) -> int:
    """One run of the sender at ``now``: the job's steps (claim, compliance, provider call,
    record) on a controlled clock instead of the wall clock. Returns texts sent."""
    sessions, provider = app.extensions["smsdesk.sessions"], app.extensions["smsdesk.provider"]
    sent = 0
    while True:  # a customer's texts are claimed one at a time, so a customer's second comes next round
        with sessions.begin() as session:
            claims = sending.claim_due(session, limit=100, now=now)
        if not claims:
            return sent
        sent += _send(sessions, provider, claims, now)


def _send(sessions, provider, claims, now) -> int:
    sent = 0
    for claim in claims:
        with sessions.begin() as session:
            outgoing = sending.prepare(session, claim, now=now)
        if outgoing is None:
            continue
        answer = provider.send(outgoing.to, outgoing.body, sender=outgoing.sender,
                               validity_period=outgoing.validity_seconds)
        with sessions.begin() as session:
            send_outcomes.mark_sent(session, claim.message_id, answer)
        sent += 1
    return sent


def reminders(db_session) -> list[Message]:
    db_session.fresh()
    return db_session.scalars(select(Message).where(Message.kind.like("cart_reminder_%")).order_by(Message.id)).all()


def enable_second_reminder(db_session, store, delay_minutes=24 * 60):
    save_template(db_session, store_id=store.id, kind="cart_reminder_2", enabled=True, delay_minutes=delay_minutes)
    db_session.commit()


def test_reminder_is_sent_after_the_delay(app, db_session, store, twilio_server):
    update(db_session, store, cart(items=(("Wool Mittens", 2), ("Scarf", 1))), BASE)
    assert sweep(app, BASE + 59 * MINUTE) == 0
    assert sweep(app, BASE + 60 * MINUTE) == 1
    [text] = twilio_server.messages
    assert text["to"] == PHONE
    assert "Wool Mittens" in text["body"] and "https://shop.example.com/cart/tok-1" in text["body"]
    assert text["body"].endswith("Reply STOP to opt out.")
    [reminder] = reminders(db_session)
    assert (reminder.kind, reminder.status.value, reminder.marketing) == ("cart_reminder_1", "sent", True)


def test_store_delay_is_used(app, db_session, store, twilio_server):
    save_template(db_session, store_id=store.id, kind="cart_reminder_1", delay_minutes=15)
    db_session.commit()
    update(db_session, store, cart(), BASE)
    assert sweep(app, BASE + 14 * MINUTE) == 0
    assert sweep(app, BASE + 15 * MINUTE) == 1


def test_update_pushes_the_reminder_back_and_rerenders_it(app, db_session, store, twilio_server):
    update(db_session, store, cart(items=(("Wool Mittens", 1),)), BASE)
    update(db_session, store, cart(items=(("Silk Scarf", 1),)), BASE + 30 * MINUTE)
    [reminder] = reminders(db_session)
    assert reminder.due_at == BASE + 90 * MINUTE and "Silk Scarf" in reminder.body
    assert sweep(app, BASE + 60 * MINUTE) == 0
    assert sweep(app, BASE + 90 * MINUTE) == 1
    assert "Silk Scarf" in twilio_server.messages[0]["body"]


def test_event_through_apply_event_schedules_one_row(db_session, store):
    before = utcnow()
    apply(db_session, store, cart("tok-9"))
    apply(db_session, store, cart("tok-9"))  # a repeated delivery changes nothing
    [reminder] = reminders(db_session)
    assert reminder.status.value == "scheduled"
    assert reminder.dedupe_key == f"checkout:{store.id}:tok-9:reminder1"
    assert before + 60 * MINUTE <= reminder.due_at <= utcnow() + 60 * MINUTE
    checkout = db_session.scalar(select(Checkout))
    assert (checkout.status, checkout.items) == ("open", [{"title": "Wool Mittens", "quantity": 1}])


@pytest.mark.parametrize("purchase, reason", [
    (CheckoutCompleted(token="tok-1"), Reason.CHECKOUT_COMPLETED),
    (order(checkout_token="tok-1"), Reason.ORDER_PLACED),
    (order(checkout_token="other-cart"), Reason.ORDER_PLACED),
])
def test_buying_before_the_delay_cancels_the_reminder(app, db_session, store, twilio_server, purchase, reason):
    update(db_session, store, cart(), BASE)
    apply(db_session, store, purchase)
    sweep(app, BASE + 2 * HOUR)  # an order also confirms itself: that text may go out
    assert not any("shop.example.com/cart" in m["body"] for m in twilio_server.messages)
    [reminder] = reminders(db_session)
    assert (reminder.status.value, reminder.reason) == ("cancelled", reason)
    assert db_session.scalar(select(Checkout)).status == "completed"


def test_order_from_another_phone_keeps_the_reminder(app, db_session, store, twilio_server):
    update(db_session, store, cart(), BASE)
    apply(db_session, store, order(phone="+12125550199"))
    [reminder] = reminders(db_session)
    assert reminder.status.value in ("scheduled", "queued")


def test_replayed_older_order_keeps_a_newer_cart_open(db_session, store):
    apply(db_session, store, order("1001"))
    update(db_session, store, cart("tok-new"), utcnow() + HOUR)  # a new cart after that order
    apply(db_session, store, order("1001"))  # the old order delivered again
    [reminder] = reminders(db_session)
    assert reminder.status.value == "scheduled"
    assert db_session.scalar(select(Checkout)).status == "open"


def test_corrected_phone_moves_the_reminder(app, db_session, store, twilio_server):
    update(db_session, store, cart(phone="+12125550100"), BASE)
    update(db_session, store, cart(phone=PHONE), BASE + 5 * MINUTE)
    assert sweep(app, BASE + 2 * HOUR) == 1
    assert [m["to"] for m in twilio_server.messages] == [PHONE]
    [reminder] = reminders(db_session)
    assert db_session.get(Customer, reminder.customer_id).phone == PHONE
    assert db_session.get(Conversation, reminder.conversation_id).customer_id == reminder.customer_id


def test_order_before_the_checkout_event_means_no_reminder(app, db_session, store):
    apply(db_session, store, order(checkout_token="tok-1", phone="+12125550199"))
    update(db_session, store, cart("tok-1"), BASE)
    assert reminders(db_session) == []
    assert db_session.scalar(select(Checkout)).status == "completed"


def test_second_reminder_goes_out_a_day_after_the_first(app, db_session, store, twilio_server):
    enable_second_reminder(db_session, store)
    update(db_session, store, cart(), BASE)
    assert sweep(app, BASE + HOUR) == 1
    first, second = reminders(db_session)
    assert (second.kind, second.status.value, second.due_at) == ("cart_reminder_2", "queued", BASE + 25 * HOUR)
    assert second.dedupe_key == f"checkout:{store.id}:tok-1:reminder2"
    assert sweep(app, BASE + 25 * HOUR - MINUTE) == 0
    assert sweep(app, BASE + 25 * HOUR) == 1
    assert [m["body"] for m in twilio_server.messages][1].endswith("Reply STOP to opt out.")


def test_buying_between_the_reminders_cancels_the_second(app, db_session, store, twilio_server):
    enable_second_reminder(db_session, store)
    update(db_session, store, cart(), BASE)
    assert sweep(app, BASE + HOUR) == 1
    apply(db_session, store, CheckoutCompleted(token="tok-1"))
    assert sweep(app, BASE + 26 * HOUR) == 0
    assert len(twilio_server.messages) == 1
    first, second = reminders(db_session)
    assert (first.status.value, second.status.value, second.reason) == ("sent", "cancelled", Reason.CHECKOUT_COMPLETED)


def test_no_second_reminder_when_the_first_was_not_sent(app, db_session, store, twilio_server):
    enable_second_reminder(db_session, store)
    update(db_session, store, cart(), BASE)
    customer = db_session.scalar(select(Customer))
    customer.marketing_consent = False  # revoked while the reminder waited
    db_session.commit()
    assert sweep(app, BASE + 30 * HOUR) == 0
    [first] = reminders(db_session)
    assert (first.status.value, first.reason) == ("suppressed", "no_consent")


@pytest.mark.parametrize("consent", [False, None])
def test_no_consent_means_nothing(app, db_session, store, twilio_server, consent):
    update(db_session, store, cart(consent=consent), BASE)
    assert sweep(app, BASE + 2 * HOUR) == 0
    assert reminders(db_session) == [] and twilio_server.messages == []
    assert db_session.scalar(select(Checkout)).no_text_reason == Reason.NO_CONSENT


def test_consent_withdrawn_in_an_update_cancels_the_reminder(app, db_session, store):
    update(db_session, store, cart(), BASE)
    update(db_session, store, cart(consent=False), BASE + MINUTE)
    [reminder] = reminders(db_session)
    assert (reminder.status.value, reminder.reason) == ("cancelled", Reason.NO_CONSENT)
    assert db_session.scalar(select(Checkout)).no_text_reason == Reason.NO_CONSENT


def test_opted_out_phone_gets_nothing(app, db_session, store, make, twilio_server):
    customer = make.customer(store, PHONE, marketing_consent=True)
    set_opted_out(db_session, customer, True, source="test")
    db_session.commit()
    update(db_session, store, cart(), BASE)
    assert sweep(app, BASE + 2 * HOUR) == 0
    assert reminders(db_session) == [] and twilio_server.messages == []
    assert db_session.scalar(select(Checkout)).no_text_reason == Reason.OPTED_OUT


def test_opt_out_after_scheduling_suppresses_at_send_time(app, db_session, store, twilio_server):
    update(db_session, store, cart(), BASE)
    set_opted_out(db_session, db_session.scalar(select(Customer)), True, source="test")
    db_session.commit()
    assert sweep(app, BASE + 2 * HOUR) == 0
    [reminder] = reminders(db_session)
    assert (reminder.status.value, reminder.reason) == ("suppressed", "opted_out")


def test_due_at_23_local_is_sent_at_08_local(app, db_session, store, twilio_server):
    evening = datetime(2025, 6, 11, 2, 0, tzinfo=timezone.utc)  # 22:00 on June 10 in New York
    update(db_session, store, cart(), evening)
    assert sweep(app, evening + HOUR) == 0  # due 23:00 local: deferred
    [reminder] = reminders(db_session)
    morning = datetime(2025, 6, 11, 12, 0, tzinfo=timezone.utc)  # 08:00 in New York
    assert (reminder.status.value, reminder.reason, reminder.due_at) == ("scheduled", "quiet_hours", morning)
    assert sweep(app, morning - MINUTE) == 0
    assert sweep(app, morning) == 1
    assert reminders(db_session)[0].status.value == "sent"


def test_two_abandoned_checkouts_in_one_day_get_one_sequence(app, db_session, store, twilio_server):
    update(db_session, store, cart("tok-a"), BASE)
    assert sweep(app, BASE + HOUR) == 1
    update(db_session, store, cart("tok-b"), BASE + 3 * HOUR)
    assert sweep(app, BASE + 5 * HOUR) == 0
    first, second = reminders(db_session)
    assert (second.status.value, second.reason) == ("suppressed", "sequence_cap")
    update(db_session, store, cart("tok-c"), BASE + 24 * HOUR)  # a day later a new sequence may start
    assert sweep(app, BASE + 25 * HOUR) == 1
    assert len(twilio_server.messages) == 2


def test_two_reminders_due_in_the_same_sweep_send_one(app, db_session, store, twilio_server):
    update(db_session, store, cart("tok-a"), BASE)
    update(db_session, store, cart("tok-b"), BASE + 10 * MINUTE)
    assert sweep(app, BASE + 2 * HOUR) == 1
    assert sorted(m.status.value for m in reminders(db_session)) == ["sent", "suppressed"]


def test_template_without_opt_out_line_gets_one(app, db_session, store, twilio_server):
    save_template(db_session, store_id=store.id, kind="cart_reminder_1",
                  body="{{ store.name }}: your cart is waiting {{ cart.recovery_url }}")
    db_session.commit()
    update(db_session, store, cart(), BASE)
    assert sweep(app, BASE + HOUR) == 1
    body = twilio_server.messages[0]["body"]
    assert body == f"{store.name}: your cart is waiting https://shop.example.com/cart/tok-1 Reply STOP to opt out."


def test_disabled_reminder_is_not_scheduled(db_session, store):
    save_template(db_session, store_id=store.id, kind="cart_reminder_1", enabled=False)
    db_session.commit()
    update(db_session, store, cart(), BASE)
    assert reminders(db_session) == []


def test_suppression_is_audited(app, db_session, store):
    update(db_session, store, cart(), BASE)
    db_session.scalar(select(Customer)).marketing_consent = False
    db_session.commit()
    sweep(app, BASE + HOUR)
    [reminder] = reminders(db_session)
    audit = db_session.scalar(select(AuditEvent).where(AuditEvent.message_id == reminder.id))
    assert (audit.action, audit.reason) == ("suppressed", "no_consent")


def test_cart_context_counts_items():
    checkout = Checkout(token="t", recovery_url="https://x.example/r", total="9.00",
                        items=[{"title": "Socks", "quantity": 2}, {"title": "Hat", "quantity": "3"},
                               {"title": "Bad", "quantity": "many"}])
    context = checkouts.cart_context(Store(name="Acme", help_text=""), checkout, Customer(first_name="Emma"))
    assert context["cart"] == {"recovery_url": "https://x.example/r", "total": "9.00",
                                    "item_count": 5, "first_item": "Socks"}


def test_over_long_total_and_currency_are_cut_where_stored(db_session, store):
    apply(db_session, store, dataclasses.replace(cart(total="1" * 40), currency="EURO"))
    db_session.fresh()
    checkout = db_session.scalars(select(Checkout)).one()
    assert (checkout.total, checkout.currency) == ("1" * 32, "EUR")
