"""Closing a conversation through the API records who closed it when (resolution
times, services/metrics.py); closing a closed one again records nothing."""
from __future__ import annotations

from sqlalchemy import select

from smsdesk.models import Conversation, ConversationClose
from tests.api.test_conversations import text_in


def closes(db_session) -> list[tuple]:
    db_session.fresh()
    return list(db_session.execute(select(ConversationClose.conversation_id, ConversationClose.agent_id)))


def test_api_close_records_the_token_agent_once(client, make, db_session):
    store = make.store()
    agent = make.agent(email="sam@example.com")
    auth = {"Authorization": f"Bearer {make.token(agent)}"}
    text_in(client, store)
    cid = db_session.scalar(select(Conversation.id))
    for _ in range(2):
        assert client.post(f"/api/conversations/{cid}/close", headers=auth).status_code == 200
    assert closes(db_session) == [(cid, agent.id)]
    client.post(f"/api/conversations/{cid}/reopen", headers=auth)
    client.post(f"/api/conversations/{cid}/close", headers=auth)
    assert closes(db_session) == [(cid, agent.id)] * 2

