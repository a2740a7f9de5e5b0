"""The built-in phone simulator: texts are kept, shown in the web UI, and count as delivered."""
from __future__ import annotations

import secrets
import threading
from datetime import datetime

from smsdesk.models import utcnow
from smsdesk.sms.base import Sender, SentMessage


class SimulatorProvider:
    """Sends nothing over the network; ``outbox`` holds what was sent (like a locmem backend)."""

    name = "simulator"

    def __init__(self) -> None:
        self.outbox: list[dict] = []
        self._lock = threading.Lock()

    def send(self, to: str, body: str, *, sender: Sender, status_callback: str | None = None,
             validity_period: int | None = None) -> SentMessage:
        sid = "SM" + secrets.token_hex(16)
        with self._lock:
            self.outbox.append({"sid": sid, "to": to, "body": body, "from": sender.key, "at": utcnow()})
        return SentMessage(sid=sid, status="delivered")

    def find_sent(self, to: str, body: str, *, sent_after: datetime) -> SentMessage | None:
        with self._lock:
            for item in self.outbox:
                if item["to"] == to and item["body"] == body and item["at"] >= sent_after:
                    return SentMessage(sid=item["sid"], status="delivered")
        return None
