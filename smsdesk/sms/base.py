"""The one interface every SMS provider implements, and its errors."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class Sender:
    """Who a text is sent from: a messaging service (preferred) or a phone number."""

    from_number: str | None = None
    messaging_service_sid: str | None = None

    @property
    def key(self) -> str:
        """Identifies the sending channel for rate limiting."""
        return self.messaging_service_sid or self.from_number or "default"


@dataclass(frozen=True)
class SentMessage:
    """What the provider answered for an accepted (or looked-up) message."""

    sid: str
    status: str
    segments: int | None = None
    # With status "undelivered"/"failed": the carrier's code, for a provider that knows the
    # outcome at once (the phone simulator); Twilio reports it later, in a status callback.
    error_code: int | None = None


class SendError(Exception):
    """Base of every provider failure; ``reason`` is a short code for logs and the API."""

    reason = "send_error"

    def __init__(self, message: str, *, code: int | None = None, http_status: int | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.http_status = http_status


class RetryableSendError(SendError):
    """The provider certainly did not take the message; sending again is safe."""

    reason = "retryable"

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after  # seconds, from Retry-After when the provider gave one


class AmbiguousSendError(SendError):
    """The provider may or may not have taken the message (5xx, timeout, dropped connection).

    Never resend blindly: reconcile by looking the message up first.
    """

    reason = "ambiguous"


class PermanentSendError(SendError):
    """The provider refused the message for good (invalid number, unsubscribed ...)."""

    reason = "permanent"


class SmsProvider(Protocol):
    """Sends texts and looks them up again after a crash."""

    name: str

    def send(
        self,
        to: str,
        body: str,
        *,
        sender: Sender,
        status_callback: str | None = None,
        validity_period: int | None = None,
        media_urls: Sequence[str] = (),
    ) -> SentMessage:
        """Hand one text to the provider; raise a ``SendError`` subclass on failure. With
        ``media_urls`` (public addresses of pictures) it is an MMS, billed as one message."""
        ...

    def find_sent(self, to: str, body: str, *, sent_after: datetime) -> SentMessage | None:
        """Look up a text we may have sent (to + body, sent at or after ``sent_after``)."""
        ...
