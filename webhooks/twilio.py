"""Twilio: inbound SMS from customers and message status callbacks, both signed."""
from __future__ import annotations

import logging
from xml.sax.saxutils import escape

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy import or_, select
from twilio.request_validator import RequestValidator
from werkzeug.exceptions import HTTPException

from smsdesk.db import get_session
from smsdesk.models import Store
from smsdesk.services.customers import get_or_create_customer
from smsdesk.services.delivery import apply_status
from smsdesk.services.inbound import handle_inbound
from smsdesk.services.media import MAX_PER_MESSAGE, InboundMedia
from smsdesk.services.phones import normalize_phone
from smsdesk.services.untrusted import clean_text, small_int
from webhooks import http_error, refuse

log = logging.getLogger(__name__)
bp = Blueprint("twilio_webhooks", __name__, url_prefix="/webhooks/twilio")
bp.register_error_handler(HTTPException, http_error)
MAX_SID = 64  # characters of Message.provider_sid; Twilio's are 34


def form_fields() -> dict[str, str]:
    """The (signed) form, each value without NUL or lone surrogates: a customer's text is kept,
    whatever their phone put in it, and nothing unstorable reaches a query."""
    return {key: clean_text(value) for key, value in request.form.items()}


def twiml(message: str | None = None) -> Response:
    inner = f"<Message>{escape(message)}</Message>" if message else ""
    return Response(f'<?xml version="1.0" encoding="UTF-8"?><Response>{inner}</Response>', mimetype="text/xml")


@bp.before_request
def check_signature():
    config = current_app.config["SMSDESK"]
    if not config.twilio.validate_signatures:
        return None
    url = config.server.public_url.rstrip("/") + request.full_path.rstrip("?")
    validator = RequestValidator(config.twilio.auth_token)
    if not validator.validate(url, request.form.to_dict(), request.headers.get("X-Twilio-Signature", "")):
        log.warning("twilio webhook %s: bad signature", request.path)
        return refuse("invalid_signature", 403, "invalid Twilio signature")
    return None


@bp.post("/sms")
def inbound_sms():
    form = form_fields()
    sid, body = form.get("MessageSid") or form.get("SmsSid"), form.get("Body", "")
    if not sid or not form.get("From"):
        return refuse("missing_field", 400, "MessageSid and From are required")
    if len(sid) > MAX_SID:
        return refuse("invalid_sid", 400, f"MessageSid is longer than {MAX_SID} characters")
    session = get_session()
    store = find_store(session, to=form.get("To", ""), service_sid=form.get("MessagingServiceSid"))
    if store is None:
        log.warning("inbound SMS %s to %s: no store sends from that number or service", sid, form.get("To"))
        return twiml()
    phone = normalize_phone(form["From"], form.get("FromCountry") or store.country)
    if phone is None:
        log.warning("inbound SMS %s: unusable From number", sid)
        return twiml()
    customer = get_or_create_customer(session, store_id=store.id, phone=phone)
    answer_text = handle_inbound(session, store=store, customer=customer, body=body, provider_sid=sid,
                                 media=inbound_media(form, sid))
    session.commit()
    return twiml(answer_text)


def inbound_media(form: dict[str, str], sid: str) -> list[InboundMedia]:
    """The pictures of an MMS (``NumMedia``, ``MediaUrl{i}``, ``MediaContentType{i}``). Only URLs of
    our Twilio account at Twilio's API host are kept: a webhook must never make us fetch elsewhere."""
    count = small_int(form.get("NumMedia", "0") or "0")
    if count is None or count > MAX_PER_MESSAGE:
        log.warning("inbound SMS %s: NumMedia is not 0-%d; its pictures are ignored", sid, MAX_PER_MESSAGE)
        return []
    fetcher = current_app.extensions["smsdesk.media_fetcher"]
    items = []
    for i in range(count):
        url = form.get(f"MediaUrl{i}", "")
        if not fetcher.accepts(url):
            log.warning("inbound SMS %s: MediaUrl%d is not a Twilio media URL of this account; ignored", sid, i)
            continue
        items.append(InboundMedia(url=url, content_type=form.get(f"MediaContentType{i}", "")))
    return items


def find_store(session, *, to: str, service_sid: str | None) -> Store | None:
    """The store by its messaging service (a pool of numbers), else by the number texted."""
    conditions = [Store.from_number == to] if to else []
    if service_sid:
        by_service = session.scalar(select(Store).where(Store.messaging_service_sid == service_sid))
        if by_service is not None:
            return by_service
    return session.scalar(select(Store).where(or_(*conditions)).order_by(Store.id)) if conditions else None


@bp.post("/status")
def status_callback():
    form = form_fields()
    sid, status = form.get("MessageSid") or form.get("SmsSid"), form.get("MessageStatus") or form.get("SmsStatus")
    if not sid or not status:
        return refuse("missing_field", 400, "MessageSid and MessageStatus are required")
    if len(sid) > MAX_SID:
        return refuse("invalid_sid", 400, f"MessageSid is longer than {MAX_SID} characters")
    session = get_session()
    found = apply_status(session, sid=sid, status=status, error_code=form.get("ErrorCode"),
                         message_id=small_int(request.args.get("message_id", "")))
    session.commit()
    if not found:
        log.info("status callback for unknown message %s (%s)", sid[:64], status[:40])
    return jsonify({"status": "ok"})
