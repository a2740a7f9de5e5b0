"""SMS segment counting (GSM-7 / UCS-2), as carriers and Twilio bill it.

Pure functions, no I/O. Used by the template editor and the API to show how many
segments (billable parts) a text costs.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

GSM7_SINGLE = 160  # septets in a single-part GSM-7 message
GSM7_SEGMENT = 153  # septets per part of a multipart message (7 go to the UDH)
UCS2_SINGLE = 70  # UTF-16 code units in a single-part UCS-2 message
UCS2_SEGMENT = 67  # UTF-16 code units per part of a multipart UCS-2 message

# GSM 03.38 basic character set (without ESC, which only introduces extensions).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Extension table: each is sent as ESC + char, so it costs two septets.
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

Encoding = Literal["GSM-7", "UCS-2"]


class SegmentInfo(NamedTuple):
    """How a text is encoded and billed.

    ``characters`` is the length in encoding units: septets for GSM-7 (an
    extension character counts 2), UTF-16 code units for UCS-2 (an emoji counts 2).
    ``per_segment`` is the capacity of one segment for this text (160/153, 70/67).
    """

    segments: int
    encoding: Encoding
    characters: int
    per_segment: int


def is_gsm7(text: str) -> bool:
    """True when every character of ``text`` fits the GSM-7 alphabet."""
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def non_gsm_characters(text: str) -> list[str]:
    """The distinct characters that force UCS-2, in order of first appearance."""
    seen: dict[str, None] = {}
    for ch in text:
        if ch not in GSM7_BASIC and ch not in GSM7_EXTENSION:
            seen.setdefault(ch)
    return list(seen)


def segment_info(text: str) -> SegmentInfo:
    """Count the segments ``text`` is split into; an empty text is 0 segments."""
    if is_gsm7(text):
        units = [2 if ch in GSM7_EXTENSION else 1 for ch in text]
        encoding: Encoding = "GSM-7"
        single, multi = GSM7_SINGLE, GSM7_SEGMENT
    else:
        # Astral characters (most emoji) are a UTF-16 surrogate pair.
        units = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
        encoding = "UCS-2"
        single, multi = UCS2_SINGLE, UCS2_SEGMENT
    total = sum(units)
    if total <= single:
        return SegmentInfo(1 if text else 0, encoding, total, single)
    return SegmentInfo(_pack(units, multi), encoding, total, multi)


def _pack(units: list[int], capacity: int) -> int:
    """Greedily fill segments; a 2-unit character (ESC pair, surrogate pair)
    is never split across two segments, so it may leave one unit unused."""
    segments, used = 1, 0
    for size in units:
        if used + size > capacity:
            segments += 1
            used = 0
        used += size
    return segments
