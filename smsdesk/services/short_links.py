"""Short links: the web links in an outgoing text become ``<base_url>/r/<code>`` when the store
turned short links on, one ``short_links`` row per (text, target URL).

``shorten`` runs where every text is queued (outbox.enqueue_text), so the stored body, its
segment count, the inbox thread and what the provider gets are the same short text. Codes are
8 base62 characters from ``secrets`` (about 47.6 bits): not guessable, and a collision with an
earlier code (the unique index says so) draws a new one.
"""
from __future__ import annotations

import re
import secrets
import string
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from smsdesk.models import LinkSettings, Message, ShortLink
from smsdesk.models.links import (
    CODE_LENGTH,
    DEFAULT_CLICK_WINDOW_HOURS,
    DEFAULT_SMART_SENDING_HOURS,
    DEFAULT_VIEW_WINDOW_HOURS,
)
from smsdesk.services import preload
from smsdesk.services.links import web_link

ALPHABET = string.ascii_letters + string.digits  # base62: GSM-7 and safe in any URL path
CODE = re.compile(rf"^[0-9A-Za-z]{{{CODE_LENGTH}}}$")
PLACEHOLDER = "X" * CODE_LENGTH  # the editor's preview shows this code
PATH = "/r/"
# A URL in prose ends before whitespace or quotes; trailing punctuation belongs to the sentence.
_URL = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}'\""
MAX_DRAWS = 5  # codes drawn before giving up on a text's links (2**-47 each: never in practice)


@dataclass(frozen=True)
class Settings:
    short_links: bool
    base_url: str
    smart_sending_hours: int
    click_window_hours: int = DEFAULT_CLICK_WINDOW_HOURS
    view_attribution: bool = False
    view_window_hours: int = DEFAULT_VIEW_WINDOW_HOURS


DEFAULTS = Settings(short_links=False, base_url="", smart_sending_hours=DEFAULT_SMART_SENDING_HOURS)


def settings_for(session: Session, store_id: int) -> Settings:
    """The store's link settings (the defaults without a row); a batch of events reads them once."""
    row = preload.known(session, "link_settings", store_id)
    if row is preload.UNKNOWN:
        row = session.get(LinkSettings, store_id)
        preload.remember(session, "link_settings", store_id, row=row)
    if row is None:
        return DEFAULTS
    return Settings(row.short_links and bool(row.base_url), row.base_url, row.smart_sending_hours,
                    row.click_window_hours, row.view_attribution, row.view_window_hours)


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def short_url(base_url: str, code: str) -> str:
    return base_url.rstrip("/") + PATH + code


def find_urls(body: str, base_url: str) -> list[tuple[int, int, str]]:
    """(start, end, url) of each web link in ``body`` to shorten: http(s) only, not one of ours."""
    ours = base_url.rstrip("/") + PATH
    found = []
    for match in _URL.finditer(body):
        url = match.group(0).rstrip(_TRAILING)
        if url.lower().startswith(ours.lower()) or web_link(url) is None:
            continue
        found.append((match.start(), match.start() + len(url), url))
    return found


def replace_urls(body: str, spans: list[tuple[int, int, str]], codes: dict[str, str], base_url: str) -> str:
    parts, at = [], 0
    for start, end, url in spans:
        parts += [body[at:start], short_url(base_url, codes[url])]
        at = end
    return "".join(parts) + body[at:]


def shorten(session: Session, store_id: int, body: str) -> tuple[str, dict[str, str]]:
    """``body`` with its links shortened and {target URL: code}; unchanged with {} when the
    store has short links off or the text has no link. The rows are written by ``attach``."""
    settings = settings_for(session, store_id)
    if not settings.short_links:
        return body, {}
    spans = find_urls(body, settings.base_url)
    if not spans:
        return body, {}
    codes = {url: new_code() for _, _, url in spans}  # one code per target URL of the text
    return replace_urls(body, spans, codes, settings.base_url), codes


def attach(session: Session, message: Message, codes: dict[str, str]) -> None:
    """Write the link rows of a queued ``message``. A code taken already (the unique index)
    draws a new one and rewrites the body: same length, so the segment count holds."""
    for _ in range(MAX_DRAWS):
        rows = [ShortLink(code=code, store_id=message.store_id, message_id=message.id,
                          customer_id=message.customer_id, url=url)
                for url, code in codes.items()]
        if preload.active(session):  # a batch: a code taken fails the chunk, applied again one by one
            for row in rows:
                preload.insert(session, row)
            return
        try:
            with session.begin_nested():
                session.add_all(rows)
            return
        except IntegrityError:
            taken = set(session.scalars(select(ShortLink.code).where(ShortLink.code.in_(codes.values()))))
            for url, code in list(codes.items()):
                if code in taken:
                    fresh = new_code()
                    message.body = message.body.replace(code, fresh)
                    codes[url] = fresh
    raise RuntimeError("no free short-link code after several draws")


def preview(session: Session, store_id: int, text: str) -> str:
    """``text`` as the editor and composer count it: each link in the short form the store
    sends (``<base_url>/r/`` and a code of PLACEHOLDER's length), when short links are on."""
    settings = settings_for(session, store_id)
    if not settings.short_links:
        return text
    spans = find_urls(text, settings.base_url)
    return replace_urls(text, spans, {url: PLACEHOLDER for _, _, url in spans}, settings.base_url)
