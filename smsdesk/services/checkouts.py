"""Checkouts and abandoned-cart reminders (marketing texts, DESIGN §7).

A reminder is an outbox row like any other text (DESIGN §1): ``cart_reminder_1`` is
scheduled ``delay_minutes`` after the checkout's last activity, and each update moves
that same row (new ``due_at``, body re-rendered with the latest cart) instead of adding
one. ``cart_reminder_2`` is created only when the first one was actually sent
(``reminder_sent``, called from ``send_outcomes.mark_sent``), due its own delay after that send,
so it can never go out alone or before the first. A purchase (checkout completed, an order
with the checkout's token, or any order by the same customer at the store) completes the
checkout and cancels its pending reminders. Consent, opt-outs, quiet hours and caps are
checked again when a reminder is sent (``compliance.decide``).

A reminder goes only to a number that consented to marketing (services/consent.py): the
number the checkout's consent names (Shopify's ``sms_marketing_phone``) before the contact
phone. Without one no reminder is scheduled and the checkout says why
(``no_text_reason``: no_consent, opted_out, no_phone ...), so shoppers who never agreed to texts get no
outbox rows and no conversations.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from smsdesk.events import CheckoutCompleted, CheckoutUpdated
from smsdesk.models import PENDING_STATUSES, Checkout, Customer, Message, MessageStatus, Order, Store, utcnow
from smsdesk.reasons import Reason
from smsdesk.services import ab_tests, no_text, preload, template_versions
from smsdesk.services.compliance import with_opt_out_line
from smsdesk.services.conversations import touch_conversation
from smsdesk.services.customers import consenting_customers, upsert_customer
from smsdesk.services.links import text_link
from smsdesk.services.outbox import cancel_pending, enqueue_kind, find_by_dedupe_key
from smsdesk.services.segments import segment_info
from smsdesk.services.template_store import language_of, resolve_template
from smsdesk.services.templates import TemplateError, build_context, render_message

OPEN, COMPLETED = "open", "completed"
REMINDER_1, REMINDER_2 = "cart_reminder_1", "cart_reminder_2"
_KEY_SUFFIX = {REMINDER_1: "reminder1", REMINDER_2: "reminder2"}


def checkout_updated(
    session: Session, *, store: Store, event: CheckoutUpdated, source: str, now: datetime | None = None,
) -> Checkout:
    """Record the checkout's latest state and (re)schedule its first reminder to the number
    that consented (which may not be the checkout's contact phone)."""
    now = now or utcnow()
    contact = upsert_customer(session, store_id=store.id, info=event.customer, source=source, now=now)
    checkout = _get_or_create(session, store.id, event.token, now)
    if checkout.status == COMPLETED:
        return checkout
    _record(checkout, event, contact, now)
    contact = contact or _customer_of(session, checkout)
    if _ordered(session, store.id, event.token):  # the order event overtook this update
        complete(session, checkout, reason=Reason.ORDER_PLACED, now=now)
        return checkout
    recipient, reason = reminder_recipient(session, store=store, event=event, contact=contact)
    if recipient is not None:
        _schedule_first_reminder(session, store=store, checkout=checkout, customer=recipient, now=now)
        return checkout
    reason = reason or Reason.NO_CONSENT
    if contact is None and reason is Reason.NO_CONSENT:
        reason = no_text.phone_reason(checkout, event.customer)  # no number at all says more
    cancel_pending(session, reason=reason, checkout_id=checkout.id)
    no_text.record(session, checkout, reason, kind=REMINDER_1, customer_id=contact.id if contact else None)
    return checkout


def reminder_recipient(session: Session, *, store: Store, event: CheckoutUpdated,
                       contact: Customer | None) -> tuple[Customer | None, Reason | None]:
    """Who may get this checkout's reminder: a number with marketing consent that did not opt
    out, trying the numbers this checkout's consent names, then the contact phone.
    (None, why not) when there is none."""
    candidates = consenting_customers(session, store_id=store.id, info=event.customer)
    if contact is not None:
        candidates.append(contact)
    consented = [customer for customer in candidates if customer.marketing_consent]
    for customer in consented:
        if not customer.opted_out:
            return customer, None
    return None, Reason.OPTED_OUT if consented else Reason.NO_CONSENT


def checkout_completed(
    session: Session, *, store: Store, event: CheckoutCompleted, source: str, now: datetime | None = None,
) -> Checkout:
    """The customer bought: the cart is closed and its reminders cancelled."""
    now = now or utcnow()
    checkout = _get_or_create(session, store.id, event.token, now)
    complete(session, checkout, reason=Reason.CHECKOUT_COMPLETED, now=now)
    return checkout


def order_placed_cancels(session: Session, *, store: Store, order: Order, customer: Customer | None) -> int:
    """Close the open checkouts an order bought: the one with the order's checkout token,
    and every checkout the same customer started at this store before the order.
    Returns how many checkouts were closed."""
    # When we first recorded the order, so a replayed old order never closes a newer cart.
    placed_at = order.created_at or utcnow()
    bought = []
    if order.checkout_token:
        bought.append(Checkout.token == order.checkout_token)
    if customer is not None:
        bought.append((Checkout.customer_id == customer.id) & (Checkout.started_at <= placed_at))
    if not bought:
        return 0
    loaded = preload.known(session, "open_checkouts", store.id)
    if loaded is preload.UNKNOWN:
        checkouts = list(session.scalars(
            select(Checkout).where(Checkout.store_id == store.id, Checkout.status == OPEN, or_(*bought))))
    else:  # the same test in memory, over the batch's open checkouts (preload_open)
        checkouts = [c for c in loaded if c.status == OPEN and (
            (order.checkout_token and c.token == order.checkout_token)
            or (customer is not None and c.customer_id == customer.id and c.started_at <= placed_at))]
    for checkout in checkouts:
        same_cart = checkout.token == order.checkout_token
        complete(session, checkout, reason=Reason.ORDER_PLACED,
                 detail=f"order {order.number or order.external_id}" + ("" if same_cart else " by the same customer"))
    return len(checkouts)


def preload_open(session: Session, *, store_id: int, tokens: set[str], customer_ids: set[int]) -> None:
    """Load, for a batch of orders (services/preload.py), the store's open checkouts they may
    close: those of their checkout tokens or of their customers who already existed. Only for a
    batch without checkout events (a checkout it creates would be missed)."""
    found: list[Checkout] = []
    if tokens or customer_ids:
        found = list(session.scalars(select(Checkout).where(
            Checkout.store_id == store_id, Checkout.status == OPEN,
            or_(Checkout.token.in_(tokens), Checkout.customer_id.in_(customer_ids)))))
    preload.remember(session, "open_checkouts", store_id, row=found)


def complete(session: Session, checkout: Checkout, *, reason: Reason, detail: str = "",
             now: datetime | None = None) -> None:
    """Mark the checkout bought and cancel its pending reminders with ``reason``."""
    if checkout.status != COMPLETED:
        checkout.status = COMPLETED
        checkout.completed_at = now or utcnow()
    cancel_pending(session, reason=reason, detail=detail, checkout_id=checkout.id)


def reminder_sent(session: Session, message: Message) -> None:
    """After a first reminder went out, schedule the second one (if the store enabled it).

    Called for every text that was sent; anything but a first cart reminder is ignored.
    """
    if message.kind != REMINDER_1 or message.checkout_id is None:
        return
    template = resolve_template(session, store_id=message.store_id, kind=REMINDER_2)
    if not template.enabled:  # off by default: checked first, it is on every send's path
        return
    checkout = session.get(Checkout, message.checkout_id)
    if checkout is None or checkout.status != OPEN:
        return
    store = session.get_one(Store, message.store_id)
    customer = session.get_one(Customer, message.customer_id)
    # The send attempt's time, not the wall clock: it is the send path's (controllable) clock.
    sent_at = message.attempted_at or utcnow()
    _enqueue(session, store=store, checkout=checkout, customer=customer, kind=REMINDER_2,
             due_at=sent_at + timedelta(minutes=template.delay_minutes))


def dedupe_key(store_id: int, token: str, kind: str) -> str:
    """The outbox key of a checkout's reminder: ``checkout:<store>:<token>:reminder1``."""
    return f"checkout:{store_id}:{token}:{_KEY_SUFFIX[kind]}"


def cart_context(store: Store, checkout: Checkout, customer: Customer) -> dict:
    """Template variables for a cart reminder."""
    items = [item for item in checkout.items or [] if isinstance(item, dict)]
    return build_context(
        store={"name": store.name, "support_contact": store.help_text},
        customer={"first_name": customer.first_name},
        cart={"recovery_url": text_link(checkout.recovery_url), "total": checkout.total,
              "item_count": sum(_quantity(item) for item in items),
              "first_item": str(items[0].get("title") or "") if items else ""},
    )


def _schedule_first_reminder(
    session: Session, *, store: Store, checkout: Checkout, customer: Customer, now: datetime,
) -> None:
    """Schedule reminder 1 after the last activity, or move the pending one there."""
    delay = timedelta(minutes=resolve_template(session, store_id=store.id, kind=REMINDER_1).delay_minutes)
    due_at = checkout.last_activity_at + delay
    existing = find_by_dedupe_key(session, dedupe_key(store.id, checkout.token, REMINDER_1))
    if existing is None:
        _enqueue(session, store=store, checkout=checkout, customer=customer, kind=REMINDER_1, due_at=due_at)
    elif existing.status in PENDING_STATUSES:  # already sent or cancelled: never a second one
        _reschedule(session, existing, store=store, checkout=checkout, customer=customer, due_at=due_at, now=now)
        no_text.clear(checkout)
    else:  # a number may be texted now; the reminder's own row says what became of it
        no_text.clear(checkout)


def _enqueue(session: Session, *, store: Store, checkout: Checkout, customer: Customer, kind: str,
             due_at: datetime) -> Message | None:
    """Queue a reminder through the outbox; its body always ends with an opt-out line."""
    context, key = cart_context(store, checkout, customer), dedupe_key(store.id, checkout.token, kind)
    message = enqueue_kind(session, store=store, customer=customer, kind=kind, context=context, dedupe_key=key,
                           due_at=due_at, checkout_id=checkout.id)
    no_text.after_enqueue(session, checkout, message, store=store, customer=customer, kind=kind, context=context,
                          dedupe_key=key)
    if message is not None:
        _set_body(message, with_opt_out_line(message.body, language=language_of(store, customer)))
    return message


def _reschedule(session: Session, message: Message, *, store: Store, checkout: Checkout, customer: Customer,
                due_at: datetime, now: datetime) -> None:
    """Move a pending reminder to ``due_at`` and re-render it with the latest cart."""
    if message.customer_id != customer.id:  # the shopper corrected the phone number
        conversation = touch_conversation(session, store_id=store.id, customer_id=customer.id, at=now)
        message.customer_id, message.conversation_id = customer.id, conversation.id
    language = language_of(store, customer)
    template = resolve_template(session, store_id=store.id, kind=message.kind, language=language,
                                default_language=store.default_language)
    # The customer keeps the A/B version they were given (a test started since may give one now).
    template, variant = ab_tests.apply(session, store_id=store.id, customer_id=customer.id, template=template,
                                       message=message)
    ab_tests.record(message, variant, rerendered=True)
    try:
        _set_body(message, with_opt_out_line(render_message(template.body, cart_context(store, checkout, customer)),
                                             language=language))
        message.template_version_id = template_versions.version_id(
            session, store_id=store.id, kind=message.kind, language=template.language, body=template.body)
    except TemplateError:
        pass  # the template broke after the reminder was queued: keep the body (and its version) rendered then
    message.due_at, message.reason, message.reason_detail = due_at, None, ""  # a deferral no longer applies
    message.status = MessageStatus.SCHEDULED if due_at > now else MessageStatus.QUEUED


def _set_body(message: Message, body: str) -> None:
    if body != message.body:
        info = segment_info(body)
        message.body, message.segments, message.encoding = body, info.segments, info.encoding


TOTAL_LENGTH, CURRENCY_LENGTH = 32, 3  # the columns' sizes (models.Checkout)


def _record(checkout: Checkout, event: CheckoutUpdated, customer: Customer | None, now: datetime) -> None:
    """Copy what the event says onto the checkout; missing fields keep their last value."""
    if customer is not None:
        checkout.customer_id, checkout.phone = customer.id, customer.phone
    if event.customer.consents:  # does any number of this checkout consent? (None said: as before)
        checkout.marketing_consent = bool(event.customer.granted_phones())
    checkout.recovery_url = event.recovery_url or checkout.recovery_url
    # cut where stored, as for orders: a 4-letter "currency" must not fail the commit (PostgreSQL)
    checkout.total = event.total[:TOTAL_LENGTH] or checkout.total
    checkout.currency = event.currency[:CURRENCY_LENGTH] or checkout.currency
    if event.items:
        checkout.items = [{"title": i.title, "quantity": i.quantity} for i in event.items]
    checkout.last_activity_at = max(checkout.last_activity_at, now)


def _ordered(session: Session, store_id: int, token: str) -> bool:
    """True when an order of this store already carries the checkout's token."""
    return session.scalar(
        select(Order.id).where(Order.store_id == store_id, Order.checkout_token == token).limit(1)
    ) is not None


def _customer_of(session: Session, checkout: Checkout) -> Customer | None:
    return preload.get(session, Customer, checkout.customer_id) if checkout.customer_id else None


def _quantity(item: dict) -> int:
    try:
        return max(int(item.get("quantity") or 0), 0)
    except (TypeError, ValueError):
        return 0


def _get_or_create(session: Session, store_id: int, token: str, now: datetime) -> Checkout:
    checkout = _find(session, store_id, token)
    if checkout is None:
        try:
            with session.begin_nested():
                checkout = Checkout(store_id=store_id, token=token, started_at=now, last_activity_at=now)
                session.add(checkout)
        except IntegrityError:  # created concurrently by another delivery
            checkout = _find(session, store_id, token)
    assert checkout is not None  # it exists now: we or the concurrent delivery created it
    return checkout


def _find(session: Session, store_id: int, token: str) -> Checkout | None:
    return session.scalar(select(Checkout).where(Checkout.store_id == store_id, Checkout.token == token))
