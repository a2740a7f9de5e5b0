"""The built-in texts of every message kind in Spanish, French and German, written as a native
speaker would; English is each kind's ``default_body`` (services/template_kinds.py).

Spanish speaks to the customer as "tú" (what Spanish-speaking shops write), French and German as
"vous"/"Sie". French and German keep to the GSM-7 alphabet (é, è, à, ä, ö, ü, ß are in it; ê, ô, ç,
’ are not), so they cost what English does; Spanish avoids accents where a natural phrasing needs
none, and otherwise accepts UCS-2 (67 characters a segment) rather than misspelling.
The automatic answers' texts live in services/answer_texts.py and are part of the same table.
"""
from __future__ import annotations

from smsdesk.services import answer_texts
from smsdesk.services.languages import ENGLISH
from smsdesk.services.template_kinds import KINDS

_FN = "{{ customer.first_name }}"


def _cased(lower: str) -> str:
    """``lower`` after a greeting ("Hola Ana, tu"), capitalized when there is none ("Tu")."""
    return "{% if customer.first_name %}" + lower + "{% else %}" + lower[:1].upper() + lower[1:] + "{% endif %}"


def _greet(hello: str) -> str:
    """"Hola Ana, " when the first name is known, else nothing."""
    return "{% if customer.first_name %}" + hello + " " + _FN + ", {% endif %}"


def _package(hello: str, part_of: str, your: str, order: str) -> str:
    """"Hola Ana, parte de tu pedido #1042" for a package holding only some of the order."""
    return (_greet(hello) + "{% if shipment.partial %}" + _cased(part_of) + "{% else %}" + _cased(your) +
            "{% endif %} " + order)


def _part_count(of: str, items: str) -> str:
    return ("{% if shipment.partial %} ({{ shipment.item_count }} " + of + " {{ shipment.order_item_count }} " +
            items + "){% endif %}")


_S = "{{ store.name }}: "
_ORDER = "#{{ order.number }}"
_ES_PKG = _package("Hola", "parte de tu", "tu", "pedido " + _ORDER) + _part_count("de", "productos")
_FR_PKG = (_package("Bonjour", "une partie de votre", "votre", "commande " + _ORDER) +
           _part_count("article{% if shipment.item_count != 1 %}s{% endif %} sur", "").replace(" )", ")"))
_DE_PKG = _package("Hallo", "ein Teil Ihrer", "Ihre", "Bestellung " + _ORDER) + _part_count("von", "Artikeln")
_ES_HI = _greet("Hola") + _cased("tu") + " pedido " + _ORDER
_FR_HI = _greet("Bonjour") + _cased("votre") + " commande " + _ORDER
_DE_HI = _greet("Hallo") + "Ihre Bestellung " + _ORDER
_IF_URL = "{% if order.status_url %} {label} {{ order.status_url }}{% endif %}"
_TRACK_URL = "{% if tracking.url %} {label} {{ tracking.url }}{% endif %}"
_TRACK_NO = "{% if tracking.number %} {label} {{ tracking.number }}{% endif %}"
_CARRIER = "{% if tracking.company %} {word} {{ tracking.company }}{% endif %}"
_CART_ITEM = "{% if cart.first_item %}{{ cart.first_item }}{% else %}{something}{% endif %}"
_HELP_CONTACT = "{% if store.support_contact %} {label} {{ store.support_contact }}{% endif %}"
_REFUND_AMOUNT = "{% if refund.amount %} {word} {{ refund.amount }} {{ order.currency }}{% endif %}"

# The opt-out line a marketing text ends with (services/compliance.py adds it when missing).
OPT_OUT_LINES: dict[str, str] = {
    "en": "Reply STOP to opt out.",
    "es": "Responde STOP para darte de baja.",
    "fr": "Répondez STOP pour vous désabonner.",
    "de": "Antworten Sie STOP zum Abmelden.",
}

_SPANISH = {
    "order_confirmed": _S + _greet("Hola") + _cased("gracias") + " por tu pedido " + _ORDER + ". "
    "Te avisaremos cuando salga." + _IF_URL.replace("{label}", "Detalles:"),
    "order_shipped": _S + _ES_PKG + " ya va en camino" + _CARRIER.replace("{word}", "con") + "." +
    _TRACK_NO.replace("{label}", "Seguimiento:") + "{% if tracking.url %} {{ tracking.url }}{% endif %}",
    "out_for_delivery": _S + _ES_PKG + " llega hoy: ya va con el repartidor." +
    _TRACK_URL.replace("{label}", "Seguimiento:"),
    "ready_for_pickup": _S + _ES_HI + " ya se puede recoger. Muestra este mensaje al retirarlo.",
    "delivered": _S + _greet("Hola") + "{% if shipment.partial %}" + _cased("hemos entregado parte de tu") +
    " pedido " + _ORDER + _part_count("de", "productos") + "{% else %}" + _cased("tu") + " pedido " + _ORDER +
    " ha sido entregado{% endif %}. ¡Que lo disfrutes! ¿Dudas? Responde a este mensaje.",
    "order_cancelled": _S + _ES_HI + " ha sido cancelado. ¿Dudas? Responde a este mensaje.",
    "order_refunded": _S + _greet("Hola") + _cased("hemos") + " emitido un reembolso"
    "{% if refund.partial %} parcial{% endif %}" + _REFUND_AMOUNT.replace("{word}", "de") +
    " por tu pedido " + _ORDER + ". Puede tardar unos días en verse en tu cuenta. ¿Dudas? Responde aquí.",
    "cart_reminder_1": _S + _greet("Hola") + _cased("dejaste") + " " + _CART_ITEM.replace("{something}", "algo") +
    " en tu carrito. Completa tu compra: {{ cart.recovery_url }} " + OPT_OUT_LINES["es"],
    "cart_reminder_2": _S + "¿Lo sigues pensando{% if customer.first_name %}, " + _FN + "{% endif %}? "
    "Guardamos tu carrito: {{ cart.recovery_url }} " + OPT_OUT_LINES["es"],
    "help_reply": _S + "avisos de pedidos y recordatorios de carrito. Frecuencia variable. Pueden aplicarse "
    "tarifas de mensajes y datos. " + OPT_OUT_LINES["es"] + _HELP_CONTACT.replace("{label}", "Ayuda:"),
    "opt_out_confirmation": "Te has dado de baja de los SMS de {{ store.name }}. Ya no te enviaremos "
    "mensajes. Responde START para volver a suscribirte.",
    "opt_in_confirmation": "Te has suscrito de nuevo a los SMS de {{ store.name }}. Frecuencia variable. "
    "Pueden aplicarse tarifas de mensajes y datos. Responde AYUDA para obtener ayuda o STOP para darte de baja.",
    "feedback_request": _S + "{% if customer.first_name %}¡Hola " + _FN + "! {% endif %}Valora tu experiencia"
    "{% if order.number %} con el pedido " + _ORDER + "{% endif %}: responde del 1 (mala) al 5 (excelente).",
    "away_message": _S + "¡Gracias por tu mensaje! Ahora estamos fuera de horario{% if hours.back_at %}; volvemos "
    "{{ hours.back_at }} y te responderemos entonces.{% else %}; te responderemos en cuanto volvamos.{% endif %}",
}
_FRENCH = {
    "order_confirmed": _S + _greet("Bonjour") + _cased("merci") + " pour votre commande " + _ORDER + " ! "
    "Nous vous enverrons un SMS dès son expédition." + _IF_URL.replace("{label}", "Détails :"),
    "order_shipped": _S + _FR_PKG + " a été expédiée" + _CARRIER.replace("{word}", "par") + " !" +
    _TRACK_NO.replace("{label}", "Numéro de suivi :") + "{% if tracking.url %} {{ tracking.url }}{% endif %}",
    "out_for_delivery": _S + _FR_PKG + " est en cours de livraison et arrivera aujourd'hui." +
    _TRACK_URL.replace("{label}", "Suivi :"),
    "ready_for_pickup": _S + _FR_HI + " est disponible pour le retrait. Merci de présenter ce SMS au retrait.",
    "delivered": _S + _FR_PKG + " a été livrée. Bonne découverte ! Une question ? Répondez simplement à ce SMS.",
    "order_cancelled": _S + _FR_HI + " a été annulée. Une question ? Répondez simplement à ce SMS.",
    "order_refunded": _S + _greet("Bonjour") + _cased("nous") + " avons effectué un remboursement"
    "{% if refund.partial %} partiel{% endif %}" + _REFUND_AMOUNT.replace("{word}", "de") +
    " pour votre commande " + _ORDER + ". Le montant sera visible sur votre relevé sous quelques jours. "
    "Une question ? Répondez à ce SMS.",
    "cart_reminder_1": _S + _greet("Bonjour") + _cased("vous") + " avez laissé " +
    _CART_ITEM.replace("{something}", "un article") + " dans votre panier. Finalisez votre commande : "
    "{{ cart.recovery_url }} " + OPT_OUT_LINES["fr"],
    "cart_reminder_2": _S + "Vous hésitez encore{% if customer.first_name %}, " + _FN + "{% endif %} ? "
    "Nous avons gardé votre panier : {{ cart.recovery_url }} " + OPT_OUT_LINES["fr"],
    "help_reply": _S + "suivi de commande et rappels de panier. Fréquence variable. Des frais de messagerie "
    "peuvent s'appliquer. " + OPT_OUT_LINES["fr"] + _HELP_CONTACT.replace("{label}", "Aide :"),
    "opt_out_confirmation": "Votre désabonnement des SMS de {{ store.name }} est confirmé : vous ne recevrez "
    "plus de messages. Répondez START pour vous réabonner.",
    "opt_in_confirmation": "Votre réabonnement aux SMS de {{ store.name }} est confirmé. Fréquence variable. "
    "Des frais de messagerie peuvent s'appliquer. Répondez AIDE pour de l'aide, STOP pour vous désabonner.",
    "feedback_request": _S + "{% if customer.first_name %}Bonjour " + _FN + " ! {% endif %}Que pensez-vous de "
    "notre service{% if order.number %} pour la commande " + _ORDER + "{% endif %} ? Répondez par une note de "
    "1 (mauvais) à 5 (excellent).",
    "away_message": _S + "Merci pour votre message ! Nous sommes actuellement fermés{% if hours.back_at %} et "
    "serons de retour {{ hours.back_at }} pour vous répondre.{% else %} et vous répondrons dès notre retour."
    "{% endif %}",
}
_GERMAN = {
    "order_confirmed": _S + _greet("Hallo") + _cased("danke") + " für Ihre Bestellung " + _ORDER + "! "
    "Wir schicken Ihnen eine SMS, sobald sie versandt ist." + _IF_URL.replace("{label}", "Details:"),
    "order_shipped": _S + _DE_PKG + " wurde" + _CARRIER.replace("{word}", "mit") + " versandt!" +
    _TRACK_NO.replace("{label}", "Sendungsnummer:") + "{% if tracking.url %} {{ tracking.url }}{% endif %}",
    "out_for_delivery": _S + _DE_PKG + " ist in der Zustellung und kommt heute an." +
    _TRACK_URL.replace("{label}", "Sendungsverfolgung:"),
    "ready_for_pickup": _S + _DE_HI + " liegt zur Abholung bereit. Bitte zeigen Sie diese SMS bei der Abholung vor.",
    "delivered": _S + _DE_PKG + " wurde zugestellt. Viel Freude damit! Fragen? Antworten Sie einfach auf diese SMS.",
    "order_cancelled": _S + _DE_HI + " wurde storniert. Fragen? Antworten Sie einfach auf diese SMS.",
    "order_refunded": _S + _greet("Hallo") + "{% if refund.amount %}" + _cased("wir") + " haben Ihnen "
    "{{ refund.amount }} {{ order.currency }} für Ihre Bestellung " + _ORDER + " erstattet{% else %}Ihre Bestellung " +
    _ORDER + " wurde {% if refund.partial %}teilweise {% endif %}erstattet{% endif %}. Bis die Gutschrift "
    "erscheint, kann es ein paar Tage dauern. Fragen? Antworten Sie einfach.",
    "cart_reminder_1": _S + _greet("Hallo") + "Sie haben " + _CART_ITEM.replace("{something}", "etwas") +
    " im Warenkorb gelassen. Jetzt bestellen: {{ cart.recovery_url }} " + OPT_OUT_LINES["de"],
    "cart_reminder_2": _S + "Noch unentschlossen{% if customer.first_name %}, " + _FN + "{% endif %}? "
    "Wir haben Ihren Warenkorb gespeichert: {{ cart.recovery_url }} " + OPT_OUT_LINES["de"],
    "help_reply": _S + "Bestell-Updates und Warenkorb-Erinnerungen. Häufigkeit variiert. Es können Kosten für "
    "SMS und Daten anfallen. " + OPT_OUT_LINES["de"] + _HELP_CONTACT.replace("{label}", "Hilfe:"),
    "opt_out_confirmation": "Sie haben sich von den SMS von {{ store.name }} abgemeldet und erhalten keine "
    "weiteren Nachrichten. Antworten Sie START, um sich wieder anzumelden.",
    "opt_in_confirmation": "Sie erhalten wieder SMS von {{ store.name }}. Häufigkeit variiert. Es können Kosten "
    "für SMS und Daten anfallen. Antworten Sie HILFE für Hilfe, STOP zum Abmelden.",
    "feedback_request": _S + "{% if customer.first_name %}Hallo " + _FN + "! {% endif %}Wie zufrieden waren Sie"
    "{% if order.number %} mit Ihrer Bestellung " + _ORDER + "{% endif %}? Antworten Sie mit einer Zahl von "
    "1 (schlecht) bis 5 (sehr gut).",
    "away_message": _S + "Danke für Ihre Nachricht! Wir sind gerade nicht erreichbar{% if hours.back_at %} und "
    "ab {{ hours.back_at }} wieder für Sie da.{% else %} und antworten Ihnen, sobald wir zurück sind.{% endif %}",
}
BODIES: dict[str, dict[str, str]] = {
    kind: {"es": _SPANISH[kind], "fr": _FRENCH[kind], "de": _GERMAN[kind]} for kind in _SPANISH
} | answer_texts.BODIES


def built_in(kind: str, language: str) -> str | None:
    """The built-in body of ``kind`` in ``language``; None when there is none in that language."""
    if language == ENGLISH:
        return KINDS[kind].default_body
    return BODIES.get(kind, {}).get(language)


def opt_out_line(language: str | None) -> str:
    return OPT_OUT_LINES.get(language or ENGLISH, OPT_OUT_LINES[ENGLISH])
