"""short_links: short links in outgoing texts, their clicks, and per-store link & sending settings

Revision ID: 0021_short_links
Revises: 0019_feedback
Create Date: 2026-12-03 23:00:00

Links in texts can become ``<public_url>/r/<code>``; each click is a row of its own (message,
store, customer, time; no IP address), the ground for revenue attribution. ``link_settings``
holds the store's switch for short links and its smart-sending hours (a reason code of
``smart_sending`` needs no change here: reasons are stored as plain text).
"""
import sqlalchemy as sa
from alembic import op

revision = '0021_short_links'
down_revision = '0020_languages'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'link_settings',
        sa.Column('store_id', sa.Integer(), nullable=False),
        sa.Column('short_links', sa.Boolean(), nullable=False),
        sa.Column('base_url', sa.String(length=255), nullable=False),
        sa.Column('smart_sending_hours', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_link_settings_store_id_stores')),
        sa.PrimaryKeyConstraint('store_id', name=op.f('pk_link_settings')),
    )
    op.create_table(
        'short_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=16), nullable=False),
        sa.Column('store_id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('url', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_short_links_customer_id_customers')),
        sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_short_links_message_id_messages')),
        sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_short_links_store_id_stores')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_short_links')),
        sa.UniqueConstraint('code', name=op.f('uq_short_links_code')),
    )
    op.create_index(op.f('ix_short_links_customer_id'), 'short_links', ['customer_id'], unique=False)
    op.create_index(op.f('ix_short_links_message_id'), 'short_links', ['message_id'], unique=False)
    op.create_table(
        'link_clicks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('link_id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.Integer(), nullable=False),
        sa.Column('store_id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('clicked_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('device', sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_link_clicks_customer_id_customers')),
        sa.ForeignKeyConstraint(['link_id'], ['short_links.id'], name=op.f('fk_link_clicks_link_id_short_links')),
        sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_link_clicks_message_id_messages')),
        sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_link_clicks_store_id_stores')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_link_clicks')),
    )
    op.create_index(op.f('ix_link_clicks_link_id'), 'link_clicks', ['link_id'], unique=False)
    op.create_index(op.f('ix_link_clicks_message_id'), 'link_clicks', ['message_id'], unique=False)
    op.create_index('ix_link_clicks_customer_clicked', 'link_clicks', ['customer_id', 'clicked_at'], unique=False)
    op.create_index('ix_link_clicks_store_clicked', 'link_clicks', ['store_id', 'clicked_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_link_clicks_store_clicked', table_name='link_clicks')
    op.drop_index('ix_link_clicks_customer_clicked', table_name='link_clicks')
    op.drop_index(op.f('ix_link_clicks_message_id'), table_name='link_clicks')
    op.drop_index(op.f('ix_link_clicks_link_id'), table_name='link_clicks')
    op.drop_table('link_clicks')
    op.drop_index(op.f('ix_short_links_message_id'), table_name='short_links')
    op.drop_index(op.f('ix_short_links_customer_id'), table_name='short_links')
    op.drop_table('short_links')
    op.drop_table('link_settings')
