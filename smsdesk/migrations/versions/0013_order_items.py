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
    with op.batch_alter_table('orders') as batch:
        batch.add_column(sa.Column('items', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))


def downgrade() -> None:
    with op.batch_alter_table('orders') as batch:
        batch.drop_column('items')
