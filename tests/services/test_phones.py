"""Phone normalization to E.164 and phone -> time zone / country."""

import pytest

from smsdesk.reasons import Reason
from smsdesk.services import phones
from smsdesk.services.phones import (
    PhoneCheck,
    country_for_phone,
    first_textable,
    normalize_phone,
    phone_timezones,
    textable_phone,
)


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        # US formats seen in shop exports
        ("+1(502)-459-2181", "US", "+15024592181"),
        ("(502) 459-2181", "US", "+15024592181"),
        ("502.459.2181", "US", "+15024592181"),
        ("5024592181", "US", "+15024592181"),
        ("15024592181", "US", "+15024592181"),
        ("1-502-459-2181", "us", "+15024592181"),  # region case does not matter
        ("  +1 502 459 2181  ", None, "+15024592181"),
        ("tel:+1-502-459-2181", None, "+15024592181"),
        # fictional 555 numbers are possible (not valid): shops test with them
        ("555-625-1199", "US", "+15556251199"),
        # extensions are dropped: SMS cannot reach them
        ("(212) 555-0100 ext. 123", "US", "+12125550100"),
        ("212-555-0100 x45", "US", "+12125550100"),
        ("212-555-0100 #45", "US", "+12125550100"),
        # UK
        ("07400 123456", "GB", "+447400123456"),
        ("+44 7400 123456", "US", "+447400123456"),
        ("+44 (0)20 7946 0000", None, "+442079460000"),
        ("011 44 7400 123456", "US", "+447400123456"),
        # Germany: national, 00 and + forms, also 00 typed into a US shop
        ("0151 12345678", "DE", "+4915112345678"),
        ("00 49 151 12345678", "DE", "+4915112345678"),
        ("0049 151 12345678", "US", "+4915112345678"),
        ("00 49 151 12345678", None, "+4915112345678"),
        ("+49 (0)151 12345678", None, "+4915112345678"),
        ("030 123456", "DE", "+4930123456"),
        # unusable
        (None, "US", None),
        ("", "US", None),
        ("   ", "US", None),
        ("555-555-SHIP", "US", None),  # phonenumbers would map letters to digits
        ("1-800-FLOWERS", "US", None),
        ("call me", "US", None),
        ("5025", "US", None),  # too short
        ("555-1199", "US", None),  # local only, no area code
        ("+4915112345678123456", "DE", None),  # too long
        ("2125550100", None, None),  # national number without a region
        ("2125550100", "XX", None),  # unknown region
        ("+999 123", None, None),  # no such country code
    ],
)
def test_normalize_phone(raw, country, expected):
    assert normalize_phone(raw, country) == expected


AU_MOBILE_ZONES = ("Australia/Adelaide", "Australia/Brisbane", "Australia/Eucla", "Australia/Lord_Howe",
                   "Australia/Perth", "Australia/Sydney", "Indian/Christmas", "Indian/Cocos")


@pytest.mark.parametrize(
    ("e164", "fallback", "expected"),
    [
        # one zone, narrowed by the area code
        ("+12125550100", "Europe/Berlin", ("America/New_York",)),  # New York
        ("+12135550100", "Europe/Berlin", ("America/Los_Angeles",)),  # Los Angeles
        ("+13125550100", "Europe/Berlin", ("America/Chicago",)),  # Chicago
        ("+13055550123", "Europe/Berlin", ("America/New_York",)),  # Miami
        ("+14055550123", "Europe/Berlin", ("America/Chicago",)),  # Oklahoma City
        ("+18085550123", "America/New_York", ("Pacific/Honolulu",)),
        ("+14165550123", "America/New_York", ("America/Toronto",)),  # Canada shares +1
        # several zones: every one of them, never a guess (and never the store's instead)
        ("+12083012345", "Europe/Paris", ("America/Boise", "America/Los_Angeles")),  # Idaho
        ("+12083012345", "America/Boise", ("America/Boise", "America/Los_Angeles")),
        ("+19075550123", "America/New_York", ("America/Adak", "America/Anchorage")),  # Alaska
        ("+61412345678", "America/New_York", AU_MOBILE_ZONES),  # Australian mobile
        ("+61291234567", "America/New_York", ("Australia/Sydney",)),  # Sydney landline
        ("+61891234567", "America/New_York", ("Australia/Adelaide", "Australia/Perth")),  # area code 08: WA, SA
        ("+34612345678", "America/New_York", ("Atlantic/Canary", "Europe/Madrid")),  # Spanish mobile
        ("+34911234567", "America/New_York", ("Europe/Madrid",)),  # Madrid landline
        ("+34922123456", "America/New_York", ("Atlantic/Canary",)),  # Tenerife landline
        ("+447400123456", "America/New_York",
         ("Europe/Guernsey", "Europe/Isle_of_Man", "Europe/Jersey", "Europe/London")),
        # foreign numbers: their own country, whatever the store's zone
        ("+4930123456", "America/New_York", ("Europe/Berlin",)),  # Berlin landline
        ("+4915112345678", "America/New_York", ("Europe/Berlin",)),  # German mobile
        ("+33612345678", "America/New_York", ("Europe/Paris",)),
        # numbers that say nothing about a place -> the store's zone
        ("+18005550199", "America/Denver", ("America/Denver",)),  # toll-free
        ("+15005550006", "America/Denver", ("America/Denver",)),  # non-geographic 500
        ("+15556251199", "America/Denver", ("America/Denver",)),  # fictional 555
        ("not a number", "UTC", ("UTC",)),
        ("", "UTC", ("UTC",)),
    ],
)
def test_phone_timezones(e164, fallback, expected):
    assert phone_timezones(e164, fallback) == expected


def test_russian_mobiles_span_every_russian_zone():
    zones = phone_timezones("+79161234567", "Europe/Paris")
    assert {"Europe/Moscow", "Asia/Kamchatka", "Asia/Vladivostok"} <= set(zones)
    assert "Europe/Paris" not in zones


def test_a_number_without_zone_data_uses_its_country():
    # +49 15x with too few digits: possible, not valid, so phonenumbers knows no zone for it
    assert phone_timezones("+491511234", "America/New_York") == ("Europe/Berlin", "Europe/Busingen")


@pytest.mark.parametrize(
    ("e164", "expected"),
    [
        ("+15024592181", "US"),
        ("+14165550123", "CA"),
        ("+15556251199", "US"),  # possible, not valid: main region of +1
        ("+447400123456", "GB"),
        ("+4915112345678", "DE"),
        ("garbage", None),
        ("", None),
    ],
)
def test_country_for_phone(e164, expected):
    assert country_for_phone(e164) == expected


def test_normalized_numbers_round_trip():
    """Normalizing an E.164 result again changes nothing."""
    for raw, country in [("555-625-1199", "US"), ("0151 12345678", "DE")]:
        once = normalize_phone(raw, country)
        assert normalize_phone(once, None) == once
        assert normalize_phone(once, "FR") == once


# -- which numbers can receive texts (issue: "only texts that can arrive") --------------

@pytest.mark.parametrize(
    ("raw", "region", "phone", "problem"),
    [
        # landlines get no text; mobiles of the same countries do
        ("+49 30 1234567", None, None, Reason.LANDLINE),  # Berlin
        ("030 1234567", "DE", None, Reason.LANDLINE),
        ("+49 151 12345678", None, "+4915112345678", None),
        ("0170 1234567", "DE", "+491701234567", None),
        ("+44 20 7946 0000", None, None, Reason.LANDLINE),  # London
        ("020 7946 0000", "GB", None, Reason.LANDLINE),
        ("+44 7400 123456", None, "+447400123456", None),
        ("07911 123456", "GB", "+447911123456", None),
        ("+33 1 42 68 53 00", None, None, Reason.LANDLINE),  # Paris
        ("01 23 45 67 89", "FR", None, Reason.LANDLINE),
        ("+33 6 12 34 56 78", None, "+33612345678", None),
        ("06 12 34 56 78", "FR", "+33612345678", None),
        # US and Canadian numbers are all FIXED_LINE_OR_MOBILE: allowed
        ("(502) 459-2181", "US", "+15024592181", None),
        ("+1 613 612 0707", None, "+16136120707", None),
        # fictional test numbers stay accepted (shop test data, the demo, Twilio's magic numbers)
        ("+1 502 555 0123", None, "+15025550123", None),
        ("+15005550006", None, "+15005550006", None),
        ("(555) 555-5555", "US", "+15555555555", None),
        ("07700 900124", "GB", "+447700900124", None),  # Ofcom's drama range
        # labels around the number
        ("Cell: 212-555-0123", "US", "+12125550123", None),
        ("212-555-0123 (mobile)", "US", "+12125550123", None),
        ("Mobile - +44 7700 900124", "US", "+447700900124", None),
        ("tel: +1 502 459 2181", None, "+15024592181", None),
        ("Phone: 502.459.2181", "US", "+15024592181", None),
        ("Phone #: 502-459-2181", "US", "+15024592181", None),
        ("502-459-2181 cell", "US", "+15024592181", None),
        ("M: 07400 123456", "GB", "+447400123456", None),
        ("Handy: 0151 12345678", "DE", "+4915112345678", None),
        ("Tél. : 06 12 34 56 78", "FR", "+33612345678", None),
        ("Tel: 030 1234567", "DE", None, Reason.LANDLINE),  # a label never makes a landline a mobile
        # letters inside the number are never read as digits, label or not
        ("555-555-SHIP", "US", None, Reason.INVALID_NUMBER),
        ("Cell: 555-555-SHIP", "US", None, Reason.INVALID_NUMBER),
        ("212-555-CELL", "US", None, Reason.INVALID_NUMBER),
        ("Fax: 030 1234567", "DE", None, Reason.INVALID_NUMBER),  # an unknown label is just letters
        # invalid numbers
        ("1234567890", "US", None, Reason.INVALID_NUMBER),  # BigCommerce's sample placeholder (area code 123)
        ("+1 123 456 7890", None, None, Reason.INVALID_NUMBER),
        ("555-1199", "US", None, Reason.INVALID_NUMBER),  # no area code
        ("+49 151 1234", None, None, Reason.INVALID_NUMBER),  # too short
        ("07700 900124", None, None, Reason.INVALID_NUMBER),  # national, and no country to read it in
        # nothing given
        (None, "US", None, Reason.NO_PHONE),
        ("   ", "US", None, Reason.NO_PHONE),
    ],
)
def test_textable_phone(raw, region, phone, problem):
    assert textable_phone(raw, [region]) == PhoneCheck(phone=phone, problem=problem)


@pytest.mark.parametrize(
    ("candidates", "countries", "phone", "problem"),
    [
        # a UK buyer's number on a gift shipped to the US: read in the billing country too
        ([("07700 900124", "US")], ["GB", "US", "US"], "+447700900124", None),
        ([("07700 900124", None)], ["US", "GB", "US"], "+447700900124", None),
        # ... and in the store's country, last
        ([("07700 900124", "US")], ["US", "GB"], "+447700900124", None),
        ([("07700 900124", "US")], ["US"], None, Reason.INVALID_NUMBER),
        # a number valid in its own country wins over another country's reading
        ([("06 12 34 56 78", "FR")], ["GB", "US"], "+33612345678", None),
        # the first textable candidate wins: a landline is skipped for the mobile after it
        ([("030 1234567", "DE"), ("0151 12345678", "DE")], ["DE"], "+4915112345678", None),
        ([("+55 77 3488-1234", None), ("+1(502)-459-2181", "US")], ["US"], "+15024592181", None),
        # nothing textable: the most telling reason
        ([("030 1234567", "DE"), ("555-555-SHIP", "US")], ["DE"], None, Reason.LANDLINE),
        ([("", "DE"), ("not a phone", "DE")], ["DE"], None, Reason.INVALID_NUMBER),
        ([(None, "DE"), ("", "US")], ["US"], None, Reason.NO_PHONE),
        ([], ["US"], None, Reason.NO_PHONE),
    ],
)
def test_first_textable(candidates, countries, phone, problem):
    assert first_textable(candidates, countries=countries) == PhoneCheck(phone=phone, problem=problem)


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        # normalize_phone parses (inbound From, store numbers): labels go, any possible number stays
        ("Cell: 212-555-0123", "US", "+12125550123"),
        ("212-555-0123 (mobile)", "US", "+12125550123"),
        ("+49 30 1234567", None, "+49301234567"),  # a landline is still a number
        ("555-555-SHIP", "US", None),
    ],
)
def test_normalize_phone_reads_labels(raw, region, expected):
    assert normalize_phone(raw, region) == expected


def test_a_number_read_before_is_answered_from_memory(monkeypatch):
    """The apply job reads a customer's number for each of an order's events: phonenumbers
    parses it once."""
    phones._textable_phone.cache_clear()
    first = textable_phone("(502) 459-2181", ["US"])
    monkeypatch.setattr(phones.phonenumbers, "parse", lambda *args: pytest.fail("parsed again"))
    assert textable_phone("(502) 459-2181", ["US"]) == first == PhoneCheck(phone="+15024592181")
    with pytest.raises(pytest.fail.Exception):
        textable_phone("(502) 459-2182", ["US"])
