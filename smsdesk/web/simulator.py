"""The phone simulator: with the ``simulator`` provider, play the customer in the browser.

A reply typed here goes through ``handle_inbound``, the same path as Twilio's inbound
webhook, so keywords (STOP, HELP) and the agents' queue behave exactly as in production.
"""
from __future__ import annotations

import secrets

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from smsdesk.db import get_session
from smsdesk.models import Customer, Direction, Message, MessageStatus, Store
from smsdesk.services.access import customer_for, store_ids_for
from smsdesk.services.conversations import find_inbound
from smsdesk.services.inbound import handle_inbound
from smsdesk.services.media import MediaRefused, add_picture, media_of, read_picture
from smsdesk.sms.simulator import SimulatedFailure
from smsdesk.web import bp
from smsdesk.web.auth import login_required, signed_in_agent

PHONES_SHOWN = 200  # customers listed, newest first
SIMULATED_SID_PREFIX = "SMsim"
# What the customer's phone shows: texts that left smsdesk, and their own texts.
ON_PHONE = (MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.RECEIVED)
MAX_TEXT = 1600  # characters, as Twilio takes


def _require_simulator() -> None:
    if current_app.extensions["smsdesk.provider"].name != "simulator":
        abort(404, description="The phone simulator is only there when [sms] provider = \"simulator\".")


def _phone_messages(customer: Customer) -> list[Message]:
    return list(get_session().scalars(select(Message).where(
        Message.customer_id == customer.id, Message.status.in_(ON_PHONE)).order_by(Message.created_at, Message.id)
    ))


def _pictures(messages: list[Message]) -> dict:
    """The pictures of the phone's texts (shown through the inbox's picture route)."""
    return media_of(get_session(), [m.id for m in messages if m.media_count])


@bp.get("/simulator")
@login_required
def simulator():
    """The customers' phones; the selected one shows its texts."""
    _require_simulator()
    session = get_session()
    query = select(Customer).join(Store).order_by(Customer.id.desc()).limit(PHONES_SHOWN)
    store_ids = store_ids_for(session, signed_in_agent())
    if store_ids is not None:  # only the phones of the user's stores' customers
        query = query.where(Customer.store_id.in_(store_ids))
    customers = session.scalars(query).all()
    chosen = request.args.get("customer", type=int)
    current = customer_for(session, signed_in_agent(), chosen) if chosen else next(iter(customers), None)
    provider = current_app.extensions["smsdesk.provider"]
    messages = _phone_messages(current) if current else []
    return render_template("simulator.html", customers=customers, current=current,
                           messages=messages, pictures=_pictures(messages), Direction=Direction,
                           media_max_bytes=current_app.config["SMSDESK"].media.max_bytes,
                           failures=list(SimulatedFailure),
                           failure=provider.failure_of(current.phone) if current else SimulatedFailure.NONE)


@bp.get("/simulator/<int:customer_id>/screen")
@login_required
def simulator_screen(customer_id: int):
    """The phone's screen as a fragment, polled for new texts."""
    _require_simulator()
    customer = customer_for(get_session(), signed_in_agent(), customer_id)
    messages = _phone_messages(customer)
    return render_template("_phone_screen.html", messages=messages, pictures=_pictures(messages), Direction=Direction)


@bp.post("/simulator/<int:customer_id>/reply")
@login_required
def simulator_reply(customer_id: int):
    """Text the store as this customer."""
    _require_simulator()
    session = get_session()
    customer = customer_for(session, signed_in_agent(), customer_id)
    body, picture = request.form.get("body", "").strip(), read_picture(request.files.get("picture"))
    if (not body and picture is None) or len(body) > MAX_TEXT:
        flash(f"Type a text of 1 to {MAX_TEXT} characters, or pick a photo.", "error")
        return redirect(url_for("web.simulator", customer=customer_id))
    sid = SIMULATED_SID_PREFIX + secrets.token_hex(14)
    handle_inbound(session, store=customer.store, customer=customer, body=body, provider_sid=sid)
    message = find_inbound(session, sid)
    assert message is not None  # recorded just now, under a new sid
    if picture is not None:  # as Twilio would hold it; here the phone hands it over directly
        try:
            add_picture(session, message, picture,
                        max_bytes=current_app.config["SMSDESK"].media.max_bytes)
        except MediaRefused as exc:
            session.rollback()
            flash(f"Not sent: {exc}.", "error")
            return redirect(url_for("web.simulator", customer=customer_id))
    session.commit()
    return redirect(url_for("web.simulator", customer=customer_id))


@bp.post("/simulator/<int:customer_id>/failure")
@login_required
def simulator_failure(customer_id: int):
    """Make this phone fail the texts sent to it (or deliver them again), as a real one can."""
    _require_simulator()
    customer = customer_for(get_session(), signed_in_agent(), customer_id)
    try:
        failure = SimulatedFailure(request.form.get("failure", ""))
    except ValueError:
        abort(400, description=f"Pick one of: {', '.join(f.value for f in SimulatedFailure)}.")
    current_app.extensions["smsdesk.provider"].set_failure(customer.phone, failure)
    flash(f"This phone now: {failure.label}.", "ok")
    return redirect(url_for("web.simulator", customer=customer_id))
