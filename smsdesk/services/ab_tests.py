"""A/B tests of cart reminders: a second body (B) for one reminder kind and language of a store,
split per customer against the store's template for it (A) while the test runs.

The split is a keyed hash of (test, customer), not a coin thrown per text: the same customer gets
the same version for as long as the test runs — a second cart, a reminder re-rendered when the
cart changes (``checkouts._reschedule``), a retried send — and over many customers the share
getting B is close to ``split_percent``. Each test has its own key, so tests of step 1 and of
step 2 split customers independently (one test's B group is not also the other's: the two
results are not confounded).

``apply`` is the one step the outbox takes (``outbox.enqueue_kind``): it swaps the body to render
and says which test and version chose it; ``record`` writes that on the text. Results:
services/ab_results.py.
"""
from __future__ import annotations

import dataclasses
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from smsdesk.models import AbEndReason, AbTest, AbVariant, Message, Store, utcnow
from smsdesk.services import preload
from smsdesk.services.languages import name as language_name
from smsdesk.services.template_store import ResolvedTemplate, resolve_template, save_template
from smsdesk.services.templates import validate_template

AB_KINDS = ("cart_reminder_1", "cart_reminder_2")  # checkouts.REMINDER_1/2 (checkouts imports us via outbox)
BUCKETS = 100  # a customer's bucket, 0..99, is compared with split_percent
MIN_SPLIT, MAX_SPLIT = 1, 99  # percent getting B: both versions must reach someone
NAME_LENGTH = 100  # the column's size (models.AbTest)


@dataclass(frozen=True)
class Assignment:
    """Which test chose a text's body, and the version it gave the customer."""

    test_id: int
    variant: AbVariant


class InvalidTest(ValueError):
    """A test the owner cannot start as asked; ``field`` names the form field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class TestRunning(Exception):
    """A test of this kind and language is already running (at most one at a time)."""

    __test__ = False  # not a pytest class, for all its name


def bucket(test_id: int, customer_id: int) -> int:
    """The customer's bucket in the test, 0..BUCKETS-1: HMAC-SHA256 keyed by the test."""
    digest = hmac.new(f"smsdesk-ab-test:{test_id}".encode(), str(customer_id).encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS  # 2**64 % 100: a bias of ~1e-18, none in practice


def variant_for(test: AbTest, customer_id: int) -> AbVariant:
    """The version ``test`` gives the customer: B for buckets below its split."""
    return AbVariant.B if bucket(test.id, customer_id) < test.split_percent else AbVariant.A


def running_test(session: Session, *, store_id: int, kind: str, language: str) -> AbTest | None:
    """The store's running test of ``kind`` in ``language``, if any (a batch's preload knows)."""
    if kind not in AB_KINDS:
        return None
    loaded = preload.known(session, "ab_tests", store_id)
    if loaded is not preload.UNKNOWN:
        return loaded.get((kind, language))
    return session.scalar(select(AbTest).where(AbTest.store_id == store_id, AbTest.kind == kind,
                                               AbTest.language == language, AbTest.ended_at.is_(None)))


def apply(session: Session, *, store_id: int, customer_id: int, template: ResolvedTemplate,
          message: Message | None = None) -> tuple[ResolvedTemplate, Assignment | None]:
    """The template to render for this customer, and the test's choice (None: no test covers it).

    A running test of the template's kind and resolved language splits; for B its body replaces
    the template's. A text re-rendered (``message``) keeps the test that chose it, even one ended
    since, so a customer never switches versions mid-test.
    """
    test = _test_of(session, message, template) or running_test(
        session, store_id=store_id, kind=template.spec.kind, language=template.language)
    if test is None:
        return template, None
    variant = variant_for(test, customer_id)
    if variant is AbVariant.B:
        template = dataclasses.replace(template, body=test.body_b, customized=True)
    return template, Assignment(test.id, variant)


def record(message: Message | None, assignment: Assignment | None, *, rerendered: bool = False) -> None:
    """Note on the text which test chose its body and which version it got; a ``rerendered``
    text no test covers any more (its customer's language changed) loses its old note."""
    if message is None or (assignment is None and not rerendered):
        return
    message.ab_test_id = assignment.test_id if assignment else None
    message.ab_variant = assignment.variant if assignment else None


def _test_of(session: Session, message: Message | None, template: ResolvedTemplate) -> AbTest | None:
    if message is None or message.ab_test_id is None:
        return None
    test = session.get(AbTest, message.ab_test_id)
    if test is None or (test.kind, test.language) != (template.spec.kind, template.language):
        return None  # the customer's language changed: the text is no longer the test's
    return test


def start_test(session: Session, *, store: Store, kind: str, language: str, body_b: str,
               split_percent: int, name: str = "", agent_id: int | None = None,
               now: datetime | None = None) -> AbTest:
    """Start splitting ``kind`` in ``language`` between the template (A) and ``body_b``.

    Raises TemplateError for a body that is not a usable template, InvalidTest for another
    refused value, TestRunning when a test of the kind and language already runs.
    """
    _check(session, store=store, kind=kind, language=language, split_percent=split_percent)
    validate_template(body_b)
    if running_test(session, store_id=store.id, kind=kind, language=language) is not None:
        raise TestRunning(f"a test of this text in {language_name(language)} is already running")
    test = AbTest(store_id=store.id, kind=kind, language=language, body_b=body_b, split_percent=split_percent,
                  name=name.strip()[:NAME_LENGTH], created_by=agent_id, started_at=now or utcnow())
    try:
        with session.begin_nested():
            session.add(test)
    except IntegrityError:  # another request started one meanwhile: the partial unique index said no
        raise TestRunning(f"a test of this text in {language_name(language)} is already running") from None
    preload.unknown(session, "ab_tests", store.id)
    return test


def _check(session: Session, *, store: Store, kind: str, language: str, split_percent: int) -> None:
    if kind not in AB_KINDS:
        raise InvalidTest("kind", "only cart reminders can be A/B tested")
    if not MIN_SPLIT <= split_percent <= MAX_SPLIT:
        raise InvalidTest("split_percent", f"the share getting B must be between {MIN_SPLIT} and {MAX_SPLIT} %")
    resolved = resolve_template(session, store_id=store.id, kind=kind, language=language,
                                default_language=store.default_language).language
    if resolved != language:  # its customers get another language's text: the test would never split
        raise InvalidTest("language", f"there is no {language_name(language)} version of this text yet (its "
                                      f"customers get the {language_name(resolved)} one): write it first")


def end_test(session: Session, *, store: Store, test_id: int, adopt_b: bool = False,
             now: datetime | None = None) -> AbTest:
    """Stop splitting; with ``adopt_b`` B's body becomes the template of its kind and language.
    Ending an ended test changes nothing. Raises LookupError for another store's test."""
    test = get_test(session, store_id=store.id, test_id=test_id)
    if test.ended_at is not None:
        return test
    if adopt_b:
        save_template(session, store_id=store.id, kind=test.kind, body=test.body_b, language=test.language)
    test.ended_at = now or utcnow()
    test.ended_reason = AbEndReason.B_ADOPTED if adopt_b else AbEndReason.ENDED
    test.winner = AbVariant.B if adopt_b else AbVariant.A
    session.flush()
    preload.unknown(session, "ab_tests", store.id)
    return test


def get_test(session: Session, *, store_id: int, test_id: int) -> AbTest:
    """The store's test ``test_id``; LookupError when it has none (another store's is none)."""
    test = session.get(AbTest, test_id)
    if test is None or test.store_id != store_id:
        raise LookupError(f"no A/B test {test_id}")
    return test


def store_tests(session: Session, *, store_id: int, kind: str | None = None) -> list[AbTest]:
    """The store's tests (of ``kind``), newest first."""
    query = select(AbTest).where(AbTest.store_id == store_id)
    if kind is not None:
        query = query.where(AbTest.kind == kind)
    return list(session.scalars(query.order_by(AbTest.started_at.desc(), AbTest.id.desc())))
