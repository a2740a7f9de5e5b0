"""Media for ``TwilioTestServer``, as Twilio serves it.

Inbound: ``server.add_media(content, content_type)`` keeps a picture a customer "sent" and gives
its URL, shaped like Twilio's (``/2010-04-01/Accounts/AC.../Messages/MM.../Media/ME...``), for
``MediaUrl0`` of an inbound webhook. Fetching that URL needs the account's basic auth and answers
307 to the picture's storage address on another host name (``localhost`` instead of
``127.0.0.1``, as Twilio redirects to its storage), which serves the bytes without auth; so a test
sees whether the credentials went to the redirect's host too (``requests`` shows every request).

Outbound: ``MediaUrl`` (repeated, as twilio-python sends a list) is accepted on message create;
``server.sent_media(sid)`` lists them.
"""
from __future__ import annotations

import re
import secrets
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.support.twilio_http import Handler

MEDIA_PATH = re.compile(r"^/2010-04-01/Accounts/([^/]+)/Messages/([^/]+)/Media/([^/.]+)$")
STORAGE_PATH = re.compile(r"^/storage/([^/]+)$")
STORAGE_HOST = "localhost"  # the API is served as 127.0.0.1: another host name, as Twilio's storage is


@dataclass(frozen=True)
class StoredMedia:
    content: bytes
    content_type: str


class MediaStore:
    """The pictures the server holds, by media sid."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, StoredMedia] = {}

    def add(self, content: bytes, content_type: str) -> str:
        sid = "ME" + secrets.token_hex(16)
        with self._lock:
            self._items[sid] = StoredMedia(content, content_type)
        return sid

    def get(self, sid: str) -> StoredMedia | None:
        with self._lock:
            return self._items.get(sid)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def media_url(base: str, account_sid: str, media_sid: str) -> str:
    """The URL Twilio's webhook names a picture by (``MediaUrl{i}``)."""
    return f"{base}/2010-04-01/Accounts/{account_sid}/Messages/MM{secrets.token_hex(16)}/Media/{media_sid}"


def serve_media(handler: Handler, path: str) -> bool:
    """Answer a media or storage request; False when ``path`` is neither (the API handles it)."""
    app = handler.server.app
    found = MEDIA_PATH.match(path)
    if found is not None:
        if not app._authorized(found.group(1), handler.headers.get("Authorization")):
            handler._error(401, 20003, "Authenticate", {"WWW-Authenticate": 'Basic realm="Twilio API"'})
        elif app.media.get(found.group(3)) is None:
            handler._error(404, 20404, f"The requested resource {path} was not found")
        else:
            _redirect(handler, f"http://{STORAGE_HOST}:{app.port}/storage/{found.group(3)}")
        return True
    stored = STORAGE_PATH.match(path)
    if stored is not None:
        item = app.media.get(stored.group(1))
        if item is None:
            handler._error(404, 20404, "no such media")
        else:
            _bytes(handler, item)
        return True
    return False


def _redirect(handler: Handler, location: str) -> None:
    handler.send_response(307)
    handler.send_header("Location", location)
    handler.send_header("Content-Length", "0")
    handler.end_headers()


def _bytes(handler: Handler, item: StoredMedia) -> None:
    try:
        handler.send_response(200)
        handler.send_header("Content-Type", item.content_type)
        handler.send_header("Content-Length", str(len(item.content)))
        handler.end_headers()
        handler.wfile.write(item.content)
    except OSError:
        pass  # the client gave up (a size cap reached)
