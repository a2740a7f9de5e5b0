"""agent sessions: a session version that ends every session at once, and removed agents

Revision ID: 0007_agent_sessions
Revises: 0006_no_text_reason
Create Date: 2026-11-25 11:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0007_agent_sessions'
down_revision = '0006_no_text_reason'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('agents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('agents', schema=None) as batch_op:
        batch_op.drop_column('removed_at')
        batch_op.drop_column('session_version')
