"""Agents, their passwords and their API tokens (stored hashed; a token is shown once)."""
from __future__ import annotations

import functools
import hashlib
import re
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session, joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from smsdesk.models import Agent, ApiToken, Conversation, Role, Store, utcnow
from smsdesk.services.access import grant

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 8  # characters
TOKEN_PREFIX = "sd_"
TOKEN_USE_PRECISION = timedelta(minutes=1)  # how exactly last_used_at follows a token's use


class InvalidAgent(ValueError):
    """Bad email, weak password, unknown role, or an email already taken."""


def create_agent(session: Session, *, email: str, password: str, role: str = "agent",
                 stores: Sequence[Store] = (), password_hash: str | None = None) -> Agent:
    """A new user: an admin (``role="admin"``), or an owner/agent of ``stores``.

    ``password`` is validated as always, and hashed unless ``password_hash`` (a werkzeug hash
    of that same password, e.g. one computed once and reused) is given."""
    email = (email or "").strip().lower()
    if not EMAIL.match(email):
        raise InvalidAgent(f"not an email address: {email!r}")
    if len(password or "") < MIN_PASSWORD:
        raise InvalidAgent(f"password must be at least {MIN_PASSWORD} characters")
    role_value = parse_role(role)
    if find_agent(session, email) is not None:
        raise InvalidAgent(f"an agent with email {email} already exists")
    if password_hash is None:
        password_hash = generate_password_hash(password)
    agent = Agent(email=email, password_hash=password_hash, is_admin=role_value == Role.ADMIN)
    session.add(agent)
    session.flush()
    grant_roles(session, agent, role=role_value, stores=stores)
    return agent


def parse_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise InvalidAgent(f"role must be one of {', '.join(r.value for r in Role)}") from None


def grant_roles(session: Session, agent: Agent, *, role: Role, stores: Sequence[Store]) -> None:
    """Make ``agent`` an admin, or give them ``role`` at each of ``stores``."""
    if role == Role.ADMIN:
        agent.is_admin = True
    for store in stores if role != Role.ADMIN else ():
        grant(session, agent, store, role)
    session.flush()


def find_agent(session: Session, email: str) -> Agent | None:
    return session.scalar(select(Agent).where(Agent.email == (email or "").strip().lower()))


def check_password(session: Session, email: str, password: str) -> Agent | None:
    """The agent if the password matches, else None (in the same time either way)."""
    agent = find_agent(session, email)
    # Hash even for an unknown email, so response time does not reveal which emails exist.
    stored = agent.password_hash if agent is not None else _dummy_hash()
    if check_password_hash(stored, password or "") and agent is not None and agent.removed_at is None:
        return agent
    return None


@functools.cache
def _dummy_hash() -> str:
    return generate_password_hash(secrets.token_urlsafe(16))


def create_token(session: Session, agent: Agent) -> str:
    """A new API token for ``agent``; only its hash is kept."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(agent_id=agent.id, token_hash=_hash(token)))
    session.flush()
    return token


def agent_for_token(session: Session, token: str) -> Agent | None:
    """The token's agent; None for an unknown or revoked token or a removed agent. Reads only."""
    row = find_token(session, token)
    return row.agent if row is not None else None


def find_token(session: Session, token: str) -> ApiToken | None:
    """The token's row; None for an unknown or revoked token or a removed agent."""
    # The agent in the same query: every API call reads both.
    row = session.scalar(select(ApiToken).options(joinedload(ApiToken.agent))
                         .where(ApiToken.token_hash == _hash(token)))
    if row is None or row.agent.removed_at is not None:
        return None
    return row


# last_used_at tells an owner whether a token is still in use; a minute's precision is plenty,
# and a write per API call would make every read of the API a writer.
TOKEN_TOUCH_EVERY = timedelta(minutes=1)


def needs_touch(row: ApiToken, *, now: datetime | None = None) -> bool:
    """True when the token's last_used_at is older than TOKEN_TOUCH_EVERY (or unset)."""
    return row.last_used_at is None or row.last_used_at <= (now or utcnow()) - TOKEN_TOUCH_EVERY


def touch_token(session: Session, token_id: int, *, now: datetime | None = None) -> None:
    """Record a use of the token, unless another request recorded one within the minute."""
    now = now or utcnow()
    session.execute(update(ApiToken).where(
        ApiToken.id == token_id,
        or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= now - TOKEN_TOUCH_EVERY),
    ).values(last_used_at=now))


def list_tokens(session: Session, agent: Agent) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).where(ApiToken.agent_id == agent.id).order_by(ApiToken.id)))


def revoke_token(session: Session, token_id: int) -> bool:
    """Delete the token: the API refuses it from the next request on. False if there was none."""
    row = session.get(ApiToken, token_id)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def end_sessions(agent: Agent) -> None:
    """Every browser session of ``agent`` ends: their cookies carry the old version."""
    agent.session_version += 1


def remove_agent(session: Session, agent: Agent) -> None:
    """The agent can no longer log in; their sessions and tokens end at once and their open
    conversations go back to the team. The row stays so past replies keep their author."""
    agent.removed_at = utcnow()
    end_sessions(agent)
    session.execute(delete(ApiToken).where(ApiToken.agent_id == agent.id))
    session.execute(update(Conversation).where(Conversation.assigned_agent_id == agent.id)
                    .values(assigned_agent_id=None))
    session.flush()


def _hash(token: str) -> str:
    # Tokens are 256 random bits, so a plain SHA-256 is enough (no need for a slow KDF).
    return hashlib.sha256(token.encode()).hexdigest()
