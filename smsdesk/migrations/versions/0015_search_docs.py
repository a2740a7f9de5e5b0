"""search documents and inbox push: one searchable row per customer, kept by triggers; on
PostgreSQL a NOTIFY for every change of a conversation

Revision ID: 0015_search_docs
Revises: 0014_catch_up
Create Date: 2026-12-03 16:00:00

Search (services/search.py) used to look through 1,000,000 texts, 100,000 orders and customers;
now it looks through ``search_docs``: per customer their name and phone (``who``), their order
numbers (``orders``) and the last TEXT_CHARS characters of their texts (``texts``), in lower case. Triggers on
customers, orders and messages keep it: a new text is appended (cut to TEXT_CHARS), a changed or
deleted one (retention, erasure) rebuilds the customer's ``texts`` from their latest texts, so
no redacted word stays findable. The per-table trigram indexes of 0011 go (every text insert
paid for them). PostgreSQL: pg_trgm GIN indexes per column; SQLite: an FTS5 trigram table with
search_docs as its external content.

PostgreSQL also gets ``smsdesk_inbox_notify``: after a conversation is inserted or its
``updated_at`` moves, NOTIFY smsdesk_inbox '<store id> <conversation id>' (delivered on commit;
services/push.py turns it into server-sent events).
"""
import importlib.util
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = '0015_search_docs'
down_revision = '0014_catch_up'
branch_labels = None
depends_on = None

TEXT_CHARS = 2000  # of each customer's latest texts (about the last 15 texts)
RECENT = 40  # texts read when a customer's ``texts`` is rebuilt
PG_TRIGRAM = ('who', 'orders', 'texts')
# The list's second half (nobody waiting, latest first): PostgreSQL can't read (waiting_since,
# last_message_at) in order after "waiting_since IS NULL" (only "=" fixes a column), so it
# sorted every such conversation per page (~70 ms at 100,000); partial indexes are in order.
RESTING = {'ix_conversations_resting': ['last_message_at', 'id'],
           'ix_conversations_status_resting': ['status', 'last_message_at', 'id']}

# Documents are lower case: the search compares with LIKE, several times faster than ILIKE per row.
WHO = "lower(coalesce({c}.first_name, '') || ' ' || coalesce({c}.last_name, '') || ' ' || coalesce({c}.phone, ''))"
ORDERS = ("coalesce((SELECT {agg} FROM orders o WHERE o.customer_id = {id}), '')")
TEXTS_PG = ("right(coalesce((SELECT lower(string_agg(r.body, ' ' ORDER BY r.created_at, r.id)) FROM (SELECT m.body, m.created_at,"
            f" m.id FROM messages m WHERE m.customer_id = {{id}} ORDER BY m.created_at DESC, m.id DESC LIMIT {RECENT}) r),"
            f" ''), {TEXT_CHARS})")
TEXTS_SQLITE = ("substr(coalesce((SELECT lower(group_concat(r.body, ' ')) FROM (SELECT * FROM (SELECT m.body, m.created_at, m.id"
                f" FROM messages m WHERE m.customer_id = {{id}} ORDER BY m.created_at DESC, m.id DESC LIMIT {RECENT})"
                f" ORDER BY created_at, id) r), ''), -{TEXT_CHARS})")
ORDERS_PG = ORDERS.format(agg="lower(string_agg(o.number, ' ' ORDER BY o.id))", id="{id}")
ORDERS_SQLITE = ORDERS.format(agg="lower(group_concat(o.number, ' '))", id="{id}")

PG_FUNCTIONS = [
    # Rebuild whole documents (a changed or deleted order or text, a moved customer).
    "CREATE OR REPLACE FUNCTION search_docs_rebuild(ids integer[]) RETURNS void LANGUAGE sql AS $$ "
    f"UPDATE search_docs d SET who = {WHO.format(c='c')}, orders = {ORDERS_PG.format(id='d.customer_id')}, "
    f"texts = {TEXTS_PG.format(id='d.customer_id')} FROM customers c "
    "WHERE c.id = d.customer_id AND d.customer_id = ANY(ids) $$",
    # Statement-level with transition tables: a bulk insert updates each document once.
    "CREATE OR REPLACE FUNCTION search_docs_customers_added() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"INSERT INTO search_docs (customer_id, store_id, who, orders, texts) SELECT n.id, n.store_id, {WHO.format(c='n')},"
    " '', '' FROM added n; RETURN NULL; END $$",
    "CREATE OR REPLACE FUNCTION search_docs_customer_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"UPDATE search_docs SET who = {WHO.format(c='NEW')}, store_id = NEW.store_id WHERE customer_id = NEW.id; "
    "RETURN NULL; END $$",
    "CREATE OR REPLACE FUNCTION search_docs_orders_added() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "UPDATE search_docs d SET orders = trim(d.orders || ' ' || lower(n.numbers)) FROM (SELECT customer_id, "
    "string_agg(number, ' ' ORDER BY id) AS numbers FROM added WHERE customer_id IS NOT NULL GROUP BY customer_id) n "
    "WHERE d.customer_id = n.customer_id; RETURN NULL; END $$",
    "CREATE OR REPLACE FUNCTION search_docs_order_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF TG_OP <> 'INSERT' THEN PERFORM search_docs_rebuild(ARRAY[OLD.customer_id]); END IF; "
    "IF TG_OP <> 'DELETE' THEN PERFORM search_docs_rebuild(ARRAY[NEW.customer_id]); END IF; RETURN NULL; END $$",
    "CREATE OR REPLACE FUNCTION search_docs_texts_added() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"UPDATE search_docs d SET texts = right(d.texts || ' ' || lower(n.bodies), {TEXT_CHARS}) FROM (SELECT customer_id, "
    "string_agg(coalesce(body, ''), ' ' ORDER BY created_at, id) AS bodies FROM added GROUP BY customer_id) n "
    "WHERE d.customer_id = n.customer_id; RETURN NULL; END $$",
    "CREATE OR REPLACE FUNCTION search_docs_text_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF TG_OP = 'UPDATE' THEN PERFORM search_docs_rebuild(ARRAY[OLD.customer_id, NEW.customer_id]); "
    "ELSE PERFORM search_docs_rebuild(ARRAY[OLD.customer_id]); END IF; RETURN NULL; END $$",
    "CREATE OR REPLACE FUNCTION smsdesk_inbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "PERFORM pg_notify('smsdesk_inbox', NEW.store_id || ' ' || NEW.id); RETURN NULL; END $$",
]
PG_TRIGGERS = [
    "CREATE TRIGGER search_docs_customers_ai AFTER INSERT ON customers REFERENCING NEW TABLE AS added "
    "FOR EACH STATEMENT EXECUTE FUNCTION search_docs_customers_added()",
    "CREATE TRIGGER search_docs_customers_au AFTER UPDATE OF first_name, last_name, phone, store_id ON customers "
    "FOR EACH ROW EXECUTE FUNCTION search_docs_customer_changed()",
    "CREATE TRIGGER search_docs_orders_ai AFTER INSERT ON orders REFERENCING NEW TABLE AS added "
    "FOR EACH STATEMENT EXECUTE FUNCTION search_docs_orders_added()",
    "CREATE TRIGGER search_docs_orders_aud AFTER UPDATE OF number, customer_id OR DELETE ON orders "
    "FOR EACH ROW EXECUTE FUNCTION search_docs_order_changed()",
    "CREATE TRIGGER search_docs_messages_ai AFTER INSERT ON messages REFERENCING NEW TABLE AS added "
    "FOR EACH STATEMENT EXECUTE FUNCTION search_docs_texts_added()",
    # Only when a body really changes: status updates (the sender's hot path) never fire it.
    "CREATE TRIGGER search_docs_messages_au AFTER UPDATE OF body, customer_id ON messages FOR EACH ROW "
    "WHEN (OLD.body IS DISTINCT FROM NEW.body OR OLD.customer_id <> NEW.customer_id) "
    "EXECUTE FUNCTION search_docs_text_changed()",
    "CREATE TRIGGER search_docs_messages_ad AFTER DELETE ON messages FOR EACH ROW "
    "EXECUTE FUNCTION search_docs_text_changed()",
    "CREATE TRIGGER smsdesk_inbox_notify_ai AFTER INSERT ON conversations FOR EACH ROW "
    "EXECUTE FUNCTION smsdesk_inbox_notify()",
    "CREATE TRIGGER smsdesk_inbox_notify_au AFTER UPDATE ON conversations FOR EACH ROW "
    "WHEN (OLD.updated_at IS DISTINCT FROM NEW.updated_at) EXECUTE FUNCTION smsdesk_inbox_notify()",
]
PG_DROP = [
    "DROP TRIGGER IF EXISTS smsdesk_inbox_notify_au ON conversations",
    "DROP TRIGGER IF EXISTS smsdesk_inbox_notify_ai ON conversations",
    "DROP TRIGGER IF EXISTS search_docs_messages_ad ON messages",
    "DROP TRIGGER IF EXISTS search_docs_messages_au ON messages",
    "DROP TRIGGER IF EXISTS search_docs_messages_ai ON messages",
    "DROP TRIGGER IF EXISTS search_docs_orders_aud ON orders",
    "DROP TRIGGER IF EXISTS search_docs_orders_ai ON orders",
    "DROP TRIGGER IF EXISTS search_docs_customers_au ON customers",
    "DROP TRIGGER IF EXISTS search_docs_customers_ai ON customers",
    "DROP FUNCTION IF EXISTS smsdesk_inbox_notify()",
    "DROP FUNCTION IF EXISTS search_docs_text_changed()",
    "DROP FUNCTION IF EXISTS search_docs_texts_added()",
    "DROP FUNCTION IF EXISTS search_docs_order_changed()",
    "DROP FUNCTION IF EXISTS search_docs_orders_added()",
    "DROP FUNCTION IF EXISTS search_docs_customer_changed()",
    "DROP FUNCTION IF EXISTS search_docs_customers_added()",
    "DROP FUNCTION IF EXISTS search_docs_rebuild(integer[])",
]

# SQLite: row triggers keep search_docs; doc_search (FTS5, external content) follows search_docs.
_REBUILD_SQLITE = (f"UPDATE search_docs SET orders = {ORDERS_SQLITE.format(id='{id}')}, "
                   f"texts = {TEXTS_SQLITE.format(id='{id}')} WHERE customer_id = {{id}};")
SQLITE = [
    "DROP TABLE IF EXISTS doc_search",  # left behind by a schema rebuilt with drop_all (tests, benches)
    "CREATE VIRTUAL TABLE doc_search USING fts5(who, orders, texts, content='search_docs', "
    "content_rowid='customer_id', tokenize='trigram')",
    "CREATE TRIGGER doc_search_ai AFTER INSERT ON search_docs BEGIN INSERT INTO doc_search(rowid, who, orders, texts) "
    "VALUES (new.customer_id, new.who, new.orders, new.texts); END",
    "CREATE TRIGGER doc_search_au AFTER UPDATE ON search_docs BEGIN INSERT INTO doc_search(doc_search, rowid, who, "
    "orders, texts) VALUES ('delete', old.customer_id, old.who, old.orders, old.texts); "
    "INSERT INTO doc_search(rowid, who, orders, texts) VALUES (new.customer_id, new.who, new.orders, new.texts); END",
    "CREATE TRIGGER doc_search_ad AFTER DELETE ON search_docs BEGIN INSERT INTO doc_search(doc_search, rowid, who, "
    "orders, texts) VALUES ('delete', old.customer_id, old.who, old.orders, old.texts); END",
    "CREATE TRIGGER search_docs_customers_ai AFTER INSERT ON customers BEGIN INSERT INTO search_docs "
    f"(customer_id, store_id, who, orders, texts) VALUES (new.id, new.store_id, {WHO.format(c='new')}, '', ''); END",
    "CREATE TRIGGER search_docs_customers_au AFTER UPDATE OF first_name, last_name, phone, store_id ON customers BEGIN "
    f"UPDATE search_docs SET who = {WHO.format(c='new')}, store_id = new.store_id WHERE customer_id = new.id; END",
    "CREATE TRIGGER search_docs_customers_ad AFTER DELETE ON customers BEGIN "
    "DELETE FROM search_docs WHERE customer_id = old.id; END",
    "CREATE TRIGGER search_docs_orders_ai AFTER INSERT ON orders WHEN new.customer_id IS NOT NULL BEGIN "
    "UPDATE search_docs SET orders = trim(orders || ' ' || lower(new.number)) WHERE customer_id = new.customer_id; END",
    "CREATE TRIGGER search_docs_orders_au AFTER UPDATE OF number, customer_id ON orders BEGIN "
    f"{_REBUILD_SQLITE.format(id='old.customer_id')} {_REBUILD_SQLITE.format(id='new.customer_id')} END",
    f"CREATE TRIGGER search_docs_orders_ad AFTER DELETE ON orders BEGIN {_REBUILD_SQLITE.format(id='old.customer_id')} END",
    "CREATE TRIGGER search_docs_messages_ai AFTER INSERT ON messages BEGIN UPDATE search_docs SET texts = "
    f"substr(texts || ' ' || lower(coalesce(new.body, '')), -{TEXT_CHARS}) WHERE customer_id = new.customer_id; END",
    "CREATE TRIGGER search_docs_messages_au AFTER UPDATE OF body, customer_id ON messages "
    "WHEN old.body IS NOT new.body OR old.customer_id <> new.customer_id BEGIN "
    f"{_REBUILD_SQLITE.format(id='old.customer_id')} {_REBUILD_SQLITE.format(id='new.customer_id')} END",
    f"CREATE TRIGGER search_docs_messages_ad AFTER DELETE ON messages BEGIN {_REBUILD_SQLITE.format(id='old.customer_id')}"
    " END",
]
SQLITE_TRIGGERS = ['doc_search_ai', 'doc_search_au', 'doc_search_ad', 'search_docs_customers_ai',
                   'search_docs_customers_au', 'search_docs_customers_ad', 'search_docs_orders_ai',
                   'search_docs_orders_au', 'search_docs_orders_ad', 'search_docs_messages_ai',
                   'search_docs_messages_au', 'search_docs_messages_ad']


def _previous():
    """Migration 0011, whose search objects this one replaces (and a downgrade restores)."""
    path = Path(__file__).with_name('0011_search.py')
    spec = importlib.util.spec_from_file_location('smsdesk_migration_0011', path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade() -> None:
    op.create_table(
        'search_docs',
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('store_id', sa.Integer(), nullable=False),
        sa.Column('who', sa.Text(), nullable=False),
        sa.Column('orders', sa.Text(), nullable=False),
        sa.Column('texts', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_search_docs_customer_id_customers'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_search_docs_store_id_stores')),
        sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_search_docs')),
    )
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.create_index('ix_conversations_customer', ['customer_id'], unique=False)
        for name, columns in RESTING.items():
            batch_op.create_index(name, columns, unique=False, postgresql_where=sa.text('waiting_since IS NULL'),
                                  sqlite_where=sa.text('waiting_since IS NULL'))
    dialect = op.get_bind().dialect.name
    # Backfill: every customer, with their orders and latest texts.
    op.execute(f"INSERT INTO search_docs (customer_id, store_id, who, orders, texts) SELECT c.id, c.store_id, "
               f"{WHO.format(c='c')}, '', '' FROM customers c")
    if dialect == 'postgresql':
        op.execute(f"UPDATE search_docs d SET orders = {ORDERS_PG.format(id='d.customer_id')}, "
                   f"texts = {TEXTS_PG.format(id='d.customer_id')}")
        old = _previous()
        for name in old.PG_TRIGRAM:
            op.execute(f"DROP INDEX IF EXISTS {name}")
        schema = op.get_bind().exec_driver_sql(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
            " WHERE e.extname = 'pg_trgm'").scalar_one()
        for column in PG_TRIGRAM:
            op.execute(f'CREATE INDEX ix_search_docs_{column}_trgm ON search_docs USING gin ({column} "{schema}".gin_trgm_ops)')
        for statement in PG_FUNCTIONS + PG_TRIGGERS:
            op.execute(statement)
    elif dialect == 'sqlite':
        op.execute(f"UPDATE search_docs SET orders = {ORDERS_SQLITE.format(id='search_docs.customer_id')}, "
                   f"texts = {TEXTS_SQLITE.format(id='search_docs.customer_id')}")
        _drop_sqlite_0011()
        for statement in SQLITE:
            op.execute(statement)
        op.execute("INSERT INTO doc_search(doc_search) VALUES ('rebuild')")


def _drop_sqlite_0011() -> None:
    for fts in ('customer_search', 'order_search', 'message_search'):
        for suffix in ('ai', 'au', 'ad'):
            op.execute(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")
        op.execute(f"DROP TABLE IF EXISTS {fts}")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    old = _previous()
    if dialect == 'postgresql':
        for statement in PG_DROP:
            op.execute(statement)
        for column in PG_TRIGRAM:
            op.execute(f"DROP INDEX IF EXISTS ix_search_docs_{column}_trgm")
        schema = op.get_bind().exec_driver_sql(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
            " WHERE e.extname = 'pg_trgm'").scalar_one()
        for name, (table, expression) in old.PG_TRIGRAM.items():
            op.execute(f'CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({expression} "{schema}".gin_trgm_ops)')
    elif dialect == 'sqlite':
        for trigger in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS doc_search")
        for statement in old.SQLITE_FTS:
            op.execute(statement)
    op.drop_table('search_docs')
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        for name in RESTING:
            batch_op.drop_index(name)
        batch_op.drop_index('ix_conversations_customer')
