"""Phone number normalization (E.164) and phone -> time zone / country lookups.

Pure functions on top of the ``phonenumbers`` library, no I/O.
"""

from __future__ import annotations

import functools
import importlib.resources
import re

import phonenumbers
from phonenumbers import timezone as pn_timezone
from phonenumbers.tzdata import TIMEZONE_DATA

_UNKNOWN_ZONE = "Etc/Unknown"  # what phonenumbers returns when it has no idea
_NANP = 1
# Every zone of the North American Numbering Plan: what phonenumbers lists for +1
# numbers with no geographic prefix (toll-free 8XX, 500, 555).
_NANP_ZONES = frozenset(TIMEZONE_DATA.get(str(_NANP), ()))

# A trailing extension ("ext. 12", "x12", "#12", ";ext=12"): dropped before the
# letter check, since an SMS cannot reach an extension anyway.
_EXTENSION = re.compile(
    r"\s*(?:;\s*ext=|,|#|\b(?:ext|extn|extension)\b\.?:?|x)\s*\d{1,7}\s*$",
    re.IGNORECASE,
)
_TEL_URI = re.compile(r"^\s*tel:", re.IGNORECASE)
_INTERNATIONAL_00 = re.compile(r"^\s*00\s*")


def normalize_phone(raw: str | None, default_country: str | None) -> str | None:
    """Return ``raw`` as E.164 (``+15024592181``), or None when missing/unusable.

    National numbers are read in ``default_country`` (ISO region, e.g. "US").
    *Possible* numbers are accepted, not only *valid* ones, because shop test
    data is full of fictional 555 numbers. Letters are rejected: phonenumbers
    would silently turn "555-555-SHIP" into digits.
    """
    text = _clean(raw)
    if text is None:
        return None
    region = default_country.strip().upper() if default_country else None
    number = None
    if _INTERNATIONAL_00.match(text):
        # "00" is never the start of a national number (NANP numbers start 2-9,
        # trunk-prefix countries use a single 0), so read it as "+" even where
        # the region's own international prefix differs (011 in the US).
        number = _parse_possible(_INTERNATIONAL_00.sub("+", text), None)
    if number is None:
        number = _parse_possible(text, region)
    if number is None:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _clean(raw: str | None) -> str | None:
    """Strip a tel: scheme and an extension; None if empty or it has letters."""
    if raw is None:
        return None
    text = _EXTENSION.sub("", _TEL_URI.sub("", str(raw))).strip()
    if not text or any(ch.isalpha() for ch in text):
        return None
    return text


def _parse_possible(text: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    """Parse ``text``; None unless it is a possible full number.

    IS_POSSIBLE_LOCAL_ONLY (e.g. a 7-digit US number without area code) is
    refused: it cannot be dialled from elsewhere, so it cannot be texted.
    """
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason != phonenumbers.ValidationResult.IS_POSSIBLE:
        return None
    number.extension = None
    return number


def _parse_e164(e164: str) -> phonenumbers.PhoneNumber | None:
    """Parse an E.164 string, None when it is not one."""
    try:
        return phonenumbers.parse(e164, None)
    except (phonenumbers.NumberParseException, TypeError):
        return None


def country_for_phone(e164: str) -> str | None:
    """ISO region code of a number ("US", "DE"), None if unknown.

    Valid numbers get their exact region; merely possible ones (fictional 555
    numbers) get the main region of their country code, e.g. "US" for +1.
    """
    number = _parse_e164(e164)
    if number is None:
        return None
    region = phonenumbers.region_code_for_number(number)
    if region is None:
        region = phonenumbers.region_code_for_country_code(number.country_code)
    return None if region in (None, phonenumbers.UNKNOWN_REGION) else region


def phone_timezones(e164: str, fallback: str) -> tuple[str, ...]:
    """Every IANA time zone the number's owner may be in; ``(fallback,)`` when it tells nothing.

    Used for quiet hours, so it never guesses one zone out of several: a +34 mobile may be
    in Madrid or on the Canary Islands, a +61 mobile anywhere from Perth to Lord Howe, an
    Idaho 208 number in Boise or in the Pacific panhandle. phonenumbers already narrows by
    the longest known prefix (the area code where there is one). A number whose prefix has
    no zone falls back to its country's zones; only a number that says nothing about a
    place (unparseable, or +1 toll-free / 555 / 500 spanning all of NANP) gets ``fallback``.
    """
    number = _parse_e164(e164)
    if number is None:
        return (fallback,)
    zones = tuple(z for z in pn_timezone.time_zones_for_number(number) if z != _UNKNOWN_ZONE)
    if number.country_code == _NANP and set(zones) >= _NANP_ZONES:
        return (fallback,)
    return zones or _country_zones(number) or (fallback,)


def _country_zones(number: phonenumbers.PhoneNumber) -> tuple[str, ...]:
    """The zones of the number's country (its main region for a shared calling code)."""
    if not number.country_code or number.country_code == _NANP:
        return ()  # +1 is shared by some twenty countries: no one country to go by
    region = phonenumbers.region_code_for_country_code(number.country_code)
    return tuple(sorted(zone for zone, country in _zone_countries().items() if country == region))


@functools.cache
def _zone_countries() -> dict[str, str]:
    """Zone name -> ISO country from tzdata's zone.tab ({} if unavailable)."""
    try:
        text = importlib.resources.files("tzdata").joinpath("zoneinfo/zone.tab").read_text()
    except (ModuleNotFoundError, OSError):
        return {}
    rows = (line.split("\t") for line in text.splitlines() if line and not line.startswith("#"))
    return {row[2]: row[0] for row in rows if len(row) >= 3}
