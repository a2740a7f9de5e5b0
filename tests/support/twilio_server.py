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

import base64
import binascii
import json
import math
import re
import secrets
import socket
import threading
from collections import deque
from dataclasses import dataclass
from datetime import date, datetime, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests
from twilio.request_validator import RequestValidator

API_VERSION = "2010-04-01"
DEFAULT_AUTH_TOKEN = "test-auth-token"
# The "From" a messaging-service send reports in callbacks (Twilio picks one from the pool).
SERVICE_POOL_NUMBER = "+15005550006"
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
UNKNOWN_DELIVERY_ERROR = 30008  # Twilio's "Unknown error" for failed/undelivered texts

# Twilio error code used when fail_next() is not given one.
_DEFAULT_ERROR_CODES = {400: 20001, 401: 20003, 404: 20404, 405: 20004, 429: 20429, 500: 20500, 503: 20503}
_FAILED_STATUSES = frozenset({"failed", "undelivered"})
_MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/([^/]+)/Messages\.json$")
_MESSAGE_PATH = re.compile(r"^/2010-04-01/Accounts/([^/]+)/Messages/([^/]+)\.json$")
_DATE_FILTERS = ("DateSent", "DateSent<", "DateSent>")

_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = set("^{}\\[~]|€\f")  # each costs two septets


def count_segments(body: str) -> int:
    """How many SMS segments Twilio would bill for ``body`` (GSM-7 or UCS-2)."""
    if all(ch in _GSM_BASIC or ch in _GSM_EXTENDED for ch in body):
        units = sum(2 if ch in _GSM_EXTENDED else 1 for ch in body)
        single, part = 160, 153
    else:
        units = len(body.encode("utf-16-le")) // 2  # UCS-2 counts UTF-16 code units
        single, part = 70, 67
    return 1 if units <= single else math.ceil(units / part)


def free_port() -> int:
    """A local TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def unreachable_url() -> str:
    """A local base URL nobody listens on: every connection is refused (Twilio unreachable)."""
    return f"http://127.0.0.1:{free_port()}"


def twilio_error(status: int, code: int, message: str) -> dict:
    """The JSON body Twilio answers errors with."""
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


@dataclass(frozen=True)
class RecordedRequest:
    """One HTTP request the server received (form/query keep the last value per key)."""

    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    headers: dict[str, str]

    @property
    def basic_auth(self) -> tuple[str, str] | None:
        """(username, password) from the Authorization header, or None."""
        return _decode_basic(self.headers.get("Authorization"))


@dataclass(frozen=True)
class RecordedCallback:
    """One status callback the server posted; ``http_status`` is None when the POST failed."""

    sid: str
    status: str
    url: str
    params: dict[str, str]
    signature: str
    http_status: int | None
    error: str | None = None


@dataclass(frozen=True)
class _Failure:
    status: int
    code: int | None = None
    message: str = ""
    retry_after: float | None = None
    accept: bool = False
    delay: float = 0.0
    drop: bool = False


def _decode_basic(header: str | None) -> tuple[str, str] | None:
    if not header or not header.startswith("Basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, password


def _parse_filter_date(value: str) -> date | datetime:
    """``YYYY-MM-DD`` or an ISO datetime (what twilio-python sends: ``%Y-%m-%dT%H:%M:%SZ``)."""
    if len(value) == 10:
        return date.fromisoformat(value)
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _date_matches(sent: datetime, name: str, wanted: date | datetime) -> bool:
    # Twilio's "DateSent>" / "DateSent<" arrive as "DateSent>=" / "DateSent<=": inclusive.
    # Plain "DateSent" means "on that day"; twilio-python sends a date as midnight.
    if name == "DateSent":
        wanted = wanted.date() if isinstance(wanted, datetime) else wanted
    value = sent if isinstance(wanted, datetime) else sent.date()
    if name == "DateSent>":
        return value >= wanted
    if name == "DateSent<":
        return value <= wanted
    return value == wanted


def _validation_error(form: dict[str, str]) -> tuple[int, int, str] | None:
    if not form.get("To"):
        return 400, 21604, "A 'To' phone number is required."
    if not form.get("Body"):
        return 400, 21602, "Message body is required."
    if not form.get("From") and not form.get("MessagingServiceSid"):
        return 400, 21603, "A 'From' phone number or 'MessagingServiceSid' is required."
    return None


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    app: "TwilioTestServer"

    def handle_error(self, request, client_address):
        # Clients that time out and hang up are part of the tests; stay quiet about them.
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    server_version = "TwilioTestServer/1.0"
    server: _HttpServer

    def log_message(self, format, *args):  # noqa: A002 - stdlib signature
        pass

    def do_GET(self):
        self._dispatch()

    do_POST = do_DELETE = do_PUT = do_GET

    def _dispatch(self) -> None:
        app = self.server.app
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        form = self._read_form()
        app._record(RecordedRequest(self.command, parts.path, query, form, dict(self.headers)))
        many, one = _MESSAGES_PATH.match(parts.path), _MESSAGE_PATH.match(parts.path)
        route = many or one
        if route is None:
            return self._error(404, 20404, f"The requested resource {parts.path} was not found")
        if not app._authorized(route.group(1), self.headers.get("Authorization")):
            return self._error(401, 20003, "Authenticate", {"WWW-Authenticate": 'Basic realm="Twilio API"'})
        if one and self.command == "GET":
            return self._fetch(one.group(2), parts.path)
        if many and self.command == "GET":
            return self._list(query, parts.path)
        if many and self.command == "POST":
            return self._create(form)
        return self._error(405, 20004, "Method not allowed")

    def _read_form(self) -> dict[str, str]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if "application/x-www-form-urlencoded" not in (self.headers.get("Content-Type") or ""):
            return {}
        return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))

    def _create(self, form: dict[str, str]) -> None:
        app = self.server.app
        failure = app._pop_failure()
        accepted = None
        if failure is None or failure.accept:
            problem = _validation_error(form)
            if problem:
                return self._error(*problem)
            accepted = app._accept(form)
        if failure is not None:
            app._sleep(failure.delay)
        elif accepted is not None:
            app._sleep(app.create_delay)  # widens the window between "taken" and "answered"
        if failure is None or (failure.status < 300 and not failure.drop):
            self._send_json(201, accepted)
        elif not failure.drop:  # a dropped connection: answer nothing, the socket just closes
            extra = {"Retry-After": f"{failure.retry_after:g}"} if failure.retry_after is not None else {}
            self._error(failure.status, failure.code, failure.message, extra)
        if accepted is not None:
            app._start_callbacks(accepted["sid"])

    def _fetch(self, sid: str, path: str) -> None:
        message = self.server.app._get(sid)
        if message is None:
            return self._error(404, 20404, f"The requested resource {path} was not found")
        self._send_json(200, message)

    def _list(self, query: dict[str, str], path: str) -> None:
        try:
            size = min(max(int(query.get("PageSize", DEFAULT_PAGE_SIZE)), 1), MAX_PAGE_SIZE)
            page = max(int(query.get("Page", 0)), 0)
            matches = self.server.app._query(query)
        except ValueError as exc:
            return self._error(400, 20001, f"Invalid list parameter: {exc}")
        filters = {k: v for k, v in query.items() if k in ("To", "From", *_DATE_FILTERS)}

        def page_uri(number: int) -> str:
            return f"{path}?{urlencode({**filters, 'PageSize': size, 'Page': number})}"

        start = page * size
        chunk = matches[start : start + size]
        self._send_json(200, {
            "messages": chunk,
            "page": page,
            "page_size": size,
            "uri": page_uri(page),
            "first_page_uri": page_uri(0),
            "next_page_uri": page_uri(page + 1) if start + size < len(matches) else None,
            "previous_page_uri": page_uri(page - 1) if page > 0 else None,
            "start": start,
            "end": start + max(len(chunk) - 1, 0),
        })

    def _error(self, status: int, code: int | None, message: str, headers: dict | None = None) -> None:
        code = code if code is not None else _DEFAULT_ERROR_CODES.get(status, status)
        self._send_json(status, twilio_error(status, code, message), headers)

    def _send_json(self, status: int, payload: dict, headers: dict | None = None) -> None:
        body = json.dumps(payload).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass  # the client already gave up (timeout tests)


class TwilioTestServer:
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
        self.date_sent_on_accept = True  # False: date_sent stays null while "queued" (real Twilio)
        self.callback_timeout = callback_timeout
        self._cond = threading.Condition()
        self._stopping = threading.Event()
        self._http = requests.Session()
        self._http.trust_env = False  # callbacks go straight to the receiver, never via a proxy
        self._httpd: _HttpServer | None = None
        self._thread: threading.Thread | None = None
        self._clear()

    # -- lifecycle -------------------------------------------------------------

    def start(self) -> "TwilioTestServer":
        """Bind a free port and serve in a daemon thread; returns self."""
        if self._httpd is not None:
            return self
        self._stopping.clear()
        self._httpd = _HttpServer(("127.0.0.1", 0), _Handler)
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

    def __enter__(self) -> "TwilioTestServer":
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
            self.auto_callbacks = []
            self.auto_callback_delay = 0.0
            self.create_delay = 0.0
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
        failure = _Failure(status, code, message, retry_after, accept, delay)
        self._queue(failure, count)

    def drop_next(self, accept: bool = False, *, count: int = 1, delay: float = 0.0) -> None:
        """Close the connection of the next ``count`` message POSTs without any response."""
        self._queue(_Failure(0, accept=accept, delay=delay, drop=True), count)

    def delay_next(self, seconds: float, *, count: int = 1) -> None:
        """Accept the next ``count`` message POSTs but answer 201 only after ``seconds``."""
        self._queue(_Failure(201, accept=True, delay=seconds), count)

    # -- statuses and callbacks ------------------------------------------------

    def set_status(self, sid: str, status: str, *, error_code: int | None = None) -> None:
        """Change a stored message's status (seen by list and fetch); KeyError if unknown."""
        with self._cond:
            message = self._messages[sid]
            failed = status in _FAILED_STATUSES
            message["status"] = status
            message["error_code"] = (error_code or UNKNOWN_DELIVERY_ERROR) if failed else None
            message["date_updated"] = format_datetime(_now())
            if self._meta[sid]["sent"] is None and status not in ("accepted", "queued", "scheduled", "canceled"):
                self._meta[sid]["sent"] = _now()
                message["date_sent"] = message["date_updated"]

    def send_status_callback(
        self,
        sid: str,
        status: str,
        *,
        error_code: int | None = None,
        minimal: bool = False,
        url: str | None = None,
    ) -> int:
        """Set ``status`` and POST a signed callback to the message's StatusCallback.

        Returns the receiver's HTTP status; raises ``requests.RequestException`` when the
        receiver cannot be reached. ``minimal`` sends only MessageSid and MessageStatus.
        """
        with self._cond:
            target = url or self._meta[sid]["status_callback"]
            if not target:
                raise ValueError(f"message {sid} has no StatusCallback")
            self.set_status(sid, status, error_code=error_code)
            params = self._callback_params(self._messages[sid], minimal)
        return self._post_callback(sid, status, target, params)

    # -- internals used by the handler -----------------------------------------

    def _clear(self) -> None:
        self._requests: list[RecordedRequest] = []
        self._messages: dict[str, dict] = {}
        self._meta: dict[str, dict] = {}
        self._failures: deque[_Failure] = deque()
        self._callbacks: list[RecordedCallback] = []
        # Bumped on reset so callback threads of forgotten messages stop posting.
        self._generation = getattr(self, "_generation", 0) + 1

    def _wait(self, ready, timeout: float, what: str) -> None:
        with self._cond:
            if not self._cond.wait_for(ready, timeout):
                raise TimeoutError(f"TwilioTestServer: no {what} within {timeout} s")

    def _queue(self, failure: _Failure, count: int) -> None:
        with self._cond:
            self._failures.extend([failure] * count)

    def _pop_failure(self) -> _Failure | None:
        with self._cond:
            return self._failures.popleft() if self._failures else None

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)  # returns early when the server stops

    def _record(self, request: RecordedRequest) -> None:
        with self._cond:
            self._requests.append(request)
            self._cond.notify_all()

    def _authorized(self, path_sid: str, header: str | None) -> bool:
        expected = (self.account_sid, self.auth_token)
        return path_sid == self.account_sid and _decode_basic(header) == expected

    def _accept(self, form: dict[str, str]) -> dict:
        now = _now()
        sid = "SM" + secrets.token_hex(16)
        base = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}"
        stamp = format_datetime(now)
        message = {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": form["Body"],
            "date_created": stamp,
            "date_sent": stamp if self.date_sent_on_accept else None,
            "date_updated": stamp,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From") or None,
            "messaging_service_sid": form.get("MessagingServiceSid") or None,
            "num_media": "0",
            "num_segments": str(count_segments(form["Body"])),
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
        dates = {name: _parse_filter_date(query[name]) for name in _DATE_FILTERS if query.get(name)}
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
                if all(_date_matches(sent, name, wanted) for name, wanted in dates.items()):
                    found.append(dict(message))
            return found

    def _start_callbacks(self, sid: str) -> None:
        with self._cond:
            statuses = list(self.auto_callbacks)
            wanted = statuses and self._meta.get(sid, {}).get("status_callback")
            generation = self._generation
        if wanted:
            threading.Thread(
                target=self._run_callbacks, args=(sid, statuses, generation), name=f"callbacks-{sid}", daemon=True
            ).start()

    def _run_callbacks(self, sid: str, statuses: list[str], generation: int) -> None:
        for status in statuses:
            self._sleep(self.auto_callback_delay)
            if self._stopping.is_set() or generation != self._generation:
                return
            try:
                self.send_status_callback(sid, status)
            except requests.RequestException:
                continue  # recorded in callbacks; Twilio does not retry status callbacks either
            except KeyError:
                return  # reset() forgot the message meanwhile

    def _callback_params(self, message: dict, minimal: bool) -> dict[str, str]:
        params = {"MessageSid": message["sid"], "MessageStatus": message["status"]}
        if minimal:
            return params
        params.update(
            SmsSid=message["sid"],
            SmsStatus=message["status"],
            To=message["to"],
            From=message["from"] or SERVICE_POOL_NUMBER,
            AccountSid=self.account_sid,
            ApiVersion=API_VERSION,
        )
        if message["messaging_service_sid"]:
            params["MessagingServiceSid"] = message["messaging_service_sid"]
        if message["status"] in _FAILED_STATUSES:
            params["ErrorCode"] = str(message["error_code"])
        return params

    def _post_callback(self, sid: str, status: str, url: str, params: dict[str, str]) -> int:
        signature = RequestValidator(self.auth_token).compute_signature(url, params)
        headers = {"X-Twilio-Signature": signature, "User-Agent": "TwilioProxy/1.1"}
        http_status, error = None, None
        try:
            response = self._http.post(
                url, data=params, headers=headers, timeout=self.callback_timeout, allow_redirects=False
            )
            http_status = response.status_code
        except requests.RequestException as exc:
            error = repr(exc)
            raise
        finally:
            with self._cond:
                self._callbacks.append(RecordedCallback(sid, status, url, params, signature, http_status, error))
                self._cond.notify_all()
        return http_status


def _now() -> datetime:
    # Twilio dates have second precision, in UTC (its RFC 2822 strings always say +0000).
    return datetime.now(timezone.utc).replace(microsecond=0)
