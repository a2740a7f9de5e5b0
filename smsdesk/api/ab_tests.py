"""Owner API: a store's A/B tests of cart reminders with their results (services/ab_results.py);
the owner starts and ends them on the A/B test page of the template editor."""
from __future__ import annotations

from smsdesk.api import bp, owner_required, store_or_404
from smsdesk.db import get_session
from smsdesk.models import Role
from smsdesk.services.ab_results import results_dict, store_results


@bp.get("/stores/<slug>/ab-tests")
@owner_required
def list_ab_tests(slug: str):
    """Every A/B test of the store, newest first, each with both versions' results and the verdict."""
    store = store_or_404(slug, role=Role.OWNER)
    return {"ab_tests": [results_dict(found) for found in store_results(get_session(), store_id=store.id)]}
