"""Real ``smsdesk worker`` processes for end-to-end tests (crash safety, many workers)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from smsdesk.models import Customer, Direction, Message, MessageStatus, utcnow

SMSDESK = Path(sys.executable).parent / "smsdesk"  # the installed console script
POLL = 0.05  # seconds between progress checks


class WorkerPool:
    """Starts worker subprocesses sharing one configuration; kills or stops them."""

    def __init__(self, *, database_url: str, twilio_url: str, account_sid: str, auth_token: str,
                 lease_seconds: float, workdir: Path, concurrency: int = 4):
        self.env = {key: value for key, value in os.environ.items() if not key.startswith("SMSDESK_")}
        self.env.update({
            "SMSDESK_DATABASE_URL": database_url, "SMSDESK_SMS_PROVIDER": "twilio",
            "SMSDESK_TWILIO_ACCOUNT_SID": account_sid, "SMSDESK_TWILIO_AUTH_TOKEN": auth_token,
            "SMSDESK_TWILIO_API_BASE": twilio_url, "SMSDESK_SCHEDULER_INTERVAL_SECONDS": "0.05",
            "SMSDESK_SCHEDULER_LEASE_SECONDS": str(lease_seconds),
            "SMSDESK_SCHEDULER_CONCURRENCY": str(concurrency),
            "SMSDESK_SERVER_PUBLIC_URL": "https://smsdesk.test", "SMSDESK_SERVER_SECRET_KEY": "worker-test-key",
            "SMSDESK_SECURITY_SECRET_KEYS": os.environ["SMSDESK_SECURITY_SECRET_KEYS"],
        })
        self.workdir = workdir  # no ./smsdesk.toml there, so only the environment configures
        self.log = workdir / "workers.log"
        self.procs: list[subprocess.Popen] = []

    def start(self) -> subprocess.Popen:
        with self.log.open("ab") as log:
            proc = subprocess.Popen([str(SMSDESK), "worker"], env=self.env, cwd=self.workdir,
                                    stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    @property
    def alive(self) -> list[subprocess.Popen]:
        return [proc for proc in self.procs if proc.poll() is None]

    def kill(self, proc: subprocess.Popen) -> None:
        """SIGKILL: no cleanup, exactly like a crash or an OOM kill."""
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill(proc)

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:]) if self.log.exists() else ""


def queue_messages(session: Session, *, store_id: int, count: int, customers: int) -> list[str]:
    """Insert ``count`` due texts spread over ``customers`` phones (bulk); returns the bodies."""
    rows = [{"store_id": store_id, "phone": f"+1502555{i:04d}"} for i in range(customers)]
    session.execute(insert(Customer), rows)
    ids = list(session.scalars(select(Customer.id).where(Customer.store_id == store_id).order_by(Customer.id)))
    now = utcnow()
    bodies = [f"Order update #{i}: your parcel is on its way." for i in range(count)]
    session.execute(insert(Message), [
        {"store_id": store_id, "customer_id": ids[i % len(ids)], "direction": Direction.OUT, "kind": "order_shipped",
         "body": body, "status": MessageStatus.QUEUED, "due_at": now, "validity_seconds": 3600}
        for i, body in enumerate(bodies)])
    session.commit()
    return bodies


def status_counts(session: Session) -> Counter:
    session.rollback()  # a fresh snapshot of what the workers committed
    rows = session.execute(select(Message.status, func.count()).group_by(Message.status)).all()
    return Counter({status.value: n for status, n in rows})


def wait_until(condition, *, timeout: float, what: str, pool: WorkerPool, poll: float = POLL) -> None:
    """Poll ``condition`` (the Twilio test server shares this process: poll gently)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; worker log:\n{pool.log_tail()}")
        time.sleep(poll)


def accepted_per_body(server) -> Counter:
    return Counter(message["body"] for message in server.messages)
