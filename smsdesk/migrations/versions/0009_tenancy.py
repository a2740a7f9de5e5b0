"""tenancy: stores are tenants; users hold a role per store, admins hold the deployment

Existing users keep what they had, store by store: every agent gets a membership in every
existing store with the role they held (owner or agent). Nobody becomes admin (grant it with
``smsdesk agent add --email E --role admin``). ``agents.role`` goes: memberships replace it.

A sender number or messaging service belongs to one store from now on (unique indexes).
Stores sharing one are not guessed apart: the upgrade stops and names them.

Revision ID: 0009_tenancy
Revises: 0008_secrets
Create Date: 2026-11-25 12:00:00
"""
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = '0009_tenancy'
down_revision = '0008_secrets'
branch_labels = None
depends_on = None

# Frozen here on purpose: a migration must not change when the enum grows.
_ROLES = ('admin', 'owner', 'agent')
_SENDERS = ('from_number', 'messaging_service_sid')


def upgrade() -> None:
    _refuse_shared_senders()
    op.create_table('memberships',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum(*_ROLES, name='role', native_enum=False, length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_memberships_agent_id_agents')),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_memberships_store_id_stores')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_memberships')),
    sa.UniqueConstraint('agent_id', 'store_id', name=op.f('uq_memberships_agent_id_store_id'))
    )
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_memberships_store_id'), ['store_id'], unique=False)
    _keep_existing_access()
    # Plain ALTERs, no batch: SQLite (3.35+) drops a column in place, where a batch would copy
    # ``agents`` and fail its foreign keys (tokens, messages and memberships point at it).
    op.add_column('agents', sa.Column('is_admin', sa.Boolean(), server_default='0', nullable=False))
    op.drop_column('agents', 'role')
    for column in _SENDERS:
        op.drop_index(op.f(f'ix_stores_{column}'), table_name='stores')
        op.create_index(op.f(f'ix_stores_{column}'), 'stores', [column], unique=True)


def downgrade() -> None:
    for column in _SENDERS:
        op.drop_index(op.f(f'ix_stores_{column}'), table_name='stores')
        op.create_index(op.f(f'ix_stores_{column}'), 'stores', [column], unique=False)
    op.add_column('agents', sa.Column('role', sa.Enum(*_ROLES, name='role', native_enum=False, length=20),
                                      server_default='agent', nullable=False))
    op.drop_column('agents', 'is_admin')
    op.execute("UPDATE agents SET role = 'owner' WHERE id IN (SELECT agent_id FROM memberships WHERE role = 'owner')")
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_memberships_store_id'))
    op.drop_table('memberships')


def _refuse_shared_senders() -> None:
    """Stop, naming the stores, when two share a sender: which of them it belongs to is the
    operator's call (their customers' replies land in one inbox only)."""
    conn = op.get_bind()
    stores = sa.table('stores', sa.column('slug', sa.String), *(sa.column(c, sa.String) for c in _SENDERS))
    problems = []
    for column in _SENDERS:
        shared = (sa.select(stores.c[column]).where(stores.c[column].is_not(None))
                  .group_by(stores.c[column]).having(sa.func.count() > 1))
        for (value,) in conn.execute(shared):
            slugs = conn.execute(sa.select(stores.c.slug).where(stores.c[column] == value)).scalars().all()
            problems.append(f"{column} {value} is used by stores {', '.join(sorted(slugs))}")
    if problems:
        raise RuntimeError("a sender must belong to one store: " + "; ".join(problems)
                           + " (clear it on all but one, e.g. UPDATE stores SET ... = NULL WHERE slug = ..., "
                             "then upgrade again)")


def _keep_existing_access() -> None:
    """Every user gets a membership in every store with the role they held (they saw them all)."""
    conn = op.get_bind()
    agents = sa.table('agents', sa.column('id', sa.Integer), sa.column('role', sa.String))
    stores = sa.table('stores', sa.column('id', sa.Integer))
    memberships = sa.table('memberships', *(sa.column(name) for name in ('agent_id', 'store_id', 'role', 'created_at')))
    now = datetime.now(timezone.utc)
    if conn.dialect.name == 'sqlite':  # models.UTCDateTime stores naive UTC there
        now = now.replace(tzinfo=None)
    rows = conn.execute(sa.select(agents.c.id, agents.c.role, stores.c.id).select_from(agents.join(stores, sa.true())))
    values = [{'agent_id': agent_id, 'store_id': store_id, 'role': role, 'created_at': now}
              for agent_id, role, store_id in rows]
    if values:
        conn.execute(memberships.insert(), values)
