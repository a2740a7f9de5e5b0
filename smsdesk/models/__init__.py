"""The data model (SQLAlchemy 2.0, typed), one module per aggregate; import models from here.
The ``messages`` table is the outbox."""
from smsdesk.enums import (  # re-exported: the models' states live beside them for callers
    PENDING_STATUSES as PENDING_STATUSES,
    AbEndReason as AbEndReason,
    AbVariant as AbVariant,
    Attribution as Attribution,
    ConsentLevel as ConsentLevel,
    ConsentSource as ConsentSource,
    ConsentState as ConsentState,
    ConversationStatus as ConversationStatus,
    DeliveryStatus as DeliveryStatus,
    Direction as Direction,
    MessageStatus as MessageStatus,
    Platform as Platform,
    Role as Role,
)
from smsdesk.models.ab_tests import AbTest as AbTest
from smsdesk.models.answers import (
    AnswerSettings as AnswerSettings,
    FaqEntry as FaqEntry,
    Handoff as Handoff,
)
from smsdesk.models.base import Base as Base, UTCDateTime as UTCDateTime, utcnow as utcnow
from smsdesk.models.conversations import Conversation as Conversation, Message as Message
from smsdesk.models.customers import (
    Consent as Consent,
    Customer as Customer,
    SearchDoc as SearchDoc,
    Suppression as Suppression,
)
from smsdesk.models.desk import ConversationRouting as ConversationRouting, DeskSettings as DeskSettings
from smsdesk.models.feedback import (
    ConversationClose as ConversationClose,
    Feedback as Feedback,
    FeedbackSettings as FeedbackSettings,
)
from smsdesk.models.links import LinkClick as LinkClick, LinkSettings as LinkSettings, ShortLink as ShortLink
from smsdesk.models.media import MessageMedia as MessageMedia
from smsdesk.models.orders import Checkout as Checkout, Order as Order, Shipment as Shipment
from smsdesk.models.people import (
    Agent as Agent,
    ApiToken as ApiToken,
    AuditEvent as AuditEvent,
    Membership as Membership,
)
from smsdesk.models.stores import (
    CannedReply as CannedReply,
    CatchUpState as CatchUpState,
    SenderSlot as SenderSlot,
    Store as Store,
    Template as Template,
    TemplateVersion as TemplateVersion,
    WebhookDelivery as WebhookDelivery,
)
