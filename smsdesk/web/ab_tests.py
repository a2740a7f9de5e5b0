"""The owner's A/B test page of a cart reminder (linked from the template editor): start a test
of a second version (B) against the template (A), read the results side by side, end it.
The split and the results: services/ab_tests.py, services/ab_results.py."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from smsdesk.api.templates import preview_dict, template_error_dict
from smsdesk.db import get_session
from smsdesk.models import Store
from smsdesk.models.ab_tests import DEFAULT_SPLIT_PERCENT
from smsdesk.services import ab_tests
from smsdesk.services.ab_results import kind_tests
from smsdesk.services.ab_tests import AB_KINDS, InvalidTest, TestRunning
from smsdesk.services.languages import NAMES, name as language_name
from smsdesk.services.template_kinds import KINDS
from smsdesk.services.template_store import resolve_template
from smsdesk.services.templates import TemplateError
from smsdesk.web import bp
from smsdesk.web.auth import owner_required, signed_in_agent
from smsdesk.web.editor import owner_store, page_language


def _ab_kind(kind: str) -> str:
    if kind not in AB_KINDS:
        abort(404, description=f"Only cart reminders can be A/B tested, not {kind!r}.")
    return kind


def _segments(store: Store, body: str) -> dict | None:
    try:
        return preview_dict(store, body)
    except TemplateError:  # a template broken since: the results still show, without a count
        return None


def _page(store: Store, kind: str, language: str, *, form: dict | None = None, error: dict | None = None,
          status: int = 200):
    session = get_session()
    template = resolve_template(session, store_id=store.id, kind=kind, language=language,
                                default_language=store.default_language)
    tests = kind_tests(session, store_id=store.id, kind=kind, language=language)
    form = form or {"name": "", "body_b": template.body, "split_percent": DEFAULT_SPLIT_PERCENT}
    running = tests.running.test if tests.running else None
    return render_template(
        "ab_test.html", store=store, kind=kind, label=KINDS[kind].label, language=language,
        language_name=language_name(language), language_names=NAMES, template=template, tests=tests,
        segments_a=_segments(store, template.body), segments_b=_segments(store, running.body_b) if running else None,
        form=form, error=error, variables=KINDS[kind].variables), status


@bp.get("/templates/<slug>/<kind>/ab-test")
@owner_required
def ab_test(slug: str, kind: str):
    """The kind's A/B test in one language (the store's default unless ``?language=``)."""
    store, kind = owner_store(slug), _ab_kind(kind)
    return _page(store, kind, page_language(store, request.args.get("language")))


@bp.post("/templates/<slug>/<kind>/ab-test")
@owner_required
def start_ab_test(slug: str, kind: str):
    """Start a test; a refused body or split is shown again with the reason (422), a second
    running test of the kind and language is a 409."""
    store, kind = owner_store(slug), _ab_kind(kind)
    language = page_language(store, request.form.get("language"))
    form = {name: request.form.get(name, "") for name in ("name", "body_b", "split_percent")}
    session = get_session()
    try:
        ab_tests.start_test(session, store=store, kind=kind, language=language, body_b=form["body_b"],
                            split_percent=_split(form["split_percent"]), name=form["name"],
                            agent_id=signed_in_agent().id)
    except TemplateError as exc:
        session.rollback()
        return _page(store, kind, language, form=form, error={"field": "body_b", **template_error_dict(exc)},
                     status=422)
    except InvalidTest as exc:
        session.rollback()
        return _page(store, kind, language, form=form, error={"field": exc.field, "message": str(exc)}, status=422)
    except TestRunning as exc:
        session.rollback()
        return _page(store, kind, language, form=form, error={"field": None, "message": str(exc)}, status=409)
    session.commit()
    flash(f"A/B test started: {form['split_percent']} % of customers get version B.", "ok")
    return redirect(url_for("web.ab_test", slug=store.slug, kind=kind, language=language))


def _split(raw: str) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        raise InvalidTest("split_percent", "the share getting B must be a whole number of percent") from None


@bp.post("/templates/<slug>/ab-tests/<int:test_id>/end")
@owner_required
def end_ab_test(slug: str, test_id: int):
    """End a test, keeping the template (A) or making B the template of its kind and language."""
    store = owner_store(slug)
    session = get_session()
    adopt_b = request.form.get("keep") == "B"
    try:
        test = ab_tests.end_test(session, store=store, test_id=test_id, adopt_b=adopt_b)
    except LookupError:
        abort(404, description=f"There is no A/B test {test_id} of this store.")
    session.commit()
    flash("A/B test ended; version B is now the template." if adopt_b else "A/B test ended; the template is kept.",
          "ok")
    return redirect(url_for("web.ab_test", slug=store.slug, kind=test.kind, language=test.language))
