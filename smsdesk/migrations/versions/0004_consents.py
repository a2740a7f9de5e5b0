"""consents: append-only SMS marketing consent history per store and phone

Every customer who has marketing consent today gets one ``granted`` row (source ``import``,
level ``unknown``), so the history explains the cached ``customers.marketing_consent``.

Revision ID: 0004_consents
Revises: 0003_claim_fence
Create Date: 2026-11-25 09:50:00
"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


revision = '0004_consents'
down_revision = '0003_claim_fence'
branch_labels = None
depends_on = None

# Frozen here on purpose: a migration must not change when the enums grow.
_STATES = ('granted', 'withdrawn')
_LEVELS = ('single_opt_in', 'confirmed_opt_in', 'unknown')
_SOURCES = ('shopify', 'woocommerce', 'bigcommerce', 'generic', 'keyword', 'provider', 'import')


def upgrade() -> None:
    op.create_table('consents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum(*_STATES, name='consentstate', native_enum=False, length=20), nullable=False),
    sa.Column('level', sa.Enum(*_LEVELS, name='consentlevel', native_enum=False, length=20), nullable=False),
    sa.Column('source', sa.Enum(*_SOURCES, name='consentsource', native_enum=False, length=20), nullable=False),
    sa.Column('platform_state', sa.String(length=40), nullable=False),
    sa.Column('collected_from', sa.String(length=100), nullable=False),
    sa.Column('delivery_id', sa.String(length=255), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_consents_customer_id_customers')),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_consents_store_id_stores')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consents'))
    )
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consents_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_consents_store_phone', ['store_id', 'phone', 'at'], unique=False)
    _import_current_consent()


def downgrade() -> None:
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.drop_index('ix_consents_store_phone')
        batch_op.drop_index(batch_op.f('ix_consents_customer_id'))
    op.drop_table('consents')


def _import_current_consent() -> None:
    customers = sa.table('customers', sa.column('id', sa.Integer), sa.column('store_id', sa.Integer),
                         sa.column('phone', sa.String), sa.column('marketing_consent', sa.Boolean),
                         sa.column('created_at', sa.DateTime(timezone=True)))
    consents = sa.table('consents', *(sa.column(name) for name in (
        'store_id', 'phone', 'customer_id', 'state', 'level', 'source', 'platform_state', 'collected_from',
        'delivery_id', 'at', 'recorded_at')))
    conn = op.get_bind()
    now = datetime.now(timezone.utc)
    if conn.dialect.name == 'sqlite':  # models.UTCDateTime stores naive UTC there
        now = now.replace(tzinfo=None)
    rows = conn.execute(sa.select(customers.c.id, customers.c.store_id, customers.c.phone, customers.c.created_at)
                        .where(customers.c.marketing_consent.is_(True))).all()
    if rows:
        conn.execute(consents.insert(), [
            {'store_id': store_id, 'phone': phone, 'customer_id': customer_id, 'state': 'granted',
             'level': 'unknown', 'source': 'import', 'platform_state': '', 'collected_from': '', 'delivery_id': '',
             'at': created_at, 'recorded_at': now}
            for customer_id, store_id, phone, created_at in rows])
