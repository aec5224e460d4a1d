"""Acknowledge first, answer from the queue (INBOUND_MODE=queue): for spikes bigger than the web
processes can answer inside the webhook.

A cholera alert can bring more messages a second than the dialogue can answer inline; Twilio then
times out after 15 s and Telegram delivers again. In queue mode the webhook only checks the request
(signature, shape), seals the message with the data key (the queue may be Redis: nothing readable
lands there) and hands it to the queue; the worker runs the same `inbound.receive` as inline mode,
which dedupes on the provider's id and writes the turn's reply as an outbound row in the same
transaction, then sends that row itself (outbound.send_now). A task that fails (database down) is retried: the
provider's id makes a second run a duplicate, never a second answer.

One person's messages are handled in the order they arrived, while different people are handled in
parallel. As it queues a message, the webhook also puts it in the person's waiting room (queue.WaitingRoom:
Redis or SqliteHuey's file, beside the queue; keyed by the address hash) with the next arrival number.
The worker handles the person's waiting messages first arrived first, up to and including its own: a message
that finds an earlier one of the same person still waiting (taken by another worker a moment before, or put
back by a stopped worker) handles that one first. A message leaves the room only after its turn is committed,
so the next one starts after it. Two workers on the same message wait for each other on the contact's row
lock (PostgreSQL: the upsert's row lock; SQLite: the one writer) and the second finds it a duplicate.
"""
import json
import logging
import random
import time

from sqlalchemy import delete, select, update

from handlers.types import Incoming, Media, Reply

from . import channels, db, inbound, observability, outbound
from .channels.base import RETRY, SENT, merge
from .models import DeadLetter, Message, Outbound
from .statuses import OutboundStatus, Purpose

log = logging.getLogger(__name__)


class QueueUnavailable(Exception):
    """The queue did not take the message: the webhook answers 503 and the provider delivers again."""


def seal(runtime, incoming: Incoming, person: str | None = None) -> str:
    """person: the address hash whose waiting room holds the message too (accept)."""
    data = {"channel": incoming.channel, "address": incoming.address, "text": incoming.text,
            "provider_id": incoming.provider_id, "language_hint": incoming.language_hint,
            "supported": incoming.supported, "reachable": incoming.reachable,
            "media": [[m.url, m.content_type] for m in incoming.media]}
    if person:
        data["person"] = person
    return runtime.vault.encrypt(json.dumps(data, ensure_ascii=False))


def unseal(runtime, sealed: str) -> Incoming | None:
    return _open(runtime, sealed)[0]


def _open(runtime, sealed: str) -> tuple[Incoming | None, str | None]:
    """The message and the waiting room it is in (None: sealed before there were rooms, or a replay)."""
    opened = runtime.vault.decrypt(sealed)
    if opened is None:      # sealed with another DATA_KEY: nothing to read, nothing to retry
        return None, None
    data = json.loads(opened)
    return Incoming(channel=data["channel"], address=data["address"], text=data["text"],
                    provider_id=data["provider_id"], language_hint=data["language_hint"],
                    supported=data["supported"], reachable=data.get("reachable", True),
                    media=[Media(url, kind) for url, kind in data["media"]]), \
        data.get("person")


def accept(runtime, incoming: Incoming) -> None:
    """Put the message in its sender's waiting room (its place in the arrival order) and hand it to the
    queue; QueueUnavailable when either cannot take it. Where tasks run in the caller (HUEY_IMMEDIATE, tests)
    the message is handled before the webhook answers: already in order, no room."""
    from .queue import receive_task, waiting_room
    person = None if not deferrable() else runtime.vault.address_hash(incoming.channel, incoming.address)
    sealed = seal(runtime, incoming, person)
    try:
        if person:
            waiting_room().arrive(person, sealed)
            _glance["anyone"] = True        # this process knows at once: its next message looks
        receive_task(sealed)
    except Exception as exc:    # redis ConnectionError, sqlite3.OperationalError: the queue's own errors
        log.error("queue unavailable for an inbound message: %s", type(exc).__name__)
        raise QueueUnavailable() from exc


GLANCE_SECONDS = 1.0      # how often a web process asks the room whether anybody waits at all
_glance = {"at": -GLANCE_SECONDS, "anyone": False}


def waits_behind(runtime, incoming: Incoming) -> bool:
    """Inline mode: has this person messages still waiting in the queue (acknowledged during a database
    outage, not handled yet)? Then this one is queued behind them instead of answered at once, so a
    conversation stays in order after an outage too. The hot path pays one look at the room a second per
    process, and a look at the person's own room only while anybody waits. The room unreachable (the queue
    down) is no reason to hold a message back: it is answered inline."""
    if not deferrable():
        return False
    from .queue import waiting_room
    try:
        room = waiting_room()
        now = time.monotonic()
        if now - _glance["at"] >= GLANCE_SECONDS:
            _glance["anyone"], _glance["at"] = room.anyone(), now
        if not _glance["anyone"]:
            return False
        return bool(room.waiting(runtime.vault.address_hash(incoming.channel, incoming.address)))
    except Exception as exc:    # redis ConnectionError, sqlite3.OperationalError: the queue's own errors
        log.warning("waiting room unreachable (%s): answered inline", type(exc).__name__)
        return False


def rescue_waiting(runtime, older_than: float | None = None) -> int:
    """Queue again the last waiting message of each person whose messages have waited longer than
    WAITING_RESCUE_SECONDS: their task died with a worker killed outright (SIGKILL, the OOM killer, a lost
    machine), which no signal handler sees. The task handles the person's earlier waiting messages first
    (arrival order); one that was in fact handled is a duplicate and answered nothing more."""
    from .phone import CALL_ROOM
    from .queue import call_message_task, receive_task, waiting_room
    wait = float(older_than if older_than is not None else runtime.config.get("WAITING_RESCUE_SECONDS") or 600)
    try:
        stuck = waiting_room().stale(time.time() - wait)
    except Exception as exc:
        log.warning("the waiting rooms cannot be read (%s): rescue tried again later", type(exc).__name__)
        return 0
    for person, sealed in stuck:
        if person.startswith(CALL_ROOM):     # a caller's recorded message (phone), not a text
            call_message_task(sealed, person)
        else:
            receive_task(sealed)
    if stuck:
        log.warning("%d waiting message(s) had lost their task (a killed worker): queued again", len(stuck))
    return len(stuck)


FAULT_TRIES = 3      # a fault that is not an outage: tried this often, then kept as a dead letter


def process(runtime, sealed: str) -> str:
    """The worker's half: the dialogue, then the reply on its way. Returns what happened (for logs).

    The provider had its 200 long ago, so this message exists nowhere else: it is never dropped. While the
    database is unavailable the worker waits and tries again (backoff capped at INTAKE_RETRY_MAX_SECONDS,
    no limit on tries); the messages behind it wait in the queue, in order. A fault of another kind is
    tried FAULT_TRIES times, then kept sealed in dead_letters for `flask --app bot queue replay`.
    If the worker is stopped while it waits, Huey's SIGNAL_INTERRUPTED queues the message again (queue.py)."""
    token = observability.TASK_ROUTE.set("queue:inbound")
    try:
        return _until_done(runtime, sealed)
    finally:
        observability.TASK_ROUTE.reset(token)


def deferrable() -> bool:
    """Can a message wait in the queue for another process? Not when tasks run in the caller (HUEY_IMMEDIATE,
    tests): there a task would wait for the database inside the very request it was meant to spare."""
    from .queue import huey
    return not huey.immediate


def _until_done(runtime, sealed: str) -> str:
    outages = faults = 0
    fault: BaseException | None = None
    patient = deferrable()
    while True:
        try:
            if faults >= FAULT_TRIES:
                done = keep_dead_letter(runtime, sealed, fault or RuntimeError("no fault recorded"))
                _leave_room(runtime, sealed)    # the person's later messages no longer wait for this one
                return done
            done = _process(runtime, sealed)
            if done == "unreadable":        # sealed with another DATA_KEY: kept for whoever holds that key
                return keep_dead_letter(runtime, sealed, LookupError("sealed with another DATA_KEY"), 1)
            return done
        except Exception as exc:
            if not db.unavailable(exc):
                if faults >= FAULT_TRIES:
                    raise                   # storing the dead letter itself failed, not for an outage
                faults, fault = faults + 1, exc
                log.exception("an inbound message failed (try %d of %d)", faults, FAULT_TRIES)
                wait(1.0)
                continue
            if not patient:
                raise                       # HUEY_IMMEDIATE: the caller hears of the outage (a 503)
            outages += 1
            delay = retry_delay(runtime.config, outages)
            log.warning("inbound message waiting for the database (%s): try %d failed, next in %.1f s",
                        type(exc).__name__, outages, delay)
            wait(delay)


def retry_delay(config: dict, tries: int) -> float:
    """0.5 s, 1 s, 2 s ... up to INTAKE_RETRY_MAX_SECONDS, with a little jitter so workers do not knock together."""
    cap = float(config.get("INTAKE_RETRY_MAX_SECONDS") or 60)
    return min(cap, 0.5 * 2 ** min(tries - 1, 16)) * random.uniform(0.8, 1.0)


def wait(seconds: float) -> None:
    """Short sleeps: a worker stopped meanwhile (SIGTERM) is not held up by a long one."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        time.sleep(min(left, 0.5))


def keep_dead_letter(runtime, sealed: str, fault: BaseException, tries: int = FAULT_TRIES,
                     kind: str = "inbound") -> str:
    words = f"{type(fault).__name__}: {fault}"[:300]
    with runtime.transaction() as session:
        session.add(DeadLetter(kind=kind, sealed=sealed, error=words, attempts=tries))
    log.error("an inbound message failed %d time(s) (%s): kept in dead_letters; replay it with "
              "`flask --app bot queue replay` once the cause is fixed", tries, type(fault).__name__)
    return "dead_letter"


def _replayer(kind: str | None):
    """What runs a kept letter again: a text message (intake), or a caller's recorded message (phone)."""
    if kind == "call":
        from .phone import take_sealed
        return take_sealed
    return _process


def replay_dead_letters(runtime, limit: int | None = None) -> dict:
    """Run kept messages again, oldest first; one that fails again stays (its tries counted)."""
    done = {"handled": 0, "failed": 0}
    with runtime.transaction() as session:
        ids = session.execute(select(DeadLetter.id).order_by(DeadLetter.id).limit(limit)).scalars().all()
    for letter_id in ids:
        with runtime.transaction() as session:
            letter = session.get(DeadLetter, letter_id)
            sealed, kind = (letter.sealed, letter.kind) if letter else (None, None)
        if sealed is None:
            continue
        try:
            if _replayer(kind)(runtime, sealed) == "unreadable":
                raise LookupError("sealed with another DATA_KEY")
        except Exception as exc:
            if db.unavailable(exc):
                raise
            log.exception("a dead letter failed again")
            with runtime.transaction() as session:
                session.execute(update(DeadLetter).where(DeadLetter.id == letter_id).values(
                    attempts=DeadLetter.attempts + 1, error=f"{type(exc).__name__}: {exc}"[:300]))
            done["failed"] += 1
            continue
        with runtime.transaction() as session:
            session.execute(delete(DeadLetter).where(DeadLetter.id == letter_id))
        done["handled"] += 1
    return done


def _process(runtime, sealed: str) -> str:
    incoming, person = _open(runtime, sealed)
    if incoming is None:
        return "unreadable"
    if person is None:
        return _handle(runtime, incoming)
    return _in_arrival_order(runtime, person, sealed, incoming)


def _in_arrival_order(runtime, person: str, sealed: str, incoming: Incoming) -> str:
    """Handle the person's waiting messages, first arrived first, up to and including this one.

    Each leaves the room only once its turn is committed, so the next starts after it. An earlier message
    that fails for a reason other than an outage is left to its own worker (which retries it, then keeps it
    as a dead letter and takes it out of the room); an outage stops here and the whole walk is tried again.
    If the room cannot be read (the queue's storage went away after this task was taken), the message is
    handled on its own. A message no longer in the room was handled by a later one's worker: handling it
    again finds it a duplicate (and one whose room was lost is still handled, never dropped)."""
    from .queue import waiting_room
    room, passed = waiting_room(), set()
    while True:
        try:
            waiting = [s for s in room.waiting(person) if s not in passed]
        except Exception as exc:
            if db.unavailable(exc):
                raise
            log.warning("the waiting room cannot be read (%s): the message is handled without it",
                        type(exc).__name__)
            return _handle(runtime, incoming)
        if sealed not in waiting:
            return _handle(runtime, incoming)
        first = waiting[0]
        if first == sealed:
            done = _handle(runtime, incoming)
            if done == "duplicate" and _reply_on_its_way(runtime, incoming):
                # Another worker took this very message as an earlier one and is sending its reply: it leaves
                # the room once that is sent; leaving now would let the person's next message overtake it.
                _until_left(room, person, sealed)
            _leave(room, person, sealed)
            return done
        try:
            earlier, _ = _open(runtime, first)
            if earlier is None:
                raise LookupError("sealed with another DATA_KEY")
            done = _handle(runtime, earlier)
        except Exception as exc:
            if db.unavailable(exc):
                raise
            log.warning("an earlier message of the same person failed here (%s): left to its own worker",
                        type(exc).__name__)
            passed.add(first)
            continue
        if done == "duplicate":
            # Stored by another worker, which may still be sending its reply: this one's reply goes after.
            _until_left(room, person, first)
        _leave(room, person, first)


def _reply_on_its_way(runtime, incoming: Incoming) -> bool:
    """Has the sender of this (already stored) message a dialogue reply not yet sent? Asked only of a
    duplicate: a redelivery long after finds every reply sent and leaves at once."""
    sender = select(Message.contact_id).where(
        Message.channel == incoming.channel, Message.provider_id == incoming.provider_id).scalar_subquery()
    with runtime.transaction() as session:
        return session.scalar(select(Outbound.id).where(
            Outbound.contact_id == sender, Outbound.purpose == Purpose.REPLY,
            Outbound.status.in_(OutboundStatus.open())).limit(1)) is not None


ORDER_WAIT_SECONDS = 5.0     # at most this long for another worker to send an earlier message's reply


def _until_left(room, person: str, sealed: str) -> bool:
    """Wait until the worker that stored an earlier message has sent its reply and taken it out of the room.
    Bounded: that worker may have died after storing it (the sweep then sends the reply)."""
    deadline = time.monotonic() + ORDER_WAIT_SECONDS
    while time.monotonic() < deadline:
        try:
            if sealed not in room.waiting(person):
                return True
        except Exception:
            return False
        time.sleep(0.02)
    return False


def _leave(room, person: str, sealed: str) -> None:
    """Out of the room once handled. Should that fail, the next worker finds it handled (a duplicate)."""
    try:
        room.leave(person, sealed)
    except Exception as exc:
        log.warning("a handled message could not leave the waiting room (%s)", type(exc).__name__)


def _leave_room(runtime, sealed: str) -> None:
    """A message kept as a dead letter leaves its room, so the person's later ones no longer try it."""
    try:
        person = json.loads(runtime.vault.decrypt(sealed) or "{}").get("person")
    except Exception:
        return                          # not even JSON: never put in a room
    if person:
        from .queue import waiting_room
        _leave(waiting_room(), person, sealed)


def _handle(runtime, incoming: Incoming) -> str:
    """One message: the dialogue, then its reply on its way."""
    outcome = inbound.receive(runtime, incoming, queue_replies=True)
    observability.record_turn(incoming.channel, outcome)
    if outcome.duplicate:
        return "duplicate"
    if outcome.erased:
        # The contact and its address are gone with the erasure, so no outbound row can hold the
        # confirmation: it goes as its own sealed task, retried while the provider is unreachable.
        reply = merge(outcome.replies)
        if reply is not None:
            from .queue import erasure_notice_task
            erasure_notice_task(runtime.vault.encrypt(json.dumps(
                {"channel": incoming.channel, "address": incoming.address, "reply": reply.to_dict()},
                ensure_ascii=False)))
        return "erased"
    # The reply row was written with the message; this task sends it now, with the address and text in
    # hand (no second task, no reading them back). Should the worker die first, the sweep finds it pending.
    for outbound_id, reply in outcome.queued:
        outbound.send_now(runtime, outbound_id, incoming.address, reply)
    return "answered"


class SendAgain(Exception):
    """The provider could not take the message now (connection, 5xx, throttled): the task is retried."""


def send_erasure_notice(runtime, sealed: str) -> str:
    opened = runtime.vault.decrypt(sealed)
    if opened is None:
        log.error("an erasure notice in the queue does not open with this DATA_KEY: dropped")
        return "unreadable"
    data = json.loads(opened)
    channel, address, reply = data["channel"], data["address"], Reply.from_dict(data["reply"])
    result = channels.adapter(channel).send(runtime.config, address, reply, runtime.content.get().images)
    observability.record_send(channel, result.outcome if not result.reason else f"{result.outcome}:{result.reason}")
    if result.outcome == RETRY:
        raise SendAgain(result.reason or "retry")
    if result.outcome != SENT:
        log.warning("erasure confirmation not delivered (%s %s)", result.outcome, result.reason or "")
    return result.outcome
