"""SmsProvider on top of the real ``twilio.rest.Client``.

Error mapping (what the caller may do next):

* ``RetryableSendError`` - Twilio certainly did not take the text: HTTP 429, codes 20429 /
  20503, sender queue overflow (21611 / 30001, with a default ``retry_after``), or we never
  got a TCP connection.
* ``AmbiguousSendError`` - it may have: HTTP 5xx, read timeouts, connections dropped
  mid-request, an unreadable success body. Reconcile with ``find_sent`` before resending.
* ``PermanentSendError`` - any other 4xx (bad number, unsubscribed, bad credentials ...).

``TwilioRestException`` carries no response headers, so ``Retry-After`` is read from
``ApiBaseHttpClient.last_response``: the last response seen *by the calling thread*, kept
in a ``threading.local`` so concurrent senders sharing one client never see each other's.
"""
from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from ipaddress import ip_address
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client
from urllib3.exceptions import NewConnectionError

from smsdesk.retry import retry_after_seconds as parse_retry_after
from smsdesk.sms.base import (
    AmbiguousSendError,
    PermanentSendError,
    RetryableSendError,
    Sender,
    SendError,
    SentMessage,
)

DEFAULT_TIMEOUT = 10.0  # seconds, for connect and for each read
RETRYABLE_HTTP_STATUSES = frozenset({429})
# "Too many requests" / "Service unavailable": Twilio rejected the request before queuing it.
RETRYABLE_CODES = frozenset({20429, 20503})
# The sender's queue is full; Twilio drains it at roughly one segment per second per number.
QUEUE_OVERFLOW_CODES = frozenset({21611, 30001})
QUEUE_OVERFLOW_RETRY_AFTER = 30.0  # seconds, when Twilio gives no Retry-After
FIND_SENT_LIMIT = 50  # most recent messages to one number that find_sent looks through
# Twilio dates have one-second precision and its clock is not ours: look back this much
# further than sent_after. A match inside the window is the same text to the same number.
FIND_SENT_CLOCK_SKEW = timedelta(seconds=60)
HTTP_POOL_SIZE = 32  # connections kept per host: [scheduler] concurrency is at most this
# Connect and read each get the timeout, so a call can take about twice it: a third of
# the lease keeps a live send from outlasting its lease (reconcile would then resend).
LEASE_TIMEOUT_SHARE = 3

# ClientBase does ``environment or os.environ``: an empty dict would still read
# TWILIO_ACCOUNT_SID / TWILIO_REGION / TWILIO_EDGE from the process, so pass a non-empty one.
_NO_ENVIRONMENT = {"SMSDESK_TWILIO_ENVIRONMENT": "isolated"}
_TRANSPORT_ERRORS = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)
_API_ERRORS = (TwilioException, json.JSONDecodeError, *_TRANSPORT_ERRORS)


class ApiBaseHttpClient(TwilioHttpClient):
    """TwilioHttpClient that can talk to another API base and remembers each thread's last response.

    With ``api_base`` (e.g. ``http://127.0.0.1:8099``) the scheme and host of every
    ``*.twilio.com`` URL are replaced by it; path and query are kept. ``last_response``
    is the response the calling thread got last (None when its last request raised).
    """

    def __init__(self, api_base: str = "", *, timeout: float | None = DEFAULT_TIMEOUT, **kwargs):
        super().__init__(timeout=timeout, **kwargs)
        self.api_base = api_base.rstrip("/")
        self._base = urlsplit(self.api_base) if self.api_base else None
        if self._base is not None and not (self._base.scheme and self._base.netloc):
            raise ValueError(f"api_base must look like http://host:port, got {api_base!r}")
        self._local = threading.local()
        if self.session is not None:
            self._tune_session(self.session)

    def _tune_session(self, session: requests.Session) -> None:
        # One kept-alive connection per sender thread ([scheduler] concurrency, at most 32):
        # TwilioHttpClient sizes its https pool by CPU count, and tests hit plain http.
        for scheme in ("https://", "http://"):
            session.mount(scheme, HTTPAdapter(pool_maxsize=HTTP_POOL_SIZE))
        if self._base is not None and _is_loopback(self._base.hostname):
            session.trust_env = False  # an HTTP(S)_PROXY must not capture a local test server

    @property
    def last_response(self) -> Response | None:
        """The calling thread's last response (None if its last request failed in transit)."""
        return getattr(self._local, "response", None)

    def rewrite_url(self, url: str) -> str:
        """Point a Twilio URL at ``api_base``; other URLs are returned unchanged."""
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if self._base is None or not (host == "twilio.com" or host.endswith(".twilio.com")):
            return url
        path = self._base.path + parts.path
        return urlunsplit((self._base.scheme, self._base.netloc, path, parts.query, parts.fragment))

    def request(self, method: str, url: str, *args, **kwargs) -> Response:
        """Send through TwilioHttpClient after rewriting the URL; remember the response."""
        self._local.response = None  # never leave an earlier call's response behind
        response = super().request(method, self.rewrite_url(url), *args, **kwargs)
        self._local.response = response
        return response


class TwilioProvider:
    """SmsProvider that sends through a ready ``twilio.rest.Client``."""

    name = "twilio"

    def __init__(self, client: Client, *, clock_skew: timedelta = FIND_SENT_CLOCK_SKEW):
        self._client = client
        self._clock_skew = clock_skew

    @property
    def client(self) -> Client:
        """The underlying twilio client."""
        return self._client

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
        """Create one message at Twilio (an MMS with ``media_urls``, which Twilio fetches);
        raise a ``SendError`` subclass on failure."""
        params = _create_params(to, body, sender, status_callback, validity_period)
        if media_urls:
            params["media_url"] = list(media_urls)
            if not body:
                del params["body"]  # a picture alone: Twilio takes MediaUrl without a Body
        try:
            message = self._client.messages.create(**params)
        except _API_ERRORS as exc:
            raise self._to_send_error(exc) from exc
        return _sent_message(message)

    def find_sent(self, to: str, body: str, *, sent_after: datetime) -> SentMessage | None:
        """Most recent message to ``to`` with exactly ``body``, created at/after ``sent_after``.

        Not filtered by ``DateSent`` at Twilio: a text still queued there (validity
        period, sender queue) has no date_sent yet and such a filter would miss it, which
        would make reconcile send it again. So the newest ``FIND_SENT_LIMIT`` messages
        to that phone are listed and matched on body and date_created.

        ``sent_after`` may be naive (taken as UTC). If the lookup itself fails, the same
        ``SendError`` subclasses as ``send`` are raised: the outcome is still unknown.
        """
        since = _as_utc(sent_after) - self._clock_skew
        try:
            messages = self._client.messages.list(to=to, limit=FIND_SENT_LIMIT)
        except _API_ERRORS as exc:
            raise self._to_send_error(exc) from exc
        matches = [m for m in messages if m.body == body and _not_before(m, since)]
        if not matches:
            return None
        return _sent_message(max(matches, key=_created_at))

    def _to_send_error(self, exc: Exception) -> SendError:
        if isinstance(exc, _TRANSPORT_ERRORS):
            return _transport_error(exc)
        if isinstance(exc, json.JSONDecodeError):
            return AmbiguousSendError(f"Twilio answered with an unreadable body: {exc}")
        status, code, message = _error_details(exc)
        return _api_error(status, code, message, self._retry_after())

    def _retry_after(self) -> float | None:
        # Only ApiBaseHttpClient keeps responses; with any other http client we know nothing.
        response = getattr(self._client.http_client, "last_response", None)
        headers = getattr(response, "headers", None) or {}
        return parse_retry_after(headers.get("Retry-After"))


def timeout_for_lease(lease_seconds: float) -> float:
    """The request timeout that keeps a live send well inside its lease (connect + read)."""
    return min(DEFAULT_TIMEOUT, lease_seconds / LEASE_TIMEOUT_SHARE)


def create_provider(
    *, account_sid: str, auth_token: str, api_base: str = "", timeout: float = DEFAULT_TIMEOUT
) -> TwilioProvider:
    """Build a TwilioProvider whose client ignores TWILIO_* environment variables.

    ``api_base`` redirects every API call (tests, benchmarks, a recording proxy).
    """
    http_client = ApiBaseHttpClient(api_base, timeout=timeout)
    client = Client(account_sid, auth_token, http_client=http_client, environment=_NO_ENVIRONMENT)
    return TwilioProvider(client)


def _create_params(
    to: str, body: str, sender: Sender, status_callback: str | None, validity_period: int | None
) -> dict:
    params: dict = {"to": to, "body": body}
    # A messaging service is preferred: it picks the number and handles opt-outs.
    if sender.messaging_service_sid:
        params["messaging_service_sid"] = sender.messaging_service_sid
    elif sender.from_number:
        params["from_"] = sender.from_number
    if status_callback:
        params["status_callback"] = status_callback
    if validity_period is not None:
        params["validity_period"] = validity_period
    return params


def _sent_message(message) -> SentMessage:
    try:
        segments = int(message.num_segments) if message.num_segments is not None else None
    except (TypeError, ValueError):
        segments = None
    return SentMessage(sid=message.sid, status=str(message.status), segments=segments)


def _error_details(exc: Exception) -> tuple[int | None, int | None, str]:
    """(HTTP status, Twilio code, message) from whatever twilio raised."""
    if isinstance(exc, TwilioRestException):
        return exc.status, exc.code, exc.msg or f"Twilio HTTP {exc.status}"
    if isinstance(exc, TwilioServiceException):
        return exc.status, exc.code, exc.detail or exc.title
    # Page.process_response raises TwilioException("Unable to fetch page", response).
    response = exc.args[1] if len(exc.args) > 1 else None
    status = getattr(response, "status_code", None)
    try:
        payload = json.loads(getattr(response, "text", ""))
        return status, payload.get("code"), str(payload.get("message") or exc.args[0])
    except (AttributeError, TypeError, ValueError):
        return status, None, str(exc.args[0] if exc.args else exc)


def _api_error(status: int | None, code: int | None, message: str, retry_after: float | None) -> SendError:
    details = {"code": code, "http_status": status}
    if code in QUEUE_OVERFLOW_CODES:
        wait = retry_after if retry_after is not None else QUEUE_OVERFLOW_RETRY_AFTER
        return RetryableSendError(message, retry_after=wait, **details)
    if status in RETRYABLE_HTTP_STATUSES or code in RETRYABLE_CODES:
        return RetryableSendError(message, retry_after=retry_after, **details)
    if status is not None and 400 <= status < 500:
        return PermanentSendError(message, **details)
    return AmbiguousSendError(message, **details)  # 5xx, or no status at all


def _transport_error(exc: Exception) -> SendError:
    if _never_connected(exc):
        return RetryableSendError(f"could not connect to Twilio: {exc}")
    return AmbiguousSendError(f"no complete answer from Twilio: {exc}")


def _never_connected(exc: Exception) -> bool:
    """True only when no byte of the request can have reached Twilio."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if type(exc) is not requests.exceptions.ConnectionError:
        return False  # read timeouts, SSL and proxy errors: stay on the safe side
    # requests wraps urllib3's MaxRetryError; its reason tells refused/unresolvable apart
    # from a connection that was open and then dropped (that one is a ProtocolError).
    reason = getattr(exc.args[0] if exc.args else None, "reason", None)
    return isinstance(reason, NewConnectionError)


def _not_before(message, since: datetime) -> bool:
    when = message.date_created or message.date_sent
    return not isinstance(when, datetime) or _as_utc(when) >= since


def _created_at(message) -> datetime:
    when = message.date_created or message.date_sent
    return _as_utc(when) if isinstance(when, datetime) else datetime.max.replace(tzinfo=timezone.utc)


def _as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _is_loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host or "").is_loopback
    except ValueError:
        return False
