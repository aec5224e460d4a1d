"""Sending broadcasts: select recipients in batches, then send at each channel's rate.

One runner at a time holds the lease (a single database row, renewed every second), because
provider limits are per sender, not per broadcast. A runner that dies simply stops renewing;
the next one (woken by the worker's start-up hook or the periodic tick) takes over:
- recipients are Outbound rows, unique per (broadcast, contact), selected from `cursor` on:
  a restart neither skips nor repeats anyone;
- each row is sent by outbound.send_one, which claims it first: never sent twice;
- rows the dead runner was sending are marked interrupted, not resent (the provider may
  already have delivered them).
Pacing starts messages evenly, never faster than the rate, and never catches up in a burst
(beyond a few milliseconds of scheduling jitter, see SLACK).
"""
import logging
import threading
import time
import uuid
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import create_engine, func, select, update

from . import channels as registry
from . import db as db_module
from .broadcasts import audience_filter, rates, rendered, text_language, texts_of
from .models import Broadcast, BroadcastLease, Contact, Outbound, utcnow
from .statuses import BroadcastStatus, OutboundStatus, Purpose

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=30)   # default; BROADCAST_LEASE_SECONDS


def lease_length(runtime) -> timedelta:
    return timedelta(seconds=int(runtime.config.get("BROADCAST_LEASE_SECONDS") or LEASE.total_seconds()))
SELECT_BATCH = 2000
FETCH_BATCH = 500
SLACK = 0.005           # seconds of lateness a start may make up (at most 5 messages at 1000/s, 1 at <= 200/s)
PROVIDER_LATENCY = 0.5  # seconds a send may take: threads per channel = rate x this (fewer threads, less jitter)


class Pacer:
    """At most `rate` messages reach the provider in any one second, measured as the provider does.

    A message reaches the provider somewhere between our start and our end of the call, so a
    new call may start only while fewer than `rate` calls are in flight or ended within the last
    second; starts are also spread evenly (no bursts, and time lost is not made up)."""

    def __init__(self, rate: float):
        self.limit = max(1, int(rate))
        self.interval = 1.0 / max(rate, 0.01)
        # A start that comes late (thread wake-up, GIL) may be made up within this much, so that at
        # hundreds a second scheduling jitter does not eat the rate; more is lost for good.
        self.slack = max(self.interval, SLACK)
        self.next = time.monotonic()
        self.inflight = 0
        self.ended: deque[float] = deque()
        self.changed = threading.Condition()
        self.turn = threading.Lock()

    def acquire(self, stop: threading.Event) -> bool:
        # One thread at a time waits for the next start; the others queue on `turn`. (All of them waiting
        # on `changed` woke together at every start and end, which at hundreds a second cost more CPU than
        # the sends.)
        with self.turn, self.changed:
            while not stop.is_set():
                now = time.monotonic()
                while self.ended and self.ended[0] <= now - 1.0:
                    self.ended.popleft()
                busy = self.inflight + len(self.ended)
                if busy < self.limit and now >= self.next:
                    self.inflight += 1
                    self.next = max(self.next, now - self.slack) + self.interval
                    return True
                waits = [self.next - now] if now < self.next else []
                if busy >= self.limit and self.ended:
                    waits.append(self.ended[0] + 1.0 - now)
                self.changed.wait(min(waits) if waits else 0.05)
            return False

    def release(self) -> None:
        with self.changed:
            self.inflight -= 1
            self.ended.append(time.monotonic())
            self.changed.notify_all()


def _take_lease(runtime, holder: str) -> bool:
    now = utcnow()
    with runtime.transaction() as session:
        for _ in range(2):
            taken = session.execute(update(BroadcastLease).where(
                BroadcastLease.id == 1,
                (BroadcastLease.holder.is_(None)) | (BroadcastLease.holder == holder) | (BroadcastLease.until < now))
                .values(holder=holder, until=now + lease_length(runtime)))
            if taken.rowcount == 1:
                return True
            # the migration makes the row; a table emptied by hand gets it back here
            if db_module.insert_ignore(session, BroadcastLease, {"id": 1}, ["id"]) is None:
                return False
        return False


def _release(runtime, holder: str) -> None:
    with runtime.transaction() as session:
        session.execute(update(BroadcastLease).where(BroadcastLease.id == 1, BroadcastLease.holder == holder)
                        .values(holder=None, until=None))


def lease_free_at(runtime):
    """When the current lease ends (None if nobody holds it)."""
    with runtime.transaction() as session:
        row = session.get(BroadcastLease, 1)
        return row.until if row and row.holder else None


def run(runtime, holder: str | None = None, threads: int | None = None) -> str:
    """Send every broadcast that is 'sending', oldest first; returns why it stopped."""
    holder = holder or uuid.uuid4().hex[:16]
    if not _take_lease(runtime, holder):
        return "busy"
    try:
        while True:
            with runtime.transaction() as session:
                broadcast_id = session.scalar(select(Broadcast.id).where(Broadcast.status == BroadcastStatus.SENDING)
                                              .order_by(Broadcast.started_at, Broadcast.id).limit(1))
            if broadcast_id is None:
                return "idle"
            outcome = _run_one(runtime, broadcast_id, holder, threads)
            if outcome == "lost":
                return "lost"
    finally:
        _release(runtime, holder)


def _status(runtime, broadcast_id: int) -> str:
    with runtime.transaction() as session:
        return session.scalar(select(Broadcast.status).where(Broadcast.id == broadcast_id))


def _run_one(runtime, broadcast_id: int, holder: str, threads: int | None) -> str:
    with runtime.transaction() as session:   # whatever a dead runner left mid-call
        session.execute(update(Outbound).where(Outbound.broadcast_id == broadcast_id,
                                                   Outbound.status == OutboundStatus.SENDING)
                        .values(status=OutboundStatus.FAILED, failure_reason="interrupted", updated_at=utcnow(),
                                failure_detail="the sender stopped during the provider call; not resent "
                                               "(the provider may have delivered it)"))
    if not _select(runtime, broadcast_id, holder):
        return "lost"
    if _status(runtime, broadcast_id) != BroadcastStatus.SENDING:
        return "stopped"
    return _send_all(runtime, broadcast_id, holder, threads)


def _select(runtime, broadcast_id: int, holder: str) -> bool:
    """Turn the audience into Outbound rows, a batch per transaction, from the saved cursor on."""
    while True:
        if not _take_lease(runtime, holder):
            return False
        with runtime.transaction() as session:
            broadcast = session.get(Broadcast, broadcast_id)
            if broadcast.selection_done or broadcast.status != BroadcastStatus.SENDING:
                return True
            rows = session.execute(select(Contact.id, Contact.channel, Contact.language)
                                   .where(audience_filter(broadcast, in_id_order=True), Contact.id > broadcast.cursor)
                                   .order_by(Contact.id).limit(SELECT_BATCH)).all()
            if rows:
                now = utcnow()
                languages: dict = {}        # text_language parses the texts: once per language, not per row
                for _, _, lang in rows:
                    if lang not in languages:
                        languages[lang] = text_language(broadcast, lang)
                values = [{"contact_id": cid, "channel": channel, "purpose": Purpose.BROADCAST, "status": OutboundStatus.PENDING,
                           "attempts": 0, "next_attempt_at": now, "created_at": now, "updated_at": now,
                           "broadcast_id": broadcast_id, "language": languages[lang]}
                          for cid, channel, lang in rows]
                added = db_module.insert_many_ignore(session, Outbound, values, ["broadcast_id", "contact_id"])
                broadcast.cursor = rows[-1][0]
                broadcast.recipients = (broadcast.recipients or 0) + added
            if len(rows) < SELECT_BATCH:
                broadcast.selection_done = True
                return True


def _prepare(runtime, broadcast: Broadcast, rows, texts: dict) -> list:
    """A batch's rows as outbound.Prepared: addresses decrypted here (not per send), texts rendered once
    per language (`texts`, kept by the caller for the whole broadcast)."""
    from handlers.types import Reply

    from .outbound import Prepared
    jobs = []
    for (outbound_id, contact_id, channel, language, attempts, address_enc, opted_out, subscribed,
         last_seen_at) in rows:
        if language is not None and language not in texts:
            texts[language] = Reply(rendered(broadcast, language), language=language) \
                if language in texts_of(broadcast) else None
        reply = texts.get(language) if language is not None else None
        usable = contact_id is not None and address_enc is not None and not opted_out and subscribed is not False
        try:
            address = runtime.vault.decrypt(address_enc) if usable else None
        except Exception:               # unreadable: send_one's full path meets the same and records it
            address, usable = None, False
        jobs.append(Prepared(outbound_id, contact_id, channel, broadcast.id, language, attempts or 0, address,
                             last_seen_at, reply, usable))
    return jobs


_BATCH_COLUMNS = (Outbound.id, Outbound.contact_id, Outbound.channel, Outbound.language, Outbound.attempts,
                  Contact.address_enc, Contact.opted_out, Contact.subscribed, Contact.last_seen_at)


def _sending_engine(runtime, connections: int):
    """PostgreSQL: a pool of its own for the sending threads, a connection each, for this broadcast.
    The app's pool (5 + 10 overflow, shared with the runner's own queries) made senders wait for a
    connection, or open and close one per message. SQLite: the app's engine (the senders take turns on
    its one writer anyway)."""
    if runtime.engine.dialect.name == "sqlite":
        return runtime.engine
    return create_engine(runtime.engine.url, pool_size=connections, max_overflow=2)


def _send_all(runtime, broadcast_id: int, holder: str, threads: int | None) -> str:
    from . import outbound
    speeds = rates(runtime.config)
    stop = threading.Event()
    most = threads or int(runtime.config.get("BROADCAST_THREADS") or 16)
    with runtime.transaction() as session:
        broadcast = session.get(Broadcast, broadcast_id)
        session.expunge(broadcast)      # its texts, read once (they cannot change once it is approved)

    def warm(pacer, channel):
        def init():
            outbound.set_gate(lambda: pacer.acquire(stop), pacer.release)
            found = registry.find(channel)
            if found is not None:                  # build the client now, not after the first slot
                found.warm_up(runtime.config)
        return init

    def senders(channel: str) -> int:
        return max(2, min(most, int(speeds[channel] * PROVIDER_LATENCY) + 1))

    def dispatch(channel: str) -> None:
        """Feed this channel's senders, oldest first, never more than they can hold."""
        pacer = Pacer(speeds[channel])
        size = senders(channel)
        pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix=f"send-{channel}", initializer=warm(pacer, channel))
        inflight: set[int] = set()
        lock = threading.Lock()

        def finished(outbound_id):
            def done(_future):
                with lock:
                    inflight.discard(outbound_id)
            return done

        cursor = 0
        texts: dict = {}
        try:
            while not stop.is_set():
                with runtime.transaction() as session:
                    rows = session.execute(select(*_BATCH_COLUMNS).select_from(Outbound).outerjoin(
                        Contact, Contact.id == Outbound.contact_id).where(
                        Outbound.broadcast_id == broadcast_id, Outbound.channel == channel,
                        Outbound.status.in_(OutboundStatus.waiting()), Outbound.next_attempt_at <= utcnow(),
                        Outbound.id > cursor).order_by(Outbound.id).limit(FETCH_BATCH)).all()
                    left = 1 if rows else session.scalar(select(func.count()).select_from(Outbound).where(
                        Outbound.broadcast_id == broadcast_id, Outbound.channel == channel,
                        Outbound.status.in_(OutboundStatus.open())))
                rows = _prepare(runtime, broadcast, rows, texts)
                if not rows:
                    with lock:
                        busy = bool(inflight)
                    if not left and not busy:
                        return
                    cursor = 0              # retries that came due, after a short rest
                    stop.wait(0.2)
                    continue
                for job in rows:
                    outbound_id = job.id
                    while not stop.is_set():
                        with lock:
                            room = len(inflight) < size * 2
                        if room:
                            break
                        time.sleep(0.005)
                    with lock:
                        if stop.is_set():
                            return
                        if outbound_id in inflight:
                            continue
                        inflight.add(outbound_id)
                    pool.submit(outbound.send_prepared, runtime, job, recorder).add_done_callback(
                        finished(outbound_id))
                    cursor = outbound_id
        finally:
            pool.shutdown(wait=True)     # messages already started finish and are recorded

    with runtime.transaction() as session:
        channels = [c for (c,) in session.execute(select(Outbound.channel).where(
            Outbound.broadcast_id == broadcast_id).distinct())]
    workers = [threading.Thread(target=dispatch, args=(c,), name=f"dispatch-{c}", daemon=True) for c in channels]
    engine = _sending_engine(runtime, sum(senders(c) for c in channels) + 1)
    recorder = outbound.Recorder(runtime, engine)   # the outcomes of all channels' sends, written in batches
    outcome = "done"
    try:
        for worker in workers:
            worker.start()
        while alive := [w for w in workers if w.is_alive()]:
            # back as soon as the sending ends (a small broadcast takes a fraction of a second), else every
            # half second; either way the lease is renewed and a pause or cancel seen before going on
            alive[0].join(0.5)
            if not _take_lease(runtime, holder):
                outcome = "lost"
            elif _status(runtime, broadcast_id) != BroadcastStatus.SENDING:
                outcome = "stopped"
            if outcome != "done":
                stop.set()
                break
    finally:
        for worker in workers:
            worker.join()
        recorder.close()
        if engine is not runtime.engine:
            engine.dispose()
    if outcome == "done":
        with runtime.transaction() as session:
            session.execute(update(Broadcast).where(Broadcast.id == broadcast_id,
                                                    Broadcast.status == BroadcastStatus.SENDING)
                            .values(status=BroadcastStatus.DONE, finished_at=utcnow()))
    return outcome


def tick(runtime) -> str:
    """Start broadcasts whose time has come; make sure someone is sending what is 'sending'."""
    with runtime.transaction() as session:
        session.execute(update(Broadcast).where(Broadcast.status == BroadcastStatus.SCHEDULED,
                                                Broadcast.scheduled_at <= utcnow())
                        .values(status=BroadcastStatus.SENDING, started_at=utcnow()))
        waiting = session.scalar(select(func.count()).select_from(Broadcast).where(Broadcast.status == BroadcastStatus.SENDING))
    return run(runtime) if waiting else "idle"
