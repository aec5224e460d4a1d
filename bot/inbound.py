"""Receiving one message: dedupe, find or create the contact, run the dialogue, keep the new state.

All in one short transaction with the contact's row locked, so two messages from
one person never lose a state update, and a webhook delivered twice is handled
once (the unique (channel, provider_id) row decides, not a check-then-insert).
No provider is called in here.
"""
import json
import logging
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Column, Table, TextualSelect, bindparam, select, text, update

from handlers import ContactState, Incoming, Reply, respond
from handlers.text import clean_for_storage

from . import channels
from .cases import CaseServices, as_aware
from .channels.base import merge
from .models import Contact, Message, utcnow
from .outbound import enqueue, queue_reply
from .poll_answers import load_turn, save_turn
from .runtime import Runtime
from .statuses import State

log = logging.getLogger(__name__)
# Declarative classes with a __tablename__ map a Table (SQLAlchemy types __table__ as any FromClause).
_contacts, _messages = cast(Table, Contact.__table__), cast(Table, Message.__table__)


def _insert_sql(table: Table, columns: list[str], conflict: str, returning: list[Column[Any]]) -> TextualSelect:
    """INSERT ... ON CONFLICT ...: the same words in SQLite and PostgreSQL, as a typed text() statement.

    The dialects' own insert() (what db.insert_ignore / db.upsert_locked build) is never cached by
    SQLAlchemy (inherit_cache = False), so it was compiled anew for every message; a text() statement
    made once is compiled once per engine and found in the compiled cache after that.
    """
    sql = (f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)}) "
           f"ON CONFLICT {conflict} RETURNING {', '.join(c.name for c in returning)}")
    return text(sql).bindparams(*[bindparam(c, type_=table.c[c].type) for c in columns]).columns(*returning)


# Found or created, and locked, in one statement: ON CONFLICT DO UPDATE takes the row lock that
# SELECT ... FOR UPDATE would (PostgreSQL); SQLite's BEGIN IMMEDIATE already serializes writers.
# SET channel = its own value: a no-op that locks.
_UPSERT_CONTACT = _insert_sql(
    _contacts, ["channel", "address_hash", "address_enc", "state", "opted_out", "subscribed", "topics", "created_at"],
    "(channel, address_hash) DO UPDATE SET channel = excluded.channel", list(_contacts.columns))
# The unique (channel, provider_id) decides what is a second delivery: race-free, no check-then-insert.
_INSERT_MESSAGE = _insert_sql(
    _messages, ["contact_id", "channel", "provider_id", "text_enc", "media_enc", "created_at"],
    "(channel, provider_id) DO NOTHING", [_messages.c.id])
_UPDATE_CONTACT = update(_contacts).where(_contacts.c.id == bindparam("_id")).values(
    {name: bindparam(name) for name in ("language", "state", "state_enc", "opted_out", "subscribed", "area",
                                        "topics", "last_seen_at", "voice")})
_UPDATE_MESSAGE = update(_messages).where(_messages.c.id == bindparam("_id")).values(
    {name: bindparam(name) for name in ("language", "item", "replies_enc", "missed")})
# ctx.note events that say the bot could not answer well (bot/unanswered.py lists these messages)
MISSED = (("unmatched", "no_answer"), ("topic_choice", "did_you_mean"), ("language_switch", "language_switch"))


@dataclass
class Outcome:
    replies: list[Reply]
    duplicate: bool = False
    language: str | None = None
    events: list = field(default_factory=list)
    queued: list[tuple[int, Reply]] = field(default_factory=list)   # (outbound row, its reply) (queue_replies)
    erased: bool = False
    by_api: bool = False    # answered inline, but through the API: its queued rows are handed on after commit


def load_state(runtime: Runtime, contact: Contact) -> ContactState:
    data = json.loads(runtime.vault.decrypt(contact.state_enc) or "{}") if contact.state_enc else {}
    idle = (utcnow() - as_aware(contact.last_seen_at)).total_seconds() if contact.last_seen_at else None
    return ContactState(language=contact.language, state=contact.state, data=data, opted_out=contact.opted_out,
                        subscribed=contact.subscribed, area=contact.area,
                        topics=[t for t in (contact.topics or "").split(",") if t], idle_seconds=idle,
                        voice=bool(contact.voice))


def receive(runtime: Runtime, incoming: Incoming, queue_replies: bool = False) -> Outcome:
    """queue_replies: the turn is answered from the queue (see intake), not in the webhook response:
    the replies become an outbound row in the same transaction, so a crash never keeps one without the other."""
    vault = runtime.vault
    text = clean_for_storage(incoming.text)
    incoming.text = text
    now = utcnow()
    address_hash = vault.address_hash(incoming.channel, incoming.address)
    contact_values = {"channel": incoming.channel, "address_hash": address_hash,
                      "address_enc": vault.encrypt(incoming.address), "state": State.NEW, "created_at": now,
                      "opted_out": False, "subscribed": False, "topics": ""}
    message_values = {"channel": incoming.channel, "provider_id": incoming.provider_id,
                      "text_enc": vault.encrypt(text) if text else None,
                      "media_enc": vault.encrypt(json.dumps([m.url for m in incoming.media])) if incoming.media
                      else None,
                      "created_at": now}
    try:
        with runtime.transaction() as session:
            outcome = _receive(runtime, session, incoming, contact_values, message_values, now, queue_replies)
    except _Duplicate as duplicate:     # raised inside: the transaction rolled back, the upsert with it
        return duplicate.outcome
    if outcome.by_api:
        enqueue([outbound_id for outbound_id, _ in outcome.queued])
    return outcome


class _Duplicate(Exception):
    def __init__(self, outcome: Outcome):
        self.outcome = outcome


def _receive(runtime: Runtime, session, incoming: Incoming, contact_values: dict, message_values: dict,
             now, queue_replies: bool) -> Outcome:
    vault = runtime.vault
    connection = session.connection()          # Core statements: the ORM adds nothing on this path
    contact = connection.execute(_UPSERT_CONTACT, contact_values).one()   # a Row: .id, .language, ...
    message_id = connection.execute(_INSERT_MESSAGE, {**message_values, "contact_id": contact.id}).scalar()
    if message_id is None:
        # Rolled back: a repeated "yes, delete my data" must not bring the erased contact back.
        raise _Duplicate(_duplicate(runtime, session, incoming, contact.id))

    state = load_state(runtime, contact)
    # Polls go only to people who opted in: nobody else pays for the lookup (STOP's holders do, so it ends)
    state.poll = load_turn(connection, contact.id, now) if contact.subscribed or contact.opted_out else None
    services = CaseServices(runtime, session, contact, incoming, message_id)
    ctx = respond(runtime.content.get(), incoming, state, services, runtime.config)
    if services.erased:     # the confirmation holds no personal data: kept, so a repeat is answered alike
        _keep_replies(connection, vault, message_id, ctx, None)
        return Outcome(ctx.replies, language=ctx.lang, events=ctx.events, erased=True)
    if session.new or session.dirty or session.deleted:
        session.flush()      # a case opened by the dialogue, as the ORM would before the statements below
    connection.execute(_UPDATE_CONTACT, {
        "_id": contact.id, "language": state.language, "state": state.state,
        "state_enc": vault.encrypt(json.dumps(state.data, ensure_ascii=False)) if state.data else None,
        "opted_out": state.opted_out, "subscribed": state.subscribed, "area": state.area,
        "topics": ",".join(state.topics), "last_seen_at": now, "voice": state.voice})
    save_turn(runtime, connection, contact.id, incoming.channel, state, now)
    shown = [str(e[1]) for e in ctx.events if e[0] == "item"]
    _keep_replies(connection, vault, message_id, ctx, shown[-1] if shown else None)
    queued = []
    reply = merge(ctx.replies) if incoming.reachable else None      # the person left the channel: nothing sent
    by_api = reply is not None and reply.voice is not None and not _voice_in_response(incoming.channel)
    if reply is not None and (queue_replies or by_api):
        queued.append((queue_reply(runtime, session, contact, reply).id, reply))
    # A voice note the webhook response cannot carry (Telegram's upload): the whole turn goes through the
    # provider's API from the queue, as one message, and the response says nothing.
    return Outcome([] if by_api and not queue_replies else ctx.replies, language=ctx.lang, events=ctx.events,
                   queued=queued, by_api=by_api and not queue_replies)


def _voice_in_response(channel: str) -> bool:
    adapter = channels.find(channel)
    return adapter is None or adapter.voice_in_response


def _keep_replies(connection, vault, message_id: int, ctx, item: str | None) -> None:
    """What we answered, with the message: a repeated delivery gets the same answer."""
    noted = {event[0] for event in ctx.events}
    connection.execute(_UPDATE_MESSAGE, {
        "_id": message_id, "language": ctx.lang, "item": item,
        "replies_enc": vault.encrypt(json.dumps([r.to_dict() for r in ctx.replies], ensure_ascii=False)),
        "missed": next((kind for event, kind in MISSED if event in noted), None)})


def _duplicate(runtime: Runtime, session, incoming: Incoming, contact_id: int) -> Outcome:
    """The same provider message again: answer what we answered the first time, change nothing.

    Only to the same sender: a reused id from another address (a forged or replayed request) gets
    no answer, so nobody reads another person's replies. After an erasure the row has no contact
    and its replies are the confirmation, which holds nothing personal."""
    first = session.execute(select(Message.contact_id, Message.replies_enc).where(
        Message.channel == incoming.channel, Message.provider_id == incoming.provider_id)).one_or_none()
    log.info("duplicate delivery on %s ignored", incoming.channel)
    if first is None or not first.replies_enc or first.contact_id not in (None, contact_id):
        return Outcome([], duplicate=True)
    stored = runtime.vault.decrypt(first.replies_enc)
    replies = [Reply.from_dict(r) for r in json.loads(stored or "[]")]
    if any(r.voice for r in replies) and not _voice_in_response(incoming.channel):
        return Outcome([], duplicate=True)      # the first delivery's voice note went through the API
    return Outcome(replies, duplicate=True)
