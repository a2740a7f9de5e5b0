"""A kind's versions side by side: per language, whose text the customers in it get.

The editor and the API show, for the store's default language, the built-in languages, the
languages the owner wrote versions in and those the store's customers speak, what each one
resolves to (services/template_store.py): the owner's version, the built-in one, or a fallback to
another language, which is what is missing where customers speak it.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from smsdesk.models import Customer, Store
from smsdesk.services.languages import BUILT_IN_LANGUAGES, name, parse
from smsdesk.services.template_store import ResolvedTemplate, kind_rows, resolve_template


@dataclass(frozen=True)
class Version:
    language: str
    name: str
    template: ResolvedTemplate
    source: str  # "owner", "built-in" or "fallback" (to ``template.language``)
    in_use: bool  # customers of the store speak it (or it is the store's default)

    @property
    def missing(self) -> bool:
        """Customers speak it and get another language's text."""
        return self.in_use and self.source == "fallback"


def languages_in_use(session: Session, store: Store) -> list[str]:
    """The languages the store's customers are known to speak, and its default one."""
    spoken = session.scalars(select(Customer.language).where(Customer.store_id == store.id,
                                                             Customer.language.is_not(None)).distinct())
    return list(dict.fromkeys([store.default_language, *sorted(language for language in spoken if language)]))


def kind_versions(session: Session, store: Store, kind: str) -> list[Version]:
    """Every language worth showing for ``kind``, the store's default first."""
    in_use = languages_in_use(session, store)
    owned = kind_rows(session, store_id=store.id, kind=kind)
    languages = dict.fromkeys([store.default_language, *BUILT_IN_LANGUAGES, *sorted(owned), *in_use])
    versions = []
    for language in languages:
        template = resolve_template(session, store_id=store.id, kind=kind, language=language,
                                    default_language=store.default_language)
        source = ("fallback" if template.language != language else "owner" if template.customized else "built-in")
        versions.append(Version(language, name(language), template, source, language in in_use))
    return versions


def language_or_default(store: Store, raw: object) -> str:
    """A language an owner or API client asked for (None/"": the store's default); ValueError if none."""
    if raw is None or raw == "":
        return store.default_language
    return parse(raw)


def set_default_language(session: Session, store: Store, raw: object) -> str:
    """Change the store's default language; ValueError for an unknown one."""
    store.default_language = parse(raw)
    session.flush()
    return store.default_language
