"""The owner's /feedback page: the request settings form (one error per refused field) and the
CSV export of the store's ratings."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from smsdesk.models import Customer, Feedback, FeedbackSettings, Order, Store
from smsdesk.services.feedback import cancel_unsent, settings_for

MAX_DELAY_HOURS = 24 * 30  # a request a month later is about nothing the customer remembers
TOGGLES = ("after_delivered", "after_close")
DELAYS = {"delivered_delay_hours": "after_delivered", "close_delay_hours": "after_close"}  # delay -> its toggle
ORIGIN = {"after_delivered": "order", "after_close": "close"}  # the dedupe key's origin of each toggle
CSV_COLUMNS = ("created_at", "score", "comment", "customer_phone", "customer_name", "order_number",
               "conversation_id", "opened_for_agent")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet would run such a cell as a formula


@dataclass
class FeedbackForm:
    """The form as shown again: values and, per field, why it was refused."""

    values: dict[str, object]
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def status(self) -> int:
        return 422 if self.errors else 200


def current_form(session: Session, store: Store) -> FeedbackForm:
    settings = settings_for(session, store.id)
    return FeedbackForm(values={name: getattr(settings, name) for name in (*TOGGLES, *DELAYS)})


def save_form(session: Session, store: Store, form: Mapping[str, str]) -> FeedbackForm:
    """Apply a submitted form; nothing changes unless every field is acceptable. Turning a
    request off cancels those not sent yet. The caller commits."""
    values: dict[str, object] = {name: form.get(name) in ("on", "1", "true") for name in TOGGLES}
    result = FeedbackForm(values=values)
    for name in DELAYS:
        raw = (form.get(name) or "").strip()
        values[name] = raw
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_DELAY_HOURS:
            result.errors[name] = f"A whole number of hours from 1 to {MAX_DELAY_HOURS}."
        else:
            values[name] = int(raw)
    if result.errors:
        return result
    settings = session.get(FeedbackSettings, store.id) or FeedbackSettings(store_id=store.id)
    for name in TOGGLES:
        if getattr(settings, name) and not values[name]:
            cancel_unsent(session, origin=ORIGIN[name], store_id=store.id)
    for name, value in values.items():
        setattr(settings, name, value)
    session.add(settings)
    return result


def csv_cell(value: object) -> str:
    """A CSV cell as text; one a spreadsheet would run as a formula is quoted."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def export_rows(session: Session, store: Store) -> Iterator[str]:
    """The store's ratings as CSV lines (header first), oldest first, streamed in batches."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    query = (select(Feedback, Customer.phone, Customer.first_name, Customer.last_name, Order.number)
             .join(Customer, Customer.id == Feedback.customer_id)
             .outerjoin(Order, Order.id == Feedback.order_id)
             .where(Feedback.store_id == store.id).order_by(Feedback.created_at, Feedback.id))
    for row, phone, first, last, number in session.execute(query.execution_options(yield_per=500)):
        writer.writerow([csv_cell(value) for value in (
            row.created_at.isoformat(), row.score, row.comment, phone, f"{first} {last}".strip(), number,
            row.conversation_id, "yes" if row.opened else "no")])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()
