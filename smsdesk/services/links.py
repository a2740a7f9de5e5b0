"""Links from platforms: only http(s) ones reach a page or a text."""
from __future__ import annotations

from urllib.parse import urlsplit


def web_link(url: str | None) -> str | None:
    """``url`` if it is an http(s) link with a host, else None: platforms pass tracking URLs
    through from merchants and apps, and a ``javascript:`` one must never become a link."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or any(c < " " for c in url):
        return None
    return url


def text_link(url: str | None) -> str:
    """``url`` for a template variable when it is a web link, else "" (the template's
    ``{% if tracking.url %}`` then leaves the link out)."""
    return web_link(url) or ""
