"""Closing a conversation in the inbox records who closed it when (resolution times,
services/metrics.py)."""
from __future__ import annotations

from sqlalchemy import select

from smsdesk.models import Conversation
from tests.api.test_closes import closes
from tests.api.test_conversations import text_in


def test_inbox_close_records_the_signed_in_agent(browser, agent, make, db_session):
    store = make.store()
    text_in(browser.client, store)
    cid = db_session.scalar(select(Conversation.id))
    assert browser.post(f"/inbox/{cid}/close").status_code == 302
    assert closes(db_session) == [(cid, agent.id)]
