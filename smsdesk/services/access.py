"""Who may see and change what: stores are tenants (DESIGN §8).

A user reaches a store through a membership (role ``owner`` or ``agent``); an admin reaches
every store. Anything of a store the user does not reach answers as if it did not exist
(``NoAccess``, a 404), so ids and slugs of other stores tell nothing. A member whose role at
that store is too small gets ``NotAllowed`` (a 403): they know the store already.

Every page and API call goes through here; queries filter by ``store_ids_for``.
"""
from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from smsdesk.enums import STORE_ROLES, Role
from smsdesk.models import Agent, Conversation, Customer, Membership, Store
from smsdesk.services.stores import get_store


class NoAccess(LookupError):
    """Missing, or of a store the user does not reach: answered as a 404."""


class NotAllowed(PermissionError):
    """A member of the store whose role there does not allow this: answered as a 403."""


def store_ids_for(session: Session, user: Agent, *, role: Role = Role.AGENT) -> list[int] | None:
    """Ids of the stores ``user`` holds ``role`` (or more) at; None means every store (an admin)."""
    if user.is_admin:
        return None
    query = select(Membership.store_id).where(Membership.agent_id == user.id)
    if role == Role.OWNER:
        query = query.where(Membership.role == Role.OWNER)
    return list(session.scalars(query.order_by(Membership.store_id)))


def stores_for(session: Session, user: Agent, *, role: Role = Role.AGENT) -> list[Store]:
    """The stores ``user`` holds ``role`` (or more) at, by slug."""
    ids = store_ids_for(session, user, role=role)
    query = select(Store).order_by(Store.slug)
    if ids is not None:
        query = query.where(Store.id.in_(ids))
    return list(session.scalars(query))


def role_at(session: Session, user: Agent, store_id: int) -> Role | None:
    """``user``'s role at the store: OWNER for an admin, None for a non-member."""
    if user.is_admin:
        return Role.OWNER
    return session.scalar(select(Membership.role).where(Membership.agent_id == user.id,
                                                        Membership.store_id == store_id))


def require_role(session: Session, user: Agent, store_id: int, role: Role = Role.AGENT) -> None:
    """Raise NoAccess for a non-member, NotAllowed for an agent where an owner is needed."""
    held = role_at(session, user, store_id)
    if held is None:
        raise NoAccess("not found")
    if role == Role.OWNER and held != Role.OWNER:
        raise NotAllowed("this needs the owner role at this store")


def require_owner(session: Session, user: Agent, store_id: int) -> None:
    require_role(session, user, store_id, Role.OWNER)


def store_for(session: Session, user: Agent, slug: str, *, role: Role = Role.AGENT) -> Store:
    """The store ``slug`` if ``user`` holds ``role`` there; NoAccess / NotAllowed otherwise."""
    store = get_store(session, slug)
    if store is None:
        raise NoAccess(f"no store {slug!r}")
    try:
        require_role(session, user, store.id, role)
    except NoAccess:
        raise NoAccess(f"no store {slug!r}") from None
    return store


def conversation_for(session: Session, user: Agent, conversation_id: int) -> Conversation:
    """The conversation if ``user`` reaches its store, else NoAccess."""
    # Its customer and store in the same query: every caller shows them. (Not the agent: an
    # assignment sets the id, and a loaded relationship would go stale.)
    conversation = session.get(Conversation, conversation_id,
                               options=[joinedload(Conversation.customer), joinedload(Conversation.store)])
    if conversation is None or role_at(session, user, conversation.store_id) is None:
        raise NoAccess(f"no conversation {conversation_id}")
    return conversation


def customer_for(session: Session, user: Agent, customer_id: int) -> Customer:
    """The customer if ``user`` reaches their store, else NoAccess."""
    customer = session.get(Customer, customer_id)
    if customer is None or role_at(session, user, customer.store_id) is None:
        raise NoAccess(f"no customer {customer_id}")
    return customer


def assignable_agents(session: Session, store_id: int) -> list[Agent]:
    """Users a conversation of this store may be assigned to: its members and the admins."""
    members = select(Membership.agent_id).where(Membership.store_id == store_id)
    return list(session.scalars(select(Agent).where(Agent.removed_at.is_(None),
                                                    or_(Agent.is_admin, Agent.id.in_(members)))
                                .order_by(Agent.email)))


def may_be_assigned(session: Session, user: Agent, store_id: int) -> bool:
    return user.removed_at is None and role_at(session, user, store_id) is not None


def grant(session: Session, user: Agent, store: Store, role: Role) -> Membership:
    """Give ``user`` ``role`` at ``store`` (a new membership, or a changed role)."""
    if role not in STORE_ROLES:
        raise ValueError(f"a store role is one of {', '.join(r.value for r in STORE_ROLES)}")
    membership = session.scalar(select(Membership).where(Membership.agent_id == user.id,
                                                         Membership.store_id == store.id))
    if membership is None:
        membership = Membership(agent_id=user.id, store_id=store.id, role=role)
        session.add(membership)
    membership.role = role
    session.flush()
    return membership


def revoke(session: Session, user: Agent, store: Store) -> bool:
    """End ``user``'s membership at ``store``; False if there was none."""
    membership = session.scalar(select(Membership).where(Membership.agent_id == user.id,
                                                         Membership.store_id == store.id))
    if membership is None:
        return False
    session.delete(membership)
    session.flush()
    return True


def is_owner_somewhere(session: Session, user: Agent) -> bool:
    """An admin, or an owner of at least one store (the owners' pages are theirs)."""
    ids = store_ids_for(session, user, role=Role.OWNER)
    return ids is None or bool(ids)


def role_label(session: Session, user: Agent) -> str:
    """What the page header shows: ``admin``, ``owner``, ``agent`` (the most a user holds), or ``no store``."""
    if user.is_admin:
        return Role.ADMIN.value
    roles = set(session.scalars(select(Membership.role).where(Membership.agent_id == user.id)))
    return next((r.value for r in STORE_ROLES if r in roles), "no store")
