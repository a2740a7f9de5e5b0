"""Hostile-input generation for the property-based tests: mutations of real payloads.

A mutation replaces the value at some path of a sample (or the whole body) with something a
careless or malicious sender might send: NUL and lone surrogates, nesting past our bound,
huge or non-finite numbers, the wrong JSON type. The tests then check the two promises:
never a 5xx, and a refused request (4xx) leaves every table as it was.
"""
from __future__ import annotations

import copy
import json
import os
from typing import Any

from hypothesis import HealthCheck, settings, strategies as st
from sqlalchemy import text

from smsdesk.models import Base

# Examples per property; CI keeps it small (the suite runs twice), SMSDESK_HOSTILE_EXAMPLES
# raises it for a longer hunt (e.g. 1000).
EXAMPLES = int(os.environ.get("SMSDESK_HOSTILE_EXAMPLES", "80"))
HOSTILE_SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None,
                            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def nested(depth: int) -> Any:
    value: Any = "deep"
    for level in range(depth):
        value = {"n": value} if level % 2 else [value]
    return value


class Raw:
    """A JSON number written as is (json.dumps can't write 10**150 as such a token otherwise)."""

    def __init__(self, token: str):
        self.token = token


HOSTILE_STRINGS = ["\x00", "a\x00b", "\ud800", "x\udfffy", "١٢", "²", "", "   ", "9" * 300, "x" * 5000,
                   "<script>", "%00", "\u202e", "😀"]
HOSTILE_VALUES: list[Any] = [
    *HOSTILE_STRINGS, 10 ** 30, -(10 ** 30), 2 ** 31, 2 ** 63, -1, 0, Raw("1" + "0" * 150), Raw("1e400"),
    float("nan"), float("inf"), float("-inf"), 1.5, 1e308, True, False, None, [], {}, [1, "a"],
    {"a": {"b": []}}, nested(40), nested(5)]
hostile_text = st.text(alphabet=st.sampled_from(["\x00", "\ud800", "\udc00", "a", "1", "١", "²", "é", " ", "\n"]),
                       max_size=12)
hostile_value = st.one_of(st.sampled_from(HOSTILE_VALUES), hostile_text,
                          st.integers(min_value=-(10 ** 40), max_value=10 ** 40),
                          st.floats(allow_nan=True, allow_infinity=True))
hostile_string = st.one_of(st.sampled_from(HOSTILE_STRINGS), hostile_text)


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path (keys and list indexes) into a decoded JSON value, the root first."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += paths(item, (*prefix, index))
    return found


def mutations(sample: Any) -> st.SearchStrategy[list[tuple[tuple, Any]]]:
    """One to three (path, hostile value) pairs; top-level fields are picked more often."""
    every = paths(sample)
    top = [path for path in every if len(path) == 1] or every
    path = st.one_of(st.sampled_from(top), st.sampled_from(every))
    return st.lists(st.tuples(path, hostile_value), min_size=1, max_size=3)


def mutate(sample: Any, changes: list[tuple[tuple, Any]]) -> Any:
    """A copy of the sample with each change applied (a path gone after an earlier one is skipped)."""
    payload = copy.deepcopy(sample)
    for path, shared in changes:
        value = copy.deepcopy(shared)  # a later change may write into it: never into HOSTILE_VALUES
        if not path:
            payload = value
            continue
        parent = payload
        try:
            for step in path[:-1]:
                parent = parent[step]
            parent[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue
    return payload


def dumps(payload: Any) -> bytes:
    """JSON as a hostile sender writes it: NaN/Infinity, escaped surrogates, raw huge numbers."""
    raws: dict[str, str] = {}

    def default(value: Any) -> Any:
        if isinstance(value, Raw):
            marker = f"@@raw{len(raws)}@@"
            raws[marker] = value.token
            return marker
        raise TypeError(type(value).__name__)

    body = json.dumps(payload, allow_nan=True, ensure_ascii=True, default=default)
    for marker, token in raws.items():
        body = body.replace(f'"{marker}"', token)
    return body.encode()


class RowCounter:
    """Counts of every table in one query, to check that a refused request wrote nothing."""

    def __init__(self, engine):
        self.engine = engine
        counts = ", ".join(f"(SELECT count(*) FROM {table.name})" for table in Base.metadata.sorted_tables)
        self.query = text(f"SELECT {counts}")
        self.names = [table.name for table in Base.metadata.sorted_tables]
        self.last = self.counts()

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return dict(zip(self.names, conn.execute(self.query).one(), strict=True))

    def check(self, response, what: str) -> None:
        """No 5xx; a 4xx is JSON ``{"error", "message"}`` and added no row (and a 2xx moves the baseline)."""
        assert response.status_code < 500, f"{what}: {response.status_code} {response.get_data(as_text=True)[:300]}"
        now = self.counts()
        if response.status_code >= 400:
            body = response.get_json(silent=True)
            assert isinstance(body, dict) and body.get("error") and body.get("message"), \
                f"{what}: {response.status_code} {response.get_data(as_text=True)[:300]}"
            grown = {name: (self.last[name], count) for name, count in now.items() if count > self.last[name]}
            assert not grown, f"{what}: refused with {response.status_code} but wrote rows {grown}"
        self.last = now

