"""Segment counting: GSM-7 / UCS-2 boundaries as carriers bill them."""

import pytest

from smsdesk.services.segments import (
    GSM7_SEGMENT,
    GSM7_SINGLE,
    UCS2_SEGMENT,
    UCS2_SINGLE,
    SegmentInfo,
    non_gsm_characters,
    segment_info,
)

EMOJI = "\U0001F600"  # 😀, two UTF-16 code units


@pytest.mark.parametrize(
    ("text", "segments", "encoding", "characters", "per_segment"),
    [
        ("", 0, "GSM-7", 0, 160),
        ("Hi", 1, "GSM-7", 2, 160),
        ("a" * 160, 1, "GSM-7", 160, 160),
        ("a" * 161, 2, "GSM-7", 161, 153),
        ("a" * 306, 2, "GSM-7", 306, 153),
        ("a" * 307, 3, "GSM-7", 307, 153),
        # extension characters cost two septets each
        ("€" * 80, 1, "GSM-7", 160, 160),
        ("€" * 81, 2, "GSM-7", 162, 153),
        ("a" * 159 + "{", 2, "GSM-7", 161, 153),
        ("^{}\\[~]|€\f", 1, "GSM-7", 20, 160),
        # a '€' that would straddle parts moves whole to the next part:
        # 152 + [€] + 152 = 306 septets, yet 3 segments (152 | 2+151 | 1)
        ("a" * 152 + "€" + "a" * 152, 3, "GSM-7", 306, 153),
        ("a" * 153 + "€" + "a" * 151, 2, "GSM-7", 306, 153),
        # accented letters in the GSM table stay GSM-7, others (ï) force UCS-2
        ("Naïve", 1, "UCS-2", 5, 70),
        ("äöüßéèÄÖÜÑñàìòù£¥§¿¡ΔΦΓΛΩΠΨΣΘΞ", 1, "GSM-7", 30, 160),
        # one emoji turns a 100-char text into 2 UCS-2 segments
        ("a" * 99 + EMOJI, 2, "UCS-2", 101, 67),
        ("ä" * 70, 1, "GSM-7", 70, 160),
        ("ł" * 70, 1, "UCS-2", 70, 70),
        ("ł" * 71, 2, "UCS-2", 71, 67),
        ("ł" * 134, 2, "UCS-2", 134, 67),
        ("ł" * 135, 3, "UCS-2", 135, 67),
        (EMOJI * 35, 1, "UCS-2", 70, 70),
        (EMOJI * 36, 2, "UCS-2", 72, 67),
        # a surrogate pair is never split: 66 + [😀] + 66 = 134 units, 3 segments
        ("ł" * 66 + EMOJI + "ł" * 66, 3, "UCS-2", 134, 67),
        ("“Smart quotes”", 1, "UCS-2", 14, 70),
    ],
)
def test_segment_info(text, segments, encoding, characters, per_segment):
    assert segment_info(text) == SegmentInfo(segments, encoding, characters, per_segment)


def test_constants():
    assert (GSM7_SINGLE, GSM7_SEGMENT, UCS2_SINGLE, UCS2_SEGMENT) == (160, 153, 70, 67)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("Plain text, €5 {ok} [ok] ~^|\\", []),
        ("Café déjà vu", []),  # é and à are in the GSM table
        ("Crème brûlée", ["û"]),  # è and é are, û is not
        ("Thanks ❤️ “quoted” " + EMOJI + EMOJI, ["❤", "\ufe0f", "“", "”", EMOJI]),
        ("ç Ç", ["ç"]),
    ],
)
def test_non_gsm_characters(text, expected):
    assert non_gsm_characters(text) == expected
