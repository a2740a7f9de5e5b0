"""The OpenAPI 3.1 document of the JSON API, served at ``GET /api/openapi.json`` (no token).

Written by hand beside the views it describes; tests keep it true: every ``/api/`` route
must be in it (tests/api/test_openapi.py) and schemathesis checks that every answer matches
it. Enumerations come from the code (enums, kinds, statuses), so they cannot drift.
"""
from __future__ import annotations

from typing import Any

from flask import Flask, jsonify

from smsdesk import __version__
from smsdesk.api import conversations, deliveries
from smsdesk.enums import (
    AbEndReason,
    AbVariant,
    ConsentLevel,
    ConsentSource,
    ConsentState,
    ConversationStatus,
    Direction,
    MessageStatus,
)
from smsdesk.models import Platform
from smsdesk.reasons import Reason
from smsdesk.services import paging
from smsdesk.services.ab_tests import AB_KINDS
from smsdesk.services.template_kinds import KINDS

PATH = "/api/openapi.json"
JSON = "application/json"


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(required: dict[str, Any], optional: dict[str, Any] | None = None) -> dict:
    """An object schema: ``required`` keys always present; others may be (extra keys allowed)."""
    return {"type": "object", "required": list(required), "properties": {**required, **(optional or {})}}


def nullable(schema: dict) -> dict:
    return {"anyOf": [schema, {"type": "null"}]}


def values(enum_type) -> list[str]:
    return [member.value for member in enum_type]


STRING, INTEGER, BOOLEAN, NUMBER = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}, {"type": "number"}
TIME = {"type": "string", "format": "date-time"}
TEXT_OR_NULL = nullable(STRING)

AB_VARIANT = obj({"sent": INTEGER, "delivered": INTEGER, "clicked": INTEGER, "recovered": INTEGER,
                  "recovery_rate": nullable(NUMBER),
                  "revenue": {"type": "object", "additionalProperties": STRING}})  # currency -> total

SCHEMAS: dict[str, Any] = {
    # An A/B test of a cart reminder with each version's results and the verdict on the recovery rate.
    "AbTest": obj({"id": INTEGER, "kind": {"enum": list(AB_KINDS)}, "language": STRING, "name": STRING,
                   "split_percent": INTEGER, "started_at": TIME, "ended_at": nullable(TIME),
                   "ended_reason": nullable({"enum": values(AbEndReason)}),
                   "winner": nullable({"enum": values(AbVariant)}),
                   "variants": obj({"A": AB_VARIANT, "B": AB_VARIANT}),
                   "verdict": obj({"significant": BOOLEAN, "headline": STRING, "why": STRING, "metric": STRING,
                                   "z": nullable(NUMBER), "p_value": nullable(NUMBER)})}),
    "Error": obj({"error": STRING, "message": STRING},
                 {"field": TEXT_OR_NULL, "line": nullable(INTEGER), "reason": TEXT_OR_NULL}),
    "Package": obj({"id": TEXT_OR_NULL, "status": STRING, "tracking_number": TEXT_OR_NULL,
                    "tracking_company": TEXT_OR_NULL,
                    "tracking_url": nullable({"type": "string", "pattern": "^https?://"}),
                    "item_count": nullable(INTEGER), "items": {"type": "array"}, "partial": BOOLEAN,
                    "created_at": nullable(TIME), "updated_at": nullable(TIME)}),
    "Order": obj({"number": STRING, "status": STRING, "total": STRING, "currency": STRING,
                  "tracking_number": TEXT_OR_NULL, "tracking_company": TEXT_OR_NULL,
                  "tracking_url": nullable({"type": "string", "pattern": "^https?://"}),
                  "status_url": nullable({"type": "string", "pattern": "^https?://"}),
                  "no_text_reason": nullable({"enum": values(Reason)}), "no_text_reason_label": TEXT_OR_NULL},
                 {"item_count": nullable(INTEGER), "items": {"type": "array"},
                  "shipments": {"type": "array", "items": ref("Package")}}),
    "LastMessage": obj({"body": STRING, "direction": {"enum": values(Direction)}, "at": nullable(TIME)},
                       {"media_count": INTEGER, "preview": STRING}),  # preview: the body, or "📷 Photo"
    # A picture of an MMS (no bytes here: agents see them in the inbox); ``shown``: an image type
    # the inbox shows (JPEG, PNG, GIF, WebP), ``error``: why it can't be shown.
    "Media": obj({"id": INTEGER, "content_type": STRING, "size": nullable(INTEGER), "shown": BOOLEAN,
                  "error": TEXT_OR_NULL}),
    "ConversationSummary": obj({
        "id": INTEGER, "store": STRING, "customer_phone": STRING, "customer_name": STRING, "opted_out": BOOLEAN,
        "marketing_consent": BOOLEAN, "status": {"enum": values(ConversationStatus)}, "assigned_to": TEXT_OR_NULL,
        "unread": INTEGER, "last_message": nullable(ref("LastMessage")), "waiting_since": nullable(TIME),
        "latest_order": nullable(ref("Order")), "last_out_failed": BOOLEAN}),
    "Message": obj({"id": INTEGER, "direction": {"enum": values(Direction)}, "kind": STRING, "body": STRING,
                    "status": {"enum": values(MessageStatus)}, "error_code": nullable(INTEGER),
                    "reason": nullable({"enum": values(Reason)}), "reason_label": TEXT_OR_NULL,
                    "reason_detail": TEXT_OR_NULL, "reason_text": TEXT_OR_NULL, "retryable": BOOLEAN,
                    "created_at": nullable(TIME), "sent_at": nullable(TIME),
                    "segments": INTEGER, "encoding": STRING},
                   {"due_at": nullable(TIME), "media": {"type": "array", "items": ref("Media")}}),
    "Consent": obj({"state": {"enum": values(ConsentState)}, "level": {"enum": values(ConsentLevel)},
                    "source": {"enum": values(ConsentSource)}, "platform_state": TEXT_OR_NULL,
                    "collected_from": TEXT_OR_NULL, "delivery_id": TEXT_OR_NULL, "at": nullable(TIME),
                    "recorded_at": nullable(TIME)}),
    "Store": obj({"slug": STRING, "name": STRING, "platform": {"enum": values(Platform)}, "domain": TEXT_OR_NULL,
                  "country": STRING, "timezone": STRING, "quiet_hours": STRING, "from_number": TEXT_OR_NULL,
                  "messaging_service_sid": TEXT_OR_NULL, "rate_per_second": NUMBER, "help_text": STRING,
                  "send_opt_out_confirmation": BOOLEAN}),
    "StoreChanges": {"type": "object", "additionalProperties": False, "properties": {
        "name": STRING, "timezone": STRING, "quiet_hours": STRING, "from_number": TEXT_OR_NULL,
        "messaging_service_sid": TEXT_OR_NULL, "rate_per_second": NUMBER, "help_text": STRING,
        "send_opt_out_confirmation": BOOLEAN}},
    "TemplateError": obj({"line": nullable(INTEGER), "reason": STRING, "message": STRING}),
    "Template": obj({"kind": {"enum": list(KINDS)}, "label": STRING, "body": STRING, "language": STRING,
                     "enabled": BOOLEAN,
                     "delay_minutes": nullable(INTEGER), "customized": BOOLEAN, "marketing": BOOLEAN,
                     "variables": {"type": "array", "items": STRING}, "segments": nullable(INTEGER),
                     "encoding": TEXT_OR_NULL, "error": nullable(ref("TemplateError"))}),
    "Preview": obj({"text": STRING, "segments": INTEGER, "encoding": STRING, "characters": INTEGER,
                    "per_segment": INTEGER, "non_gsm_characters": {"type": "array", "items": STRING},
                    "segments_without_non_gsm": INTEGER, "cut": BOOLEAN, "cut_message": TEXT_OR_NULL}),
    "Delivery": obj({"id": INTEGER, "source": STRING, "delivery_id": STRING, "topic": STRING,
                     "status": {"enum": [s for s in deliveries.STATUSES if s != "all"]}, "error": TEXT_OR_NULL,
                     "attempts": INTEGER, "received_at": nullable(TIME), "next_attempt_at": nullable(TIME)}),
    "CustomerExport": obj({"store": STRING, "customer": {"type": "object"}, "orders": {"type": "array"},
                           "checkouts": {"type": "array"}, "consents": {"type": "array"},
                           "conversations": {"type": "array"}, "messages": {"type": "array", "items": ref("Message")},
                           "webhook_deliveries": {"type": "array"}, "feedback": {"type": "array"}}),
    # The user's presence for automatic assignment: away (no new assignments), last seen, and
    # whether assignment counts them available now (seen lately and not away).
    "Availability": obj({"away": BOOLEAN, "away_since": nullable(TIME), "last_seen_at": nullable(TIME),
                         "available": BOOLEAN}),
    "Erasure": obj({"erased": obj({key: INTEGER for key in (
        "customers", "orders", "checkouts", "consents", "messages", "cancelled", "deliveries", "pictures")})}),
}


def body_of(schema: dict, *, required: bool = True) -> dict:
    return {"required": required, "content": {JSON: {"schema": schema}}}


def answer(description: str, schema: dict) -> dict:
    return {"description": description, "content": {JSON: {"schema": schema}}}


ERROR = answer("An error: `error` is a code, `message` says what went wrong", ref("Error"))
COMMON_ERRORS = {"401": ERROR, "default": ERROR}  # default: 400, 404, 413 and the like
OWNER_ERRORS = {**COMMON_ERRORS, "403": ERROR}


def operation(summary: str, ok: dict, *, status: str = "200", parameters: list | None = None,
              body: dict | None = None, owner: bool = False, errors: tuple[str, ...] = ()) -> dict:
    spec: dict[str, Any] = {"summary": summary, "parameters": parameters or [],
                            "responses": {status: ok, **(OWNER_ERRORS if owner else COMMON_ERRORS),
                                          **{code: ERROR for code in errors}}}
    if body is not None:
        spec["requestBody"] = body
    return spec


def path_param(name: str, schema: dict) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": schema}


def query_param(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


CONVERSATION_ID = path_param("conversation_id", {"type": "integer", "minimum": 0})
SLUG = path_param("slug", STRING)
KIND = path_param("kind", STRING)
PHONE = path_param("phone", STRING)
LANGUAGE = query_param("language", STRING, "A BCP-47 language (es, fr-CA: its primary subtag counts); default the "
                       "store's default language; 400 invalid_language for one that is none")
SUMMARY = answer("The conversation", ref("ConversationSummary"))
PAGING = [  # DESIGN §8: every list is keyset-paged
    query_param("limit", {"type": "integer", "minimum": 1, "maximum": paging.MAX_LIMIT},
                f"at most this many (default {paging.DEFAULT_LIMIT})"),
    query_param("cursor", STRING, "the previous answer's next_cursor (opaque)"),
    query_param("since", STRING, "the previous answer's next_since (or an ISO 8601 time): only what changed"),
]
PAGE = {"next_cursor": TEXT_OR_NULL, "next_since": STRING}  # next_cursor: null on the last page
DETAIL = {"allOf": [ref("ConversationSummary"), obj({
    "messages": {"type": "array", "items": ref("Message")}, "orders": {"type": "array", "items": ref("Order")},
    "consents": {"type": "array", "items": ref("Consent")}, **PAGE})]}

PATHS: dict[str, Any] = {
    "/api/conversations": {"get": operation(
        "Conversations, the ones waiting longest for an answer first",
        answer("Conversations", obj({"conversations": {"type": "array", "items": ref("ConversationSummary")},
                                     **PAGE}, {"removed": {"type": "array", "items": INTEGER}})),
        parameters=[query_param("status", {"enum": list(conversations.STATUSES)}, "open (default), closed or all"),
                    query_param("store", STRING, "only this store's (slug)"),
                    query_param("q", STRING, "a name, an order number, digits of a phone number or message text"),
                    *PAGING])},
    "/api/conversations/{conversation_id}": {"get": operation(
        "A conversation with a page of its messages (newest first), orders and consent history",
        answer("The conversation", DETAIL), parameters=[CONVERSATION_ID, *PAGING])},
    "/api/conversations/{conversation_id}/messages": {"post": operation(
        "Reply to the customer (queued; compliance applies). With a picture: multipart/form-data with "
        "`body` (may be empty) and `picture` (JPEG, PNG, GIF or WebP, at most [media] max_bytes: 413 when "
        "larger, 415 when not such an image); it goes as one MMS",
        answer("Queued", obj({"message": obj({"id": INTEGER, "status": {"enum": values(MessageStatus)}})})),
        status="202", parameters=[CONVERSATION_ID], errors=("409", "413", "415", "422"),
        body={"required": True, "content": {
            JSON: {"schema": obj({"body": STRING})},
            "multipart/form-data": {"schema": obj({}, {"body": STRING,
                                                        "picture": {"type": "string", "format": "binary"}})}}})},
    "/api/conversations/{conversation_id}/assign": {"post": operation(
        "Assign to an agent by email, or unassign with null", SUMMARY, parameters=[CONVERSATION_ID],
        errors=("422",), body=body_of(obj({"email": TEXT_OR_NULL})))},
    "/api/conversations/{conversation_id}/close": {"post": operation(
        "Close the conversation", SUMMARY, parameters=[CONVERSATION_ID])},
    "/api/conversations/{conversation_id}/reopen": {"post": operation(
        "Reopen the conversation", SUMMARY, parameters=[CONVERSATION_ID])},
    "/api/me/availability": {
        "get": operation("The user's presence for automatic assignment", answer("Presence", ref("Availability"))),
        "post": operation("Set oneself away (no new assignments) or back", answer("Presence", ref("Availability")),
                          body=body_of(obj({"away": BOOLEAN})))},
    "/api/stores/{slug}": {
        "get": operation("A store's settings (never its secrets)", answer("The store", ref("Store")),
                         parameters=[SLUG], owner=True),
        "patch": operation("Change some settings; 422 names a bad one in `field`", answer("The store", ref("Store")),
                           parameters=[SLUG], owner=True, errors=("422",), body=body_of(ref("StoreChanges")))},
    "/api/stores/{slug}/deliveries": {"get": operation(
        "The store's webhook deliveries, newest first (payloads left out)",
        answer("Deliveries", obj({"deliveries": {"type": "array", "items": ref("Delivery")}, **PAGE})),
        parameters=[SLUG, query_param("status", {"enum": list(deliveries.STATUSES)}, "all (default) or one status"),
                    *PAGING],
        owner=True)},
    "/api/stores/{slug}/ab-tests": {"get": operation(
        "The store's A/B tests of cart reminders, newest first, with both versions' results",
        answer("A/B tests", obj({"ab_tests": {"type": "array", "items": ref("AbTest")}})),
        parameters=[SLUG], owner=True)},
    "/api/stores/{slug}/templates": {"get": operation(
        "Every message kind of the store, in one language (the versions customers in it get)",
        answer("Templates", obj({"language": STRING, "default_language": STRING,
                                 "templates": {"type": "array", "items": ref("Template")}})),
        parameters=[SLUG, LANGUAGE], owner=True, errors=("400",))},
    "/api/stores/{slug}/templates/{kind}": {"put": operation(
        "Save a kind's body (in a language), enabled and delay (the kind's, in every language)",
        answer("The saved template", ref("Template")),
        parameters=[SLUG, KIND, LANGUAGE], owner=True, errors=("400", "422"),
        body=body_of(obj({}, {"body": STRING, "enabled": BOOLEAN, "delay_minutes": nullable(INTEGER),
                              "language": STRING})))},
    "/api/stores/{slug}/templates/{kind}/preview": {"post": operation(
        "Render a body (or the saved one) with sample data", answer("The preview", ref("Preview")),
        parameters=[SLUG, KIND, LANGUAGE], owner=True, errors=("400", "422"),
        body=body_of(obj({}, {"body": STRING, "language": STRING}), required=False))},
    "/api/stores/{slug}/customers/{phone}/export": {"get": operation(
        "Everything held on the customer with this phone (read in the store's country)",
        answer("The customer's data", ref("CustomerExport")), parameters=[SLUG, PHONE], owner=True)},
    "/api/stores/{slug}/customers/{phone}": {"delete": operation(
        "Erase the customer's personal data; counts, statuses and the fact of an opt-out stay",
        answer("What was erased, in counts", ref("Erasure")), parameters=[SLUG, PHONE], owner=True)},
}

DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "smsdesk API", "version": __version__,
             "description": "The JSON API for agents and owners. Send an API token (`smsdesk token create`) "
                            "as `Authorization: Bearer <token>`; errors are `{\"error\", \"message\"}`."},
    "servers": [{"url": "/"}],
    "security": [{"bearer": []}],
    "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}, "schemas": SCHEMAS},
    "paths": PATHS,
}


def openapi_json():
    return jsonify(DOCUMENT)


def init_app(app: Flask) -> None:
    """Served outside the API blueprint: reading the document needs no token."""
    app.add_url_rule(PATH, "openapi", openapi_json)
