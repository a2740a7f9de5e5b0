"""suppressions: an erased customer's opt-out, kept as a salted hash of the number

Revision ID: 0012_suppressions
Revises: 0011_search
Create Date: 2026-11-25 13:45:00
"""
import sqlalchemy as sa
from alembic import op


revision = '0012_suppressions'
down_revision = '0011_search'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'suppressions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('store_id', sa.Integer(), nullable=False),
        sa.Column('phone_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_suppressions_store_id_stores')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_suppressions')),
        sa.UniqueConstraint('store_id', 'phone_hash', name=op.f('uq_suppressions_store_id_phone_hash')),
    )


def downgrade() -> None:
    op.drop_table('suppressions')
