"""A real, Twilio-compatible HTTP server for tests and benchmarks.

It speaks just enough of the 2010-04-01 Messages API for ``twilio.rest.Client`` to work
against it unchanged (point the client at ``server.url``), records everything it sees,
can be told to fail in the ways that matter for an SMS sender (rate limits, 5xx after the
text was already taken, timeouts, dropped connections) and posts signed status callbacks.

Simplifications compared with Twilio, on purpose:

* ``date_sent`` is set when a message is accepted (Twilio fills it once the carrier
  took the text), so ``DateSent`` filters always see accepted messages. Set
  ``date_sent_on_accept = False`` for Twilio's real behaviour: null until the text
  leaves the queue (status sent/delivered/...), invisible to ``DateSent`` filters.
* Messages start ``queued`` even when sent through a messaging service (Twilio answers
  ``accepted`` with ``from: null`` there); ``from`` is null in that case here too.
* Responses use HTTP/1.0, one request per connection, so a stopped server can never keep
  answering on a kept-alive socket.
"""
from __future__ import annotations

import random
import secrets
import threading
from collections import deque
from datetime import datetime, timezone
from email.utils import format_datetime

import requests

from tests.support.twilio_callbacks import FAILED_STATUSES, SERVICE_POOL_NUMBER, StatusCallbacks
from tests.support.twilio_http import (  # the handler and pure helpers; public ones re-exported
    API_VERSION,
    DATE_FILTERS,
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    Failure,
    Handler,
    HttpServer,
    RecordedCallback,
    RecordedRequest,
    count_segments,
    date_matches,
    decode_basic_auth,
    free_port,
    parse_filter_date,
    twilio_error,
    unreachable_url,
)
from tests.support.twilio_media import MediaStore, media_url

DEFAULT_AUTH_TOKEN = "test-auth-token"
UNKNOWN_DELIVERY_ERROR = 30008  # Twilio's "Unknown error" for failed/undelivered texts

__all__ = [
    "API_VERSION", "DEFAULT_AUTH_TOKEN", "DEFAULT_PAGE_SIZE", "MAX_PAGE_SIZE", "SERVICE_POOL_NUMBER",
    "UNKNOWN_DELIVERY_ERROR", "RecordedCallback", "RecordedRequest", "TwilioTestServer", "count_segments",
    "free_port", "twilio_error", "unreachable_url",
]


class TwilioTestServer(StatusCallbacks):
    """Twilio Messages API on 127.0.0.1:<free port>, served from a daemon thread.

    Use as a context manager or call ``start()`` / ``stop()``. ``requests``, ``messages``
    and ``callbacks`` are snapshots taken under a lock, safe to read from any thread.
    """

    def __init__(
        self,
        *,
        account_sid: str | None = None,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        callback_timeout: float = 5.0,
    ):
        self.account_sid = account_sid or "AC" + secrets.token_hex(16)
        self.auth_token = auth_token
        self.auto_callbacks: list[str] = []  # statuses posted, in order, after each accepted message
        self.auto_callback_delay = 0.0  # seconds before each automatic callback
        self.create_delay = 0.0  # seconds every successful message POST waits after accepting
        self.create_delay_range: tuple[float, float] | None = None  # (low, high) s: a random wait instead
        self.date_sent_on_accept = True  # False: date_sent stays null while "queued" (real Twilio)
        self.callback_timeout = callback_timeout
        self._cond = threading.Condition()
        self._stopping = threading.Event()
        self._http = requests.Session()
        self._http.trust_env = False  # callbacks go straight to the receiver, never via a proxy
        self.media = MediaStore()  # customers' pictures (tests/support/twilio_media.py)
        self._httpd: HttpServer | None = None
        self._thread: threading.Thread | None = None
        self._clear()

    # -- lifecycle -------------------------------------------------------------

    def start(self) -> TwilioTestServer:
        """Bind a free port and serve in a daemon thread; returns self."""
        if self._httpd is not None:
            return self
        self._stopping.clear()
        self._httpd = HttpServer(("127.0.0.1", 0), Handler)
        self._httpd.app = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},  # stop() waits for one poll; keep teardown fast
            name="twilio-test-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close the socket and wake up any delayed handler."""
        if self._httpd is None:
            return
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
        self._httpd = self._thread = None

    def __enter__(self) -> TwilioTestServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound TCP port."""
        if self._httpd is None:
            raise RuntimeError("TwilioTestServer is not running")
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        """Base URL to use as the client's API base, e.g. ``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    # -- what happened ---------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received, oldest first."""
        with self._cond:
            return list(self._requests)

    @property
    def messages(self) -> list[dict]:
        """Every accepted message (what Twilio would deliver), oldest first, as Twilio JSON."""
        with self._cond:
            return [dict(message) for message in self._messages.values()]

    @property
    def callbacks(self) -> list[RecordedCallback]:
        """Every status callback posted, oldest first."""
        with self._cond:
            return list(self._callbacks)

    def add_media(self, content: bytes, content_type: str) -> str:
        """Keep a picture a customer sent; returns its URL for an inbound webhook's MediaUrl{i}."""
        return media_url(self.url, self.account_sid, self.media.add(content, content_type))

    def sent_media(self, sid: str) -> list[str]:
        """The MediaUrl list of an accepted message."""
        with self._cond:
            return list(self._meta[sid]["media_urls"])

    def wait_for_messages(self, n: int, timeout: float = 5.0) -> list[dict]:
        """Block until at least ``n`` messages were accepted; TimeoutError otherwise."""
        self._wait(lambda: len(self._messages) >= n, timeout, f"{n} accepted messages")
        return self.messages

    def wait_for_callbacks(self, n: int, timeout: float = 5.0) -> list[RecordedCallback]:
        """Block until at least ``n`` status callbacks were posted; TimeoutError otherwise."""
        self._wait(lambda: len(self._callbacks) >= n, timeout, f"{n} status callbacks")
        return self.callbacks

    def reset(self) -> None:
        """Forget requests, messages, callbacks, queued failures and auto_callbacks."""
        with self._cond:
            self._clear()
            self.media.clear()
            self.auto_callbacks = []
            self.auto_callback_delay = 0.0
            self.create_delay = 0.0
            self.create_delay_range = None
            self.date_sent_on_accept = True

    # -- failure injection -----------------------------------------------------

    def fail_next(
        self,
        status: int,
        *,
        code: int | None = None,
        message: str = "Injected failure",
        retry_after: float | None = None,
        count: int = 1,
        accept: bool = False,
        delay: float = 0.0,
    ) -> None:
        """Answer the next ``count`` message POSTs with a Twilio error.

        ``code`` defaults to Twilio's usual code for the status (429 -> 20429, 500 -> 20500,
        503 -> 20503 ...). ``accept=True`` stores the message first (Twilio took it, the
        client still sees the error). ``delay`` sleeps before answering. Failures are used
        up by POSTs that pass authentication (a 401 consumes none); with ``accept=True`` an
        invalid POST still gets its 400 and uses the failure up.
        """
        if status < 400:
            raise ValueError("fail_next needs an error status; use delay_next for slow successes")
        failure = Failure(status, code, message, retry_after, accept, delay)
        self._queue(failure, count)

    def drop_next(self, accept: bool = False, *, count: int = 1, delay: float = 0.0) -> None:
        """Close the connection of the next ``count`` message POSTs without any response."""
        self._queue(Failure(0, accept=accept, delay=delay, drop=True), count)

    def delay_next(self, seconds: float, *, count: int = 1) -> None:
        """Accept the next ``count`` message POSTs but answer 201 only after ``seconds``."""
        self._queue(Failure(201, accept=True, delay=seconds), count)

    # -- statuses and callbacks ------------------------------------------------

    def set_status(self, sid: str, status: str, *, error_code: int | None = None) -> None:
        """Change a stored message's status (seen by list and fetch); KeyError if unknown."""
        with self._cond:
            message = self._messages[sid]
            failed = status in FAILED_STATUSES
            message["status"] = status
            message["error_code"] = (error_code or UNKNOWN_DELIVERY_ERROR) if failed else None
            message["date_updated"] = format_datetime(_now())
            if self._meta[sid]["sent"] is None and status not in ("accepted", "queued", "scheduled", "canceled"):
                self._meta[sid]["sent"] = _now()
                message["date_sent"] = message["date_updated"]

    # -- internals used by the handler -----------------------------------------

    def _clear(self) -> None:
        self._requests: list[RecordedRequest] = []
        self._messages: dict[str, dict] = {}
        self._meta: dict[str, dict] = {}
        self._failures: deque[Failure] = deque()
        self._callbacks: list[RecordedCallback] = []
        # Bumped on reset so callback threads of forgotten messages stop posting.
        self._generation = getattr(self, "_generation", 0) + 1

    def _wait(self, ready, timeout: float, what: str) -> None:
        with self._cond:
            if not self._cond.wait_for(ready, timeout):
                raise TimeoutError(f"TwilioTestServer: no {what} within {timeout} s")

    def _queue(self, failure: Failure, count: int) -> None:
        with self._cond:
            self._failures.extend([failure] * count)

    def _pop_failure(self) -> Failure | None:
        with self._cond:
            return self._failures.popleft() if self._failures else None

    def _answer_delay(self) -> float:
        """Seconds a successful create waits before answering (requests are served concurrently)."""
        spread = self.create_delay_range
        return random.uniform(*spread) if spread else self.create_delay

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)  # returns early when the server stops

    def _record(self, request: RecordedRequest) -> None:
        with self._cond:
            self._requests.append(request)
            self._cond.notify_all()

    def _authorized(self, path_sid: str, header: str | None) -> bool:
        expected = (self.account_sid, self.auth_token)
        return path_sid == self.account_sid and decode_basic_auth(header) == expected

    def _accept(self, form: dict[str, str], media_urls: list[str]) -> dict:
        now = _now()
        sid = "SM" + secrets.token_hex(16)
        base = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}"
        stamp = format_datetime(now)
        message = {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": form.get("Body", ""),
            "date_created": stamp,
            "date_sent": stamp if self.date_sent_on_accept else None,
            "date_updated": stamp,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From") or None,
            "messaging_service_sid": form.get("MessagingServiceSid") or None,
            "num_media": str(len(media_urls)),
            "num_segments": "1" if media_urls else str(count_segments(form["Body"])),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "queued",
            "subresource_uris": {"media": f"{base}/Media.json", "feedback": f"{base}/Feedback.json"},
            "tags": {},
            "to": form["To"],
            "uri": f"{base}.json",
        }
        meta = {
            "sent": now if self.date_sent_on_accept else None,
            "status_callback": form.get("StatusCallback"),
            "validity_period": form.get("ValidityPeriod"),
            "media_urls": list(media_urls),
        }
        with self._cond:
            self._messages[sid] = message
            self._meta[sid] = meta
            self._cond.notify_all()
        return dict(message)

    def _get(self, sid: str) -> dict | None:
        with self._cond:
            message = self._messages.get(sid)
            return dict(message) if message else None

    def _query(self, query: dict[str, str]) -> list[dict]:
        """Messages matching Twilio's list filters, newest first; ValueError on a bad date."""
        dates = {name: parse_filter_date(query[name]) for name in DATE_FILTERS if query.get(name)}
        with self._cond:
            found = []
            for sid, message in reversed(self._messages.items()):
                if query.get("To") and message["to"] != query["To"]:
                    continue
                if query.get("From") and message["from"] != query["From"]:
                    continue
                sent = self._meta[sid]["sent"]
                if dates and sent is None:
                    continue  # Twilio: no date_sent yet, so no DateSent filter matches it
                if all(date_matches(sent, name, wanted) for name, wanted in dates.items()):
                    found.append(dict(message))
            return found


def _now() -> datetime:
    # Twilio dates have second precision, in UTC (its RFC 2822 strings always say +0000).
    return datetime.now(timezone.utc).replace(microsecond=0)
