"""What an inbound text asks, explainably: an order-status question, a request for a person, an
FAQ entry, or nothing sure enough to answer automatically.

Small on purpose: a text is normalized (lowercase, accents and punctuation stripped), split into
words, and each word is matched to a concept ("where", "order", "track", ...) in English, Spanish,
French or German, exactly or within a small edit distance (typos: "oder", "pakage", "trakcing").
Phrase rules over those concepts give an intent with a confidence and the reason, and a veto
(cancel, stop sending, return, a complaint) means "leave it to an agent". Being wrong costs
more than staying silent, so every rule prefers no answer.
"""
from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from smsdesk.services.intent_words import (
    ANGRY,
    CONCEPTS,
    FILLER,
    FR_WHERE_NEXT,
    NOT_TYPOS,
    NOT_YET,
    QUESTION_WORDS,
    STOPWORDS,
    VETOES,
)

THRESHOLD = 0.7  # confidence needed to answer
FAQ_THRESHOLD = 0.62  # similarity needed for an FAQ entry
FAQ_MARGIN = 0.08  # the best entry must beat the next one by this much, else it is ambiguous


class Intent(str, enum.Enum):
    ORDER_STATUS = "order_status"
    FAQ = "faq"
    HANDOFF = "handoff"
    NONE = "none"


@dataclass(frozen=True)
class Classification:
    intent: Intent
    confidence: float
    reason: str
    language: str = "en"
    order_numbers: tuple[str, ...] = ()
    faq_entry_id: int | None = None
    matched: tuple[str, ...] = field(default=())
    # Numbers said without "#" or "order" ("status update on 1042"): an order only if one of the customer's.
    bare_numbers: tuple[str, ...] = ()

    @property
    def sure(self) -> bool:
        needed = FAQ_THRESHOLD if self.intent is Intent.FAQ else THRESHOLD
        return self.intent is not Intent.NONE and self.confidence >= needed


_NUMBER = re.compile(r"(?:#|\b(?:order|orden|pedido|commande|bestellung|no|nr|num|number|numero|nummer)\s*"
                     r"(?:no|nr|num|number|numero|nummer|n)?\s*#?\s*)(\d{3,12})\b")


def normalize(text: str) -> str:
    """Lowercase, accents stripped, apostrophes dropped ("where's" -> "wheres"), other punctuation
    and emoji as spaces; "#" and digits kept for order numbers."""
    plain = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode().lower()
    plain = plain.replace("ß", "ss")
    plain = re.sub(r"['`´]", "", plain)
    return " ".join(re.sub(r"[^a-z0-9#]+", " ", plain).split())


def words_of(text: str) -> list[str]:
    return [w for w in normalize(text).replace("#", " ").split() if w]


def order_numbers(text: str) -> tuple[str, ...]:
    """The order numbers a text names: "#1042", "order 1042", "pedido n 1042", "Bestellung Nr. 1042"."""
    return tuple(dict.fromkeys(_NUMBER.findall(normalize(text))))


def distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance of ``a`` and ``b`` with transpositions, or ``limit + 1`` once above it."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def _allowed_typos(word: str) -> int:
    """Short words must be spelled right ("wo", "ou", "it"); longer ones may have one or two typos."""
    return 0 if len(word) < 5 else 1 if len(word) < 8 else 2


def fuzzy_in(word: str, vocabulary: set[str]) -> str | None:
    """The vocabulary word ``word`` is (exactly, else within its typo allowance), or None."""
    if word in vocabulary:
        return word
    allowed = _allowed_typos(word)
    if not allowed or word in NOT_TYPOS:
        return None
    best = min(vocabulary, key=lambda v: distance(word, v, allowed), default=None)
    if best is not None and len(best) >= 5 and distance(word, best, allowed) <= allowed:
        return best
    return None


@dataclass
class _Hit:
    concept: str
    language: str
    word: str
    matched: str
    position: int

    @property
    def typo(self) -> bool:
        return self.word != self.matched


def _hits(words: Sequence[str]) -> list[_Hit]:
    """Each word's concepts: its exact matches, else (only then) its typo matches, one per concept."""
    found = []
    for position, word in enumerate(words):
        if word.isdigit():
            continue
        exact = [_Hit(concept, language, word, word, position)
                 for concept, languages in CONCEPTS.items() for language, vocabulary in languages.items()
                 if word in vocabulary]
        if not exact:
            for concept, languages in CONCEPTS.items():
                for language, vocabulary in languages.items():
                    matched = fuzzy_in(word, vocabulary)
                    if matched is not None:
                        exact.append(_Hit(concept, language, word, matched, position))
                        break
        for hit in exact:
            if hit.concept == "where" and hit.language == "fr" and (
                    position + 1 >= len(words) or words[position + 1] not in FR_WHERE_NEXT):
                continue
            found.append(hit)
    return found




def _vetoes(words: Sequence[str], text: str = "") -> list[tuple[str, str]]:
    found = [("complaint", m) for m in ANGRY.findall(text)[:1]]
    for word in words:
        for name, vocabulary in VETOES.items():
            matched = word in vocabulary or (len(word) >= 8 and word not in NOT_TYPOS
                                             and any(distance(word, v, 1) <= 1 for v in vocabulary))
            if matched:
                found.append((name, word))
    return found


def _language(hits: Sequence[_Hit], words: Sequence[str]) -> str:
    """The language most of the matched words are unique to, else the one its stopwords suggest."""
    score = {"en": 0.0, "es": 0.0, "fr": 0.0, "de": 0.0}
    for hit in hits:
        if not hit.typo:
            score[hit.language] += 1
    hints = {"es": {"mi", "el", "la", "esta", "donde", "que", "por", "cuando", "ya", "hola", "gracias"},
             "fr": {"ma", "mon", "est", "ou", "je", "quand", "bonjour", "merci", "vous", "une"},
             "de": {"ist", "meine", "mein", "wo", "wann", "ich", "hallo", "danke", "nicht", "noch"},
             "en": {"my", "is", "the", "where", "when", "hi", "thanks", "i", "has", "did"}}
    for language, vocabulary in hints.items():
        score[language] += 0.5 * sum(word in vocabulary for word in words)
    return max(score, key=lambda language: (score[language], language == "en"))


def _explain(hits: Sequence[_Hit]) -> str:
    hits = list({(h.concept, h.word): h for h in hits}.values())
    return ", ".join(f"'{h.word}' ≈ {h.concept} ('{h.matched}')" if h.typo else f"'{h.word}' = {h.concept}"
                     for h in hits)


def classify_handoff(words: Sequence[str]) -> Classification | None:
    """A request for a person: the text is nothing but that ("agent", "real person pls", "humano"),
    or a person word with asking ("I want to talk to someone", "je veux parler à un conseiller")."""
    hits = _hits(words)
    people = [h for h in hits if h.concept == "person"]
    if not people:
        return None
    asks = [h for h in hits if h.concept == "ask"]
    rest = [w for w in words if w not in FILLER and not any(h.word == w and h.concept == "person" for h in hits)]
    language = _language(people + asks, words)
    if not rest:
        return Classification(Intent.HANDOFF, 0.95, f"asks for a person: {_explain(people)}", language)
    if asks and len(words) <= 12:
        return Classification(Intent.HANDOFF, 0.9, f"asks for a person: {_explain(people + asks)}", language)
    return None


def classify_order(text: str, words: Sequence[str]) -> Classification:
    """An order-status question, by phrase rules over the concepts; vetoed words leave it to an agent."""
    hits = _hits(words)
    numbers = order_numbers(text)
    have = {h.concept: h for h in hits}
    language = _language(hits, words)
    rule, confidence = "", 0.0
    bare = tuple(w for w in words if w.isdigit() and 3 <= len(w) <= 12 and w not in numbers)
    if "where" in have and ("order" in have or ("it" in have and numbers)):
        rule, confidence = "where + order", 0.95
    elif "track" in have and len(words) <= 14:
        rule, confidence = "tracking", 0.9
    elif ("ship" in have and ("order" in have or "it" in have) and "when" not in have
          and ("?" in text or any(w in QUESTION_WORDS for w in words))):
        rule, confidence = "shipped? + order", 0.85
    elif "when" in have and ("arrive" in have or "ship" in have) and ("order" in have or "it" in have):
        rule, confidence = "when + arrive/ship + order", 0.85
    elif "status" in have and ("order" in have or numbers or bare):
        rule, confidence = "status + order", 0.9
    elif "where" in have and numbers:
        rule, confidence = "where + order number", 0.85
    elif "arrive" in have and "order" in have and any(w in NOT_YET for w in words):
        rule, confidence = "not arrived yet + order", 0.8
    if not rule:
        return Classification(Intent.NONE, 0.0, "no order-status phrase", language, numbers)
    used = [h for h in hits if h.concept in ("where", "order", "track", "ship", "when", "arrive", "status")]
    confidence -= 0.08 * len({h.word for h in used if h.typo})
    vetoes = _vetoes(words, text)
    if vetoes:
        said = ", ".join(f"'{word}' ({name})" for name, word in vetoes)
        return Classification(Intent.NONE, 0.0, f"looks like an order question ({rule}) but says {said}: "
                                                f"for an agent", language, numbers)
    return Classification(Intent.ORDER_STATUS, round(confidence, 2), f"{rule}: {_explain(used)}", language,
                          numbers, matched=tuple(dict.fromkeys(h.word for h in used)), bare_numbers=bare)


@dataclass(frozen=True)
class FaqCandidate:
    """An FAQ entry to match against: its id, title and example questions."""

    id: int
    title: str
    questions: tuple[str, ...]


def _content(words: Sequence[str]) -> list[str]:
    """The words that carry meaning, plurals made singular ("sizes" -> "size")."""
    return [w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w
            for w in words if w not in STOPWORDS and not w.isdigit()]


def similarity(a: Sequence[str], b: Sequence[str]) -> float:
    """How alike two word lists are: shared content words (typos allowed) over their sizes (Dice),
    or the two texts' character similarity when that is higher for short texts."""
    left, right = _content(a), _content(b)
    if not left or not right:
        return 0.0
    vocabulary = set(right)
    shared = sum(1 for word in left if fuzzy_in(word, vocabulary) is not None)
    dice = 2 * min(shared, len(right)) / (len(left) + len(right))
    # Every word of the example question in the text ("a coupon for first orders?" holds "coupon").
    covered = min(shared, len(right)) / len(right)
    dice = max(dice, (dice + covered) / 2)
    chars = SequenceMatcher(None, " ".join(left), " ".join(right)).ratio()
    return max(dice, chars if len(left) <= 6 else 0.0)


def _anchors(entries: Sequence[FaqCandidate]) -> dict[int, set[str]]:
    """Each entry's own words: in its example questions and in no other entry's ("return", "open")."""
    words = {entry.id: {w for q in entry.questions for w in _content(words_of(q))} for entry in entries}
    return {entry_id: {w for w in mine if not any(w in other for other_id, other in words.items()
                                                   if other_id != entry_id)}
            for entry_id, mine in words.items()}


def _anchor_score(words: Sequence[str], anchors: set[str]) -> float:
    """A short text holding an entry's own word ("How do returns work?" and "return"): the more of the
    text such words are, the closer; 0.65 for one word of two, below the threshold for one of three."""
    content = _content(words)
    if not anchors or not content or len(content) > 6:
        return 0.0
    held = sum(1 for word in content if fuzzy_in(word, anchors) is not None)
    return 0.4 + 0.5 * held / len(content) if held else 0.0


def classify_faq(words: Sequence[str], entries: Sequence[FaqCandidate]) -> Classification:
    """The FAQ entry whose example questions the text is most like; none below the threshold or
    when two entries are about as close."""
    alike = {entry.id: max((similarity(words, words_of(q)) for q in entry.questions), default=0.0)
             for entry in entries}
    if max(alike.values(), default=0.0) < FAQ_THRESHOLD:  # no example is close: an entry's own word may be
        anchors = _anchors(entries)
        alike = {key: max(score, _anchor_score(words, anchors[key])) for key, score in alike.items()}
    scored = sorted(((alike[entry.id], entry) for entry in entries), key=lambda pair: -pair[0])
    if not scored or scored[0][0] < FAQ_THRESHOLD:
        best = f" (closest: “{scored[0][1].title}” at {scored[0][0]:.2f})" if scored else ""
        return Classification(Intent.NONE, scored[0][0] if scored else 0.0,
                              f"no FAQ entry is close enough{best}", _language([], words))
    score, entry = scored[0]
    if len(scored) > 1 and score - scored[1][0] < FAQ_MARGIN:
        return Classification(Intent.NONE, round(score, 2), f"ambiguous: “{entry.title}” ({score:.2f}) and "
                                                           f"“{scored[1][1].title}” ({scored[1][0]:.2f})",
                              _language([], words))
    # A complaint is for an agent; so is changing or cancelling one's own order ("change the size on my order").
    about_order = any(h.concept == "order" for h in _hits(words))
    vetoes = [v for v in _vetoes(words) if v[0] == "complaint" or (about_order and v[0] in ("change", "cancel"))]
    if vetoes:
        return Classification(Intent.NONE, 0.0, f"close to “{entry.title}” but says '{vetoes[0][1]}' "
                                                f"({vetoes[0][0]}): for an agent", _language([], words))
    return Classification(Intent.FAQ, round(score, 2), f"close to “{entry.title}” ({score:.2f})",
                          _language([], words), faq_entry_id=entry.id)


def classify(text: str, *, faq: Sequence[FaqCandidate] = (), order_status: bool = True) -> Classification:
    """The intent of ``text``: a request for a person first, then an order-status question, then
    the FAQ. An order-status-like text never falls through to the FAQ (it is for an agent)."""
    words = words_of(text)
    if not words:
        return Classification(Intent.NONE, 0.0, "no words")
    handoff = classify_handoff(words)
    if handoff is not None:
        return handoff
    order = classify_order(text, words)
    if order.intent is Intent.ORDER_STATUS and order_status:
        return order
    if order.intent is Intent.ORDER_STATUS or "looks like an order question" in order.reason:
        return Classification(Intent.NONE, 0.0, order.reason if order.intent is Intent.NONE
                              else "an order-status question, but order-status answers are off", order.language)
    if faq:
        return classify_faq(words, faq)
    return Classification(Intent.NONE, 0.0, "no order-status phrase, and no FAQ entries", order.language)
