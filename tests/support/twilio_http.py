"""The HTTP side of ``TwilioTestServer``: request handler, records and pure helpers.

Everything here is stateless; the handler keeps its state on the ``TwilioTestServer``
(``server.app``) it serves. Import the public names from ``tests.support.twilio_server``,
which re-exports them.
"""
from __future__ import annotations

import base64
import binascii
import json
import math
import re
import socket
from dataclasses import dataclass
from datetime import date, datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit

from tests.support.twilio_media import serve_media

if TYPE_CHECKING:
    from tests.support.twilio_server import TwilioTestServer

API_VERSION = "2010-04-01"
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000

# Twilio error code used when fail_next() is not given one.
DEFAULT_ERROR_CODES = {400: 20001, 401: 20003, 404: 20404, 405: 20004, 429: 20429, 500: 20500, 503: 20503}
DATE_FILTERS = ("DateSent", "DateSent<", "DateSent>")
_MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/([^/]+)/Messages\.json$")
_MESSAGE_PATH = re.compile(r"^/2010-04-01/Accounts/([^/]+)/Messages/([^/]+)\.json$")

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
        return decode_basic_auth(self.headers.get("Authorization"))


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
class Failure:
    """How to answer one message POST instead of a plain 201 (see ``fail_next``)."""

    status: int
    code: int | None = None
    message: str = ""
    retry_after: float | None = None
    accept: bool = False
    delay: float = 0.0
    drop: bool = False


def decode_basic_auth(header: str | None) -> tuple[str, str] | None:
    """(username, password) of a ``Basic`` Authorization header, or None."""
    if not header or not header.startswith("Basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, password


def parse_filter_date(value: str) -> date | datetime:
    """``YYYY-MM-DD`` or an ISO datetime (what twilio-python sends: ``%Y-%m-%dT%H:%M:%SZ``)."""
    if len(value) == 10:
        return date.fromisoformat(value)
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def date_matches(sent: datetime, name: str, wanted: date | datetime) -> bool:
    """Whether a message sent at ``sent`` passes the ``name`` filter (one of DATE_FILTERS)."""
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
    if not form.get("Body") and not form.get("MediaUrl"):
        return 400, 21602, "Message body is required."
    if not form.get("From") and not form.get("MessagingServiceSid"):
        return 400, 21603, "A 'From' phone number or 'MessagingServiceSid' is required."
    return None


class HttpServer(ThreadingHTTPServer):
    daemon_threads = True  # one thread per request: slow answers overlap, as at Twilio
    request_queue_size = 128  # many workers connect at once; the default backlog of 5 drops some
    app: TwilioTestServer

    def handle_error(self, request, client_address):
        # Clients that time out and hang up are part of the tests; stay quiet about them.
        pass


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    server_version = "TwilioTestServer/1.0"
    server: HttpServer

    def log_message(self, format, *args):  # the stdlib names it "format"
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
        if serve_media(self, parts.path):  # pictures (tests/support/twilio_media.py)
            return
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
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True)
        self.media_urls = [value for key, value in pairs if key == "MediaUrl"]  # repeated: one per picture
        return dict(pairs)

    def _create(self, form: dict[str, str]) -> None:
        app = self.server.app
        failure = app._pop_failure()
        accepted = None
        if failure is None or failure.accept:
            problem = _validation_error(form)
            if problem:
                return self._error(*problem)
            accepted = app._accept(form, getattr(self, "media_urls", []))
        if failure is not None:
            app._sleep(failure.delay)
        elif accepted is not None:
            app._sleep(app._answer_delay())  # widens the window between "taken" and "answered"
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
        filters = {k: v for k, v in query.items() if k in ("To", "From", *DATE_FILTERS)}

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
        code = code if code is not None else DEFAULT_ERROR_CODES.get(status, status)
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
