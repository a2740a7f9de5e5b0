"""The built-in phone simulator: texts are kept, shown in the web UI, and count as delivered,
unless the owner set a simulated phone to fail (``failures``), to see what agents see then.

The failures are Twilio's own: 21610 (the number sent STOP to the carrier) is refused when
the text is created, as Twilio's API refuses it; 30003 and 30007 are accepted and then come
back "undelivered" with the code, as Twilio's status callback reports them. The setting lives
in this provider object, i.e. in the one process ``smsdesk run`` serves and sends from.
"""
from __future__ import annotations

import enum
import secrets
import threading
from collections.abc import Sequence
from datetime import datetime

from smsdesk.models import utcnow
from smsdesk.sms.base import PermanentSendError, Sender, SentMessage


class SimulatedFailure(enum.Enum):
    """What a simulated phone does to the texts sent to it (value: the form's word)."""

    NONE = "none"
    UNREACHABLE = "unreachable"  # 30003: the phone is off or out of coverage
    CARRIER_BLOCK = "carrier_block"  # 30007: the carrier filtered the text
    OPTED_OUT = "opted_out"  # 21610: the number sent STOP to the carrier

    @property
    def code(self) -> int | None:
        return {"unreachable": 30003, "carrier_block": 30007, "opted_out": 21610}.get(self.value)

    @property
    def label(self) -> str:
        return {"none": "Delivers every text", "unreachable": "Unreachable: phone off (30003)",
                "carrier_block": "Carrier blocks texts (30007)",
                "opted_out": "Opted out at the carrier (21610)"}[self.value]


UNSUBSCRIBED_MESSAGE = "Attempt to send to unsubscribed recipient"  # Twilio's words for 21610


class SimulatorProvider:
    """Sends nothing over the network; ``outbox`` holds what was sent (like a locmem backend)."""

    name = "simulator"

    def __init__(self) -> None:
        self.outbox: list[dict] = []
        self.failures: dict[str, SimulatedFailure] = {}  # phone (E.164) -> its failure, when set
        self._lock = threading.Lock()

    def set_failure(self, phone: str, failure: SimulatedFailure) -> None:
        with self._lock:
            if failure is SimulatedFailure.NONE:
                self.failures.pop(phone, None)
            else:
                self.failures[phone] = failure

    def failure_of(self, phone: str) -> SimulatedFailure:
        with self._lock:
            return self.failures.get(phone, SimulatedFailure.NONE)

    def send(self, to: str, body: str, *, sender: Sender, status_callback: str | None = None,
             validity_period: int | None = None, media_urls: Sequence[str] = ()) -> SentMessage:
        failure = self.failure_of(to)
        if failure is SimulatedFailure.OPTED_OUT:
            raise PermanentSendError(UNSUBSCRIBED_MESSAGE, code=failure.code, http_status=400)
        sid = "SM" + secrets.token_hex(16)
        if failure is not SimulatedFailure.NONE:
            return SentMessage(sid=sid, status="undelivered", error_code=failure.code)
        with self._lock:
            self.outbox.append({"sid": sid, "to": to, "body": body, "from": sender.key, "at": utcnow(),
                                "media": list(media_urls)})
        return SentMessage(sid=sid, status="delivered")

    def find_sent(self, to: str, body: str, *, sent_after: datetime) -> SentMessage | None:
        with self._lock:
            for item in self.outbox:
                if item["to"] == to and item["body"] == body and item["at"] >= sent_after:
                    return SentMessage(sid=item["sid"], status="delivered")
        return None
