"""Phone normalization to E.164 and phone -> time zone / country."""

import pytest

from smsdesk.services.phones import country_for_phone, normalize_phone, phone_timezone


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


@pytest.mark.parametrize(
    ("e164", "fallback", "expected"),
    [
        ("+12125550100", "Europe/Berlin", "America/New_York"),  # New York
        ("+12135550100", "Europe/Berlin", "America/Los_Angeles"),  # Los Angeles
        ("+13125550100", "Europe/Berlin", "America/Chicago"),  # Chicago
        ("+4930123456", "America/New_York", "Europe/Berlin"),  # Berlin landline
        ("+4915112345678", "America/New_York", "Europe/Berlin"),  # German mobile
        # UK mobiles list London, Guernsey, Isle of Man: same clock -> London
        ("+447400123456", "America/New_York", "Europe/London"),
        # toll-free and fictional numbers have no place -> store's zone
        ("+18005550199", "America/Denver", "America/Denver"),
        ("+15556251199", "America/Denver", "America/Denver"),
        # Idaho prefix spanning Mountain and Pacific time: ambiguous -> fallback
        ("+12083012345", "Europe/Paris", "Europe/Paris"),
        # ... unless the store's own zone is one of the candidates
        ("+12083012345", "America/Boise", "America/Boise"),
        # Russian mobiles span eleven zones
        ("+79161234567", "Europe/Paris", "Europe/Paris"),
        ("not a number", "UTC", "UTC"),
        ("", "UTC", "UTC"),
    ],
)
def test_phone_timezone(e164, fallback, expected):
    assert phone_timezone(e164, fallback) == expected


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
