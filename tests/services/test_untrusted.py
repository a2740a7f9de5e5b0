"""parse_json's bounds, on both of its paths (bodies that may hold a big number take the hooks)."""
import json

import pytest

from smsdesk.services.untrusted import MAX_DEPTH, MAX_INT_DIGITS, UntrustedInput, parse_json


def nested(depth: int) -> object:
    value: object = 1
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


@pytest.mark.parametrize("number", ["9" * MAX_INT_DIGITS, "-" + "9" * MAX_INT_DIGITS, "1e5", "2.5E-3", "1.5e+308",
                                    "0." + "1" * 150])
def test_numbers_within_bounds_decode(number):
    assert parse_json(b'{"n": %s}' % number.encode())["n"] == json.loads(number)


@pytest.mark.parametrize("number", ["9" * (MAX_INT_DIGITS + 1), "-" + "9" * 400, "1e400", "-1E+400", "1.0e999",
                                    "9" * 400 + ".5"])
def test_numbers_past_bounds_are_refused(number):
    with pytest.raises(UntrustedInput, match="digits|finite"):
        parse_json(b'{"n": %s}' % number.encode())


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_constants_are_refused(constant):
    with pytest.raises(UntrustedInput, match="not a number JSON allows"):
        parse_json(b'[%s]' % constant.encode())


def test_exponent_inside_a_string_is_only_a_false_alarm():
    assert parse_json(b'{"sku": "MIT-2E5", "n": 12}') == {"sku": "MIT-2E5", "n": 12}


def test_nesting_is_bounded_at_max_depth():
    assert parse_json(json.dumps(nested(MAX_DEPTH)).encode()) == nested(MAX_DEPTH)
    with pytest.raises(UntrustedInput, match="nested more than"):
        parse_json(json.dumps(nested(MAX_DEPTH + 1)).encode())


@pytest.mark.parametrize("body", [rb'{"a": "x\u0000"}', rb'{"a\u0000": 1}', rb'[{"a": ["\ud800"]}]',
                                  '["\udc80"]'.encode("utf-8", "surrogatepass")])
def test_unstorable_text_is_refused_in_keys_and_values(body):
    with pytest.raises(UntrustedInput, match="NUL characters or lone surrogates"):
        parse_json(body)


def test_utf16_body_is_checked_too():
    with pytest.raises(UntrustedInput, match="NUL"):
        parse_json('{"a": "\\u0000"}'.encode("utf-16"))
