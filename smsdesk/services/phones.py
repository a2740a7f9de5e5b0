"""Phone number normalization (E.164), textability, and phone -> time zone / country lookups.

Pure functions on top of the ``phonenumbers`` library, no I/O.
"""

from __future__ import annotations

import functools
import importlib.resources
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import phonenumbers
from phonenumbers import timezone as pn_timezone
from phonenumbers.tzdata import TIMEZONE_DATA

from smsdesk.reasons import Reason

_UNKNOWN_ZONE = "Etc/Unknown"  # what phonenumbers returns when it has no idea
_NANP = 1
# Every zone of the North American Numbering Plan: what phonenumbers lists for +1
# numbers with no geographic prefix (toll-free 8XX, 500, 555).
_NANP_ZONES = frozenset(TIMEZONE_DATA.get(str(_NANP), ()))

# Words shoppers type around a number ("Cell: ...", "... (mobile)", "Tél. ..."). Only these
# known words are stripped, so letters inside a number ("555-555-SHIP") still reject it.
_LABEL_WORDS = (r"(?:cell(?:ular)?(?:\s*phone)?|mobile(?:\s*phone)?|mobil|mob|handy|portable|gsm|sms|text"
                r"|whats\s*app|phone|ph|tel(?:ephone|[ée]fono)?|t[ée]l[ée]phone|t[ée]l|m[oó]vil|celular"
                r"|home|work|office|main|primary)(?:\s*(?:number|no|nr|num|#))?")
_LEADING_LABEL = re.compile(rf"^\s*(?:{_LABEL_WORDS}\b\.?|[a-z]\s*(?=[:.]))[\s:#=.\-–—]*", re.IGNORECASE)
_TRAILING_LABEL = re.compile(rf"(?:\s*\(\s*(?:{_LABEL_WORDS}|[a-z])\s*\.?\s*\)|[\s,;/\-–—]+{_LABEL_WORDS}\b\.?)\s*$",
                             re.IGNORECASE)
# A trailing extension ("ext. 12", "x12", "#12", ";ext=12"): dropped before the
# letter check, since an SMS cannot reach an extension anyway.
_EXTENSION = re.compile(
    r"\s*(?:;\s*ext=|,|#|\b(?:ext|extn|extension)\b\.?:?|x)\s*\d{1,7}\s*$",
    re.IGNORECASE,
)
_INTERNATIONAL_00 = re.compile(r"^\s*00\s*")

# Fictional numbers that shop test data, demos and the suite use: NANP exchange 555
# (555-0100..0199 are reserved for fiction; other 555 lines are rare directory/test
# numbers, and Twilio's magic test numbers are +1 500 555 xxxx) and Ofcom's drama range
# 07700 900000-900999. phonenumbers calls most of them invalid; we let them through so a
# shop's test order still shows a text, and the provider refuses any that cannot arrive.
_FICTIONAL_NANP_EXCHANGE = "555"
_FICTIONAL_UK_PREFIX = "7700900"
# phonenumbers' types that are certainly not a line that receives texts.
_LANDLINE_TYPES = (phonenumbers.PhoneNumberType.FIXED_LINE,)


@dataclass(frozen=True)
class PhoneCheck:
    """Where texts for a customer can go: ``phone`` (E.164), or why none (``problem``)."""

    phone: str | None = None
    problem: Reason | None = None  # NO_PHONE, INVALID_NUMBER or LANDLINE when phone is None


def first_textable(candidates: Iterable[tuple[Any, Any]], *, countries: Iterable[Any] = ()) -> PhoneCheck:
    """The first candidate that is a valid number able to receive texts.

    ``candidates`` are (raw phone, that address's country) pairs in order of preference;
    a national number is read in its own country first, then in each of ``countries``
    (billing, shipping, ..., the store's country last). A landline or an invalid number
    is skipped; when nothing fits, ``problem`` says why (a landline beats "invalid",
    which beats "no phone").
    """
    fallback = [c for c in (_region(c) for c in countries) if c]
    problems: list[Reason] = []
    for raw, own in candidates:
        check = textable_phone(raw, [_region(own), *fallback])
        if check.phone:
            return check
        problems.append(check.problem or Reason.NO_PHONE)
    return PhoneCheck(problem=_worst(problems))


def textable_phone(raw: Any, regions: Iterable[str | None]) -> PhoneCheck:
    """``raw`` as E.164 if it is a number that can receive texts, read in the first region
    of ``regions`` where it is one (an international number needs none)."""
    return _textable_phone(None if raw is None else str(raw), tuple(regions))


# Reading a number costs ~55 us (phonenumbers), and the apply job reads a customer's number
# again for each of an order's events (placed, shipped, out for delivery, delivered, ...).
@functools.lru_cache(maxsize=4096)
def _textable_phone(raw: str | None, regions: tuple[str | None, ...]) -> PhoneCheck:
    text = _clean(raw)
    if text is None:
        blank = raw is None or not str(raw).strip()
        return PhoneCheck(problem=Reason.NO_PHONE if blank else Reason.INVALID_NUMBER)
    problems = []
    for region in [*dict.fromkeys(r for r in regions if r), None]:
        number = _parse(text, region)
        problem = Reason.INVALID_NUMBER if number is None else textability(number)
        if number is not None and problem is None:
            return PhoneCheck(phone=_e164(number))
        problems.append(problem or Reason.INVALID_NUMBER)
    return PhoneCheck(problem=_worst(problems))


def textability(number: phonenumbers.PhoneNumber) -> Reason | None:
    """None if texts can reach ``number``; else INVALID_NUMBER or LANDLINE.

    FIXED_LINE_OR_MOBILE passes: US and Canadian numbers are all of that type. So do
    VoIP, personal, pager and toll-free numbers: some take texts (US toll-free texting),
    and the provider's refusal of the others is recorded like any failed send.
    """
    if is_fictional(number):
        return None
    if not phonenumbers.is_valid_number(number):
        return Reason.INVALID_NUMBER
    if phonenumbers.number_type(number) in _LANDLINE_TYPES:
        return Reason.LANDLINE
    return None


def is_fictional(number: phonenumbers.PhoneNumber) -> bool:
    """True for the fictional test ranges above (NANP xxx-555-xxxx, UK 07700 900xxx)."""
    national = phonenumbers.national_significant_number(number)
    if number.country_code == 1:
        return len(national) == 10 and national[3:6] == _FICTIONAL_NANP_EXCHANGE
    return number.country_code == 44 and national.startswith(_FICTIONAL_UK_PREFIX) and len(national) == 10


_PROBLEM_ORDER = (Reason.LANDLINE, Reason.INVALID_NUMBER, Reason.NO_PHONE)


def _worst(problems: list[Reason]) -> Reason:
    """The most telling problem: a landline says more than "invalid", which says more than none."""
    return next((p for p in _PROBLEM_ORDER if p in problems), Reason.NO_PHONE)


def _region(value: Any) -> str | None:
    text = "" if value is None else str(value).strip().upper()
    return text or None


def normalize_phone(raw: str | None, default_country: str | None) -> str | None:
    """Return ``raw`` as E.164 (``+15024592181``), or None when missing/unusable.

    National numbers are read in ``default_country`` (ISO region, e.g. "US").
    *Possible* numbers are accepted, not only *valid* ones: this is the parser for
    numbers that reach us (Twilio's From, the store's own number). Whether a customer's
    number can receive texts is ``first_textable``'s question. Letters are rejected:
    phonenumbers would silently turn "555-555-SHIP" into digits.
    """
    text = _clean(raw)
    if text is None:
        return None
    number = _parse(text, _region(default_country))
    return _e164(number) if number is not None else None


def _parse(text: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    """A possible full number read in ``region``, or None."""
    if _INTERNATIONAL_00.match(text):
        # "00" is never the start of a national number (NANP numbers start 2-9,
        # trunk-prefix countries use a single 0), so read it as "+" even where
        # the region's own international prefix differs (011 in the US).
        number = _parse_possible(_INTERNATIONAL_00.sub("+", text), None)
        if number is not None:
            return number
    return _parse_possible(text, region)


def _e164(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _clean(raw: str | None) -> str | None:
    """Strip labels around the number and an extension; None if empty or it has letters."""
    if raw is None:
        return None
    text = _TRAILING_LABEL.sub("", _LEADING_LABEL.sub("", str(raw)))
    text = _EXTENSION.sub("", text).strip()
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
        region = phonenumbers.region_code_for_country_code(number.country_code or 0)
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
