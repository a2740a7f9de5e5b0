"""The one list of reason codes: why a text was suppressed, deferred, cancelled, failed or
never created (DESIGN §7). The database stores the code, the API returns it, the pages show
its label, and README lists them all (a test keeps README in step).

Free-form detail (a provider's error message, the rule that matched) goes beside the code
(``Message.reason_detail``), never instead of it.
"""
from __future__ import annotations

import enum


class Reason(str, enum.Enum):
    """Why a text did not (or not yet) go out as planned."""

    label: str

    def __new__(cls, code: str, label: str) -> Reason:
        member = str.__new__(cls, code)
        member._value_ = code
        member.label = label
        return member

    # -- the customer or the law said no (suppressed / cancelled) -------------------
    OPTED_OUT = "opted_out", "the customer opted out (STOP)"
    NO_CONSENT = "no_consent", "no marketing consent recorded for this number"
    QUIET_HOURS = "quiet_hours", "inside quiet hours at the recipient's local time"
    LEGAL_HOURS = "legal_hours", "outside the hours the recipient's law allows for marketing"
    MARKETING_CAP = "marketing_cap", "marketing texts per 24 h cap reached"
    SEQUENCE_CAP = "sequence_cap", "one reminder sequence per 24 h already started"
    STATE_CAP = "state_cap", "the recipient's state caps marketing texts per 24 h"
    SMART_SENDING = "smart_sending", (
        "the customer got another marketing text within the store's smart-sending hours")
    CHECKOUT_COMPLETED = "checkout_completed", "the customer completed the checkout"
    ORDER_PLACED = "order_placed", "the customer placed an order"
    PAYMENT_DECLINED = "payment_declined", "the payment was declined, so nothing was bought"
    CUSTOMER_ERASED = "customer_erased", "the customer's personal data was erased"
    # -- the number or the text cannot arrive --------------------------------------
    NO_PHONE = "no_phone", "no phone number given"
    INVALID_NUMBER = "invalid_number", "the phone number is not a valid number"
    LANDLINE = "landline", "the phone number is a landline"
    TOO_LONG = "too_long", "the text is longer than 1,600 characters"
    TEMPLATE_DISABLED = "template_disabled", "the store turned this text off"
    TEMPLATE_ERROR = "template_error", "the store's template could not be rendered"
    # -- the provider or the carrier refused (failed / undelivered) -----------------
    NOT_A_MOBILE_NUMBER = "not_a_mobile_number", "the provider says the number cannot receive texts"
    REGION_NOT_ENABLED = "region_not_enabled", "the provider account may not text that country"
    RECIPIENT_UNSUBSCRIBED = "recipient_unsubscribed", "the recipient replied STOP to this sender"
    UNREACHABLE_ROUTE = "unreachable_route", "no route to the recipient's carrier"
    INVALID_SENDER = "invalid_sender", "the store's sender number or service was refused"
    REJECTED = "rejected", "the provider refused the text"
    QUEUE_OVERFLOW = "queue_overflow", "the sender's queue at the provider was full"
    ACCOUNT_SUSPENDED = "account_suspended", "the provider account is suspended"
    UNREACHABLE_HANDSET = "unreachable_handset", "the phone was off or out of coverage"
    MESSAGE_BLOCKED = "message_blocked", "the carrier blocked the text"
    UNKNOWN_DESTINATION = "unknown_destination", "the carrier does not know the number"
    LANDLINE_OR_UNREACHABLE_CARRIER = ("landline_or_unreachable_carrier",
                                       "a landline, or a carrier that cannot be reached")
    CARRIER_FILTERED = "carrier_filtered", "the carrier filtered the text as spam"
    UNREGISTERED_A2P_10DLC = "unregistered_a2p_10dlc", "the sender is not registered for A2P 10DLC"
    CARRIER_ERROR = "carrier_error", "the carrier reported an error"
    # -- smsdesk's own sending life-cycle ------------------------------------------
    RETRYING = "retrying", "a temporary failure; it will be tried again"
    GAVE_UP = "gave_up", "temporary failures on every attempt"
    AMBIGUOUS = "ambiguous", "the provider's answer was lost; being checked with the provider"
    OUTCOME_UNKNOWN = "outcome_unknown", "the provider could not confirm whether it took the text"
    SEND_ERROR = "send_error", "an unexpected error while preparing the text"
    BAD_STORE_SETTINGS = "bad_store_settings", "the store's sending settings are unusable"
    CONFLICTING_CALLBACK = "conflicting_callback", "a status callback named another text"

    @classmethod
    def parse(cls, value: str | None) -> Reason | None:
        """The member for a stored code; None for empty or unknown codes."""
        return cls._value2member_map_.get(value) if value else None  # type: ignore[return-value]
