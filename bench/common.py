"""What every benchmark shares: its command line, the databases it runs on, and creating them."""
from __future__ import annotations

import argparse
import atexit
import os
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import create_engine, func, make_url, select, text

from smsdesk import crypto


def parse_args(argv: list[str] | None, doc: str | None, *,
               quick_help: str = "scaled down: finishes in under a minute") -> argparse.Namespace:
    """``--database-url`` (one database) and ``--quick``; the description is the docstring's first paragraph."""
    parser = argparse.ArgumentParser(description=(doc or "").split("\n\n")[0])
    parser.add_argument("--database-url", help="one database to use (default: temp SQLite and local PostgreSQL)")
    parser.add_argument("--quick", action="store_true", help=quick_help)
    return parser.parse_args(argv)


def targets(url: str | None, scratch: str, *, sqlite_file: str, postgres_url: str) -> list[tuple[str, str]]:
    """(label, url) of each database to run on: ``url`` alone, else a SQLite file in ``scratch``
    and the local PostgreSQL (created when missing)."""
    if url:
        if make_url(url).get_backend_name() == "postgresql":
            warn_if_autogroup()
        return [(make_url(url).get_backend_name(), url)]
    warn_if_autogroup()
    postgres_url = _own_database(postgres_url)
    create_postgres_database(postgres_url)
    return [("sqlite", f"sqlite:///{Path(scratch) / sqlite_file}"), ("postgresql", postgres_url)]


def count_rows(url: str, model: type) -> int:
    """How many rows ``model``'s table holds (read with a DEFERRED engine: no SQLite write lock)."""
    from smsdesk import db  # the benches set up their environment before smsdesk is imported
    engine = db.make_engine(url, sqlite_begin="DEFERRED")
    try:
        with engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(model)) or 0
    finally:
        engine.dispose()


AUTOGROUP = Path("/proc/sys/kernel/sched_autogroup_enabled")


def warn_if_autogroup() -> None:
    """Say so when the kernel groups tasks by session: on this 2-core VM it left PostgreSQL's
    backends runnable but unscheduled for 0.15-2 s now and then (bench/README.md, redirect
    round 6), which no benchmark should pass off as smsdesk's time."""
    try:
        enabled = AUTOGROUP.read_text().strip() == "1"
    except OSError:  # not Linux, or no autogroup support
        return
    if enabled:
        print("note: kernel.sched_autogroup_enabled=1: PostgreSQL may stall for hundreds of ms under load "
              "(README: Production); 'sysctl kernel.sched_autogroup_enabled=0' for comparable figures", flush=True)


def _own_database(url: str) -> str:
    """This run's own database (``<name>_<pid>``), dropped with the ones named after it when the
    run ends: two runs at once no longer wipe each other's tables."""
    parsed = make_url(url)
    name = f"{parsed.database}_{os.getpid()}"
    atexit.register(_drop_databases, parsed.set(database="postgres"), name)
    return parsed.set(database=name).render_as_string(hide_password=False)


def _drop_databases(admin_url, prefix: str) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            names = conn.scalars(text("SELECT datname FROM pg_database WHERE datname = :name OR datname LIKE :like"),
                                 {"name": prefix, "like": f"{prefix}\\_%"}).all()
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def create_postgres_database(url: str) -> None:
    """CREATE DATABASE unless it exists (connecting to the server's ``postgres`` database)."""
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                 {"name": target.database})
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    finally:
        admin.dispose()


def throwaway_secret_key() -> None:
    """Store secrets are encrypted at rest: use a fresh key here and in the processes started from here."""
    key = Fernet.generate_key().decode()
    crypto.configure([key])
    os.environ["SMSDESK_SECURITY_SECRET_KEYS"] = key
