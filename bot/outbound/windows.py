"""Session windows: WhatsApp and Messenger take free-form messages only within 24 hours of the person's
last message. Outside it a message goes only with what the adapter allows (a WhatsApp template, a
Messenger message tag), an answer may go on the fallback channel (WhatsApp -> SMS to the same number),
or it is counted as not reachable. Which channel has a window, and what passes it, is the adapter's."""
from datetime import timedelta

from sqlalchemy import select, update

from .. import channels
from ..cases import as_aware
from ..models import Case, Contact, Outbound, utcnow
from ..statuses import OutboundStatus, Purpose
from . import rows
from .delivery import deliver, reply_of


def window_of(channel: str) -> timedelta | None:
    adapter = channels.find(channel)
    return adapter.limits.window if adapter else None


def closed(channel: str, contact) -> bool:
    """Has the person been silent for longer than the channel's window (never, for a channel without one)?"""
    window = window_of(channel)
    if window is None:
        return False
    return contact.last_seen_at is None or as_aware(contact.last_seen_at) < utcnow() - window


def broadcast_outside(runtime, row, contact, broadcast=None, reply=None, address=None, finish=None):
    """A broadcast outside the window: what the adapter allows (WhatsApp's broadcast template, a Messenger
    tag), or nothing: the row is undeliverable (outside_window). None when nothing was sent."""
    adapter = channels.adapter(row.channel)
    reply = reply if reply is not None else reply_of(runtime, row, broadcast)
    allowed = adapter.window_args(runtime.config, Purpose.BROADCAST, reply.text if reply else "", None)
    if allowed.args is None:
        (finish or rows.finish)(runtime, row.id, OutboundStatus.UNDELIVERABLE, "outside_window", allowed.why)
        return None
    return deliver(runtime, row, contact, broadcast=broadcast, reply=reply, address=address,
                   window_args=allowed.args)


def answer_outside(runtime, row: Outbound, contact: Contact):
    """The provider said the window is closed: what the adapter allows (WhatsApp's answer template with the
    case code), else the fallback channel to the same address if the person used it, else give up."""
    adapter = channels.adapter(row.channel)
    case_code = None
    if row.case_id:
        with runtime.transaction() as session:
            case = session.get(Case, row.case_id)
            case_code = case.code if case else None
    allowed = adapter.window_args(runtime.config, row.purpose, "", case_code)
    if allowed.args is not None:
        return deliver(runtime, row, contact, window_args=allowed.args)
    fallback = adapter.fallback_channel
    address = runtime.vault.decrypt(contact.address_enc)
    with runtime.transaction() as session:
        other = session.execute(select(Contact).where(
            Contact.channel == fallback, Contact.address_hash == runtime.vault.address_hash(fallback, address),
            Contact.opted_out.is_(False))).scalar_one_or_none() if fallback else None
        if fallback is None or other is None or not runtime.channels.get(fallback):
            session.execute(update(Outbound).where(Outbound.id == row.id).values(
                status=OutboundStatus.UNDELIVERABLE, failure_reason="outside_window", failure_detail=allowed.why,
                updated_at=utcnow()))
            return None
        moved = Outbound(contact_id=other.id, channel=fallback, purpose=row.purpose, case_id=row.case_id,
                         reply_enc=row.reply_enc, status=OutboundStatus.PENDING, next_attempt_at=utcnow())
        session.add(moved)
        session.flush()
        session.execute(update(Outbound).where(Outbound.id == row.id).values(
            status=OutboundStatus.FAILED, failure_reason="outside_window",
            failure_detail=f"sent by {channels.adapter(fallback).label} as #{moved.id}", updated_at=utcnow()))
        moved_id = moved.id
    rows.enqueue([moved_id])
    return None
