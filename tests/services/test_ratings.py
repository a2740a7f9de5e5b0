"""services/ratings.py: what customers text back to "How did we do?" and what it means."""
from __future__ import annotations

import pytest

from smsdesk.services.ratings import Rating, parse_rating

# (what a customer sends, the rating it gives or None when it is no rating)
REPLIES = [
    ("5", Rating(5)), (" 4 ", Rating(4)), ("1", Rating(1)), ("5!!!", Rating(5)), ("5.", Rating(5)),
    ("4/5", Rating(4)), ("4 / 5", Rating(4)), ("5/5", Rating(5)), ("4 out of 5", Rating(4)),
    ("5 stars", Rating(5)), ("5 Stars!", Rating(5)), ("1 star", Rating(1)), ("4/5 stars", Rating(4)),
    ("5 ⭐", Rating(5)), ("5 😊", Rating(5)),
    ("⭐⭐⭐⭐", Rating(4)), ("⭐⭐⭐⭐⭐", Rating(5)), ("⭐️⭐️⭐️", Rating(3)), ("⭐ ⭐", Rating(2)),
    ("★★★★★", Rating(5)),
    ("five", Rating(5)), ("Five stars!", Rating(5)), ("two", Rating(2)),
    ("cinco", Rating(5)), ("cuatro estrellas", Rating(4)), ("una", Rating(1)),
    ("cinq", Rating(5)), ("cinq étoiles", Rating(5)), ("trois", Rating(3)),
    ("fünf", Rating(5)), ("Fünf Sterne", Rating(5)), ("fuenf", Rating(5)), ("vier", Rating(4)),
    # with a comment
    ("3 - box was damaged", Rating(3, "box was damaged")), ("3 box damaged", Rating(3, "box damaged")),
    ("2, slow delivery", Rating(2, "slow delivery")), ("5 stars great service", Rating(5, "great service")),
    ("3/5 meh", Rating(3, "meh")), ("⭐⭐⭐ slow shipping", Rating(3, "slow shipping")),
    ("4: Emma was lovely", Rating(4, "Emma was lovely")), ("3 - days late", Rating(3, "days late")),
    # not ratings: other numbers, other scales, phones, dates, decimals, sentences
    ("order 5 never came", None), ("10/10", None), ("8/10", None), ("10", None), ("0", None), ("6", None),
    ("1-800-555-0100", None), ("1 800 555 0100", None), ("5/12", None), ("4.5", None), ("4,5", None),
    ("5:30", None), ("5pm", None), ("5th", None), ("2 days late", None), ("5 items missing", None),
    ("1 item missing", None), ("4 more please", None), ("50%", None), ("5$", None), ("#5", None),
    ("one more thing", None), ("una pregunta", None), ("un colis", None), ("ein Problem", None),
    ("Where is my order?", None), ("thanks!", None), ("", None), ("   ", None), ("⭐" * 6, None), ("👍", None),
]


@pytest.mark.parametrize("body, expected", REPLIES)
def test_rating_table(body, expected):
    assert parse_rating(body) == expected
