"""Alembic environment: runs on the connection smsdesk.db.upgrade() hands in."""
from alembic import context
from sqlalchemy import create_engine

from smsdesk.db import include_in_autogenerate
from smsdesk.models import Base, UTCDateTime

config = context.config
target_metadata = Base.metadata


def render_item(type_, obj, _autogen_context):
    """Write our UTC column type as a plain DateTime so migrations don't import models."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite can't ALTER most things
        compare_type=True,
        render_item=render_item,
        include_object=include_in_autogenerate,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run_migrations(connection)
else:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as conn:
        run_migrations(conn)
