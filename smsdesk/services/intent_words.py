"""The words the intent classifier (services/intents.py) knows, per concept and language, already
normalized (lowercase, no accents, no apostrophes: "where's" is "wheres", "où" is "ou").

A word added here is a rule changed: run tests/services/test_inbound_texts_table.py.
"""
from __future__ import annotations

import re

# Concepts: language -> words. Words are already normalized (no accents, no apostrophes).
CONCEPTS: dict[str, dict[str, set[str]]] = {
    "where": {"en": {"where", "wheres", "whereabouts", "wher", "whr", "whre"}, "es": {"donde", "dnd"},
              "fr": {"ou"}, "de": {"wo", "wohin"}},
    "order": {"en": {"order", "orders", "package", "packages", "parcel", "parcels", "shipment", "delivery",
                     "stuff", "purchase", "pkg", "pakage", "packet", "ordered", "oder", "ordr", "odrer", "orer"},
              "es": {"pedido", "pedidos", "paquete", "paquetes", "orden", "envio", "compra"},
              "fr": {"commande", "commandes", "colis", "livraison", "envoi", "cde"},
              "de": {"bestellung", "bestellungen", "paket", "pakete", "lieferung", "sendung", "packchen"}},
    "track": {"en": {"track", "tracking", "trackin", "tracker", "trackingnumber"},
              "es": {"seguimiento", "rastreo", "rastrear", "rastreamento"},
              "fr": {"suivi", "suivre", "tracabilite"},
              "de": {"sendungsverfolgung", "verfolgen", "trackingnummer", "sendungsnummer", "tracking"}},
    "ship": {"en": {"shipped", "ship", "dispatched", "dispatch", "sent", "mailed", "posted", "shiped", "way"},
             "es": {"enviado", "enviaron", "enviada", "despachado", "despacharon", "salio", "mandaron", "camino"},
             "fr": {"expedie", "expediee", "expedier", "expedition", "envoye", "envoyee", "parti", "partie", "route"},
             "de": {"verschickt", "versandt", "versendet", "versand", "unterwegs", "losgeschickt", "raus"}},
    "arrive": {"en": {"arrive", "arriving", "arrived", "come", "coming", "get", "receive", "received",
                      "deliver", "delivered", "here", "expect"},
               "es": {"llega", "llegar", "llegara", "llego", "recibir", "recibo", "recibire", "entregan"},
               "fr": {"arrive", "arriver", "arrivera", "recevoir", "recevrai", "recu", "livre", "livree", "livrer"},
               "de": {"kommt", "ankommen", "angekommen", "kommen", "erhalten", "bekomme", "geliefert", "da"}},
    "when": {"en": {"when", "whens", "wen"}, "es": {"cuando"}, "fr": {"quand"}, "de": {"wann"}},
    "status": {"en": {"status", "update", "updates", "news", "progress", "eta", "check"},
               "es": {"estado", "novedades", "noticias", "estatus", "revisar"},
               "fr": {"statut", "etat", "nouvelles"},
               "de": {"status", "stand", "neuigkeiten", "lieferstatus", "bestellstatus"}},
    "it": {"en": {"it", "mine"}, "es": {"lo"}, "fr": {"la", "le"}, "de": {"es"}},
    "person": {"en": {"agent", "human", "person", "someone", "somebody", "representative", "rep", "operator",
                      "humans", "people", "service", "support"},
               "es": {"agente", "humano", "persona", "alguien", "asesor", "representante", "operador"},
               "fr": {"conseiller", "conseillere", "humain", "personne", "quelquun", "agent", "operateur"},
               "de": {"mitarbeiter", "mitarbeiterin", "mensch", "berater", "jemand", "kundendienst",
                      "kundenservice"}},
    "ask": {"en": {"talk", "speak", "chat", "want", "need", "connect", "contact", "call", "real", "live",
                   "actual", "get", "transfer"},
            "es": {"hablar", "quiero", "necesito", "real", "contactar", "llamar", "pasame", "comunicar"},
            "fr": {"parler", "veux", "voudrais", "besoin", "vrai", "vraie", "contacter", "appeler"},
            "de": {"sprechen", "mochte", "will", "brauche", "echten", "echter", "echte", "reden", "bitte"}},
}

# Words that mean the text is not a plain "where is it": an agent must read it.
VETOES: dict[str, set[str]] = {
    "cancel": {"cancel", "cancelled", "canceled", "cancellation", "cancelar", "cancela", "cancelen", "anular",
               "annuler", "annule", "annulez", "annulation", "stornieren", "storniert", "storno", "stornierung"},
    "stop": {"stop", "stopp", "stoppen", "parar", "deja", "dejen", "arreter", "arretez", "arrete",
             "aufhoren", "unsubscribe", "keine", "dont", "hold"},
    "change": {"change", "modify", "edit", "moved", "move", "mude", "demenage", "umgezogen", "cambiar",
               "modificar", "modifier", "changer", "andern", "anderung", "wrong", "address", "direccion", "adresse"},
    "return": {"return", "returns", "refund", "refunded", "exchange", "devolver", "devolucion", "reembolso",
               "rembourser", "remboursement", "retour", "retourner", "echanger", "zuruckgeben",
               "zurucksenden", "erstattung", "ruckerstattung", "umtausch", "retoure"},
    "complaint": {"damaged", "broken", "missing", "ridiculous", "terrible", "awful", "worst", "angry",
                  "scam", "unacceptable", "disappointed", "horrible", "never", "lost", "stolen", "complaint",
                  "wtf", "joke", "fraud", "roto", "rota", "danado", "perdido", "estafa", "nunca", "queja",
                  "endommage", "casse", "cassee", "perdu", "arnaque", "jamais", "inadmissible", "plainte",
                  "kaputt", "beschadigt", "verloren", "betrug", "nie", "niemals", "frechheit", "beschwerde",
                  "unverschamt", "sucks", "lawyer", "chargeback", "dispute", "working", "doesnt", "isnt", "wont",
                  "invalid", "but", "pero", "mais", "aber",
                  "nobody", "noone", "upset", "frustrated", "late", "weeks", "months", "nadie", "semanas",
                  "meses", "semaines", "mois", "wochen", "monate", "niemand", "paid", "pague", "paye", "bezahlt",
                  "funciona", "marche", "funktioniert"},
    "topic": {"discount", "coupon", "promo", "size", "sizes", "sizing", "stock", "restock", "price", "invoice",
              "receipt", "next", "descuento", "cupon", "talla", "proximo", "rabatt", "gutschein", "grosse",
              "nachste", "taille", "reduction", "remise", "facture", "rechnung", "prochaine", "money",
              "dinero", "argent", "geld", "email", "correo", "courriel", "confirmation", "confirmacion",
              "bestatigung", "back"},
}
# The "where" of French ("ou") is also "or": it counts only next to "est" / "en" ("ou est", "ou en est").
FR_WHERE_NEXT = {"est", "en", "sont"}
FILLER = {"please", "pls", "plz", "a", "an", "the", "to", "i", "me", "with", "un", "una", "une", "ein", "einen",
           "einem", "einer", "mit", "por", "favor", "svp", "stp", "merci", "thanks", "now", "ahora", "maintenant",
           "jetzt", "customer", "real", "live", "actual", "vrai", "echten", "echter", "echte", "mensch", "de", "con",
           "avec", "talk", "speak", "can", "could", "need", "want", "quiero", "hablar", "parler", "sprechen", "bitte"}
STOPWORDS = {"the", "a", "an", "is", "are", "my", "i", "you", "your", "to", "do", "does", "of", "for", "it", "in",
             "on", "me", "and", "or", "can", "what", "how", "hi", "hello", "hey", "please", "pls", "we", "be",
             "there", "this", "that", "have", "has", "with", "el", "la", "los", "las", "de", "mi", "es", "que",
             "un", "una", "y", "en", "por", "hola", "le", "les", "du", "des", "ma", "mon", "est", "je", "vous",
             "bonjour", "et", "der", "die", "das", "ist", "ich", "sie", "und", "ein", "eine", "hallo", "mein",
             "meine", "zu", "any", "if", "at", "will", "would", "could", "should", "ok", "so", "whats", "hows", "u",
             "ur", "get", "got", "know", "tell", "about", "yall", "here", "some"}

# Real words one typo away from a concept word: never read as that typo ("there" is not "where").
NOT_TYPOS = {"there", "these", "those", "other", "older", "border", "trade", "tracks", "hours", "store",
             "shop", "shops", "sheep", "shirt", "where", "after", "water", "cancer", "paquet", "coming", "command",
             "comment", "person", "personal", "human", "status", "dress", "stuck", "pedir", "parcel"}
# "Hasn't arrived yet", "todavía no llegó", "pas encore reçu", "noch nicht angekommen".
NOT_YET = {"havent", "hasnt", "didnt", "not", "yet", "todavia", "aun", "encore", "pas", "noch", "nicht"}
QUESTION_WORDS = {"has", "have", "did", "was", "is", "yet", "already", "ya", "est", "wurde", "ist", "schon",
                  "deja", "fue", "han", "a", "t", "it", "ha", "been"}
ANGRY = re.compile("[\U0001F620\U0001F621\U0001F624\U0001F92C\U0001F4A2\U0001F595]")  # 😠 😡 😤 🤬 💢 🖕
