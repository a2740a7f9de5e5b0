"""A store's automatic-answer switches and FAQ entries: read, validate, save (the /answers page)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from smsdesk.models import AnswerSettings, FaqEntry, Store
from smsdesk.services.intents import FaqCandidate
from smsdesk.services.untrusted import unstorable

MAX_TITLE = 100  # characters, as the column holds
MAX_QUESTION = 300  # characters of one example question
MAX_QUESTIONS = 30  # example questions per entry
MAX_ANSWER = 600  # characters: a few SMS segments, well inside Twilio's 1,600 with the store's name
MAX_ENTRIES = 200  # per store


@dataclass
class EntryResult:
    """A submitted entry: its values again and, per field, why it was refused (422)."""

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    entry: FaqEntry | None = None


def settings_of(session: Session, store: Store) -> AnswerSettings:
    """The store's switches (a transient all-off row when none was saved yet)."""
    row = session.get(AnswerSettings, store.id)
    return row if row is not None else AnswerSettings(store_id=store.id, order_status=False, faq=False,
                                                      handoff_ack=True)


def save_settings(session: Session, store: Store, form: Mapping[str, str]) -> AnswerSettings:
    """Checkboxes: a field present and "on" is on, absent is off."""
    row = session.get(AnswerSettings, store.id)
    if row is None:
        row = AnswerSettings(store_id=store.id)
        session.add(row)
    row.order_status = form.get("order_status") == "on"
    row.faq = form.get("faq") == "on"
    row.handoff_ack = form.get("handoff_ack") == "on"
    session.flush()
    return row


def entries_of(session: Session, store: Store) -> list[FaqEntry]:
    return list(session.scalars(select(FaqEntry).where(FaqEntry.store_id == store.id).order_by(FaqEntry.title,
                                                                                             FaqEntry.id)))


def candidates(entries: list[FaqEntry]) -> list[FaqCandidate]:
    return [FaqCandidate(entry.id, entry.title, tuple(str(q) for q in entry.questions or ())) for entry in entries]


def entry_values(entry: FaqEntry) -> dict[str, str]:
    return {"title": entry.title, "questions": "\n".join(entry.questions or []), "answer": entry.answer}


def save_entry(session: Session, store: Store, form: Mapping[str, str], entry: FaqEntry | None = None) -> EntryResult:
    """Add (``entry`` None) or change an entry; nothing is saved when a field is refused."""
    values = {name: str(form.get(name, "") or "") for name in ("title", "questions", "answer")}
    errors: dict[str, str] = {}
    for name, value in values.items():
        if unstorable(value):
            errors[name] = "This field holds characters that can't be stored (NUL or lone surrogates)."
    title = values["title"].strip()
    questions = [line.strip() for line in values["questions"].splitlines() if line.strip()]
    answer = values["answer"].strip()
    if not title or len(title) > MAX_TITLE:
        errors.setdefault("title", f"A title is needed (at most {MAX_TITLE} characters).")
    if not questions:
        errors.setdefault("questions", "Write at least one example question, one per line.")
    elif len(questions) > MAX_QUESTIONS or any(len(q) > MAX_QUESTION for q in questions):
        errors.setdefault("questions", f"At most {MAX_QUESTIONS} questions of at most {MAX_QUESTION} characters.")
    if not answer or len(answer) > MAX_ANSWER:
        errors.setdefault("answer", f"An answer is needed (at most {MAX_ANSWER} characters).")
    elif "{{" in answer or "{%" in answer:
        errors.setdefault("answer", "The answer is sent as written: template syntax ({{ … }}) is not filled in.")
    if entry is None and not errors and len(entries_of(session, store)) >= MAX_ENTRIES:
        errors["title"] = f"A store holds at most {MAX_ENTRIES} entries."
    if errors:
        return EntryResult(values, errors)
    if entry is None:
        entry = FaqEntry(store_id=store.id)
        session.add(entry)
    entry.title, entry.questions, entry.answer = title, questions, answer
    session.flush()
    return EntryResult(values, entry=entry)
