"""search and paging: keyset indexes for the lists, conversations.updated_at for ?since=,
trigram search (pg_trgm GIN indexes on PostgreSQL, FTS5 trigram tables kept by triggers on SQLite)

Revision ID: 0011_search
Revises: 0010_ingest
Create Date: 2026-11-25 12:00:00

The search indexes are not in the models (they are dialect-specific and expression-based);
smsdesk.db.SEARCH_OBJECTS names them so the models/migrations comparison leaves them alone.
"""
import sqlalchemy as sa
from alembic import op

revision = '0011_search'
down_revision = '0010_ingest'
branch_labels = None
depends_on = None

PG_TRIGRAM = {  # index name -> (table, indexed expression)
    'ix_customers_phone_trgm': ('customers', 'phone'),
    'ix_customers_name_trgm': ('customers', "(first_name || ' ' || last_name)"),
    'ix_orders_number_trgm': ('orders', 'number'),
    'ix_messages_body_trgm': ('messages', 'body'),
}

# SQLite: customer_search holds its own copy (the name is two columns joined); order_search and
# message_search read their text from the table itself (external content), so triggers must hand
# FTS5 the old values to forget ('delete'), and fire only when the searched column changes.
# Each table is dropped first: a schema rebuilt with drop_all (tests, benches) leaves these
# behind, and stale rowids would then clash with the fill below.
SQLITE_FTS = [
    "DROP TABLE IF EXISTS customer_search",
    "CREATE VIRTUAL TABLE customer_search USING fts5(name, phone, tokenize='trigram')",
    "CREATE TRIGGER IF NOT EXISTS customer_search_ai AFTER INSERT ON customers BEGIN "
    "INSERT INTO customer_search(rowid, name, phone) VALUES (new.id, new.first_name || ' ' || new.last_name, "
    "new.phone); END",
    "CREATE TRIGGER IF NOT EXISTS customer_search_au AFTER UPDATE OF first_name, last_name, phone ON customers BEGIN "
    "DELETE FROM customer_search WHERE rowid = old.id; "
    "INSERT INTO customer_search(rowid, name, phone) VALUES (new.id, new.first_name || ' ' || new.last_name, "
    "new.phone); END",
    "CREATE TRIGGER IF NOT EXISTS customer_search_ad AFTER DELETE ON customers BEGIN "
    "DELETE FROM customer_search WHERE rowid = old.id; END",
    "INSERT INTO customer_search(rowid, name, phone) SELECT id, first_name || ' ' || last_name, phone FROM customers",
]
for _table, _column in (('orders', 'number'), ('messages', 'body')):
    _fts = _table[:-1] + '_search'
    SQLITE_FTS += [
        f"DROP TABLE IF EXISTS {_fts}",
        f"CREATE VIRTUAL TABLE {_fts} USING fts5({_column}, content='{_table}', content_rowid='id', "
        "tokenize='trigram')",
        f"CREATE TRIGGER IF NOT EXISTS {_fts}_ai AFTER INSERT ON {_table} BEGIN "
        f"INSERT INTO {_fts}(rowid, {_column}) VALUES (new.id, new.{_column}); END",
        f"CREATE TRIGGER IF NOT EXISTS {_fts}_au AFTER UPDATE OF {_column} ON {_table} BEGIN "
        f"INSERT INTO {_fts}({_fts}, rowid, {_column}) VALUES ('delete', old.id, old.{_column}); "
        f"INSERT INTO {_fts}(rowid, {_column}) VALUES (new.id, new.{_column}); END",
        f"CREATE TRIGGER IF NOT EXISTS {_fts}_ad AFTER DELETE ON {_table} BEGIN "
        f"INSERT INTO {_fts}({_fts}, rowid, {_column}) VALUES ('delete', old.id, old.{_column}); END",
        f"INSERT INTO {_fts}({_fts}) VALUES ('rebuild')",
    ]


def upgrade() -> None:
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE conversations SET updated_at = last_message_at")
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.alter_column('updated_at', existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.drop_index('ix_conversations_waiting_since')
        batch_op.create_index('ix_conversations_queue', ['waiting_since', 'id'], unique=False)
        batch_op.create_index('ix_conversations_recent', ['waiting_since', 'last_message_at', 'id'], unique=False)
        batch_op.create_index('ix_conversations_status_recent', ['status', 'waiting_since', 'last_message_at', 'id'],
                              unique=False)
        batch_op.create_index('ix_conversations_updated', ['updated_at', 'id'], unique=False)
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index('ix_messages_thread', ['customer_id', 'created_at', 'id'], unique=False)
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_deliveries_recent', ['store_id', 'received_at', 'id'], unique=False)
    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        # The extension may live in another schema than ours (installed earlier, or a
        # search_path without it): name its operator class with the schema it is in.
        schema = op.get_bind().exec_driver_sql(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
            " WHERE e.extname = 'pg_trgm'").scalar_one()
        for name, (table, expression) in PG_TRIGRAM.items():
            op.execute(f'CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({expression} "{schema}".gin_trgm_ops)')
    elif dialect == 'sqlite':
        for statement in SQLITE_FTS:
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        for name in PG_TRIGRAM:
            op.execute(f"DROP INDEX IF EXISTS {name}")
    elif dialect == 'sqlite':
        for fts in ('customer_search', 'order_search', 'message_search'):
            for suffix in ('ai', 'au', 'ad'):
                op.execute(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")
            op.execute(f"DROP TABLE IF EXISTS {fts}")
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_deliveries_recent')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_thread')
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_index('ix_conversations_updated')
        batch_op.drop_index('ix_conversations_status_recent')
        batch_op.drop_index('ix_conversations_recent')
        batch_op.drop_index('ix_conversations_queue')
        batch_op.create_index('ix_conversations_waiting_since', ['waiting_since'], unique=False)
        batch_op.drop_column('updated_at')
