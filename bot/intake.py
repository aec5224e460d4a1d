"""Acknowledge first, answer from the queue (INBOUND_MODE=queue): for spikes bigger than the web
processes can answer inside the webhook.

A cholera alert can bring more messages a second than the dialogue can answer inline; Twilio then
times out after 15 s and Telegram delivers again. In queue mode the webhook only checks the request
(signature, shape), seals the message with the data key (the queue may be Redis: nothing readable
lands there) and hands it to the queue; the worker runs the same `inbound.receive` as inline mode,
which dedupes on the provider's id and writes the turn's reply as an outbound row in the same
transaction, then sends that row itself (outbound.send_now). A task that fails (database down) is retried: the
provider's id makes a second run a duplicate, never a second answer.
"""
import json
import logging

from handlers.types import Incoming, Media, Reply

from . import inbound, observability, outbound
from .channels import telegram, twilio
from .channels.base import RETRY, SENT, merge

log = logging.getLogger(__name__)


class QueueUnavailable(Exception):
    """The queue did not take the message: the webhook answers 503 and the provider delivers again."""


def seal(runtime, incoming: Incoming) -> str:
    data = {"channel": incoming.channel, "address": incoming.address, "text": incoming.text,
            "provider_id": incoming.provider_id, "language_hint": incoming.language_hint,
            "supported": incoming.supported, "media": [[m.url, m.content_type] for m in incoming.media]}
    return runtime.vault.encrypt(json.dumps(data, ensure_ascii=False))


def unseal(runtime, sealed: str) -> Incoming | None:
    opened = runtime.vault.decrypt(sealed)
    if opened is None:      # sealed with another DATA_KEY: nothing to read, nothing to retry
        return None
    data = json.loads(opened)
    return Incoming(channel=data["channel"], address=data["address"], text=data["text"],
                    provider_id=data["provider_id"], language_hint=data["language_hint"],
                    supported=data["supported"], media=[Media(url, kind) for url, kind in data["media"]])


def accept(runtime, incoming: Incoming) -> None:
    """Hand the message to the queue; QueueUnavailable when it cannot take it."""
    from .queue import receive_task
    sealed = seal(runtime, incoming)
    try:
        receive_task(sealed)
    except Exception as exc:    # redis ConnectionError, sqlite3.OperationalError: the queue's own errors
        log.error("queue unavailable for an inbound message: %s", type(exc).__name__)
        raise QueueUnavailable() from exc


def process(runtime, sealed: str) -> str:
    """The worker's half: the dialogue, then the reply on its way. Returns what happened (for logs)."""
    token = observability.TASK_ROUTE.set("queue:inbound")
    try:
        return _process(runtime, sealed)
    finally:
        observability.TASK_ROUTE.reset(token)


def _process(runtime, sealed: str) -> str:
    incoming = unseal(runtime, sealed)
    if incoming is None:
        log.error("an inbound message in the queue does not open with this DATA_KEY: dropped")
        return "unreadable"
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
    if channel == "telegram":
        result = telegram.send(runtime.config, address, reply, runtime.content.get().images_dir)
    else:
        result = twilio.send(runtime.config, channel, address, reply)
    observability.record_send(channel, result.outcome if not result.reason else f"{result.outcome}:{result.reason}")
    if result.outcome == RETRY:
        raise SendAgain(result.reason or "retry")
    if result.outcome != SENT:
        log.warning("erasure confirmation not delivered (%s %s)", result.outcome, result.reason or "")
    return result.outcome
