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


def phone_timezone(e164: str, fallback: str) -> str:
    """IANA time zone of a number's owner, or ``fallback`` when not knowable.

    Used for quiet hours, so a wrong guess is worse than the store's zone:
    several candidate zones resolve only when the store's zone is one of them,
    the area code alone maps to one zone, or all candidates keep the same
    clock (e.g. London / Guernsey / Isle of Man).
    """
    number = _parse_e164(e164)
    if number is None:
        return fallback
    zones = [z for z in pn_timezone.time_zones_for_number(number) if z != _UNKNOWN_ZONE]
    if len(zones) == 1:
        return zones[0]
    if not zones:
        return fallback
    if fallback in zones:
        return fallback
    area_zones = _area_code_zones(number)
    if len(area_zones) == 1:
        return area_zones[0]
    if _same_clock(zones):
        return _prefer_main_country(zones, number.country_code)
    return fallback


def _area_code_zones(number: phonenumbers.PhoneNumber) -> tuple[str, ...]:
    """Zones the library lists for the number's area code prefix (or ())."""
    area_len = phonenumbers.length_of_geographical_area_code(number)
    if not area_len:
        return ()
    cc = str(number.country_code)
    prefix = cc + phonenumbers.national_significant_number(number)[:area_len]
    # Stop above the bare country code: that entry lists the whole country.
    for end in range(len(prefix), len(cc), -1):
        zones = TIMEZONE_DATA.get(prefix[:end])
        if zones:
            return tuple(z for z in zones if z != _UNKNOWN_ZONE)
    return ()


def _same_clock(zones: list[str]) -> bool:
    """True if all zones have the same UTC offset in winter and in summer."""
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    year = datetime.now(timezone.utc).year
    instants = [datetime(year, 1, 15, 12, tzinfo=timezone.utc),
                datetime(year, 7, 15, 12, tzinfo=timezone.utc)]
    try:
        offsets = {tuple(t.astimezone(ZoneInfo(z)).utcoffset() for t in instants) for z in zones}
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return len(offsets) == 1


def _prefer_main_country(zones: list[str], country_code: int) -> str:
    """Among equivalent zones pick the one of the country code's main region
    (Europe/London rather than Europe/Guernsey for +44), else the first."""
    main = phonenumbers.region_code_for_country_code(country_code)
    countries = _zone_countries()
    return next((z for z in zones if countries.get(z) == main), zones[0])


@functools.cache
def _zone_countries() -> dict[str, str]:
    """Zone name -> ISO country from tzdata's zone.tab ({} if unavailable)."""
    try:
        text = importlib.resources.files("tzdata").joinpath("zoneinfo/zone.tab").read_text()
    except (ModuleNotFoundError, OSError):
        return {}
    rows = (line.split("\t") for line in text.splitlines() if line and not line.startswith("#"))
    return {row[2]: row[0] for row in rows if len(row) >= 3}
