"""attribution: template versions, and which marketing text an order is credited to

Revision ID: 0022_attribution
Revises: 0021_short_links
Create Date: 2026-12-04 03:00:00

``template_versions`` numbers each template body a store's texts were rendered from (per kind and
language; the built-in text is a version too) and ``messages.template_version_id`` names it.
``orders`` gets the text it is attributed to (click or view) and when; ``link_settings`` the click
and view windows (defaults 120 h and 24 h, view attribution off). Columns are added in place (no
SQLite table copy): ``messages`` and ``orders`` carry the search documents' triggers (0015).
"""
import sqlalchemy as sa
from alembic import op

revision = '0022_attribution'
down_revision = '0021_short_links'
branch_labels = None
depends_on = None


def _add_reference(table: str, column: str, target: str) -> None:
    """A nullable integer column referring to ``target.id``, and its index. SQLite can't ALTER a
    constraint in: it takes the reference inline in ADD COLUMN."""
    name = f"fk_{table}_{column}_{target}"
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"ALTER TABLE {table} ADD COLUMN {column} INTEGER CONSTRAINT {name} REFERENCES {target} (id)")
    else:
        op.add_column(table, sa.Column(column, sa.Integer(), nullable=True))
        op.create_foreign_key(op.f(name), table, target, [column], ['id'])
    op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)


def _drop_reference(table: str, column: str, target: str) -> None:
    op.drop_index(op.f(f"ix_{table}_{column}"), table_name=table)
    if op.get_bind().dialect.name != "sqlite":  # SQLite drops the inline reference with its column
        op.drop_constraint(op.f(f"fk_{table}_{column}_{target}"), table, type_='foreignkey')
    op.drop_column(table, column)


def upgrade() -> None:
    op.create_table(
        'template_versions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('store_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('body_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_template_versions_store_id_stores')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_template_versions')),
        sa.UniqueConstraint('store_id', 'kind', 'language', 'body_hash',
                            name=op.f('uq_template_versions_store_id_kind_language_body_hash')),
        sa.UniqueConstraint('store_id', 'kind', 'language', 'number',
                            name=op.f('uq_template_versions_store_id_kind_language_number')),
    )
    _add_reference('messages', 'template_version_id', 'template_versions')
    _add_reference('orders', 'attributed_message_id', 'messages')
    op.add_column('orders', sa.Column('attribution', sa.Enum('click', 'view', name='attribution',
                                                             native_enum=False, length=10), nullable=True))
    op.add_column('orders', sa.Column('attributed_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('link_settings', sa.Column('click_window_hours', sa.Integer(), server_default='120',
                                             nullable=False))
    op.add_column('link_settings', sa.Column('view_attribution', sa.Boolean(), server_default='0', nullable=False))
    op.add_column('link_settings', sa.Column('view_window_hours', sa.Integer(), server_default='24', nullable=False))


def downgrade() -> None:
    op.drop_column('link_settings', 'view_window_hours')
    op.drop_column('link_settings', 'view_attribution')
    op.drop_column('link_settings', 'click_window_hours')
    op.drop_column('orders', 'attributed_at')
    op.drop_column('orders', 'attribution')
    _drop_reference('orders', 'attributed_message_id', 'messages')
    _drop_reference('messages', 'template_version_id', 'template_versions')
    op.drop_table('template_versions')
