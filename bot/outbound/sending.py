"""Sending one row at most once: claim it, call the provider through its channel's adapter, record the
outcome. A second task for the same row finds nothing to claim: a retry never sends twice."""
import threading
from datetime import timedelta

from sqlalchemy import select, update

from handlers.types import Reply

from ..channels.base import RETRY, SENT, STOPPED, WINDOW
from ..models import Broadcast, Contact, Outbound, utcnow
from ..statuses import OutboundStatus, Purpose
from . import rows, windows
from .delivery import deliver

_pacing = threading.local()


def set_gate(acquire, release) -> None:
    """For this thread: acquire() before claiming a row (False means stop), release() once its
    provider call is over. Claiming after the wait keeps a killed worker from stranding rows."""
    _pacing.gate = (acquire, release)


def gate():
    return getattr(_pacing, "gate", None)


def send_one(runtime, outbound_id: int) -> str:
    """Send one row at most once; returns what happened (for logs, metrics and tests)."""
    from ..observability import record_send
    paced = gate()
    if paced is not None and not paced[0]():     # paced (a broadcast), and told to stop: nothing claimed
        return "held"
    claimed: list = []
    try:
        status = send_claimed(runtime, outbound_id, claimed)
    finally:
        if paced is not None:
            paced[1]()
    record_send(claimed[0].channel if claimed else _channel_of(runtime, outbound_id), status)
    return status


def send_now(runtime, outbound_id: int, address: str, reply: Reply) -> str:
    """A reply the queue worker wrote a moment ago in the turn's transaction (INBOUND_MODE=queue, and the
    channels that never answer in the webhook response), sent by the same task with the address and text it
    has in hand: the claim and the outcome are one autocommit UPDATE each, no transaction is open during the
    provider call, and a crash before the claim leaves the row pending for the sweep. Anything but a plain
    send goes on as send_one's would (retry, window)."""
    from ..observability import record_send
    with rows.hot_statement(runtime) as conn:
        row = conn.execute(rows.CLAIM, {"outbound_id": outbound_id, "now": utcnow()}).one_or_none()
    if row is None:
        return "not_claimed"
    result = deliver(runtime, row, None, reply=reply, address=address)
    if result.outcome == SENT:
        status = rows.finish(runtime, outbound_id, OutboundStatus.SENT, provider_id=result.provider_id)
    else:
        with rows.hot_statement(runtime) as conn:
            contact = conn.execute(rows.CONTACT, {"contact_id": row.contact_id}).one_or_none()
        status = conclude(runtime, row, contact, None, result) if contact is not None \
            else rows.finish(runtime, outbound_id, OutboundStatus.UNDELIVERABLE, "contact_erased")
    record_send(row.channel, status)
    return status


def _channel_of(runtime, outbound_id: int) -> str:
    with runtime.transaction() as session:
        return session.scalar(select(Outbound.channel).where(Outbound.id == outbound_id)) or "unknown"


def send_claimed(runtime, outbound_id: int, claimed: list) -> str:
    loaded = rows.claim(runtime, outbound_id)
    if loaded is None:
        return "not_claimed"
    row, contact, broadcast = loaded
    claimed.append(row)
    # No transaction is open while we talk to the provider.
    if contact is None or (row.reply_enc is None and row.broadcast_id is None):
        return rows.finish(runtime, outbound_id, OutboundStatus.UNDELIVERABLE, "contact_erased")
    if contact.opted_out and row.purpose != Purpose.REPLY:
        return rows.finish(runtime, outbound_id, OutboundStatus.UNDELIVERABLE, "opted_out")
    if row.broadcast_id is not None and (contact.subscribed is False or row.language is None):
        return rows.finish(runtime, outbound_id, OutboundStatus.UNDELIVERABLE, "unsubscribed")
    if row.purpose == Purpose.BROADCAST and windows.closed(row.channel, contact):
        result = windows.broadcast_outside(runtime, row, contact, broadcast)   # no free text will pass: don't try
    else:
        result = deliver(runtime, row, contact, broadcast=broadcast)
    return conclude(runtime, row, contact, broadcast, result)


def conclude(runtime, row, contact: Contact, broadcast: Broadcast | None, result) -> str:
    """After the provider call: the outcome recorded, a retry scheduled, or what passes a closed window."""
    outbound_id = row.id
    if result is not None and result.outcome == WINDOW:
        result = windows.broadcast_outside(runtime, row, contact, broadcast) if row.purpose == Purpose.BROADCAST \
            else windows.answer_outside(runtime, row, contact)
    if result is None:
        return "fallback"
    if result.outcome == SENT:
        return rows.finish(runtime, outbound_id, OutboundStatus.SENT, provider_id=result.provider_id)
    if result.outcome == RETRY and row.attempts < rows.MAX_ATTEMPTS:
        delay = result.retry_after or rows.backoff(row.attempts)
        with runtime.transaction() as session:
            session.execute(update(Outbound).where(Outbound.id == outbound_id).values(
                status=OutboundStatus.QUEUED, failure_reason=result.reason, failure_detail=result.detail,
                next_attempt_at=utcnow() + timedelta(seconds=delay), updated_at=utcnow()))
        if row.broadcast_id is None:     # broadcast rows come back through the paced runner
            rows.enqueue([outbound_id], delay=delay)
        return "retry"
    if result.outcome == STOPPED:
        rows.stop_contact(runtime, contact.id)
    return rows.finish(runtime, outbound_id, OutboundStatus.FAILED, result.reason, result.detail)
