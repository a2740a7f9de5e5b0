"""reason codes: messages.reason becomes a code from smsdesk.reasons, the words move to reason_detail

Revision ID: 0002_reason_codes
Revises: 0001_initial
Create Date: 2026-11-25 09:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0002_reason_codes'
down_revision = '0001_initial'
branch_labels = None
depends_on = None

# Codes as they were in 0.1 (the same fact was sometimes written two ways). Frozen here on
# purpose: a migration must not change when the enum grows.
_CODES = (
    'opted_out', 'no_consent', 'quiet_hours', 'marketing_cap', 'sequence_cap', 'invalid_number',
    'not_a_mobile_number', 'region_not_enabled', 'recipient_unsubscribed', 'unreachable_route',
    'invalid_sender', 'rejected', 'queue_overflow', 'account_suspended', 'unreachable_handset',
    'message_blocked', 'unknown_destination', 'landline_or_unreachable_carrier', 'carrier_filtered',
    'unknown_error', 'unregistered_a2p_10dlc', 'carrier_error',
)
_PHRASES = {
    'opted out': 'opted_out', 'no marketing consent': 'no_consent', 'checkout completed': 'checkout_completed',
    'order placed': 'order_placed', 'order placed by the same customer': 'order_placed',
}
_PREFIXES = {'retrying:': 'retrying', 'gave up after': 'gave_up', 'ambiguous:': 'ambiguous'}


def upgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason_detail', sa.Text(), server_default='', nullable=False))
        batch_op.alter_column('reason', existing_type=sa.Text(), nullable=True)  # no reason is NULL now
    messages = sa.table('messages', sa.column('id', sa.Integer), sa.column('status', sa.String),
                        sa.column('reason', sa.Text), sa.column('reason_detail', sa.Text))
    conn = op.get_bind()
    rows = conn.execute(sa.select(messages.c.id, messages.c.status, messages.c.reason)
                        .where(messages.c.reason != '')).all()
    for message_id, status, reason in rows:
        conn.execute(messages.update().where(messages.c.id == message_id)
                     .values(reason=_code(reason, status), reason_detail=reason))
    conn.execute(messages.update().where(messages.c.reason == '').values(reason=None))
    with op.batch_alter_table('messages', schema=None) as batch_op:
        # Every value is a short code now, so the narrower type fits.
        batch_op.alter_column('reason', existing_type=sa.Text(), type_=sa.Enum(
            *_ALL_CODES, name='reason', native_enum=False, length=40), existing_nullable=True)


def downgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.alter_column('reason', existing_type=sa.String(length=40), type_=sa.Text(), nullable=False,
                              server_default='')
        batch_op.drop_column('reason_detail')


def _code(reason: str, status: str) -> str | None:
    text = reason.strip()
    if text.lower() in _PHRASES:
        return _PHRASES[text.lower()]
    for prefix, code in _PREFIXES.items():
        if text.lower().startswith(prefix):
            return code
    head = text.split(':', 1)[0].strip()
    if head in _CODES:
        return 'carrier_error' if head == 'unknown_error' else head
    if text.startswith('found at the provider'):
        return None
    return {'failed': 'rejected', 'undelivered': 'carrier_error', 'suppressed': 'rejected'}.get(status)


# Every code the column may hold (sa.Enum with native_enum=False only checks its length here).
_ALL_CODES = _CODES + ('checkout_completed', 'order_placed', 'retrying', 'gave_up', 'ambiguous')
