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
        payload = json.loads(body, parse_constant=_refuse_constant, parse_int=_bounded_int,
                             parse_float=_finite_float)
    except RecursionError:
        raise UntrustedInput(f"JSON is nested more than {MAX_DEPTH} levels deep") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UntrustedInput(f"body is not valid JSON: {exc}") from None
    check_tree(payload, strings=json.detect_encoding(body) != "utf-8" or UNSTORABLE_ESCAPE.search(body) is not None)
    return payload


# In UTF-8 JSON, NUL and lone surrogates come only as \u escapes or as surrogates' own UTF-8
# bytes (json decodes with surrogatepass); without either in the body no decoded string needs
# checking (a false alarm only costs the full check).
UNSTORABLE_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])|\xed[\xa0-\xbf]")


def check_tree(payload: Any, *, strings: bool = True) -> None:
    """UntrustedInput when a decoded value nests too deep or (``strings``) holds unstorable
    text (keys too)."""
    # Only what needs a look is queued: containers, and strings when they are checked.
    wanted = (str, dict, list) if strings else (dict, list)
    pending: list[tuple[Any, int]] = [(payload, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            if strings and unstorable(value):
                raise UntrustedInput("text may not contain NUL characters or lone surrogates")
        elif isinstance(value, (dict, list)):
            if depth > MAX_DEPTH:
                raise UntrustedInput(f"JSON is nested more than {MAX_DEPTH} levels deep")
            if isinstance(value, dict):
                items = [*value.keys(), *value.values()] if strings else value.values()
            else:
                items = value
            pending.extend((item, depth + 1) for item in items if isinstance(item, wanted))


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
