"""link_clicks: only the link is a foreign key; its store, customer and text are copies

Revision ID: 0024_click_refs
Revises: 0023_ab_tests
Create Date: 2026-12-04 12:30:00

A click's ``store_id``, ``customer_id`` and ``message_id`` are copied from its short link, whose
own foreign keys guard them; short links are never deleted (erasure blanks their URL). Their
foreign keys on ``link_clicks`` made every click's insert lock its store's row (FOR KEY SHARE):
under bench/redirect.py's load on PostgreSQL that row, shared by every click of a store, held
the redirects' reads for up to 2 s (p99 0.2-2.3 s against 8-12 ms without these keys).
"""
import sqlalchemy as sa
from alembic import op

revision = '0024_click_refs'
down_revision = '0023_ab_tests'
branch_labels = None
depends_on = None

COPIES = (('store_id', 'stores'), ('customer_id', 'customers'), ('message_id', 'messages'))


def upgrade() -> None:
    with op.batch_alter_table('link_clicks') as batch:  # SQLite: a copy of the table without them
        for column, table in COPIES:
            batch.drop_constraint(op.f(f'fk_link_clicks_{column}_{table}'), type_='foreignkey')


def downgrade() -> None:
    with op.batch_alter_table('link_clicks') as batch:
        for column, table in COPIES:
            batch.create_foreign_key(op.f(f'fk_link_clicks_{column}_{table}'), table, [column], ['id'])
