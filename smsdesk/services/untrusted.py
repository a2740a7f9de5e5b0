"""Input from the internet, bounded before it reaches the database or the SMS provider.

PostgreSQL can't store NUL in text and UTF-8 can't encode a lone surrogate ("\\ud800" in
JSON), so either would fail at commit time as a 500, which platforms retry forever. JSON is
bounded too: nesting (recursion), numbers (NaN, Infinity, ints of thousands of digits).
"""
from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_DEPTH = 32  # levels of nested objects/arrays; real platform payloads use under 10
MAX_INT_DIGITS = 100  # far past any id (ids are kept as text of up to 64 characters)
MAX_DB_INT = 2**31 - 1  # the largest primary key an Integer column holds
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
ASCII_NUMBER = re.compile(r"[0-9]{1,9}")


class UntrustedInput(ValueError):
    """Input that can't be stored or understood; the message says why (safe to show the sender)."""


def unstorable(value: str) -> bool:
    """True when the text holds NUL or a lone surrogate."""
    return UNSTORABLE.search(value) is not None


def clean_text(value: str) -> str:
    """The text without NUL, lone surrogates replaced by U+FFFD (for text we must keep: an SMS)."""
    return UNSTORABLE.sub(lambda found: "" if found.group() == "\x00" else "\ufffd", value)


def small_int(value: str) -> int | None:
    """A query or path number of ASCII digits within an Integer column; None otherwise ("١٢", "²")."""
    if not ASCII_NUMBER.fullmatch(value):
        return None
    number = int(value)
    return number if number <= MAX_DB_INT else None


def parse_json(body: bytes) -> Any:
    """Decode a JSON body within our bounds; raises UntrustedInput saying what is wrong."""
    try:
        if not _may_hold_big_number(body):  # json's own int and float will do
            payload = json.loads(body, parse_constant=_refuse_constant)
        else:
            payload = json.loads(body, parse_constant=_refuse_constant, parse_int=_bounded_int,
                                 parse_float=_finite_float)
    except RecursionError:
        raise UntrustedInput(f"JSON is nested more than {MAX_DEPTH} levels deep") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UntrustedInput(f"body is not valid JSON: {exc}") from None
    check_tree(payload, strings=json.detect_encoding(body) != "utf-8" or _may_hold_unstorable(body))
    return payload


# Numbers past our bounds need a run of more than MAX_INT_DIGITS digits (a float overflows to
# inf only past 308) or an exponent. Only bodies that may hold one pay for the number hooks; a
# false alarm ("SKU-2E5" in a string) only costs the hooks. bytes.translate and ``in`` scan in C,
# many times faster than a regular expression over the body.
def _number_shapes() -> bytes:
    """A bytes.translate table: digits and "." to "0", "e"/"E" to "e", signs to "+", all else " "."""
    table = bytearray(b" " * 256)
    for chars, shape in ((b"0123456789.", b"0"), (b"eE", b"e"), (b"+-", b"+")):
        for char in chars:
            table[char] = shape[0]
    return bytes(table)


NUMBER_SHAPES = _number_shapes()


def _may_hold_big_number(body: bytes) -> bool:
    shapes = body.translate(NUMBER_SHAPES)
    return b"0" * (MAX_INT_DIGITS + 1) in shapes or b"0e0" in shapes or b"0e+0" in shapes


def _may_hold_unstorable(body: bytes) -> bool:
    return (b"\\u" in body or b"\xed" in body) and UNSTORABLE_ESCAPE.search(body) is not None


# In UTF-8 JSON, NUL and lone surrogates come only as \u escapes or as surrogates' own UTF-8
# bytes (json decodes with surrogatepass); without either in the body no decoded string needs
# checking (a false alarm only costs the full check).
UNSTORABLE_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])|\xed[\xa0-\xbf]")


def check_tree(payload: Any, *, strings: bool = True) -> None:
    """UntrustedInput when a decoded value nests too deep or (``strings``) holds unstorable
    text (keys too)."""
    # Level by level: the containers in a level's containers are the next level.
    if strings and isinstance(payload, str):
        _check_text(payload)
    level, depth = [payload] if isinstance(payload, CONTAINERS) else [], 1
    while level:
        if depth > MAX_DEPTH:
            raise UntrustedInput(f"JSON is nested more than {MAX_DEPTH} levels deep")
        containers: list[Any] = []
        for value in level:
            items = value.values() if isinstance(value, dict) else value
            if strings:
                for text in (*value.keys(), *items) if isinstance(value, dict) else items:
                    if isinstance(text, str):
                        _check_text(text)
            containers += [item for item in items if isinstance(item, CONTAINERS)]
        level, depth = containers, depth + 1


CONTAINERS = (dict, list)


def _check_text(value: str) -> None:
    if unstorable(value):
        raise UntrustedInput("text may not contain NUL characters or lone surrogates")


def _refuse_constant(name: str) -> Any:
    raise UntrustedInput(f"{name} is not a number JSON allows")


def _bounded_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INT_DIGITS:
        raise UntrustedInput(f"numbers may have at most {MAX_INT_DIGITS} digits")
    return int(digits)


def _finite_float(digits: str) -> float:
    number = float(digits)
    if not math.isfinite(number):
        raise UntrustedInput("numbers must be finite")
    return number
