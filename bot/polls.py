"""Polls: compose, approve, schedule, send, close; the one place both the dashboard and the CLI call.

A poll is 1..5 questions, each single-choice (numbered options) or a short free answer, with a text per
language. States (Poll.status):

    draft --approve--> approved --send--> scheduled --(its time)--> sending --(all sent)--> open --close--> closed
      \\______________________ cancel (any state but closed) ______________________________/     (cancelled)

Question 1 goes out as a broadcast, the poll's *carrier* (`Poll.broadcast_id`), made with the poll and
kept in step with it: the audience (language, channel, area, topic), the approval rule
(BROADCAST_APPROVAL, a second person), the schedule, the rate-limited exactly-once sending (one outbound
row per person, unique (broadcast_id, contact_id)) and STOP are the broadcasts' own code, not a copy.
The next questions go as replies in the chat (handlers/polls.py), the answers are stored by
bot/poll_answers.py and counted by bot/poll_results.py. People answer while the poll is scheduled
(once its question reached them), sending or open; closing ends that, for everyone at once.

API (every function takes the caller's session and leaves the commit to it, except where it says):
    create(runtime, session, title=, questions=, actor=, languages=, channels=, areas=, topic=,
           fallback=, window_hours=, scheduled_at=) -> Poll          PollError (a Refusal) on bad input
    update(runtime, session, poll, actor=, revision=, **the same)    a draft only; revision: the one read
    questions_of(poll) -> list[dict]                                  the stored questions
    carrier(session, poll) -> Broadcast                               the broadcast carrying question 1
    audience(runtime, session, poll) -> dict                          broadcasts.audience of the carrier
    previews(poll, config) -> list[dict]                              per question and language: text, SMS parts
    approve(session, poll, actor, config)                             the broadcast approval rule
    send(session, poll, actor, config) -> bool                        now or at scheduled_at; True: wake the sender
    cancel(session, poll, actor), close(session, poll, actor)
    refresh(session, poll) -> str                                     status after the carrier's progress
    find(session, poll_id) -> Poll, listing(session) -> list[dict]
Results, breakdowns, free answers and exports: bot/poll_results.py.
"""
import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.i18n import LANGUAGES, N_, Refusal, Translator
from handlers.polls import CHOICE, FREE, MAX_OPTIONS, MAX_QUESTIONS, PollQuestion, render_question
from handlers.sms import segments

from . import broadcasts
from .models import AuditEvent, Broadcast, Poll, utcnow
from .runtime import Runtime

STATUSES = ("draft", "approved", "scheduled", "sending", "open", "closed", "cancelled")
LIVE = ("scheduled", "sending", "open")         # people's answers are taken (once question 1 reached them)
MAX_QUESTION_TEXT = 300     # a question with its options should fit 2-3 SMS parts in Arabic script
MAX_OPTION_TEXT = 60
WINDOW_HOURS = (1, 24 * 14)   # a question waits at least an hour, at most two weeks
_CARRIER_STATUS = {"scheduled": "scheduled", "sending": "sending", "paused": "sending", "done": "open"}


class PollError(Refusal):
    pass


def questions_of(poll: Poll) -> list[dict]:
    return json.loads(poll.questions or "[]")


def question_in(question: dict, lang: str, fallback: str | None = None) -> PollQuestion | None:
    """The question as a person reading `lang` gets it (or the fallback language), None when it has no text."""
    use = lang if lang in (question.get("text") or {}) else fallback
    if use is None or use not in (question.get("text") or {}):
        return None
    return PollQuestion(question["kind"], question["text"][use],
                        [option.get(use) or "" for option in question.get("options") or []])


def _clean_questions(raw: object) -> list[dict]:
    """The questions as stored, or PollError saying what is wrong (in words staff can act on)."""
    if not isinstance(raw, list) or not raw:
        raise PollError(N_("A poll needs at least one question."))
    if len(raw) > MAX_QUESTIONS:
        raise PollError(N_("A poll has at most {most} questions."), most=MAX_QUESTIONS)
    cleaned = []
    for number, question in enumerate(raw, 1):
        if not isinstance(question, dict):
            raise PollError(N_("Question {number} is not readable."), number=number)
        kind = question.get("kind") or (CHOICE if question.get("options") else FREE)
        if kind not in (CHOICE, FREE):
            raise PollError(N_("Question {number}: the kind is choice or free."), number=number)
        texts = {lang: (text or "").strip() for lang, text in (question.get("text") or question.get("texts") or {}).items()
                 if (text or "").strip()}
        if not texts:
            raise PollError(N_("Question {number} has no text."), number=number)
        unknown = set(texts) - set(LANGUAGES)
        if unknown:
            raise PollError(N_("Unknown language: {names}."), names=", ".join(sorted(unknown)))
        for lang, text in texts.items():
            if len(text) > MAX_QUESTION_TEXT:
                raise PollError(N_("Question {number} in {language} has {count} characters; keep it under {most}."),
                                number=number, language=lang, count=len(text), most=MAX_QUESTION_TEXT)
        options = []
        if kind == CHOICE:
            raw_options = question.get("options") or []
            if not 2 <= len(raw_options) <= MAX_OPTIONS:
                raise PollError(N_("Question {number} needs 2 to {most} options."), number=number, most=MAX_OPTIONS)
            for place, option in enumerate(raw_options, 1):
                labels = {lang: (label or "").strip() for lang, label in (option or {}).items()
                          if (label or "").strip()}
                missing = sorted(set(texts) - set(labels))
                if missing:
                    raise PollError(N_("Question {number}, option {option} has no {language} text."),
                                    number=number, option=place, language=", ".join(missing))
                if any(len(label) > MAX_OPTION_TEXT for label in labels.values()):
                    raise PollError(N_("Question {number}, option {option}: keep it under {most} characters."),
                                    number=number, option=place, most=MAX_OPTION_TEXT)
                options.append({lang: labels[lang] for lang in texts})
        cleaned.append({"kind": kind, "text": texts, "options": options})
    first = set(cleaned[0]["text"])
    for number, question in enumerate(cleaned[1:], 2):
        if set(question["text"]) != first:
            raise PollError(N_("Question {number} must have the same languages as question 1."), number=number)
    return cleaned


def carrier_texts(questions: list[dict]) -> dict[str, str]:
    """Question 1, numbered options and how to answer, per language: the broadcast's texts."""
    total = len(questions)
    first = questions[0]
    return {lang: render_question(lang, question, 1, total)
            for lang in first["text"] if (question := question_in(first, lang)) is not None}


def _window(value: object) -> int:
    try:
        hours = int(value) if value not in (None, "") else 72   # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise PollError(N_("The answer window is a whole number of hours.")) from None
    if not WINDOW_HOURS[0] <= hours <= WINDOW_HOURS[1]:
        raise PollError(N_("The answer window is {least} to {most} hours."), least=WINDOW_HOURS[0],
                        most=WINDOW_HOURS[1])
    return hours


def create(runtime: Runtime, session: Session, *, title: str, questions: list[dict], actor: str,
           languages: tuple | list = (), channels: tuple | list = (), areas: tuple | list = (),
           topic: str | None = None, fallback: str | None = None, window_hours: int | str | None = 72,
           scheduled_at: datetime | None = None) -> Poll:
    """A draft poll and its draft carrier broadcast (targets checked by broadcasts.create)."""
    cleaned = _clean_questions(questions)
    hours = _window(window_hours)
    title = (title or "").strip()[:120] or "Poll"
    carrier = broadcasts.create(runtime, session, title=f"Poll: {title}"[:120], texts=carrier_texts(cleaned),
                                actor=actor, fallback=fallback, languages=languages, channels=channels,
                                areas=areas, topic=topic, scheduled_at=scheduled_at)
    poll = Poll(title=title, questions=json.dumps(cleaned, ensure_ascii=False), window_hours=hours, status="draft",
                broadcast_id=carrier.id, created_by=actor, revision=0)
    session.add(poll)
    session.flush()
    session.add(AuditEvent(actor=actor, action="poll_create", target=f"poll:{poll.id}"))
    return poll


def update(runtime: Runtime, session: Session, poll: Poll, *, actor: str, revision: int | None = None,
           **fields: object) -> Poll:
    """Change a draft: the same fields as create. `revision`: the one the editor read (PollError if changed)."""
    if poll.status != "draft":
        raise PollError(N_("Only a draft can be changed."))
    if revision is not None and int(revision) != (poll.revision or 0):
        raise PollError(N_("Someone else changed this poll meanwhile: open it again."))
    old = carrier(session, poll)
    questions = fields.pop("questions", None)
    cleaned = _clean_questions(questions) if questions is not None else questions_of(poll)
    hours = _window(fields.pop("window_hours", poll.window_hours))
    title = str(fields.pop("title", poll.title) or "").strip()[:120] or "Poll"
    keep: dict[str, Any] = {"languages": broadcasts._list(old.languages), "channels": broadcasts._list(old.channels),
            "areas": broadcasts._list(old.areas), "topic": old.topic, "fallback": old.fallback,
            "scheduled_at": old.scheduled_at}
    keep.update({k: v for k, v in fields.items() if k in keep})
    new = broadcasts.create(runtime, session, title=f"Poll: {title}"[:120], texts=carrier_texts(cleaned),
                            actor=poll.created_by, **keep)
    session.delete(old)
    poll.broadcast_id = new.id
    poll.title, poll.questions, poll.window_hours = title, json.dumps(cleaned, ensure_ascii=False), hours
    poll.revision = (poll.revision or 0) + 1
    session.add(AuditEvent(actor=actor, action="poll_edit", target=f"poll:{poll.id}"))
    return poll


def find(session: Session, poll_id: int) -> Poll:
    poll = session.get(Poll, poll_id)
    if poll is None:
        raise PollError(N_("No poll {number}."), number=poll_id)
    return poll


def carrier(session: Session, poll: Poll) -> Broadcast:
    found = session.get(Broadcast, poll.broadcast_id) if poll.broadcast_id else None
    if found is None:
        raise PollError(N_("This poll has lost its broadcast; make a new poll."))
    return found


def audience(runtime: Runtime, session: Session, poll: Poll) -> dict:
    """Who would receive it: broadcasts.audience of the carrier (per channel and language, skipped, reach)."""
    return broadcasts.audience(runtime, session, carrier(session, poll))


def previews(poll: Poll, config: dict | None = None) -> list[dict]:
    """Each question in each language as sent, with its SMS parts and characters (question 1 with the
    broadcast's STOP line, as the carrier sends it)."""
    out = []
    questions = questions_of(poll)
    for index, question in enumerate(questions):
        for lang in question["text"]:
            shown = question_in(question, lang)
            if shown is None:
                continue
            text = render_question(lang, shown, index + 1, len(questions))
            if index == 0:
                text = f"{text}\n{Translator(lang)(broadcasts.FOOTER)}"
            out.append({"question": index + 1, "language": lang, "text": text, "characters": len(text),
                        "sms_segments": segments(text)})
    return out


def approve(session: Session, poll: Poll, actor: str, config: dict) -> None:
    """The broadcast approval rule (broadcasts.approve on the carrier): a second person, a draft only."""
    if poll.status != "draft":
        raise PollError(N_("Only a draft can be approved."))
    broadcasts.approve(session, carrier(session, poll), actor, config, via_poll=True)
    poll.status = "approved"
    session.add(AuditEvent(actor=actor, action="poll_approve", target=f"poll:{poll.id}"))


def send(session: Session, poll: Poll, actor: str, config: dict, at: datetime | None = None) -> bool:
    """Send question 1 now, or at `at` / the scheduled time. True: the caller wakes the sender
    (broadcasts.wake()) after committing."""
    if poll.status not in ("draft", "approved"):
        raise PollError(N_("This poll was already sent, closed or cancelled."))
    bc = carrier(session, poll)
    if at is not None:
        bc.scheduled_at = at
    now = broadcasts.start(session, bc, actor, config, via_poll=True)
    poll.status = "sending" if now else "scheduled"
    session.add(AuditEvent(actor=actor, action="poll_send", target=f"poll:{poll.id}",
                           detail="now" if now else "scheduled"))
    return now


def refresh(session: Session, poll: Poll) -> str:
    """The poll's status after its carrier's progress (scheduled -> sending -> open)."""
    if poll.status in ("scheduled", "sending") and poll.broadcast_id:
        bc = session.get(Broadcast, poll.broadcast_id)
        if bc is not None and _CARRIER_STATUS.get(bc.status, poll.status) != poll.status:
            poll.status = _CARRIER_STATUS[bc.status]
    return poll.status


def cancel(session: Session, poll: Poll, actor: str) -> int:
    """Before or while it is sent: those not yet asked never are; answers given so far are kept."""
    if poll.status in ("closed", "cancelled", "open"):
        raise PollError(N_("Only a poll not yet sent to everyone can be cancelled; close it instead."))
    dropped = 0
    bc = session.get(Broadcast, poll.broadcast_id) if poll.broadcast_id else None
    if bc is not None and bc.status not in ("done", "cancelled"):
        dropped = broadcasts.cancel(session, bc, actor)
    poll.status, poll.closed_at = "cancelled", utcnow()
    session.add(AuditEvent(actor=actor, action="poll_cancel", target=f"poll:{poll.id}"))
    return dropped


def close(session: Session, poll: Poll, actor: str) -> None:
    """No more answers or changes; anyone not yet asked is not asked (the carrier is cancelled)."""
    refresh(session, poll)
    if poll.status not in LIVE:
        raise PollError(N_("Only a poll that was sent can be closed."))
    bc = session.get(Broadcast, poll.broadcast_id) if poll.broadcast_id else None
    if bc is not None and bc.status not in ("done", "cancelled"):
        broadcasts.cancel(session, bc, actor)
    poll.status, poll.closed_at = "closed", utcnow()
    session.add(AuditEvent(actor=actor, action="poll_close", target=f"poll:{poll.id}"))


def listing(session: Session) -> list[dict]:
    """Every poll, newest first, with its status brought up to date."""
    polls = session.execute(select(Poll).order_by(Poll.id.desc())).scalars().all()
    return [{"id": p.id, "title": p.title, "status": refresh(session, p), "questions": len(questions_of(p)),
             "created_by": p.created_by, "created_at": p.created_at, "closed_at": p.closed_at,
             "window_hours": p.window_hours, "broadcast_id": p.broadcast_id} for p in polls]


def is_carrier(session: Session, broadcast_id: int) -> bool:
    """A broadcast that carries a poll's first question (the broadcasts page leaves it to the poll's)."""
    return session.scalar(select(Poll.id).where(Poll.broadcast_id == broadcast_id)) is not None
