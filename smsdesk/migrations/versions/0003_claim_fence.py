"""claim fence: messages.claim_owner, lease_generation and reconcile_tries

A worker proves a claim is still its own (owner and generation) right before the
provider call; every claim and reclaim bumps the generation.

Revision ID: 0003_claim_fence
Revises: 0002_reason_codes
Create Date: 2026-11-25 09:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0003_claim_fence'
down_revision = '0002_reason_codes'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claim_owner', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('lease_generation', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('reconcile_tries', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('reconcile_tries')
        batch_op.drop_column('lease_generation')
        batch_op.drop_column('claim_owner')
