"""ingest: a webhook delivery keeps its normalized events until the apply job applies them

Revision ID: 0010_ingest
Revises: 0009_tenancy
Create Date: 2026-11-25 12:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0010_ingest'
down_revision = '0009_tenancy'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('events', sa.JSON(none_as_null=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_column('events')
