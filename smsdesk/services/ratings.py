"""Reading a customer's reply to a feedback request as a rating from 1 to 5.

A reply is a rating when it starts with the score: a digit 1-5 ("5", "4/5", "4 out of 5",
"5 stars", "3 - box was damaged"), a row of star emoji ("⭐⭐⭐⭐"), or, alone, a number word in
English, Spanish, French or German ("five", "cinco", "cinq", "fünf", "cinco estrellas"). Words
after a digit or the stars are the comment. Anything else is not a rating and stays a text for
the agents: a number that is not the score ("order 5 never came", "2 days late"), another scale
("10/10", "8/10"), a phone number or a date ("1-800-555-0100", "5/12"), a decimal ("4.5").
Number words never take a comment: "one more thing" is a sentence, not a 1.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MIN_SCORE, MAX_SCORE = 1, 5
STAR_EMOJI = "⭐🌟★"
_VARIATION = re.compile("[\ufe0e\ufe0f]")  # emoji presentation selectors ("⭐️")
_STAR_WORD = r"(?:stars?|estrellas?|[ée]toiles?|sterne?)"
_SCALE = r"(?:/|out\s+of|of|de|sur|von|aus)"
# "4", "4/5", "4 out of 5", "4 stars", "4/5 stars", then the rest of the text.
_DIGITS = re.compile(rf"^(?P<n>\d+)(?:\s*{_SCALE}\s*(?P<d>\d+))?(?:\s*{_STAR_WORD}\b|\s*[{STAR_EMOJI}])?(?P<rest>.*)$",
                     re.IGNORECASE | re.DOTALL)
_STARS = re.compile(rf"^(?P<stars>[{STAR_EMOJI}](?:\s*[{STAR_EMOJI}])*)(?P<rest>.*)$", re.DOTALL)
# A digit, a unit or a suffix right after the number says it is not the score: "5.5", "5:30",
# "1-800", "5th", "5pm", "5%", "5 5".
_NOT_SCORE_TAIL = re.compile(r"^(?:\s*\d|[-.,:/]\s*\d|[^\W\d_]|\s*[%$€£])", re.UNICODE)
_SEPARATORS = " \t\r\n-–—:;,.!)"
# "2 days late", "5 items missing": a count of something, not a score ("3 - days late" is one:
# the dash sets the score apart). A singular noun reads as a comment: "3 box damaged".
_QUANTITY_NOUNS = frozenset({
    "day", "days", "hour", "hours", "hrs", "week", "weeks", "month", "months", "minute", "minutes", "mins",
    "item", "items", "piece", "pieces", "pcs", "unit", "units", "boxes", "packages",
    "order", "orders", "time", "times", "dollar", "dollars", "euro", "euros", "bucks", "more", "left",
    "dias", "días", "semanas", "horas", "jours", "semaines", "heures", "tage", "wochen", "stunden",
})
_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,  # English
    "uno": 1, "una": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5,  # Spanish
    "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5,  # French
    "eins": 1, "ein": 1, "eine": 1, "zwei": 2, "drei": 3, "vier": 4, "funf": 5, "fuenf": 5,  # German
}
_STAR_WORDS_FOLDED = re.compile(r"\b(?:stars?|estrellas?|etoiles?|sterne?)\b")


@dataclass(frozen=True)
class Rating:
    """A score from 1 to 5 and the customer's words beside it ("" for none)."""

    score: int
    comment: str = ""


def parse_rating(body: str) -> Rating | None:
    """The rating ``body`` gives, or None when it is not one (see the module's rules)."""
    text = _VARIATION.sub("", unicodedata.normalize("NFKC", body or "")).strip()
    if not text:
        return None
    return _from_stars(text) or _from_digits(text) or _from_word(text)


def _from_stars(text: str) -> Rating | None:
    match = _STARS.match(text)
    if match is None:
        return None
    score = sum(1 for char in match["stars"] if char in STAR_EMOJI)
    return _rating(score, match["rest"])


def _from_digits(text: str) -> Rating | None:
    match = _DIGITS.match(text)
    if match is None or len(match["n"]) > 1 or (match["d"] is not None and match["d"] != "5"):
        return None
    rest = match["rest"]
    if _NOT_SCORE_TAIL.match(rest) and not rest.strip().startswith(tuple(STAR_EMOJI)):
        return None
    return _rating(int(match["n"]), rest)


def _from_word(text: str) -> Rating | None:
    folded = unicodedata.normalize("NFKD", text.lower()).encode("ascii", "ignore").decode()
    words = _STAR_WORDS_FOLDED.sub(" ", re.sub(r"[^a-z]+", " ", folded)).split()
    if len(words) != 1 or words[0] not in _WORDS:
        return None
    return Rating(_WORDS[words[0]])


def _rating(score: int, rest: str) -> Rating | None:
    """The rating, with ``rest`` as its comment; None for a score out of range or a count."""
    if not MIN_SCORE <= score <= MAX_SCORE:
        return None
    comment = rest.strip(_SEPARATORS + STAR_EMOJI).strip()
    first = rest.split(maxsplit=1)[0].lower() if rest.strip() else ""
    if first in _QUANTITY_NOUNS:
        return None
    if not any(char.isalnum() for char in comment):  # "5!!! 😊": nothing said beside the score
        comment = ""
    return Rating(score, comment)
