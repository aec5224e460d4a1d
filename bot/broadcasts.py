"""Broadcasts: compose, count the audience, approve, start, pause, resume, cancel, follow progress.

The sending itself is bot.broadcast_runner. Both the dashboard and the command line call
these functions, so the rules (approval, fallback, targeting) live in one place.
"""
import json
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select, update

from handlers.i18n import LANGUAGES, N_, Refusal, Translator
from handlers.sms import segments

from . import channels as registry
from .cases import as_aware
from .models import AuditEvent, Broadcast, Contact, Message, Outbound, utcnow
from .statuses import BroadcastStatus, OutboundStatus, Purpose

CHANNELS = registry.names()   # every channel with an adapter (bot/channels/)
MAX_TEXT = 1000               # about 7 SMS parts in Arabic script; announcements should be far shorter
WHATSAPP_WINDOW = timedelta(hours=24)   # the session window of the channels that have one (WhatsApp, Messenger)
FOOTER = N_("Send STOP to stop announcements.")
ACTIVE = (BroadcastStatus.SCHEDULED, BroadcastStatus.SENDING, BroadcastStatus.PAUSED)


class BroadcastError(Refusal):
    pass


def _csv(values) -> str:
    return ",".join(sorted({v.strip() for v in values or [] if v and v.strip()}))


def _list(value: str | None) -> list[str]:
    return [v for v in (value or "").split(",") if v]


def texts_of(broadcast: Broadcast) -> dict:
    return json.loads(broadcast.texts or "{}")


def text_language(broadcast: Broadcast, lang: str | None) -> str | None:
    """Which text a person in `lang` gets: their own, else the chosen fallback, else none (skipped)."""
    texts = texts_of(broadcast)
    if lang in texts:
        return lang
    return broadcast.fallback if broadcast.fallback in texts else None


def rendered(broadcast: Broadcast, text_lang: str) -> str:
    """The announcement as sent: the text and, in the same language, how to stop."""
    return f"{texts_of(broadcast)[text_lang].strip()}\n{Translator(text_lang)(FOOTER)}"


def rates(config: dict) -> dict[str, float]:
    """Messages a second per channel, as each adapter declares its setting and default."""
    return {name: adapter.rate(config) for name, adapter in registry.ADAPTERS.items()}


def area_ids(content, wanted: list[str]) -> list[str]:
    """Camps and districts; a governorate id stands for all its areas."""
    result = []
    for gov in content.areas:
        members = [a["id"] for a in gov.get("areas") or []]
        if gov.get("id") in wanted:
            result += members
        result += [a for a in members if a in wanted]
    return sorted(set(result))


def create(runtime, session, *, title: str, texts: dict, actor: str, fallback: str | None = None,
           languages=(), channels=(), areas=(), topic: str | None = None,
           scheduled_at: datetime | None = None) -> Broadcast:
    content = runtime.content.get()
    texts = {lang: (text or "").strip() for lang, text in (texts or {}).items() if (text or "").strip()}
    if not texts:
        raise BroadcastError(N_("Write the announcement in at least one language."))
    unknown = set(texts) - set(LANGUAGES)
    if unknown:
        raise BroadcastError(N_("Unknown language: {names}."), names=", ".join(sorted(unknown)))
    for lang, text in texts.items():
        if len(text) > MAX_TEXT:
            raise BroadcastError(N_("The {language} text has {count} characters; keep it under {most}."),
                                 language=lang, count=len(text), most=MAX_TEXT)
    if fallback and fallback not in texts:
        raise BroadcastError(N_("The fallback language {language} has no text."), language=fallback)
    if set(languages) - set(LANGUAGES):
        raise BroadcastError(N_("Unknown target language."))
    if set(channels) - set(CHANNELS):
        raise BroadcastError(N_("Channels are {names}."), names=", ".join(CHANNELS))
    known_areas = {a["id"] for g in content.areas for a in g.get("areas") or []} | {g.get("id") for g in content.areas}
    if set(areas) - known_areas:
        raise BroadcastError(N_("Unknown area: {names}."), names=", ".join(sorted(set(areas) - known_areas)))
    if topic and content.topic(topic) is None:
        raise BroadcastError(N_("Unknown topic: {names}."), names=topic)
    if scheduled_at is not None and scheduled_at.tzinfo is None:
        scheduled_at = scheduled_at.replace(tzinfo=timezone.utc)
    if scheduled_at is not None and not utcnow() - timedelta(days=1) <= scheduled_at <= utcnow() + timedelta(days=366):
        raise BroadcastError(N_("Schedule the broadcast within the next year."))
    broadcast = Broadcast(title=(title or "").strip()[:120] or "Announcement", texts=json.dumps(texts, ensure_ascii=False),
                          fallback=fallback or None, languages=_csv(languages), channels=_csv(channels),
                          areas=_csv(area_ids(content, list(areas))), topic=topic or None, status=BroadcastStatus.DRAFT,
                          created_by=actor, scheduled_at=scheduled_at, cursor=0, selection_done=False, recipients=0)
    session.add(broadcast)
    session.flush()
    session.add(AuditEvent(actor=actor, action="broadcast_create", target=f"broadcast:{broadcast.id}"))
    return broadcast


def audience_filter(broadcast: Broadcast, text_languages_only: bool = True, in_id_order: bool = False):
    """The WHERE clause for recipients: opted in, not stopped, and the targets chosen.

    in_id_order: for reading the audience in batches by id (the runner): the channel is compared as
    an expression, so no index on it is used; SQLite otherwise read every contact of those channels
    through uq_contacts_address and sorted them, for each batch (selection time grew with the square
    of the audience)."""
    channel = (Contact.channel + "") if in_id_order else Contact.channel
    conditions: list[ColumnElement[bool]] = [Contact.subscribed.is_(True), Contact.opted_out.is_(False),
                  channel.in_(_list(broadcast.channels) or CHANNELS)]
    if broadcast.languages:
        conditions.append(Contact.language.in_(_list(broadcast.languages)))
    if broadcast.areas:
        conditions.append(Contact.area.in_(_list(broadcast.areas)))
    if broadcast.topic:
        conditions.append(or_(Contact.topics == "", Contact.topics.is_(None),
                              ("," + Contact.topics + ",").like(f"%,{broadcast.topic},%")))
    if text_languages_only and not (broadcast.fallback and broadcast.fallback in texts_of(broadcast)):
        conditions.append(Contact.language.in_(list(texts_of(broadcast))))
    return and_(*conditions)


def audience(runtime, session, broadcast: Broadcast) -> dict:
    """Who would receive it, per channel and language; who is skipped for lack of a text; WhatsApp reach."""
    window_start = utcnow() - WHATSAPP_WINDOW
    rows = session.execute(
        select(Contact.channel, Contact.language, func.count(),
               func.sum(case((or_(Contact.last_seen_at.is_(None), Contact.last_seen_at < window_start), 1), else_=0)))
        .where(audience_filter(broadcast, text_languages_only=False))
        .group_by(Contact.channel, Contact.language)).all()
    windowed = {name: adapter.window_args(runtime.config, Purpose.BROADCAST, "", None).args is not None
                for name, adapter in registry.ADAPTERS.items() if adapter.limits.window}
    result: dict[str, Any] = {"by_channel": {c: 0 for c in _list(broadcast.channels) or CHANNELS}, "by_language": {},
                              "total": 0, "skipped": 0, "outside_window": {}}
    for channel, lang, count, stale in rows:
        text_lang = text_language(broadcast, lang)
        entry = result["by_language"].setdefault(lang or "?", {"count": 0, "text": text_lang})
        entry["count"] += count
        if text_lang is None:
            result["skipped"] += count
            continue
        result["total"] += count
        result["by_channel"][channel] = result["by_channel"].get(channel, 0) + count
        if channel in windowed and stale:
            entry = result["outside_window"].setdefault(channel, {"count": 0, "reachable": windowed[channel]})
            entry["count"] += int(stale)
    # what the dashboard has always shown for WhatsApp (its words are in the catalogs)
    result["whatsapp_outside_window"] = result["outside_window"].get("whatsapp", {}).get("count", 0)
    result["whatsapp_template"] = windowed.get("whatsapp", False)
    speeds = rates(runtime.config)
    result["seconds"] = max([n / speeds[c] for c, n in result["by_channel"].items() if n] or [0])
    # People on a channel with no provider settings would each end as "failed: channel_off": say so first.
    result["channels_off"] = {c: n for c, n in result["by_channel"].items()
                              if n and not runtime.channels.get(c, False)}
    return result


def previews(broadcast: Broadcast, config: dict | None = None) -> list[dict]:
    """Each language's text as each of the broadcast's channels shows it (its adapter's preview), with
    its SMS parts."""
    from handlers.types import Incoming, Reply

    from .channels.twilio import bodies
    chosen = _list(broadcast.channels) or list(registry.ADAPTERS)
    out = []
    for lang in texts_of(broadcast):
        text = rendered(broadcast, lang)
        reply = Reply(text, language=lang)
        out.append({"language": lang, "text": text, "sms_segments": segments(text), "characters": len(text),
                    "whatsapp": bodies("whatsapp", [reply])[0][0], "telegram": text,
                    "channels": [(adapter.label, adapter.preview(Incoming(name, "preview"), [reply], config or {}))
                                 for name, adapter in registry.ADAPTERS.items() if name in chosen]})
    return out


def approval_required(config: dict) -> bool:
    return (config.get("BROADCAST_APPROVAL") or "required") != "none"


def not_a_poll():
    """A WHERE clause leaving out the broadcasts that carry a poll's first question (bot/polls.py): those are
    approved, sent and followed as the poll, on its page."""
    from .models import Poll
    return Broadcast.id.not_in(select(Poll.broadcast_id).where(Poll.broadcast_id.is_not(None)))


def _carries_a_poll(session, broadcast: Broadcast) -> bool:
    from .models import Poll
    return session.scalar(select(Poll.id).where(Poll.broadcast_id == broadcast.id)) is not None


def approve(session, broadcast: Broadcast, actor: str, config: dict, via_poll: bool = False) -> None:
    if not via_poll and _carries_a_poll(session, broadcast):
        raise BroadcastError(N_("This broadcast carries a poll: approve and send the poll."))
    if broadcast.status != BroadcastStatus.DRAFT:
        raise BroadcastError(N_("Only a draft can be approved."))
    if actor == broadcast.created_by:
        raise BroadcastError(N_("A second person must approve: you wrote this broadcast."))
    broadcast.status, broadcast.approved_by, broadcast.approved_at = BroadcastStatus.APPROVED, actor, utcnow()
    session.add(AuditEvent(actor=actor, action="broadcast_approve", target=f"broadcast:{broadcast.id}"))


def start(session, broadcast: Broadcast, actor: str, config: dict, via_poll: bool = False) -> bool:
    """Send now, or at its scheduled time. Returns True when the runner should be woken now."""
    if not via_poll and _carries_a_poll(session, broadcast):
        raise BroadcastError(N_("This broadcast carries a poll: approve and send the poll."))
    if broadcast.status == BroadcastStatus.DRAFT and approval_required(config):
        raise BroadcastError(N_("This broadcast needs approval by a second person before it is sent."))
    if broadcast.status not in (BroadcastStatus.DRAFT, BroadcastStatus.APPROVED):
        raise BroadcastError(N_("This broadcast was already sent, cancelled or started."))
    later = broadcast.scheduled_at is not None and as_aware(broadcast.scheduled_at) > utcnow()
    broadcast.status = BroadcastStatus.SCHEDULED if later else BroadcastStatus.SENDING
    if not later:
        broadcast.started_at = utcnow()
    session.add(AuditEvent(actor=actor, action="broadcast_send", target=f"broadcast:{broadcast.id}",
                           detail="scheduled" if later else "now"))
    return not later


def pause(session, broadcast: Broadcast, actor: str) -> None:
    if broadcast.status not in (BroadcastStatus.SENDING, BroadcastStatus.SCHEDULED):
        raise BroadcastError(N_("Only a broadcast that is sending or scheduled can be paused."))
    broadcast.status = BroadcastStatus.PAUSED
    session.add(AuditEvent(actor=actor, action="broadcast_pause", target=f"broadcast:{broadcast.id}"))


def resume(session, broadcast: Broadcast, actor: str) -> None:
    if broadcast.status != BroadcastStatus.PAUSED:
        raise BroadcastError(N_("Only a paused broadcast can be resumed."))
    scheduled = broadcast.scheduled_at
    if scheduled is not None and scheduled.tzinfo is None:
        scheduled = scheduled.replace(tzinfo=timezone.utc)
    if scheduled is not None and scheduled > utcnow() and broadcast.started_at is None:
        broadcast.status = BroadcastStatus.SCHEDULED      # paused before its time: back to waiting for it, not sent now
    else:
        broadcast.status = BroadcastStatus.SENDING
        broadcast.started_at = broadcast.started_at or utcnow()
    session.add(AuditEvent(actor=actor, action="broadcast_resume", target=f"broadcast:{broadcast.id}"))


def cancel(session, broadcast: Broadcast, actor: str) -> int:
    """Stop for good; messages not yet sent are marked cancelled. Returns how many."""
    if broadcast.status in (BroadcastStatus.DONE, BroadcastStatus.CANCELLED):
        raise BroadcastError(N_("This broadcast was already sent, cancelled or started."))
    broadcast.status = BroadcastStatus.CANCELLED
    broadcast.finished_at = utcnow()
    dropped = session.execute(update(Outbound).where(
        Outbound.broadcast_id == broadcast.id, Outbound.status.in_(OutboundStatus.waiting()))
        .values(status=OutboundStatus.CANCELLED, updated_at=utcnow())).rowcount
    session.add(AuditEvent(actor=actor, action="broadcast_cancel", target=f"broadcast:{broadcast.id}",
                           detail=f"{dropped} not sent"))
    return dropped


def progress(session, broadcast: Broadcast) -> dict:
    """Queued, sent, delivered, failed, by channel and language; failure reasons; replies since it started."""
    rows = session.execute(select(Outbound.channel, Outbound.language, Outbound.status, func.count())
                           .where(Outbound.broadcast_id == broadcast.id)
                           .group_by(Outbound.channel, Outbound.language, Outbound.status)).all()
    groups = {"queued": OutboundStatus.open(), "sent": (OutboundStatus.SENT,),
              "delivered": (OutboundStatus.DELIVERED, OutboundStatus.READ),
              "failed": (OutboundStatus.FAILED, OutboundStatus.UNDELIVERED, OutboundStatus.UNDELIVERABLE),
              "cancelled": (OutboundStatus.CANCELLED,)}
    totals = {name: 0 for name in groups}
    by_channel: dict = {}
    by_language: dict = {}
    for channel, lang, status, count in rows:
        name = next((n for n, members in groups.items() if status in members), "queued")
        totals[name] += count
        by_channel.setdefault(channel, {n: 0 for n in groups})[name] += count
        by_language.setdefault(lang or "?", {n: 0 for n in groups})[name] += count
    reasons = dict(session.execute(select(Outbound.failure_reason, func.count()).where(
        Outbound.broadcast_id == broadcast.id, Outbound.failure_reason.is_not(None),
        Outbound.status.in_(groups["failed"])).group_by(Outbound.failure_reason)).all())
    replies = 0
    if broadcast.started_at:
        recipients = select(Outbound.contact_id).where(Outbound.broadcast_id == broadcast.id,
                                                       Outbound.status.in_((OutboundStatus.SENT, OutboundStatus.DELIVERED,
                                                                           OutboundStatus.READ)))
        replies = session.scalar(select(func.count()).select_from(Message).where(
            Message.contact_id.in_(recipients), Message.created_at >= broadcast.started_at)) or 0
    total = sum(totals.values())
    done = totals["sent"] + totals["delivered"] + totals["failed"] + totals["cancelled"]
    return {"status": broadcast.status, "total": total, "expected": broadcast.recipients, **totals,
            "percent": int(100 * done / total) if total else (100 if broadcast.status == BroadcastStatus.DONE else 0),
            "by_channel": by_channel, "by_language": by_language, "failure_reasons": reasons, "replies": replies,
            "selection_done": broadcast.selection_done}


def wake() -> None:
    """Ask the queue to run the sender now (after the transaction that started a broadcast committed)."""
    from .queue import broadcast_run_task
    broadcast_run_task()
