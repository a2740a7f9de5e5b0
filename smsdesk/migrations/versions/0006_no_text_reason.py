"""no_text_reason: why an order's or checkout's latest text was never created

Revision ID: 0006_no_text_reason
Revises: 0005_shipments
Create Date: 2026-11-25 10:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0006_no_text_reason'
down_revision = '0005_shipments'
branch_labels = None
depends_on = None

# A code of smsdesk.reasons.Reason, stored as text (sa.Enum with native_enum=False only
# sets the length here, so the migration need not change when the enum grows).
_REASON = sa.Enum('no_phone', name='reason', native_enum=False, length=40)


def upgrade() -> None:
    for table in ('orders', 'checkouts'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('no_text_reason', _REASON, nullable=True))
    # Only the orders that got no text, newest first (the owner dashboard's list).
    op.create_index('ix_orders_no_text', 'orders', ['updated_at'],
                    postgresql_where=sa.text('no_text_reason IS NOT NULL'),
                    sqlite_where=sa.text('no_text_reason IS NOT NULL'))


def downgrade() -> None:
    op.drop_index('ix_orders_no_text', table_name='orders')
    for table in ('orders', 'checkouts'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('no_text_reason')
