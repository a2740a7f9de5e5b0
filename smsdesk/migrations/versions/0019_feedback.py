"""feedback: store feedback settings, customers' ratings, and conversation closes

Revision ID: 0019_feedback
Revises: 0018_hours_assignment
Create Date: 2026-12-03 22:15:00

Customers can be asked to rate a delivered order or a closed conversation (1-5). Closing a
conversation was not recorded (only its current status): ``conversation_closes`` keeps who
closed it when, for resolution times on the dashboard and for "after close" requests.
"""
import sqlalchemy as sa
from alembic import op

revision = '0019_feedback'
down_revision = '0018_hours_assignment'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'feedback_settings',
        sa.Column('store_id', sa.Integer(), nullable=False),
        sa.Column('after_delivered', sa.Boolean(), nullable=False),
        sa.Column('delivered_delay_hours', sa.Integer(), nullable=False),
        sa.Column('after_close', sa.Boolean(), nullable=False),
        sa.Column('close_delay_hours', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_feedback_settings_store_id_stores')),
        sa.PrimaryKeyConstraint('store_id', name=op.f('pk_feedback_settings')),
    )
    op.create_table(
        'feedback',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('store_id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('conversation_id', sa.Integer(), nullable=True),
        sa.Column('order_id', sa.Integer(), nullable=True),
        sa.Column('request_message_id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.Integer(), nullable=False),
        sa.Column('score', sa.Integer(), nullable=False),
        sa.Column('comment', sa.Text(), nullable=False),
        sa.Column('opened', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'],
                                name=op.f('fk_feedback_conversation_id_conversations')),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_feedback_customer_id_customers')),
        sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_feedback_message_id_messages')),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_feedback_order_id_orders')),
        sa.ForeignKeyConstraint(['request_message_id'], ['messages.id'],
                                name=op.f('fk_feedback_request_message_id_messages')),
        sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_feedback_store_id_stores')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback')),
        sa.UniqueConstraint('message_id', name=op.f('uq_feedback_message_id')),
        sa.UniqueConstraint('request_message_id', name=op.f('uq_feedback_request_message_id')),
    )
    op.create_index(op.f('ix_feedback_customer_id'), 'feedback', ['customer_id'], unique=False)
    op.create_index('ix_feedback_store_created', 'feedback', ['store_id', 'created_at'], unique=False)
    op.create_table(
        'conversation_closes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('store_id', sa.Integer(), nullable=False),
        sa.Column('conversation_id', sa.Integer(), nullable=False),
        sa.Column('agent_id', sa.Integer(), nullable=True),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_conversation_closes_agent_id_agents')),
        sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'],
                                name=op.f('fk_conversation_closes_conversation_id_conversations')),
        sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_conversation_closes_store_id_stores')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_conversation_closes')),
    )
    op.create_index(op.f('ix_conversation_closes_conversation_id'), 'conversation_closes', ['conversation_id'],
                    unique=False)
    op.create_index('ix_conversation_closes_store_closed', 'conversation_closes', ['store_id', 'closed_at'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_conversation_closes_store_closed', table_name='conversation_closes')
    op.drop_index(op.f('ix_conversation_closes_conversation_id'), table_name='conversation_closes')
    op.drop_table('conversation_closes')
    op.drop_index('ix_feedback_store_created', table_name='feedback')
    op.drop_index(op.f('ix_feedback_customer_id'), table_name='feedback')
    op.drop_table('feedback')
    op.drop_table('feedback_settings')
