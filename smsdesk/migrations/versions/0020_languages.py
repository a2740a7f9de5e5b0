"""languages: a template per (store, kind, language), a store's default language, a customer's language

Revision ID: 0020_languages
Revises: 0019_feedback
Create Date: 2026-12-03 23:00:00

Existing templates were written for the store's customers as a whole: they become the versions in
the store's default language, English for every existing store (``server_default``).
"""
import sqlalchemy as sa
from alembic import op

revision = '0020_languages'
down_revision = '0019_feedback'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (no batch copy): customers carries the search triggers (0015), which a SQLite
    # table copy would drop.
    op.add_column('stores', sa.Column('default_language', sa.String(length=8), server_default='en', nullable=False))
    op.add_column('customers', sa.Column('language', sa.String(length=8), nullable=True))
    with op.batch_alter_table('templates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), server_default='en', nullable=False))
        batch_op.drop_constraint('uq_templates_store_id_kind', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_templates_store_id_kind_language'),
                                          ['store_id', 'kind', 'language'])
    # Every store is English at this point, but say it as the rule: the store's default language.
    op.execute("UPDATE templates SET language = (SELECT default_language FROM stores WHERE stores.id = "
               "templates.store_id)")


def downgrade() -> None:
    # Only one version per kind fits the old table: keep the store's default language's.
    op.execute("DELETE FROM templates WHERE language <> (SELECT default_language FROM stores WHERE stores.id = "
               "templates.store_id)")
    with op.batch_alter_table('templates', schema=None) as batch_op:
        batch_op.drop_constraint('uq_templates_store_id_kind_language', type_='unique')
        batch_op.create_unique_constraint('uq_templates_store_id_kind', ['store_id', 'kind'])
        batch_op.drop_column('language')
    op.drop_column('customers', 'language')
    op.drop_column('stores', 'default_language')
