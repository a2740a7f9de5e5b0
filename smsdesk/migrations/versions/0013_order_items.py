"""order_items: an order's line items (title, quantity), for the order panel of the inbox

Existing orders get an empty list: their platforms' payloads are not kept long enough to
fill it in, and the next webhook about the order does.

Revision ID: 0013_order_items
Revises: 0012_suppressions
Create Date: 2026-12-03 15:50:00
"""
import sqlalchemy as sa
from alembic import op


revision = '0013_order_items'
down_revision = '0012_suppressions'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN, never a batch copy on SQLite: a copied table would lose the search
    # triggers migration 0011 keeps on orders.
    op.add_column('orders', sa.Column('items', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))


def downgrade() -> None:
    op.drop_column('orders', 'items')
