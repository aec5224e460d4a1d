"""Outbound rows: written in the caller's transaction, handed to the queue after commit, claimed
atomically before the provider call (pending/queued -> sending) and finished with their outcome.

The hot path of every message (a broadcast sends hundreds a second) uses statements built once:
plain Core statements with bound parameters on a bare connection. Building a statement and its
cache key per call, and the ORM session and identity map around it, cost more than the provider call.
"""
import json
import threading
from contextlib import contextmanager
from typing import cast

from sqlalchemy import Table, bindparam, exists, select, update

from handlers.types import Reply

from ..models import Broadcast, Contact, Outbound, utcnow
from ..statuses import OutboundStatus, Purpose

MAX_ATTEMPTS = 6
FINAL = tuple(status for status in OutboundStatus if status not in OutboundStatus.open())


def backoff(attempts: int) -> float:
    return min(30.0 * (2 ** (attempts - 1)), 3600.0)


def queue_reply(runtime, session, contact: Contact, reply: Reply, purpose: str = Purpose.REPLY,
                case_id: int | None = None) -> Outbound:
    row = Outbound(contact_id=contact.id, channel=contact.channel, purpose=purpose, case_id=case_id,
                   reply_enc=runtime.vault.encrypt(json.dumps(reply.to_dict(), ensure_ascii=False)),
                   status=OutboundStatus.PENDING, next_attempt_at=utcnow())
    session.add(row)
    session.flush()
    return row


def enqueue(outbound_ids: list[int], delay: float | None = None) -> None:
    """Hand rows to the queue; called after their transaction committed."""
    from ..queue import send_outbound_task
    for outbound_id in outbound_ids:
        if delay:
            send_outbound_task.schedule((outbound_id,), delay=delay)
        else:
            send_outbound_task(outbound_id)


# Declarative classes with a __tablename__ map a Table (SQLAlchemy types __table__ as any FromClause).
OUTBOUND = cast(Table, Outbound.__table__)
CONTACTS = cast(Table, Contact.__table__)
BROADCASTS = cast(Table, Broadcast.__table__)
CLAIM = (update(OUTBOUND).where(OUTBOUND.c.id == bindparam("outbound_id"),
                                OUTBOUND.c.status.in_(OutboundStatus.waiting()))
         .values(status=OutboundStatus.SENDING, attempts=OUTBOUND.c.attempts + 1, updated_at=bindparam("now"))
         .returning(*OUTBOUND.c))
CONTACT = select(CONTACTS).where(CONTACTS.c.id == bindparam("contact_id"))
BROADCAST_TEXTS = select(BROADCASTS.c.id, BROADCASTS.c.texts, BROADCASTS.c.fallback).where(
    BROADCASTS.c.id == bindparam("broadcast_id"))
FINISH = update(OUTBOUND).where(OUTBOUND.c.id == bindparam("outbound_id")).values(
    status=bindparam("status"), failure_reason=bindparam("reason"), failure_detail=bindparam("detail"),
    provider_id=bindparam("provider_id"), sent_at=bindparam("sent_at"), updated_at=bindparam("now"))
REQUEUE = update(OUTBOUND).where(OUTBOUND.c.id == bindparam("outbound_id")).values(
    status=OutboundStatus.QUEUED, failure_reason=bindparam("reason"), failure_detail=bindparam("detail"),
    next_attempt_at=bindparam("next_at"), updated_at=bindparam("now"))
# A prepared broadcast row (see prepared.send_prepared): the claim alone, and only while its person still may
# receive it (the prefetched flags may be seconds old; a claim that finds otherwise falls back to the full path).
CLAIM_PREPARED = (update(OUTBOUND).where(
    OUTBOUND.c.id == bindparam("outbound_id"), OUTBOUND.c.status.in_(OutboundStatus.waiting()),
    exists().where(CONTACTS.c.id == OUTBOUND.c.contact_id, CONTACTS.c.opted_out.is_not(True),
                   CONTACTS.c.subscribed.is_not(False)))
    .values(status=OutboundStatus.SENDING, attempts=OUTBOUND.c.attempts + 1, updated_at=bindparam("now")))


_sqlite_turn = threading.Lock()


@contextmanager
def hot_transaction(runtime, engine=None):
    """A short transaction of the send path on a bare connection. On SQLite (one writer per database,
    and every transaction here is BEGIN IMMEDIATE) the sending threads of this process take turns on a
    lock first: polling for SQLite's lock from many threads left it free while they slept, and a holder
    waiting for the GIL behind them kept it longer (a broadcast's rate fell as threads were added)."""
    engine = engine or runtime.engine
    if engine.dialect.name == "sqlite":
        with _sqlite_turn, engine.begin() as conn:
            yield conn
    else:
        with engine.begin() as conn:
            yield conn


@contextmanager
def hot_statement(runtime):
    """One statement on its own, in autocommit (runtime.statement_engine): no BEGIN and COMMIT round
    trips for an UPDATE that is atomic by itself. SQLite's writers of this process take turns as above."""
    if runtime.engine.dialect.name == "sqlite":
        with _sqlite_turn, runtime.statement_engine.connect() as conn:
            yield conn
    else:
        with runtime.statement_engine.connect() as conn:
            yield conn


def claim(runtime, outbound_id: int):
    """Claim the row (pending/queued -> sending) and, in the same transaction, read what sending it
    needs: (row, contact, broadcast) as read-only rows with the models' attribute names, or None
    when someone else has it (or it is done)."""
    with hot_transaction(runtime) as conn:
        row = conn.execute(CLAIM, {"outbound_id": outbound_id, "now": utcnow()}).one_or_none()
        if row is None:
            return None
        contact = conn.execute(CONTACT, {"contact_id": row.contact_id}).one_or_none() if row.contact_id else None
        broadcast = conn.execute(BROADCAST_TEXTS, {"broadcast_id": row.broadcast_id}).one_or_none() \
            if row.broadcast_id is not None else None
        return row, contact, broadcast


def finish(runtime, outbound_id: int, status: str, reason: str | None = None, detail: str | None = None,
           provider_id: str | None = None) -> str:
    now = utcnow()
    with hot_statement(runtime) as conn:
        conn.execute(FINISH, {"outbound_id": outbound_id, "status": status, "reason": reason, "detail": detail,
                              "provider_id": provider_id, "sent_at": now if status == OutboundStatus.SENT else None,
                              "now": now})
    return status if not reason else f"{status}:{reason}"


def stop_contact(runtime, contact_id: int | None) -> None:
    """The provider says the person opted out or blocked us: keep our record in step."""
    if contact_id is None:
        return
    with runtime.transaction() as session:
        session.execute(update(Contact).where(Contact.id == contact_id).values(opted_out=True, subscribed=False))
