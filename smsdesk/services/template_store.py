"""A store's templates: its saved row for a kind, else the built-in default."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from smsdesk.models import Template
from smsdesk.services.template_kinds import KINDS, KindSpec
from smsdesk.services.templates import validate_template


@dataclass(frozen=True)
class ResolvedTemplate:
    spec: KindSpec
    body: str
    enabled: bool
    delay_minutes: int
    customized: bool


def resolve_template(session: Session, *, store_id: int, kind: str) -> ResolvedTemplate:
    """The template a store uses for ``kind`` right now."""
    spec = KINDS[kind]
    row = session.scalar(select(Template).where(Template.store_id == store_id, Template.kind == kind))
    if row is None:
        return ResolvedTemplate(spec, spec.default_body, spec.default_enabled, spec.default_delay_minutes, False)
    return ResolvedTemplate(spec, row.body, row.enabled, row.delay_minutes, True)


def save_template(
    session: Session, *, store_id: int, kind: str, body: str | None = None,
    enabled: bool | None = None, delay_minutes: int | None = None,
) -> ResolvedTemplate:
    """Validate and store a store's template; raises TemplateError or ValueError."""
    current = resolve_template(session, store_id=store_id, kind=kind)
    body = current.body if body is None else body
    validate_template(body)
    if delay_minutes is not None and not 0 <= delay_minutes <= 60 * 24 * 30:
        raise ValueError("delay_minutes must be between 0 and 43200 (30 days)")
    row = session.scalar(select(Template).where(Template.store_id == store_id, Template.kind == kind))
    if row is None:
        row = Template(store_id=store_id, kind=kind, body=body,
                       enabled=current.enabled, delay_minutes=current.delay_minutes)
        session.add(row)
    row.body = body
    if enabled is not None:
        row.enabled = enabled
    if delay_minutes is not None:
        row.delay_minutes = delay_minutes
    session.flush()
    return resolve_template(session, store_id=store_id, kind=kind)
