"""answer_settings, faq_entries, answer_handoffs: automatic answers (issue 15)

Revision ID: 0017_auto_answers
Revises: 0016_message_media
Create Date: 2026-12-03 22:30:00

A store's switches for order-status and FAQ answers (no row: off), its FAQ entries (example
questions as a JSON list, and the answer), and the conversations whose customer asked for a person.
"""
import sqlalchemy as sa
from alembic import op

revision = '0017_auto_answers'
down_revision = '0016_message_media'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'answer_settings',
        sa.Column('store_id', sa.Integer(), nullable=False),
        sa.Column('order_status', sa.Boolean(), server_default='0', nullable=False),
        sa.Column('faq', sa.Boolean(), server_default='0', nullable=False),
        sa.Column('handoff_ack', sa.Boolean(), server_default='1', nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_answer_settings_store_id_stores')),
        sa.PrimaryKeyConstraint('store_id', name=op.f('pk_answer_settings')),
    )
    op.create_table(
        'faq_entries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('store_id', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=100), nullable=False),
        sa.Column('questions', sa.JSON(), nullable=False),
        sa.Column('answer', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_faq_entries_store_id_stores')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_faq_entries')),
    )
    op.create_index(op.f('ix_faq_entries_store_id'), 'faq_entries', ['store_id'], unique=False)
    op.create_table(
        'answer_handoffs',
        sa.Column('conversation_id', sa.Integer(), nullable=False),
        sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('message_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'],
                                name=op.f('fk_answer_handoffs_conversation_id_conversations')),
        sa.PrimaryKeyConstraint('conversation_id', name=op.f('pk_answer_handoffs')),
    )


def downgrade() -> None:
    op.drop_table('answer_handoffs')
    op.drop_index(op.f('ix_faq_entries_store_id'), table_name='faq_entries')
    op.drop_table('faq_entries')
    op.drop_table('answer_settings')
