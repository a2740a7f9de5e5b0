"""The OpenAPI 3.1 document at /api/openapi.json: it names every JSON API route, and
schemathesis finds no server error and no answer that differs from it."""
import json
import re

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings, strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from smsdesk.api.openapi import PATH
from tests.api.test_conversations import text_in
from tests.factories import shopify_headers, shopify_order

EXAMPLES = 25  # generated requests per operation: the whole run stays well under a minute
CHECKS = [not_a_server_error, response_schema_conformance]


def documented_routes(document: dict) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in document["paths"].items() for method in item}


def flask_routes(app) -> set[tuple[str, str]]:
    """Every (method, path) the app serves under /api/, in OpenAPI's path syntax."""
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or rule.rule == PATH:
            continue
        for path in expand(rule.rule):
            routes |= {(method, path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return routes


def expand(rule: str) -> list[str]:
    """``/a/<int:id>/<any(x, y):action>`` -> ``/a/{id}/x`` and ``/a/{id}/y``."""
    choice = re.search(r"<any\(([^)]*)\):\w+>", rule)
    if choice:
        return [path for word in choice.group(1).split(",")
                for path in expand(rule[:choice.start()] + word.strip() + rule[choice.end():])]
    return [re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)]


def test_the_document_is_served_without_a_token(client):
    response = client.get(PATH)
    assert response.status_code == 200 and response.json["openapi"].startswith("3.1")


def test_every_api_route_is_documented(app, client):
    document = client.get(PATH).json
    routes = flask_routes(app)
    assert len(routes) >= 12  # the comparison below can fail: the app has routes to compare
    assert routes - documented_routes(document) == set(), "add these routes to smsdesk/api/openapi.py"
    assert documented_routes(document) - routes == set(), "the document names routes the app does not serve"


@pytest.fixture
def world(client, make) -> dict:
    """An owner's token and the path parameters of real rows: a store with an order and a
    conversation, and a template kind."""
    store = make.store()
    raw = json.dumps(shopify_order()).encode()
    assert client.post("/webhooks/shopify", data=raw, headers=shopify_headers(store, raw)).status_code == 200
    text_in(client, store)
    headers = {"Authorization": f"Bearer {make.token(role='owner')}"}
    [conversation] = client.get("/api/conversations", headers=headers).json["conversations"]
    return {"headers": headers, "known": {"slug": store.slug, "conversation_id": conversation["id"],
                                          "kind": "order_shipped"}}


def test_every_answer_matches_the_document(app, world):
    schema = schemathesis.openapi.from_wsgi(PATH, app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12
    for operation in operations:
        check_operation(operation, world)


def check_operation(operation, world: dict) -> None:
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(), real=st.booleans())
    def run(case, real):
        if real:  # half the requests name rows that exist: a store, a template kind, the conversation
            case.path_parameters = {k: world["known"].get(k, v) for k, v in (case.path_parameters or {}).items()}
        case.call_and_validate(headers=world["headers"], checks=CHECKS)
    run()
