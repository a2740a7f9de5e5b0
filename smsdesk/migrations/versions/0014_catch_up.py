"""catch_up: API credentials for every platform (stores.api_key) and each store's catch-up poll state

Revision ID: 0014_catch_up
Revises: 0013_order_items
Create Date: 2026-12-03 16:00:00
"""
import sqlalchemy as sa
from alembic import op


revision = '0014_catch_up'
down_revision = '0013_order_items'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('stores', sa.Column('api_key', sa.Text(), nullable=True))  # Fernet-encrypted
    op.create_table(
        'catch_up_states',
        sa.Column('store_id', sa.Integer(), nullable=False),
        sa.Column('watermark', sa.DateTime(timezone=True), nullable=True),
        sa.Column('next_poll_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('polled_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('error', sa.Text(), nullable=False),
        sa.Column('missed_since', sa.DateTime(timezone=True), nullable=True),
        sa.Column('missed_changes', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_catch_up_states_store_id_stores')),
        sa.PrimaryKeyConstraint('store_id', name=op.f('pk_catch_up_states')),
    )


def downgrade() -> None:
    op.drop_table('catch_up_states')
    # A plain DROP COLUMN (SQLite 3.35+): a batch copy of stores fails on SQLite while orders
    # and the rest still point at it.
    op.drop_column('stores', 'api_key')
