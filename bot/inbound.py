"""Receiving one message: dedupe, find or create the contact, run the dialogue, keep the new state.

All in one short transaction with the contact's row locked, so two messages from
one person never lose a state update, and a webhook delivered twice is handled
once (the unique (channel, provider_id) row decides, not a check-then-insert).
No provider is called in here.
"""
import json
import logging
from dataclasses import dataclass, field

from sqlalchemy import select, update

from handlers import ContactState, Incoming, Reply, respond
from handlers.text import clean_for_storage

from .cases import CaseServices
from .db import insert_ignore, upsert_locked
from .models import Contact, Message, utcnow
from .runtime import Runtime

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    replies: list[Reply]
    duplicate: bool = False
    language: str | None = None
    events: list = field(default_factory=list)


def load_state(runtime: Runtime, contact: Contact) -> ContactState:
    data = json.loads(runtime.vault.decrypt(contact.state_enc) or "{}") if contact.state_enc else {}
    return ContactState(language=contact.language, state=contact.state, data=data, opted_out=contact.opted_out,
                        subscribed=contact.subscribed, area=contact.area,
                        topics=[t for t in (contact.topics or "").split(",") if t])


def receive(runtime: Runtime, incoming: Incoming) -> Outcome:
    vault = runtime.vault
    text = clean_for_storage(incoming.text)
    incoming.text = text
    now = utcnow()
    with runtime.transaction() as session:
        address_hash = vault.address_hash(incoming.channel, incoming.address)
        # Found or created, and locked, in one statement: ON CONFLICT DO UPDATE takes the row lock that
        # SELECT ... FOR UPDATE would (PostgreSQL); SQLite's BEGIN IMMEDIATE already serializes writers.
        contact = upsert_locked(session, Contact, {
            "channel": incoming.channel, "address_hash": address_hash,
            "address_enc": vault.encrypt(incoming.address), "state": "new", "created_at": now,
            "opted_out": False, "subscribed": False, "topics": "",
        }, ["channel", "address_hash"], touch=["channel"])   # channel = its own value: a no-op that locks

        values = {"contact_id": contact.id, "channel": incoming.channel, "provider_id": incoming.provider_id,
                  "text_enc": vault.encrypt(text) if text else None,
                  "media_enc": vault.encrypt(json.dumps([m.url for m in incoming.media])) if incoming.media else None,
                  "created_at": now}
        message_id = insert_ignore(session, Message, values, ["channel", "provider_id"])
        if message_id is None:
            return _duplicate(runtime, session, incoming)

        state = load_state(runtime, contact)
        services = CaseServices(runtime, session, contact, incoming, message_id)
        ctx = respond(runtime.content.get(), incoming, state, services, runtime.config)
        if services.erased:
            return Outcome(ctx.replies, language=ctx.lang, events=ctx.events)
        session.execute(update(Contact).where(Contact.id == contact.id).values(
            language=state.language, state=state.state,
            state_enc=vault.encrypt(json.dumps(state.data, ensure_ascii=False)) if state.data else None,
            opted_out=state.opted_out, subscribed=state.subscribed, area=state.area,
            topics=",".join(state.topics), last_seen_at=now))
        shown = [e[1] for e in ctx.events if e[0] == "item"]
        session.execute(update(Message).where(Message.id == message_id).values(
            language=ctx.lang, item=shown[-1] if shown else None,
            replies_enc=vault.encrypt(json.dumps([r.to_dict() for r in ctx.replies], ensure_ascii=False))))
    return Outcome(ctx.replies, language=ctx.lang, events=ctx.events)


def _duplicate(runtime: Runtime, session, incoming: Incoming) -> Outcome:
    """The same provider message again: answer what we answered the first time, change nothing."""
    stored = session.execute(select(Message.replies_enc).where(
        Message.channel == incoming.channel, Message.provider_id == incoming.provider_id)).scalar()
    replies = [Reply.from_dict(r) for r in json.loads(runtime.vault.decrypt(stored) or "[]")] if stored else []
    log.info("duplicate delivery on %s ignored", incoming.channel)
    return Outcome(replies, duplicate=True)
