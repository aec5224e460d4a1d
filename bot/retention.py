"""Keeping personal data no longer than needed: a periodic task empties old texts (counts and dates stay)."""
from datetime import timedelta

from sqlalchemy import delete, func, select, update

from .cases import TRYOUT_CHANNEL
from .models import AuditEvent, Case, CaseEvent, Contact, Message, Outbound, Poll, PollAnswer, PollRecipient, utcnow
from .statuses import CaseStatus, OutboundStatus


def purge(runtime, now=None) -> dict:
    """Message log after MESSAGE_RETENTION_DAYS, closed cases after CASE_RETENTION_DAYS."""
    now = now or utcnow()
    messages_before = now - timedelta(days=int(runtime.config.get("MESSAGE_RETENTION_DAYS") or 90))
    cases_before = now - timedelta(days=int(runtime.config.get("CASE_RETENTION_DAYS") or 365))
    with runtime.transaction() as session:
        messages = session.execute(update(Message).where(
            Message.created_at < messages_before, Message.text_enc.is_not(None) | Message.replies_enc.is_not(None))
            .values(text_enc=None, media_enc=None, replies_enc=None)).rowcount
        outbound = session.execute(update(Outbound).where(
            Outbound.created_at < messages_before, Outbound.reply_enc.is_not(None),
            Outbound.status.not_in(OutboundStatus.open()))
            .values(reply_enc=None)).rowcount
        # poll answers as messages: free words emptied after MESSAGE_RETENTION_DAYS (counts stay); where each
        # person stood in a poll closed that long ago is no longer needed at all
        answers = session.execute(update(PollAnswer).where(
            PollAnswer.updated_at < messages_before, PollAnswer.text_enc.is_not(None))
            .values(text_enc=None)).rowcount
        session.execute(delete(PollRecipient).where(PollRecipient.poll_id.in_(select(Poll.id).where(
            Poll.status.in_(("closed", "cancelled")), Poll.closed_at < messages_before))))
        closed = session.execute(update(Case).where(
            Case.status == CaseStatus.CLOSED, Case.closed_at < cases_before, Case.purged_at.is_(None))
            .values(text_enc=None, media_enc=None, purged_at=now).returning(Case.id)).scalars().all()
        if closed:
            session.execute(update(CaseEvent).where(CaseEvent.case_id.in_(closed)).values(text_enc=None))
        tryouts = _purge_tryouts(session, now - timedelta(hours=int(runtime.config.get("TRY_RETENTION_HOURS") or 24)))
        session.add(AuditEvent(actor="system", action="retention_purge", at=now,
                               detail=f"messages={messages} outbound={outbound} cases={len(closed)} "
                                      f"tryouts={tryouts} poll_answers={answers}"))
    return {"messages": messages, "outbound": outbound, "cases": len(closed), "try-out conversations": tryouts,
            "poll answers": answers}


def _purge_tryouts(session, before) -> int:
    """Conversations on /try quiet since `before` go whole: contact, messages, cases (they were never the
    community's). Returns how many conversations were deleted."""
    quiet = select(Contact.id).where(Contact.channel == TRYOUT_CHANNEL,
                                     func.coalesce(Contact.last_seen_at, Contact.created_at) < before)
    ids = session.execute(quiet).scalars().all()
    for start in range(0, len(ids), 500):          # bounded IN lists, whatever a spray left behind
        chunk = ids[start:start + 500]
        session.execute(delete(CaseEvent).where(CaseEvent.case_id.in_(
            select(Case.id).where(Case.contact_id.in_(chunk)))))
        session.execute(delete(Case).where(Case.contact_id.in_(chunk)))
        session.execute(delete(Message).where(Message.contact_id.in_(chunk)))
        session.execute(delete(Contact).where(Contact.id.in_(chunk)))
    return len(ids)
