"""message_media: the pictures of MMS texts (in and out), and messages.media_count

Revision ID: 0016_message_media
Revises: 0015_search_docs
Create Date: 2026-12-03 19:00:00

Inbound MMS used to become an empty text (Twilio's MediaUrl{i} were dropped). Each picture is
now a row: Twilio's URL for an inbound one (fetched on first view, then kept in ``content``), the
agent's upload for an outbound one (served to Twilio at /media/<token>). ``messages.media_count``
lets the list say "Photo" for a text without words, without reading the pictures.
"""
import sqlalchemy as sa
from alembic import op

revision = '0016_message_media'
down_revision = '0015_search_docs'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('messages', sa.Column('media_count', sa.Integer(), server_default='0', nullable=False))
    op.create_table(
        'message_media',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('content_type', sa.String(length=100), nullable=False),
        sa.Column('provider_url', sa.String(length=500), nullable=True),
        sa.Column('token', sa.String(length=64), nullable=False),
        sa.Column('size', sa.Integer(), nullable=True),
        sa.Column('content', sa.LargeBinary(), nullable=True),
        sa.Column('error', sa.Text(), server_default='', nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_message_media_message_id_messages')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_message_media')),
        sa.UniqueConstraint('message_id', 'position', name=op.f('uq_message_media_message_id_position')),
        sa.UniqueConstraint('token', name=op.f('uq_message_media_token')),
    )
    op.create_index(op.f('ix_message_media_message_id'), 'message_media', ['message_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_message_media_message_id'), table_name='message_media')
    op.drop_table('message_media')
    op.drop_column('messages', 'media_count')
