"""Automatic answers against a table of real-world inbound texts (tests/services/data/inbound_texts.csv):
every row's expected outcome (answered with which order or FAQ entry, a hand-off, or left for an
agent) must hold, and no row may get a wrong automatic answer."""
from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import select

from smsdesk.models import Conversation, FaqEntry, Order
from tests.services.answers_fixtures import answering_store, answers_to, customer_with, text_in

TABLE = Path(__file__).parent / "data" / "inbound_texts.csv"


def rows() -> list[dict[str, str]]:
    with TABLE.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def outcome(session, message) -> str:
    """What smsdesk did: 'order:<number>', 'faq:<title>', 'handoff' or 'agent'."""
    answers = answers_to(session, message)
    if not answers:
        return "agent"
    assert len(answers) == 1
    answer = answers[0]
    if answer.kind == "order_status_answer":
        return f"order:{session.get_one(Order, answer.order_id).number}"
    if answer.kind == "faq_answer":
        entries = session.scalars(select(FaqEntry).where(FaqEntry.store_id == answer.store_id))
        titles = [entry.title for entry in entries if entry.answer in answer.body]
        return f"faq:{'|'.join(titles)}"
    return "handoff" if answer.kind == "handoff_ack" else f"?{answer.kind}"


def scores(results: list[tuple[str, str]]) -> dict[str, float]:
    """Precision: right answers over all automatic answers; recall: right answers over the rows that
    expect one (a hand-off counts as an answer)."""
    answered = [(want, got) for want, got in results if got != "agent"]
    expected = [(want, got) for want, got in results if want != "agent"]
    right = sum(want == got for want, got in answered)
    return {"precision": right / len(answered) if answered else 1.0,
            "recall": sum(want == got for want, got in expected) / len(expected) if expected else 1.0,
            "answered": len(answered), "expected": len(expected), "rows": len(results)}


def test_table_has_enough_real_world_rows():
    table = rows()
    assert len(table) >= 100
    kinds = {row["expected"].split(":")[0] for row in table}
    assert kinds == {"order", "faq", "handoff", "agent"}


def test_every_row_gets_its_expected_outcome(db_session, capsys):
    store = answering_store(db_session)
    results, wrong = [], []
    for row in rows():
        customer = customer_with(db_session, store, row["customer"])
        message = text_in(db_session, store, customer, row["text"])
        got = outcome(db_session, message)
        results.append((row["expected"], got))
        conversation = db_session.get_one(Conversation, message.conversation_id)
        waits = conversation.waiting_since is not None
        if got != row["expected"] or waits != (got in ("agent", "handoff")):
            wrong.append(f"{row['text']!r} ({row['customer']}): expected {row['expected']}, got {got}"
                         f"{'' if waits == (got in ('agent', 'handoff')) else ', waiting ' + str(waits)}")
    measured = scores(results)
    with capsys.disabled():
        print(f"\ninbound table: {measured}")
    assert not wrong, "\n".join(wrong)
    assert measured["precision"] == 1.0


def test_scores_count_a_wrong_answer():
    assert scores([("agent", "order:1"), ("order:1", "order:1"), ("faq:A", "agent")]) == {
        "precision": 0.5, "recall": 0.5, "answered": 2, "expected": 2, "rows": 3}
