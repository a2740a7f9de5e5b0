"""shipments: one row per package of an order (its own tracking and status); orders.item_count

Revision ID: 0005_shipments
Revises: 0004_consents
Create Date: 2026-11-25 09:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005_shipments'
down_revision = '0004_consents'
branch_labels = None
depends_on = None

# Order statuses that mean a package left the warehouse (frozen here: a migration must not
# change when the service's stage list grows).
_SHIPPED = ('shipped', 'out_for_delivery', 'ready_for_pickup', 'delivered')


def upgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('item_count', sa.Integer(), server_default='0', nullable=False))
    op.create_table('shipments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('tracking_number', sa.String(length=255), nullable=False),
    sa.Column('tracking_company', sa.String(length=255), nullable=False),
    sa.Column('tracking_url', sa.Text(), nullable=False),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('item_count', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_shipments_order_id_orders')),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_shipments_store_id_stores')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shipments')),
    sa.UniqueConstraint('order_id', 'external_id', name=op.f('uq_shipments_order_id_external_id'))
    )
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shipments_store_id'), ['store_id'], unique=False)
    _backfill_packages()


def _backfill_packages() -> None:
    """An order shipped before packages existed becomes one package with the order's tracking."""
    postgres = op.get_bind().dialect.name == 'postgresql'
    no_items: sa.ColumnClause = sa.literal_column("'[]'::json" if postgres else "'[]'")
    orders = sa.table('orders', *(sa.column(name) for name in (
        'id', 'store_id', 'status', 'tracking_number', 'tracking_company', 'tracking_url', 'created_at',
        'updated_at')))
    shipments = sa.table('shipments', *(sa.column(name) for name in (
        'store_id', 'order_id', 'external_id', 'status', 'tracking_number', 'tracking_company', 'tracking_url',
        'items', 'item_count', 'created_at', 'updated_at')))
    op.execute(shipments.insert().from_select(
        ['store_id', 'order_id', 'external_id', 'status', 'tracking_number', 'tracking_company', 'tracking_url',
         'items', 'item_count', 'created_at', 'updated_at'],
        sa.select(orders.c.store_id, orders.c.id, sa.literal_column("''"), orders.c.status, orders.c.tracking_number,
                  orders.c.tracking_company, orders.c.tracking_url, no_items, sa.literal_column('0'),
                  orders.c.updated_at, orders.c.updated_at)
        .where(orders.c.status.in_(_SHIPPED))))


def downgrade() -> None:
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shipments_store_id'))
    op.drop_table('shipments')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('item_count')
