"""ab_tests: A/B tests of cart reminders, and which test and version chose a text's body

Revision ID: 0023_ab_tests
Revises: 0022_attribution
Create Date: 2026-12-04 02:45:00

``ab_tests`` holds a store's second body (B) for one reminder kind and language; a partial unique
index keeps at most one test running per kind and language. Texts get ``ab_test_id`` and
``ab_variant`` (NULL for every text no test chose, including all texts sent before).
"""
import sqlalchemy as sa
from alembic import op

revision = '0023_ab_tests'
down_revision = '0022_attribution'
branch_labels = None
depends_on = None


def _variant() -> sa.Column:
    return sa.Column('ab_variant', sa.Enum('A', 'B', name='abvariant', native_enum=False, length=1), nullable=True)


def upgrade() -> None:
    op.create_table(
        'ab_tests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('store_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('body_b', sa.Text(), nullable=False),
        sa.Column('split_percent', sa.Integer(), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('ended_reason', sa.Enum('ended', 'b_adopted', name='abendreason', native_enum=False, length=20),
                  nullable=True),
        sa.Column('winner', sa.Enum('A', 'B', name='abvariant', native_enum=False, length=1), nullable=True),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_ab_tests_store_id_stores')),
        sa.ForeignKeyConstraint(['created_by'], ['agents.id'], name=op.f('fk_ab_tests_created_by_agents')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ab_tests')),
    )
    op.create_index('ix_ab_tests_store_started', 'ab_tests', ['store_id', 'started_at'], unique=False)
    op.create_index('uq_ab_tests_running', 'ab_tests', ['store_id', 'kind', 'language'], unique=True,
                    postgresql_where=sa.text('ended_at IS NULL'), sqlite_where=sa.text('ended_at IS NULL'))
    if op.get_bind().dialect.name == 'sqlite':
        # ADD COLUMN takes an inline foreign key in SQLite (NULL default); no table copy needed.
        op.execute('ALTER TABLE messages ADD COLUMN ab_test_id INTEGER '
                   'CONSTRAINT fk_messages_ab_test_id_ab_tests REFERENCES ab_tests (id)')
        op.add_column('messages', _variant())
    else:
        op.add_column('messages', sa.Column('ab_test_id', sa.Integer(), nullable=True))
        op.add_column('messages', _variant())
        op.create_foreign_key(op.f('fk_messages_ab_test_id_ab_tests'), 'messages', 'ab_tests', ['ab_test_id'], ['id'])
    op.create_index(op.f('ix_messages_ab_test_id'), 'messages', ['ab_test_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_messages_ab_test_id'), table_name='messages')
    if op.get_bind().dialect.name != 'sqlite':  # SQLite drops the inline reference with its column
        op.drop_constraint(op.f('fk_messages_ab_test_id_ab_tests'), 'messages', type_='foreignkey')
    # No table copy on SQLite: a copy would turn the inline references of 0022's columns into
    # table constraints, which SQLite's DROP COLUMN then refuses in 0022's downgrade.
    op.drop_column('messages', 'ab_variant')
    op.drop_column('messages', 'ab_test_id')
    op.drop_index('uq_ab_tests_running', table_name='ab_tests')
    op.drop_index('ix_ab_tests_store_started', table_name='ab_tests')
    op.drop_table('ab_tests')
