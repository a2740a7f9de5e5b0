"""The legal floor's data files (smsdesk/data) and their reader, smsdesk/services/legal_hours.py."""
import csv
import importlib.resources
import tomllib
from datetime import date, time

import pytest

from smsdesk.services import legal_hours
from smsdesk.services.legal_hours import LegalDataError

DATA = importlib.resources.files("smsdesk").joinpath("data")
USPS = {"AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS",
        "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC",
        "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY"}


def test_rules_file_is_well_formed_and_every_rule_has_a_source():
    floor = legal_hours.legal_floor()  # raises LegalDataError on a malformed row
    raw = tomllib.loads(DATA.joinpath("us_marketing_hours.toml").read_text())
    assert set(floor.states) == set(raw["states"]) and set(floor.states) <= USPS
    for rule in [floor.federal, *floor.states.values()]:
        assert rule.citation and rule.url.startswith("http") and rule.evidence in legal_hours.EVIDENCE, rule.key
        assert len(rule.windows) == 7
        assert any(rule.windows), f"{rule.key} never allows marketing texts"


def test_area_code_file_is_well_formed():
    lines = [line for line in DATA.joinpath("us_area_codes.csv").read_text().splitlines()]
    assert lines[0].startswith("#") and "phonenumbers" in lines[0] + lines[1]  # says where it came from
    rows = list(csv.DictReader(line for line in lines if not line.startswith("#")))
    codes = [row["area_code"] for row in rows]
    assert len(codes) == len(set(codes)) > 300
    assert all(len(code) == 3 and code.isdigit() and code[0] in "23456789" for code in codes)
    assert {row["state"] for row in rows} == USPS  # every state and DC, nothing else


@pytest.mark.parametrize("e164, state", [
    ("+13055550123", "FL"), ("+14055550123", "OK"), ("+12083012345", "ID"), ("+12125550123", "NY"),
    ("+17185550123", "NY"), ("+12035550123", "CT"), ("+14015550123", "RI"), ("+12145550123", "TX"),
    ("+14105550123", "MD"), ("+16015550123", "MS"), ("+12015550123", "NJ"), ("+13105550123", "CA"),
    ("+12025550123", "DC"),
    ("+14165550123", None),  # Toronto: +1 but not a US state
    ("+18005550199", None),  # toll-free
    ("+447400123456", None),
    ("garbage", None),
])
def test_state_for_phone(e164, state):
    assert legal_hours.state_for_phone(e164) == state


@pytest.mark.parametrize("e164, keys, cap", [
    ("+13055550123", ["federal", "FL"], 3),
    ("+14055550123", ["federal", "OK"], 3),
    ("+14105550123", ["federal", "MD"], 3),
    ("+12125550123", ["federal"], None),  # New York: federal only
    ("+15556251199", ["federal"], None),  # fictional US number: federal still binds
    ("+14165550123", [], None),  # Canada
    ("+34612345678", [], None),  # Spain
])
def test_rules_for_phone(e164, keys, cap):
    assert [rule.key for rule in legal_hours.rules_for_phone(e164)] == keys
    rule = legal_hours.state_cap(e164)
    assert (rule.cap_per_24h if rule else None) == cap


@pytest.mark.parametrize("key, day, window", [
    ("federal", date(2025, 6, 8), (time(8), time(21))),
    ("FL", date(2025, 6, 8), (time(8), time(20))),
    ("CT", date(2025, 6, 9), (time(9), time(20))),
    ("TX", date(2025, 6, 7), (time(9), time(21))),  # Saturday
    ("TX", date(2025, 6, 8), (time(12), time(21))),  # Sunday
    ("RI", date(2025, 6, 9), (time(9), time(18))),  # Monday
    ("RI", date(2025, 6, 7), (time(10), time(17))),  # Saturday
    ("RI", date(2025, 6, 8), None),  # Sunday: none
    ("MS", date(2025, 6, 8), None),
    ("RI", date(2025, 8, 11), None),  # Victory Day, a Monday
    ("RI", date(2025, 12, 25), None),  # Christmas, a Thursday
    ("AL", date(2025, 4, 28), None),  # Confederate Memorial Day
    ("LA", date(2025, 3, 4), None),  # Mardi Gras
    ("LA", date(2025, 3, 5), (time(8), time(20))),
    ("MS", date(2025, 12, 25), (time(8), time(20))),  # Mississippi's holiday ban ended in 2024
    ("FL", date(2025, 12, 25), (time(8), time(20))),
])
def test_rule_windows_by_weekday(key, day, window):
    floor = legal_hours.legal_floor()
    rule = floor.federal if key == "federal" else floor.states[key]
    assert rule.window(day) == window


def test_floor_summary_names_the_narrower_states():
    summary = legal_hours.floor_summary()
    assert ("FL, MA, MD, OK, WA", "8:00–20:00") in summary.states
    text = str(summary)
    assert text.startswith("US law allows marketing texts 8:00–21:00 local time; some states less:")
    for part in ["FL, MA, MD, OK, WA 8:00–20:00", "CT 9:00–20:00", "TX 9:00–21:00, Sun 12:00–21:00",
                 "RI 9:00–18:00, Sat 10:00–17:00, none on Sun or holidays", "MS 8:00–20:00, none on Sun;"]:
        assert part in text
    assert "NJ" not in text  # New Jersey's 8:00-21:00 is the federal window


@pytest.mark.parametrize("fields, message", [
    ({"hours": "20:00-08:00"}, "must end after it starts"),
    ({"hours": "8-20"}, "is not HH:MM-HH:MM"),
    ({"mon": "08:00-20:00"}, "every day needs"),
    ({"hours": "08:00-20:00", "cap_per_24h": 0}, "positive whole number"),
    ({"hours": "08:00-20:00", "holidays": "10:00-12:00"}, "holidays can only be"),
    ({"hours": "08:00-20:00", "evidence": "trust me"}, "evidence must be one of"),
])
def test_malformed_rules_are_refused(fields, message):
    base = {"name": "X", "citation": "c", "url": "https://x", "checked": "c", "evidence": "statute"}
    with pytest.raises(LegalDataError, match=message):
        legal_hours._rule("XX", base | fields)
