"""The built-in automatic answers in Spanish, French and German, written as a native speaker would.

French and German keep to the GSM-7 alphabet (é, è, à, ä, ö, ü, ß are in it; ’, ê, ô, ° are not),
so they cost what English does; Spanish needs á, í, ó, ú, which makes a text UCS-2 (67 characters a
segment), accepted rather than writing without accents.

English is the kind's own default (services/template_kinds.py); services/builtin_texts.py holds these
with every other kind's, and services/template_store.py chooses among them and the owner's versions.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class _Words:
    hi_your: str  # "Hi Emma, your" / "Your", as a template fragment
    order: str  # "order #1042"
    shipped: str
    shipped_with: str  # " with UPS"
    track: str
    tracking_number: str
    out_for_delivery: str
    ready: str
    delivered: str
    cancelled: str
    refunded: str
    confirmed: str
    details: str
    agent: str
    handoff: str


_LANGUAGES = {
    "es": _Words(
        hi_your="{% if customer.first_name %}Hola {{ customer.first_name }}, tu{% else %}Tu{% endif %}",
        order="pedido #{{ order.number }}", shipped="ya fue enviado", shipped_with=" con",
        track="Síguelo aquí:", tracking_number="Número de seguimiento:",
        out_for_delivery="está en reparto y debería llegar hoy.", ready="ya está listo para recoger.",
        delivered="fue entregado.", cancelled="fue cancelado.", refunded="fue reembolsado.",
        confirmed="está confirmado y en preparación. Te enviaremos el enlace de seguimiento cuando salga.",
        details="Detalles:", agent="Responde AGENTE para hablar con una persona.",
        handoff="Una persona de {{ store.name }} te responderá aquí en breve."),
    "fr": _Words(
        hi_your="{% if customer.first_name %}Bonjour {{ customer.first_name }}, votre{% else %}Votre{% endif %}",
        order="commande #{{ order.number }}", shipped="a été expédiée", shipped_with=" avec",
        track="Suivi :", tracking_number="Numéro de suivi :",
        out_for_delivery="est en cours de livraison et devrait arriver aujourd'hui.",
        ready="est disponible pour le retrait.", delivered="a été livrée.", cancelled="a été annulée.",
        refunded="a été remboursée.",
        confirmed="est confirmée et en préparation. Nous vous enverrons le lien de suivi dès son expédition.",
        details="Détails :", agent="Répondez CONSEILLER pour parler à une personne.",
        handoff="Un conseiller de {{ store.name }} va vous répondre ici rapidement."),
    "de": _Words(
        hi_your="{% if customer.first_name %}Hallo {{ customer.first_name }}, Ihre{% else %}Ihre{% endif %}",
        order="Bestellung #{{ order.number }}", shipped="wurde versandt", shipped_with=" mit",
        track="Sendungsverfolgung:", tracking_number="Sendungsnummer:",
        out_for_delivery="ist in der Zustellung und kommt voraussichtlich heute an.",
        ready="liegt zur Abholung bereit.", delivered="wurde zugestellt.", cancelled="wurde storniert.",
        refunded="wurde erstattet.",
        confirmed="ist bestätigt und wird vorbereitet. Sobald sie versandt ist, schicken wir Ihnen den Link "
                  "zur Sendungsverfolgung.",
        details="Details:", agent="Antworten Sie MITARBEITER, um mit einer Person zu sprechen.",
        handoff="Eine Person von {{ store.name }} antwortet Ihnen hier in Kürze."),
}


def _order_status(w: _Words) -> str:
    head = "{{ store.name }}: " + w.hi_your + " " + w.order + " "
    if w is _LANGUAGES["de"]:  # "wurde mit DHL versandt": the carrier goes before the verb
        shipped = ("wurde{% if tracking.company %} mit {{ tracking.company }}{% endif %} versandt.")
    else:
        shipped = w.shipped + "{% if tracking.company %}" + w.shipped_with + " {{ tracking.company }}{% endif %}."
    return (head + "{% if answer.status == 'shipped' %}" + shipped +
            "{% if tracking.url %} " + w.track + " {{ tracking.url }}{% elif tracking.number %} " +
            w.tracking_number + " {{ tracking.number }}{% endif %}"
            "{% elif answer.status == 'out_for_delivery' %}" + w.out_for_delivery +
            "{% if tracking.url %} " + w.track + " {{ tracking.url }}{% endif %}"
            "{% elif answer.status == 'ready_for_pickup' %}" + w.ready +
            "{% elif answer.status == 'delivered' %}" + w.delivered +
            "{% if tracking.url %} " + w.details + " {{ tracking.url }}{% endif %}"
            "{% elif answer.status == 'cancelled' %}" + w.cancelled +
            "{% elif answer.status == 'refunded' %}" + w.refunded +
            "{% else %}" + w.confirmed + "{% endif %}"
            "{% if order.status_url and answer.status not in ('shipped', 'out_for_delivery', 'delivered') %} " +
            w.details + " {{ order.status_url }}{% endif %} " + w.agent)


BODIES: dict[str, dict[str, str]] = {
    "order_status_answer": {lang: _order_status(w) for lang, w in _LANGUAGES.items()},
    "faq_answer": {lang: "{{ store.name }}: {{ answer.text }} " + w.agent for lang, w in _LANGUAGES.items()},
    "handoff_ack": {lang: w.handoff for lang, w in _LANGUAGES.items()},
}

