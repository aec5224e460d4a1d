"""The outbound queue: every message sent outside a webhook response is a row first, then a task.

- queue_reply: write the row (in the caller's transaction);
- enqueue: after commit, hand the row id to Huey;
- send_one: claim the row atomically (pending/queued -> sending), send, record the outcome.
  A second task for the same row finds nothing to claim: a retry never sends twice;
- sweep: re-queue rows whose task was lost (queue wiped, crash before enqueue); rows a
  worker died *during* the provider call are marked, not resent, since the provider
  may already have delivered them.
"""
import json
import logging
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, exists, select, update

from handlers.types import Reply

from .cases import as_aware
from .channels import telegram, twilio
from .channels.base import RETRY, SENT, STOPPED, WINDOW
from .models import Broadcast, Contact, Outbound, utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
STRANDED_AFTER = timedelta(minutes=5)
FINAL = ("sent", "delivered", "read", "failed", "undeliverable", "undelivered", "cancelled")


_pacing = threading.local()


def set_gate(acquire, release) -> None:
    """For this thread: acquire() before claiming a row (False means stop), release() once its
    provider call is over. Claiming after the wait keeps a killed worker from stranding rows."""
    _pacing.gate = (acquire, release)


def backoff(attempts: int) -> float:
    return min(30.0 * (2 ** (attempts - 1)), 3600.0)


def queue_reply(runtime, session, contact: Contact, reply: Reply, purpose: str = "reply",
                case_id: int | None = None) -> Outbound:
    row = Outbound(contact_id=contact.id, channel=contact.channel, purpose=purpose, case_id=case_id,
                   reply_enc=runtime.vault.encrypt(json.dumps(reply.to_dict(), ensure_ascii=False)),
                   status="pending", next_attempt_at=utcnow())
    session.add(row)
    session.flush()
    return row


def enqueue(outbound_ids: list[int], delay: float | None = None) -> None:
    """Hand rows to the queue; called after their transaction committed."""
    from .queue import send_outbound_task
    for outbound_id in outbound_ids:
        if delay:
            send_outbound_task.schedule((outbound_id,), delay=delay)
        else:
            send_outbound_task(outbound_id)


_OUTBOUND = Outbound.__table__
_CONTACTS = Contact.__table__
_BROADCASTS = Broadcast.__table__
# The hot path of every message (a broadcast sends hundreds a second), built once: plain Core statements
# with bound parameters on a bare connection. Building a statement and its cache key per call, and the
# ORM session and identity map around it, cost more than the provider call itself.
_CLAIM = (update(_OUTBOUND).where(_OUTBOUND.c.id == bindparam("outbound_id"),
                                  _OUTBOUND.c.status.in_(("pending", "queued")))
          .values(status="sending", attempts=_OUTBOUND.c.attempts + 1, updated_at=bindparam("now"))
          .returning(*_OUTBOUND.c))
_CONTACT = select(_CONTACTS).where(_CONTACTS.c.id == bindparam("contact_id"))
_BROADCAST_TEXTS = select(_BROADCASTS.c.id, _BROADCASTS.c.texts, _BROADCASTS.c.fallback).where(
    _BROADCASTS.c.id == bindparam("broadcast_id"))
_FINISH = update(_OUTBOUND).where(_OUTBOUND.c.id == bindparam("outbound_id")).values(
    status=bindparam("status"), failure_reason=bindparam("reason"), failure_detail=bindparam("detail"),
    provider_id=bindparam("provider_id"), sent_at=bindparam("sent_at"), updated_at=bindparam("now"))
_REQUEUE = update(_OUTBOUND).where(_OUTBOUND.c.id == bindparam("outbound_id")).values(
    status="queued", failure_reason=bindparam("reason"), failure_detail=bindparam("detail"),
    next_attempt_at=bindparam("next_at"), updated_at=bindparam("now"))
# A prepared broadcast row (see send_prepared): the claim alone, and only while its person still may receive
# it (the prefetched flags may be seconds old; a claim that finds otherwise falls back to the full path).
_CLAIM_PREPARED = (update(_OUTBOUND).where(
    _OUTBOUND.c.id == bindparam("outbound_id"), _OUTBOUND.c.status.in_(("pending", "queued")),
    exists().where(_CONTACTS.c.id == _OUTBOUND.c.contact_id, _CONTACTS.c.opted_out.is_not(True),
                   _CONTACTS.c.subscribed.is_not(False)))
    .values(status="sending", attempts=_OUTBOUND.c.attempts + 1, updated_at=bindparam("now")))


_sqlite_turn = threading.Lock()


@contextmanager
def _hot_transaction(runtime, engine=None):
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
def _hot_statement(runtime):
    """One statement on its own, in autocommit (runtime.statement_engine): no BEGIN and COMMIT round
    trips for an UPDATE that is atomic by itself. SQLite's writers of this process take turns as above."""
    if runtime.engine.dialect.name == "sqlite":
        with _sqlite_turn, runtime.statement_engine.connect() as conn:
            yield conn
    else:
        with runtime.statement_engine.connect() as conn:
            yield conn


def _claim(runtime, outbound_id: int):
    """Claim the row (pending/queued -> sending) and, in the same transaction, read what sending it
    needs: (row, contact, broadcast) as read-only rows with the models' attribute names, or None
    when someone else has it (or it is done)."""
    with _hot_transaction(runtime) as conn:
        row = conn.execute(_CLAIM, {"outbound_id": outbound_id, "now": utcnow()}).one_or_none()
        if row is None:
            return None
        contact = conn.execute(_CONTACT, {"contact_id": row.contact_id}).one_or_none() if row.contact_id else None
        broadcast = conn.execute(_BROADCAST_TEXTS, {"broadcast_id": row.broadcast_id}).one_or_none() \
            if row.broadcast_id is not None else None
        return row, contact, broadcast


def _reply_of(runtime, row: Outbound, broadcast: Broadcast | None = None) -> Reply | None:
    """A broadcast row holds no text of its own: the broadcast's text in the row's language."""
    if row.broadcast_id is not None:
        from .broadcasts import rendered
        if broadcast is None or broadcast.id != row.broadcast_id:
            with runtime.transaction() as session:
                broadcast = session.get(Broadcast, row.broadcast_id)
        if broadcast is None or row.language is None:
            return None
        return Reply(rendered(broadcast, row.language), language=row.language)
    if row.reply_enc is None:
        return None
    return Reply.from_dict(json.loads(runtime.vault.decrypt(row.reply_enc) or "{}"))


def _deliver(runtime, row: Outbound, contact: Contact, template: dict | None = None,
             broadcast: Broadcast | None = None, reply: Reply | None = None, address: str | None = None):
    """reply and address: already rendered and decrypted (a prepared broadcast row, see send_prepared, or
    a reply sent by the task that wrote it, see send_now)."""
    prepared = reply is not None and address is not None and row.broadcast_id is not None
    reply = reply if reply is not None else _reply_of(runtime, row, broadcast)
    address = address if address is not None else runtime.vault.decrypt(contact.address_enc)
    if row.channel == "telegram":
        return (telegram.send_text if prepared else telegram.send)(runtime.config, address, reply,
                                                                    runtime.content.get().images)
    return twilio.send(runtime.config, row.channel, address, reply, template=template)


def send_one(runtime, outbound_id: int) -> str:
    """Send one row at most once; returns what happened (for logs, metrics and tests)."""
    from .observability import record_send
    gate = getattr(_pacing, "gate", None)
    if gate is not None and not gate[0]():     # paced (a broadcast), and told to stop: nothing claimed
        return "held"
    claimed: list = []
    try:
        status = _send_one(runtime, outbound_id, claimed)
    finally:
        if gate is not None:
            gate[1]()
    record_send(claimed[0].channel if claimed else _channel_of(runtime, outbound_id), status)
    return status


def send_now(runtime, outbound_id: int, address: str, reply: Reply) -> str:
    """A reply the queue worker wrote a moment ago in the turn's transaction (INBOUND_MODE=queue), sent by
    the same task with the address and text it has in hand: the claim and the outcome are one autocommit
    UPDATE each, no transaction is open during the provider call, and a crash before the claim leaves the
    row pending for the sweep. Anything but a plain send goes on as send_one's would (retry, window)."""
    from .observability import record_send
    with _hot_statement(runtime) as conn:
        row = conn.execute(_CLAIM, {"outbound_id": outbound_id, "now": utcnow()}).one_or_none()
    if row is None:
        return "not_claimed"
    result = _deliver(runtime, row, None, reply=reply, address=address)
    if result.outcome == SENT:
        status = _finish(runtime, outbound_id, "sent", provider_id=result.provider_id)
    else:
        with _hot_statement(runtime) as conn:
            contact = conn.execute(_CONTACT, {"contact_id": row.contact_id}).one_or_none()
        status = _conclude(runtime, row, contact, None, result) if contact is not None \
            else _finish(runtime, outbound_id, "undeliverable", "contact_erased")
    record_send(row.channel, status)
    return status


def _channel_of(runtime, outbound_id: int) -> str:
    with runtime.transaction() as session:
        return session.scalar(select(Outbound.channel).where(Outbound.id == outbound_id)) or "unknown"


def _send_one(runtime, outbound_id: int, claimed: list) -> str:
    loaded = _claim(runtime, outbound_id)
    if loaded is None:
        return "not_claimed"
    row, contact, broadcast = loaded
    claimed.append(row)
    # No transaction is open while we talk to the provider.
    if contact is None or (row.reply_enc is None and row.broadcast_id is None):
        return _finish(runtime, outbound_id, "undeliverable", "contact_erased")
    if contact.opted_out and row.purpose != "reply":
        return _finish(runtime, outbound_id, "undeliverable", "opted_out")
    if row.broadcast_id is not None and (contact.subscribed is False or row.language is None):
        return _finish(runtime, outbound_id, "undeliverable", "unsubscribed")
    if row.purpose == "broadcast" and row.channel == "whatsapp" and _window_closed(contact):
        result = _broadcast_template(runtime, row, contact, broadcast)   # no free text will pass: don't try
    else:
        result = _deliver(runtime, row, contact, broadcast=broadcast)
    return _conclude(runtime, row, contact, broadcast, result)


def _conclude(runtime, row, contact: Contact, broadcast: Broadcast | None, result) -> str:
    """After the provider call: the outcome recorded, a retry scheduled, or the fallback for a closed
    WhatsApp window."""
    outbound_id = row.id
    if result is not None and result.outcome == WINDOW:
        result = _broadcast_template(runtime, row, contact, broadcast) if row.purpose == "broadcast" \
            else _outside_window(runtime, row, contact)
    if result is None:
        return "fallback"
    if result.outcome == SENT:
        return _finish(runtime, outbound_id, "sent", provider_id=result.provider_id)
    if result.outcome == RETRY and row.attempts < MAX_ATTEMPTS:
        delay = result.retry_after or backoff(row.attempts)
        with runtime.transaction() as session:
            session.execute(update(Outbound).where(Outbound.id == outbound_id).values(
                status="queued", failure_reason=result.reason, failure_detail=result.detail,
                next_attempt_at=utcnow() + timedelta(seconds=delay), updated_at=utcnow()))
        if row.broadcast_id is None:     # broadcast rows come back through the paced runner
            enqueue([outbound_id], delay=delay)
        return "retry"
    if result.outcome == STOPPED:
        with runtime.transaction() as session:  # keep our opt-out record in step with the provider's
            session.execute(update(Contact).where(Contact.id == contact.id).values(opted_out=True,
                                                                                   subscribed=False))
    return _finish(runtime, outbound_id, "failed", result.reason, result.detail)


def _window_closed(contact: Contact) -> bool:
    return contact.last_seen_at is None or as_aware(contact.last_seen_at) < utcnow() - timedelta(hours=24)


def _broadcast_template(runtime, row: Outbound, contact: Contact, broadcast: Broadcast | None = None,
                        reply: Reply | None = None, address: str | None = None, finish=None):
    """Outside WhatsApp's 24 hours a broadcast goes as the approved broadcast template, or not at all."""
    template_sid = runtime.config.get("TWILIO_WHATSAPP_BROADCAST_TEMPLATE_SID")
    if not template_sid:
        (finish or _finish)(runtime, row.id, "undeliverable", "outside_window",
                            "WhatsApp 24-hour window closed and no broadcast template is configured")
        return None
    reply = reply if reply is not None else _reply_of(runtime, row, broadcast)
    return _deliver(runtime, row, contact, broadcast=broadcast, reply=reply, address=address, template={
        "content_sid": template_sid, "content_variables": json.dumps({"1": reply.text if reply else ""},
                                                                     ensure_ascii=False)})


def _outside_window(runtime, row: Outbound, contact: Contact):
    """WhatsApp said 63016: the approved template, else SMS to the same number if they used SMS, else give up."""
    template_sid = runtime.config.get("TWILIO_WHATSAPP_TEMPLATE_SID")
    if template_sid:
        variables = {"1": ""}
        if row.case_id:
            from .models import Case
            with runtime.transaction() as session:
                case = session.get(Case, row.case_id)
                variables = {"1": case.code if case else ""}
        return _deliver(runtime, row, contact, template={"content_sid": template_sid,
                                                         "content_variables": json.dumps(variables)})
    address = runtime.vault.decrypt(contact.address_enc)
    with runtime.transaction() as session:
        sms_contact = session.execute(select(Contact).where(
            Contact.channel == "sms", Contact.address_hash == runtime.vault.address_hash("sms", address),
            Contact.opted_out.is_(False))).scalar_one_or_none()
        if sms_contact is None or not runtime.channels.get("sms"):
            session.execute(update(Outbound).where(Outbound.id == row.id).values(
                status="undeliverable", failure_reason="outside_window",
                failure_detail="WhatsApp 24-hour window closed; no template, no SMS contact", updated_at=utcnow()))
            return None
        fallback = Outbound(contact_id=sms_contact.id, channel="sms", purpose=row.purpose, case_id=row.case_id,
                            reply_enc=row.reply_enc, status="pending", next_attempt_at=utcnow())
        session.add(fallback)
        session.flush()
        session.execute(update(Outbound).where(Outbound.id == row.id).values(
            status="failed", failure_reason="outside_window", failure_detail=f"sent by SMS as #{fallback.id}",
            updated_at=utcnow()))
        fallback_id = fallback.id
    enqueue([fallback_id])
    return None


def _finish(runtime, outbound_id: int, status: str, reason: str | None = None, detail: str | None = None,
            provider_id: str | None = None) -> str:
    now = utcnow()
    with _hot_statement(runtime) as conn:
        conn.execute(_FINISH, {"outbound_id": outbound_id, "status": status, "reason": reason, "detail": detail,
                               "provider_id": provider_id, "sent_at": now if status == "sent" else None,
                               "now": now})
    return status if not reason else f"{status}:{reason}"


# ---- broadcasts: prepared rows, outcomes written in batches ------------------------------------------
@dataclass(slots=True)
class Prepared:
    """What sending one broadcast row needs, read with its batch by the runner (broadcast_runner):
    the person's address decrypted, the text rendered once per language, the flags as they were then
    (the claim checks opted_out/subscribed again)."""
    id: int
    contact_id: int | None
    channel: str
    broadcast_id: int
    language: str | None
    attempts: int               # before this attempt
    address: str | None         # None: no contact, or it could not be read
    last_seen_at: datetime | None
    reply: Reply | None         # None: no text for the row's language
    usable: bool                # contact present, not opted out, subscribed: else the full path says why
    purpose: str = "broadcast"
    case_id: int | None = None
    reply_enc: str | None = None


def send_prepared(runtime, job: Prepared, recorder: "Recorder") -> str:
    """send_one for a prepared broadcast row: the same pacing gate first, then only the claim (one
    single-row UPDATE) before the provider call; the outcome goes to `recorder`, which writes it within
    about RECORD_EVERY. A crash before it is written leaves the row 'sending': marked interrupted by the
    next runner, never resent (as for a crash during the call). Rows the batch found unusable, and claims
    that find the person stopped meanwhile (or the row taken), take send_one's full path."""
    from .observability import record_send
    gate = getattr(_pacing, "gate", None)
    if gate is not None and not gate[0]():
        return "held"
    try:
        status = _send_prepared(runtime, job, recorder)
    finally:
        if gate is not None:
            gate[1]()
    record_send(job.channel, status)
    return status


def _send_prepared(runtime, job: Prepared, recorder: "Recorder") -> str:
    if not job.usable or job.reply is None or job.address is None:
        return _send_one(runtime, job.id, [])
    with _hot_transaction(runtime, recorder.engine) as conn:
        claimed = conn.execute(_CLAIM_PREPARED, {"outbound_id": job.id, "now": utcnow()}).rowcount == 1
    if not claimed:                      # taken, done, cancelled, or the person stopped since the batch was read
        return _send_one(runtime, job.id, [])
    job.attempts += 1
    # No transaction is open while we talk to the provider.
    if job.channel == "whatsapp" and _window_closed(job):
        result = _broadcast_template(runtime, job, job, reply=job.reply, address=job.address,
                                     finish=recorder.finish)
    else:
        result = _deliver(runtime, job, job, reply=job.reply, address=job.address)
    if result is not None and result.outcome == WINDOW:
        result = _broadcast_template(runtime, job, job, reply=job.reply, address=job.address,
                                     finish=recorder.finish)
    if result is None:
        return "fallback"
    if result.outcome == SENT:
        return recorder.finish(runtime, job.id, "sent", provider_id=result.provider_id)
    if result.outcome == RETRY and job.attempts < MAX_ATTEMPTS:
        recorder.requeue(job.id, result.reason, result.detail, result.retry_after or backoff(job.attempts))
        return "retry"
    if result.outcome == STOPPED:
        with runtime.transaction() as session:
            session.execute(update(Contact).where(Contact.id == job.contact_id).values(opted_out=True,
                                                                                       subscribed=False))
    return recorder.finish(runtime, job.id, "failed", result.reason, result.detail)


RECORD_EVERY = 0.05     # seconds between the recorder's writes


class Recorder:
    """Outcomes of prepared sends, written by one thread in a transaction every RECORD_EVERY seconds:
    one write per batch instead of one per message (SQLite has one writer at a time). A write that fails
    is tried again; close() writes what is left.

    `engine`: the one the claims and these writes use (the runner gives PostgreSQL senders their own
    pool, a connection per thread; the app's is smaller and shared)."""

    def __init__(self, runtime, engine=None):
        self.runtime = runtime
        self.engine = engine or runtime.engine
        self.lock = threading.Lock()
        self.finished: list[dict] = []
        self.requeued: list[dict] = []
        self.closing = threading.Event()
        self.thread = threading.Thread(target=self._run, name="record-outcomes", daemon=True)
        self.thread.start()

    def finish(self, _runtime, outbound_id: int, status: str, reason: str | None = None,
               detail: str | None = None, provider_id: str | None = None) -> str:
        now = utcnow()
        with self.lock:
            self.finished.append({"outbound_id": outbound_id, "status": status, "reason": reason, "detail": detail,
                                  "provider_id": provider_id, "sent_at": now if status == "sent" else None,
                                  "now": now})
        return status if not reason else f"{status}:{reason}"

    def requeue(self, outbound_id: int, reason: str | None, detail: str | None, delay: float) -> None:
        now = utcnow()
        with self.lock:
            self.requeued.append({"outbound_id": outbound_id, "reason": reason, "detail": detail,
                                  "next_at": now + timedelta(seconds=delay), "now": now})

    def pending(self) -> int:
        with self.lock:
            return len(self.finished) + len(self.requeued)

    def flush(self) -> bool:
        with self.lock:
            finished, self.finished = self.finished, []
            requeued, self.requeued = self.requeued, []
        if not finished and not requeued:
            return True
        try:
            with _hot_transaction(self.runtime, self.engine) as conn:
                if finished:
                    conn.execute(_FINISH, finished)
                if requeued:
                    conn.execute(_REQUEUE, requeued)
            return True
        except Exception:
            log.exception("recording %d send outcomes failed; trying again", len(finished) + len(requeued))
            with self.lock:
                self.finished[:0], self.requeued[:0] = finished, requeued
            return False

    def _run(self) -> None:
        while not self.closing.wait(RECORD_EVERY):
            self.flush()

    def close(self) -> None:
        """Write everything recorded so far (the senders have stopped)."""
        self.closing.set()
        self.thread.join()
        for attempt in range(5):
            if self.flush():
                return
            self.closing.wait(0.2 * (attempt + 1))
        log.error("%d send outcomes could not be written; their rows stay 'sending' and will be marked "
                  "interrupted (not resent)", self.pending())


def record_status(runtime, provider_id: str, status: str, error_code: str | None) -> bool:
    """A Twilio delivery callback. Statuses only move forward: a late 'sent' never undoes 'delivered',
    and the first final word (delivered, undelivered, failed) stays; 'read' may follow 'delivered'."""
    order = {"queued": 0, "sending": 1, "sent": 2, "delivered": 3, "read": 4, "undelivered": 3, "failed": 3}
    code = int(error_code) if error_code and error_code.isdigit() and len(error_code) <= 9 else None
    with runtime.transaction() as session:
        # Telegram rows keep Telegram's small message numbers as provider ids: never theirs.
        row = session.execute(select(Outbound).where(Outbound.provider_id == provider_id,
                                                     Outbound.channel.in_(("sms", "whatsapp")))
                              .order_by(Outbound.id).limit(1).with_for_update()).scalar_one_or_none()
        if row is None:
            return False
        if status in order and order[status] > order.get(row.status, -1):
            row.status = status
            if status in ("undelivered", "failed"):
                row.failure_reason = f"twilio_{code}" if code is not None else status
                if code in twilio.OPTED_OUT and row.contact_id:
                    session.execute(update(Contact).where(Contact.id == row.contact_id).values(
                        opted_out=True, subscribed=False))
            row.updated_at = utcnow()
        return True


def sweep(runtime, stranded_after: timedelta = STRANDED_AFTER) -> int:
    """Re-queue rows whose task was lost; mark rows stranded mid-send. Returns how many were re-queued."""
    now = utcnow()
    cutoff = now - stranded_after
    with runtime.transaction() as session:
        due = session.execute(select(Outbound.id, Outbound.next_attempt_at).where(
            Outbound.status.in_(("pending", "queued")), Outbound.broadcast_id.is_(None))).all()
        ids = [row_id for row_id, at in due if at is None or as_aware(at) <= cutoff]
        session.execute(update(Outbound).where(Outbound.status == "sending", Outbound.updated_at <= cutoff)
                        .values(status="failed", failure_reason="interrupted",
                                failure_detail="the worker stopped during the provider call; not resent "
                                               "(the provider may have delivered it)", updated_at=now))
    enqueue(ids)
    return len(ids)


