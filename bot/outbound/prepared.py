"""Broadcast rows read ahead in batches by the runner (bot/broadcast_runner.py): sent with only a claim
before the provider call, their outcomes written in batches by one thread (Recorder)."""
import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from handlers.types import Reply

from ..channels.base import RETRY, SENT, STOPPED, WINDOW
from ..models import utcnow
from ..statuses import OutboundStatus, Purpose
from . import rows, windows
from .delivery import deliver
from .sending import gate, send_claimed

log = logging.getLogger(__name__)


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
    purpose: str = Purpose.BROADCAST
    case_id: int | None = None
    reply_enc: str | None = None


def send_prepared(runtime, job: Prepared, recorder: "Recorder") -> str:
    """send_one for a prepared broadcast row: the same pacing gate first, then only the claim (one
    single-row UPDATE) before the provider call; the outcome goes to `recorder`, which writes it within
    about RECORD_EVERY. A crash before it is written leaves the row 'sending': marked interrupted by the
    next runner, never resent (as for a crash during the call). Rows the batch found unusable, and claims
    that find the person stopped meanwhile (or the row taken), take send_one's full path."""
    from ..observability import record_send
    paced = gate()
    if paced is not None and not paced[0]():
        return "held"
    try:
        status = _send_prepared(runtime, job, recorder)
    finally:
        if paced is not None:
            paced[1]()
    record_send(job.channel, status)
    return status


def _send_prepared(runtime, job: Prepared, recorder: "Recorder") -> str:
    if not job.usable or job.reply is None or job.address is None:
        return send_claimed(runtime, job.id, [])
    with rows.hot_transaction(runtime, recorder.engine) as conn:
        claimed = conn.execute(rows.CLAIM_PREPARED, {"outbound_id": job.id, "now": utcnow()}).rowcount == 1
    if not claimed:                      # taken, done, cancelled, or the person stopped since the batch was read
        return send_claimed(runtime, job.id, [])
    job.attempts += 1
    # No transaction is open while we talk to the provider.
    if windows.closed(job.channel, job):
        result = windows.broadcast_outside(runtime, job, job, reply=job.reply, address=job.address,
                                           finish=recorder.finish)
    else:
        result = deliver(runtime, job, None, reply=job.reply, address=job.address)
    if result is not None and result.outcome == WINDOW:
        result = windows.broadcast_outside(runtime, job, job, reply=job.reply, address=job.address,
                                           finish=recorder.finish)
    if result is None:
        return "fallback"
    if result.outcome == SENT:
        return recorder.finish(runtime, job.id, OutboundStatus.SENT, provider_id=result.provider_id)
    if result.outcome == RETRY and job.attempts < rows.MAX_ATTEMPTS:
        recorder.requeue(job.id, result.reason, result.detail, result.retry_after or rows.backoff(job.attempts))
        return "retry"
    if result.outcome == STOPPED:
        rows.stop_contact(runtime, job.contact_id)
    return recorder.finish(runtime, job.id, OutboundStatus.FAILED, result.reason, result.detail)


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
                                  "provider_id": provider_id, "sent_at": now if status == OutboundStatus.SENT else None,
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
            with rows.hot_transaction(self.runtime, self.engine) as conn:
                if finished:
                    conn.execute(rows.FINISH, finished)
                if requeued:
                    conn.execute(rows.REQUEUE, requeued)
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
