"""What happens when a customer texts in: keywords first, then the agents' queue."""
from __future__ import annotations

import re
import unicodedata

from sqlalchemy.orm import Session

from smsdesk.models import Conversation, Customer, Direction, Message, MessageStatus, Store, utcnow
from smsdesk.reasons import Reason
from smsdesk.services import feedback
from smsdesk.services.auto_answers import auto_answer
from smsdesk.services.consent import withdraw_for_stop
from smsdesk.services.conversations import receive_inbound, touch_conversation
from smsdesk.services.customers import set_opted_out
from smsdesk.services.media import InboundMedia, add_inbound
from smsdesk.services.outbox import cancel_pending, enqueue_kind
from smsdesk.services.template_store import language_of, resolve_template
from smsdesk.services.templates import build_context, render_message
from smsdesk.services.untrusted import clean_text
from smsdesk.services.waiting import text_waits

# Carrier keyword families (CTIA; Twilio's defaults, plus the French ones Canadian carriers
# require). Only a message that IS the keyword counts: "don't stop my order" is no opt-out.
STOP_WORDS = {"STOP", "STOPALL", "STOP ALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT",
              "OPT OUT", "ARRET", "STOP TEXTING", "STOP SENDING", "STOP MESSAGING"}
START_WORDS = {"START", "YES", "UNSTOP", "SUBSCRIBE"}
HELP_WORDS = {"HELP", "INFO", "AIDE"}
# The same families in the customers' languages (accents are stripped before matching: "ARRÊT" is
# "ARRET"). A word in one of these tells the customer's language when we did not know it; English
# words (STOP, INFO) tell none: the store's default language stays the customer's.
LANGUAGE_KEYWORDS: dict[str, dict[str, set[str]]] = {
    "es": {"stop": {"PARAR", "PARA", "ALTO", "BAJA", "DARME DE BAJA", "CANCELAR", "DETENER"},
           "start": {"ALTA", "COMENZAR", "EMPEZAR", "REANUDAR", "SUSCRIBIR"},
           "help": {"AYUDA"}},
    "fr": {"stop": {"ARRET", "ARRETER", "DESABONNER", "DESINSCRIRE", "DESABONNEMENT"},
           "start": {"REPRENDRE", "ABONNER", "REABONNER", "OUI"},
           "help": {"AIDE"}},
    "de": {"stop": {"STOPP", "ABMELDEN", "ABBESTELLEN", "BEENDEN"},
           "start": {"ANMELDEN", "STARTEN"},
           "help": {"HILFE"}},
}
for _families in LANGUAGE_KEYWORDS.values():
    STOP_WORDS |= _families["stop"]
    START_WORDS |= _families["start"]
    HELP_WORDS |= _families["help"]
# Politeness around a keyword does not change it: "Stop please", "STOP THANKS", "Unsubscribe me",
# "Baja por favor", "Stopp bitte", "Arrêt merci".
FILLER_WORDS = {"PLEASE", "PLS", "PLZ", "THANKS", "THANK", "YOU", "THX", "TY", "ME", "NOW",
                "POR", "FAVOR", "GRACIAS", "MERCI", "SVP", "BITTE", "DANKE"}
FAMILIES = (("stop", STOP_WORDS), ("start", START_WORDS), ("help", HELP_WORDS))


def _cleaned(body: str) -> str:
    plain = unicodedata.normalize("NFKD", body or "").encode("ascii", "ignore").decode()
    return " ".join(w for w in re.sub(r"[^A-Za-z]+", " ", plain).upper().split() if w not in FILLER_WORDS)


def keyword(body: str) -> str | None:
    """'stop', 'start' or 'help' when the whole message is such a keyword, else None.

    Case, accents, spaces, punctuation and emoji are ignored (" Stop. ", "Arrêt", "STOP 🛑").
    """
    cleaned = _cleaned(body)
    for name, family in FAMILIES:
        if cleaned in family:
            return name
    return None


def keyword_language(body: str) -> str | None:
    """The language a keyword is in ("AYUDA" -> "es"); None for the carriers' words and shared ones."""
    cleaned = _cleaned(body)
    found = {language for language, families in LANGUAGE_KEYWORDS.items()
             if any(cleaned in words for words in families.values())}
    return found.pop() if len(found) == 1 else None


def handle_inbound(session: Session, *, store: Store, customer: Customer, body: str, provider_sid: str,
                   media: list[InboundMedia] | None = None) -> str | None:
    """Record the text (and its pictures) and act on keywords; returns a reply to send inline
    (TwiML) or None.

    NUL and lone surrogates are dropped from the text: it is still the customer's message
    (a phone's odd bytes), and refusing it would lose it."""
    body = clean_text(body)
    message = receive_inbound(session, store=store, customer=customer, body=body, provider_sid=provider_sid)
    if message is None:
        return None  # a retried webhook: already handled
    if media:
        session.flush()  # the pictures point at the text's id
        add_inbound(session, message, media)
    word = keyword(body)
    if word is not None:
        _learn_language(customer, body)
    if word == "stop":
        _opt_out(session, store=store, customer=customer, message=message)
    elif word == "start":
        _opt_in(session, store=store, customer=customer, message=message)
    elif word == "help":
        _answered(session, message)
        return _help(session, store=store, customer=customer)
    elif feedback.take_rating(session, customer=customer, message=message):
        return None  # a rating of a feedback request: recorded (services/feedback.py)
    elif not auto_answer(session, store=store, customer=customer, message=message):
        # not a keyword, a rating nor answered automatically: the away message and automatic
        # assignment, if it still waits
        text_waits(session, store=store, customer=customer, message=message)
    return None


def _learn_language(customer: Customer, body: str) -> None:
    """A keyword in a language ("AYUDA") tells the language of a customer we knew none of; a platform's
    word, once known, is not overridden by a keyword."""
    if customer.language is None:
        customer.language = keyword_language(body)


def _context(store: Store, customer: Customer) -> dict:
    return build_context(store={"name": store.name, "support_contact": store.help_text},
                         customer={"first_name": customer.first_name})


def _opt_out(session: Session, *, store: Store, customer: Customer, message: Message) -> None:
    """Opt out and withdraw marketing consent; pending texts are cancelled and, once, a
    confirmation goes out."""
    if set_opted_out(session, customer, True, source="keyword", reason=message.body.strip()[:255]):
        cancel_pending(session, reason=Reason.OPTED_OUT, customer_id=customer.id)
        withdraw_for_stop(session, customer, word=message.body)
        # Sent even though opted out: the confirmation is the one text a STOP allows. Not
        # when the platform confirms itself (Twilio Advanced Opt-Out): that would be two.
        if store.send_opt_out_confirmation:
            enqueue_kind(session, store=store, customer=customer, kind="opt_out_confirmation",
                         context=_context(store, customer), dedupe_key=f"optout:{message.id}")
    _answered(session, message)


def _opt_in(session: Session, *, store: Store, customer: Customer, message: Message) -> None:
    """Opt back in; a "yes" from a customer who never opted out is an answer for the agents.

    START lifts the opt-out only: transactional texts resume, but it is no marketing consent
    (the STOP withdrew that); marketing needs a new grant from the store (services/consent.py).
    """
    if set_opted_out(session, customer, False, source="keyword", reason=message.body.strip()[:255]):
        # The same store setting as for STOP: a platform that confirms STOP confirms START too.
        if store.send_opt_out_confirmation:
            enqueue_kind(session, store=store, customer=customer, kind="opt_in_confirmation",
                         context=_context(store, customer), dedupe_key=f"optin:{message.id}")
        _answered(session, message)


def _help(session: Session, *, store: Store, customer: Customer) -> str | None:
    """HELP is answered inline (TwiML) and recorded in the thread as sent."""
    template = resolve_template(session, store_id=store.id, kind="help_reply", language=language_of(store, customer),
                                default_language=store.default_language)
    text = render_message(template.body, _context(store, customer))
    conversation = touch_conversation(session, store_id=store.id, customer_id=customer.id, at=utcnow())
    session.add(Message(store_id=store.id, customer_id=customer.id, conversation_id=conversation.id,
                        direction=Direction.OUT, kind="help_reply", body=text, status=MessageStatus.SENT,
                        reason_detail="answered inline (TwiML)"))
    return text


def _answered(session: Session, message: Message) -> None:
    """A keyword is answered automatically: it does not wait for an agent."""
    conversation = session.get_one(Conversation, message.conversation_id)
    if conversation.waiting_since == message.created_at:  # nothing else was waiting before it
        conversation.waiting_since = None
