"""Fetching the pictures customers send (Twilio keeps them at its API host).

Twilio's inbound webhook names each picture ``MediaUrl{i}``, e.g.
``https://api.twilio.com/2010-04-01/Accounts/AC.../Messages/MM.../Media/ME...``. Fetching it
with the account's credentials (HTTP basic auth, when "HTTP basic auth for media" is on) answers
a redirect to a short-lived address on Twilio's storage; that second request goes without the
credentials. A webhook can name any URL, so only URLs of this account on Twilio's API host (or
the configured ``api_base``) are recorded or fetched: nothing else is ever requested (no SSRF).
"""
from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests

from smsdesk.services.media import MediaRefused

TWILIO_API_HOST = "api.twilio.com"
TIMEOUT = 10.0  # seconds, to connect and for each read
MAX_REDIRECTS = 3  # Twilio answers one redirect (to its storage)
CHUNK = 64 * 1024  # bytes read at a time, so a huge answer stops at the limit
_MEDIA_PATH = "/2010-04-01/Accounts/{sid}/Messages/[A-Za-z0-9]{{2,64}}/Media/[A-Za-z0-9]{{2,64}}"


class TwilioMediaFetcher:
    """Checks and fetches Twilio media URLs for one account."""

    def __init__(self, *, account_sid: str, auth_token: str, api_base: str = "", max_bytes: int,
                 timeout: float = TIMEOUT):
        self._auth = (account_sid, auth_token)
        self._path = re.compile(_MEDIA_PATH.format(sid=re.escape(account_sid or "-")))
        base = urlsplit(api_base.rstrip("/")) if api_base else None
        self._bases = {("https", TWILIO_API_HOST)} | ({(base.scheme, base.netloc)} if base else set())
        self._api_base = base
        self.max_bytes = max_bytes
        self._timeout = timeout

    def accepts(self, url: str) -> bool:
        """Whether ``url`` is a picture of this account at Twilio (the only URLs ever fetched)."""
        try:
            parts = urlsplit(url)
            origin = (parts.scheme, parts.netloc.lower())
        except ValueError:
            return False
        return (origin in self._bases and not parts.query and not parts.fragment
                and self._path.fullmatch(parts.path) is not None)

    def fetch(self, url: str) -> tuple[bytes, str]:
        """The picture's bytes and claimed type; ``MediaRefused`` when it can't be had."""
        if not self.accepts(url) or not all(self._auth):
            raise MediaRefused("this picture is not at the Twilio account smsdesk uses", status=404)
        try:
            with requests.Session() as http:
                http.trust_env = False  # credentials go to Twilio only, never through a proxy from the environment
                answer = http.get(self._target(url), auth=self._auth, allow_redirects=False, stream=True,
                                  timeout=self._timeout)
                for _ in range(MAX_REDIRECTS):
                    if not answer.is_redirect:
                        break
                    answer = self._follow(http, answer)
                return self._read(answer)
        except requests.RequestException as exc:
            raise MediaRefused(f"Twilio did not hand over the picture ({type(exc).__name__})", status=502) from None

    def _target(self, url: str) -> str:
        """Twilio's URL pointed at ``api_base`` when one is set (tests, edges)."""
        parts = urlsplit(url)
        if self._api_base is None or parts.netloc.lower() != TWILIO_API_HOST:
            return url
        base = self._api_base
        return urlunsplit((base.scheme, base.netloc, base.path + parts.path, "", ""))

    def _follow(self, http: requests.Session, answer: requests.Response) -> requests.Response:
        """The redirect's target, fetched without credentials (it is Twilio's storage, not its API)."""
        location = urljoin(answer.url, answer.headers.get("Location", ""))
        answer.close()
        if urlsplit(location).scheme not in ("http", "https"):
            raise MediaRefused("Twilio redirected the picture somewhere unusable", status=502)
        return http.get(location, allow_redirects=False, stream=True, timeout=self._timeout)

    def _read(self, answer: requests.Response) -> tuple[bytes, str]:
        with answer:
            if answer.status_code != 200:
                raise MediaRefused(f"Twilio answered HTTP {answer.status_code} for this picture", status=502)
            declared = answer.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > self.max_bytes:
                raise MediaRefused(_too_big(self.max_bytes), status=413)
            data = bytearray()
            for chunk in answer.iter_content(CHUNK):
                data += chunk
                if len(data) > self.max_bytes:
                    raise MediaRefused(_too_big(self.max_bytes), status=413)
            return bytes(data), answer.headers.get("Content-Type", "")


def _too_big(limit: int) -> str:
    return f"the picture is larger than {limit / 1024 / 1024:.1f} MB, the most smsdesk fetches"


def create_fetcher(config) -> TwilioMediaFetcher:
    """The fetcher for the configured Twilio account (credentials may be empty: then it fetches nothing)."""
    return TwilioMediaFetcher(account_sid=config.twilio.account_sid, auth_token=config.twilio.auth_token,
                              api_base=config.twilio.api_base, max_bytes=config.media.max_bytes)
