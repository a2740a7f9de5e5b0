"""Template versions: each body a store's texts of a kind were rendered from, in one language,
numbered 1, 2, 3... in the order first used. The built-in text is a version like the owner's; an
edited body is a new version, and a body edited back to an earlier one is that version again.

``version_id`` is called with the body actually rendered (outbox.enqueue_kind, and a cart
reminder re-rendered in checkouts._reschedule), so any other body (an A/B variant) becomes a
version of its own. Cost: one read by the unique index; in the apply job's batches none after
the first text of a body (``preload`` remembers it). Two processes creating the same version at
once: the unique constraint decides and the loser reads the winner's row; two new bodies taking
the same number: the loser takes the next one.
"""
from __future__ import annotations

import hashlib

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from smsdesk.models import TemplateVersion
from smsdesk.services import preload

TRIES = 5  # numbers tried when other processes keep taking the next one (never in practice)


def body_hash(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def version_id(session: Session, *, store_id: int, kind: str, language: str, body: str) -> int:
    """The id of the version of ``body`` (the template source rendered), created when new."""
    digest = body_hash(body)
    key = ("template_version", store_id, kind, language, digest)
    found = preload.known(session, *key)
    if found is preload.UNKNOWN or found is None:
        found = _find(session, store_id, kind, language, digest) or _create(session, store_id, kind, language,
                                                                            body, digest)
        preload.remember(session, *key, row=found)
    return found


def _find(session: Session, store_id: int, kind: str, language: str, digest: str) -> int | None:
    return session.scalar(select(TemplateVersion.id).where(
        TemplateVersion.store_id == store_id, TemplateVersion.kind == kind, TemplateVersion.language == language,
        TemplateVersion.body_hash == digest))


def _create(session: Session, store_id: int, kind: str, language: str, body: str, digest: str) -> int:
    """Insert the version with the next number (``preload.insert``: a savepoint outside a batch;
    in a batch a conflict makes the job apply the delivery again on its own)."""
    for _ in range(TRIES):
        number = (session.scalar(select(func.max(TemplateVersion.number)).where(
            TemplateVersion.store_id == store_id, TemplateVersion.kind == kind,
            TemplateVersion.language == language)) or 0) + 1
        row = TemplateVersion(store_id=store_id, kind=kind, language=language, number=number, body=body,
                              body_hash=digest)
        try:
            preload.insert(session, row)
            return row.id
        except IntegrityError:  # another process took this body (use theirs) or this number (try the next)
            existing = _find(session, store_id, kind, language, digest)
            if existing is not None:
                return existing
    raise RuntimeError(f"no version number left for {kind}/{language} of store {store_id} after {TRIES} tries")


def versions(session: Session, ids: set[int]) -> dict[int, TemplateVersion]:
    """The versions of ``ids`` by id (for reports)."""
    if not ids:
        return {}
    return {row.id: row for row in session.scalars(select(TemplateVersion).where(TemplateVersion.id.in_(ids)))}


def first_line(body: str, width: int = 60) -> str:
    """How a report names a version: its first line, cut to ``width`` characters."""
    line = body.strip().splitlines()[0] if body.strip() else ""
    return line if len(line) <= width else line[:width - 1] + "…"
