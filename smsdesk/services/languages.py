"""Languages of texts: BCP-47 primary subtags ("es", "fr"), read from what a platform sends.

A platform's locale ("fr-CA", "es_MX", "pt-BR") counts by its primary subtag only: the built-in
texts are per language, and an owner writes one version per language, not per region.
"""
from __future__ import annotations

import re

ENGLISH = "en"
# Languages with built-in texts for every kind (services/builtin_texts.py); an owner may also
# write versions in any other valid primary subtag (e.g. "it"), used for customers in it.
BUILT_IN_LANGUAGES: tuple[str, ...] = ("en", "es", "fr", "de")
NAMES: dict[str, str] = {"en": "English", "es": "Spanish", "fr": "French", "de": "German", "it": "Italian",
                         "pt": "Portuguese", "nl": "Dutch", "pl": "Polish", "sv": "Swedish", "da": "Danish",
                         "ja": "Japanese", "zh": "Chinese"}
# BCP-47 primary language subtag: 2-3 letters (ISO 639-1/-2/-3); "x"/"i" and longer ones are not languages.
_PRIMARY = re.compile(r"^[a-z]{2,3}$")
_SEPARATOR = re.compile(r"[-_]")
# A whole tag as an owner or API client writes it: "es", "fr-CA", "zh-Hant-TW" (no empty subtags).
_TAG = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$")


def normalize(tag: object) -> str | None:
    """The primary subtag of a locale ("fr-CA" -> "fr", "ES" -> "es"); None when not a language."""
    if not isinstance(tag, str):
        return None
    primary = _SEPARATOR.split(tag.strip().lower(), maxsplit=1)[0]
    return primary if _PRIMARY.match(primary) else None


def parse(tag: object) -> str:
    """A language an owner or an API client names; ValueError saying why when it is none."""
    language = normalize(tag) if isinstance(tag, str) and _TAG.match(tag.strip()) else None
    if language is None:
        raise ValueError(f"unknown language {str(tag)[:20]!r}: use a language code such as "
                         f"{', '.join(BUILT_IN_LANGUAGES)}")
    return language


def name(language: str) -> str:
    return NAMES.get(language, language)
