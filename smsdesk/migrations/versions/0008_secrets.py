"""secrets at rest: store secrets and API tokens encrypted, and a second (previous) webhook secret

Existing plaintext values are encrypted here with the configured key (security.secret_keys,
or the development key file next to a SQLite database), which the app loads before it
migrates (smsdesk/crypto.py).

Revision ID: 0008_secrets
Revises: 0007_agent_sessions
Create Date: 2026-11-25 12:00:00
"""
import sqlalchemy as sa
from alembic import op

from smsdesk import crypto

revision = '0008_secrets'
down_revision = '0007_agent_sessions'
branch_labels = None
depends_on = None

stores = sa.table('stores', sa.column('id', sa.Integer), sa.column('webhook_secret', sa.Text),
                  sa.column('api_token', sa.Text))


def upgrade() -> None:
    with op.batch_alter_table('stores', schema=None) as batch_op:
        batch_op.alter_column('webhook_secret', existing_type=sa.String(length=255), type_=sa.Text(),
                              existing_nullable=False)
        batch_op.alter_column('api_token', existing_type=sa.String(length=255), type_=sa.Text(),
                              existing_nullable=True)
        batch_op.add_column(sa.Column('webhook_secret_previous', sa.Text(), nullable=True))
    _convert(crypto.encrypt)


def downgrade() -> None:
    _convert(crypto.decrypt)
    with op.batch_alter_table('stores', schema=None) as batch_op:
        batch_op.drop_column('webhook_secret_previous')
        batch_op.alter_column('api_token', existing_type=sa.Text(), type_=sa.String(length=255),
                              existing_nullable=True)
        batch_op.alter_column('webhook_secret', existing_type=sa.Text(), type_=sa.String(length=255),
                              existing_nullable=False)


def _convert(change) -> None:
    """Encrypt (or decrypt) every store's webhook secret and API token in place."""
    conn = op.get_bind()
    for row in conn.execute(sa.select(stores.c.id, stores.c.webhook_secret, stores.c.api_token)).all():
        conn.execute(stores.update().where(stores.c.id == row.id).values(
            webhook_secret=change(row.webhook_secret),
            api_token=None if row.api_token is None else change(row.api_token)))
