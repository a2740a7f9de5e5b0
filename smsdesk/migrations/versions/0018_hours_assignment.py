"""hours & assignment: business hours, the away message and automatic assignment

Revision ID: 0018_hours_assignment
Revises: 0016_message_media
Create Date: 2026-12-03 22:30:00

``desk_settings`` holds a store's weekly schedule and its away-message and assignment settings
(no row: always open, both off, as before). ``conversation_routing`` remembers per conversation
when the away message last went out and whom assignment gave it to until when. Agents get
``last_seen_at`` and ``away_since`` (presence), memberships ``last_assigned_seq`` (round-robin).
"""
import sqlalchemy as sa
from alembic import op

revision = '0018_hours_assignment'
down_revision = '0017_auto_answers'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('agents', sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('agents', sa.Column('away_since', sa.DateTime(timezone=True), nullable=True))
    op.add_column('memberships', sa.Column('last_assigned_seq', sa.Integer(), server_default='0', nullable=False))
    op.create_table(
        'desk_settings',
        sa.Column('store_id', sa.Integer(), nullable=False),
        sa.Column('use_hours', sa.Boolean(), server_default='0', nullable=False),
        sa.Column('schedule', sa.JSON(none_as_null=True), nullable=True),
        sa.Column('away_message', sa.Boolean(), server_default='0', nullable=False),
        sa.Column('assignment', sa.Boolean(), server_default='0', nullable=False),
        sa.Column('agent_limit', sa.Integer(), server_default='10', nullable=False),
        sa.Column('answer_minutes', sa.Integer(), server_default='15', nullable=False),
        sa.Column('assignment_seq', sa.Integer(), server_default='0', nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_desk_settings_store_id_stores')),
        sa.PrimaryKeyConstraint('store_id', name=op.f('pk_desk_settings')),
    )
    op.create_table(
        'conversation_routing',
        sa.Column('conversation_id', sa.Integer(), nullable=False),
        sa.Column('store_id', sa.Integer(), nullable=False),
        sa.Column('away_sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('assigned_agent_id', sa.Integer(), nullable=True),
        sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('answer_due_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('lapsed_agent_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'],
                                name=op.f('fk_conversation_routing_conversation_id_conversations')),
        sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_conversation_routing_store_id_stores')),
        sa.ForeignKeyConstraint(['assigned_agent_id'], ['agents.id'],
                                name=op.f('fk_conversation_routing_assigned_agent_id_agents')),
        sa.ForeignKeyConstraint(['lapsed_agent_id'], ['agents.id'],
                                name=op.f('fk_conversation_routing_lapsed_agent_id_agents')),
        sa.PrimaryKeyConstraint('conversation_id', name=op.f('pk_conversation_routing')),
    )
    op.create_index('ix_conversation_routing_due', 'conversation_routing', ['answer_due_at'], unique=False)
    op.create_index('ix_conversations_assigned_waiting', 'conversations', ['assigned_agent_id', 'waiting_since'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_conversations_assigned_waiting', table_name='conversations')
    op.drop_index('ix_conversation_routing_due', table_name='conversation_routing')
    op.drop_table('conversation_routing')
    op.drop_table('desk_settings')
    op.drop_column('memberships', 'last_assigned_seq')
    op.drop_column('agents', 'away_since')
    op.drop_column('agents', 'last_seen_at')
