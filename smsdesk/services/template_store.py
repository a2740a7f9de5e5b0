"""A store's templates: per kind and language, the owner's version, else a built-in one.

The language a text goes out in: the customer's (from the platform or a keyword), else the store's
default. A kind's body is chosen in this order: the owner's version in that language, the built-in
one in it, the owner's version in the store's default language, the built-in one in it, English.
``enabled`` and ``delay_minutes`` belong to the kind, not to a language (kept equal on every row).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from smsdesk.models import Customer, Store, Template
from smsdesk.services import preload
from smsdesk.services.builtin_texts import built_in
from smsdesk.services.languages import ENGLISH
from smsdesk.services.template_kinds import KINDS, KindSpec
from smsdesk.services.templates import validate_template


@dataclass(frozen=True)
class ResolvedTemplate:
    spec: KindSpec
    body: str
    enabled: bool
    delay_minutes: int
    customized: bool  # the body is the owner's
    language: str = ENGLISH  # the language of ``body``


def language_of(store: Store, customer: Customer | None) -> str:
    """The language texts to ``customer`` go out in."""
    return (customer.language if customer is not None and customer.language else None) or store.default_language


def kind_rows(session: Session, *, store_id: int, kind: str) -> dict[str, Template]:
    """The owner's versions of ``kind`` by language."""
    rows = preload.known(session, "templates", store_id, kind)
    if rows is preload.UNKNOWN:
        rows = list(session.scalars(select(Template).where(Template.store_id == store_id, Template.kind == kind)))
    return {row.language: row for row in rows}


def _default_language(session: Session, store_id: int) -> str:
    store = session.get(Store, store_id)
    return store.default_language if store is not None and store.default_language else ENGLISH


def resolve_template(session: Session, *, store_id: int, kind: str, language: str | None = None,
                     default_language: str | None = None) -> ResolvedTemplate:
    """The template a store uses for ``kind`` in ``language`` (None: the store's default language)."""
    spec = KINDS[kind]
    default_language = default_language or _default_language(session, store_id)
    rows = kind_rows(session, store_id=store_id, kind=kind)
    settings = rows.get(default_language) or next(iter(rows.values()), None)
    enabled = spec.default_enabled if settings is None else settings.enabled
    delay = spec.default_delay_minutes if settings is None else settings.delay_minutes
    for candidate in dict.fromkeys((language or default_language, default_language, ENGLISH)):
        row = rows.get(candidate)
        if row is not None:
            return ResolvedTemplate(spec, row.body, enabled, delay, True, candidate)
        body = built_in(kind, candidate)
        if body is not None:
            return ResolvedTemplate(spec, body, enabled, delay, False, candidate)
    raise AssertionError("English always has a built-in body")  # pragma: no cover


def save_template(
    session: Session, *, store_id: int, kind: str, body: str | None = None,
    enabled: bool | None = None, delay_minutes: int | None = None, language: str | None = None,
) -> ResolvedTemplate:
    """Validate and store a store's template in ``language`` (None: the store's default language);
    raises TemplateError or ValueError. ``enabled``/``delay_minutes`` apply to every language."""
    default_language = _default_language(session, store_id)
    language = language or default_language
    if body is None and not kind_rows(session, store_id=store_id, kind=kind):
        language = default_language  # only the kind's settings change: they live on its default-language row
    current = resolve_template(session, store_id=store_id, kind=kind, language=language)
    if delay_minutes is not None and not 0 <= delay_minutes <= 60 * 24 * 30:
        raise ValueError("delay_minutes must be between 0 and 43200 (30 days)")
    if body is not None:
        validate_template(body)
    row = session.scalar(select(Template).where(Template.store_id == store_id, Template.kind == kind,
                                                Template.language == language))
    if row is None and (body is not None or not kind_rows(session, store_id=store_id, kind=kind)):
        # A new language's version starts from what that language's customers get today.
        row = Template(store_id=store_id, kind=kind, language=language, body=current.body,
                       enabled=current.enabled, delay_minutes=current.delay_minutes)
        session.add(row)
    if row is not None and body is not None:
        row.body = body
    changes = {name: value for name, value in (("enabled", enabled), ("delay_minutes", delay_minutes))
               if value is not None}
    if changes:
        session.flush()
        session.execute(update(Template).where(Template.store_id == store_id, Template.kind == kind)
                        .values(**changes).execution_options(synchronize_session="fetch"))
    session.flush()
    preload.unknown(session, "templates", store_id, kind)
    return resolve_template(session, store_id=store_id, kind=kind, language=language)


def delete_template(session: Session, *, store_id: int, kind: str, language: str) -> bool:
    """Drop the owner's version in ``language`` (its customers get the fallback); True if there was one."""
    row = session.scalar(select(Template).where(Template.store_id == store_id, Template.kind == kind,
                                                Template.language == language))
    if row is None:
        return False
    session.delete(row)
    session.flush()
    preload.unknown(session, "templates", store_id, kind)
    return True
