"""The storage side of answering polls: load the person's poll into the turn, keep what the turn changed.

Inside the inbound transaction, with the contact's row already locked (bot/inbound.py), so one person's
turns never interleave. Still, the answer is an upsert on the unique (poll_id, question, contact_id):
a second worker, a repeated delivery that slipped past the message check, or a change of mind all end
as one row (its `changes` counting the changes), on SQLite and PostgreSQL alike.

A person's poll is the newest live poll (scheduled, sending or open) whose question 1 reached them (the
carrier broadcast's outbound row was sent, or cut off mid-call and may have arrived). One indexed query
per inbound message finds it (polls by status, then the outbound row by its unique (broadcast_id,
contact_id)); the answers so far are read only when there is one. Only for contacts who opted in (or
sent STOP, so that it ends their waiting question): everyone else's messages pay nothing for polls.
"""
import json
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import Boolean, Connection, DateTime, Integer, String, Text, TextClause, bindparam, text

from handlers.conversation import ContactState
from handlers.polls import PollQuestion, PollTurn

from .cases import as_aware
from .models import Case, PollAnswer, PollRecipient
from .runtime import Runtime

_FIND = text(
    "SELECT p.id, p.questions, p.window_hours, o.language, o.sent_at, o.updated_at, "
    "r.waiting, r.asked_at, r.reasked, r.held, r.poll_id AS known "
    "FROM polls p JOIN outbound o ON o.broadcast_id = p.broadcast_id AND o.contact_id = :contact "
    "LEFT JOIN poll_recipients r ON r.poll_id = p.id AND r.contact_id = :contact "
    "WHERE p.status IN ('scheduled', 'sending', 'open') "
    "AND (o.status IN ('sent', 'delivered', 'read') OR o.failure_reason = 'interrupted') "
    "ORDER BY p.id DESC LIMIT 1").columns(
    id=Integer, questions=Text, window_hours=Integer, language=String, sent_at=DateTime(timezone=True),
    updated_at=DateTime(timezone=True), waiting=Integer, asked_at=DateTime(timezone=True), reasked=Boolean,
    held=Boolean, known=Integer)
_ANSWERS = text("SELECT question, option, skipped, text_enc IS NOT NULL AS has_text FROM poll_answers "
                "WHERE poll_id = :poll AND contact_id = :contact").columns(
    question=Integer, option=Integer, skipped=Boolean, has_text=Boolean)
_answers, _recipients = PollAnswer.__table__, PollRecipient.__table__


@lru_cache(maxsize=64)
def _questions(raw: str, language: str | None) -> tuple[str, tuple[PollQuestion, ...]]:
    """The questions in the language the person got question 1 in (else the poll's first language).
    Cached: a sent poll's questions no longer change, and every answer of a big poll needs them."""
    from .polls import question_in
    stored = json.loads(raw)
    first: str = next(iter(stored[0]["text"]))
    lang: str = language if language is not None and language in stored[0]["text"] else first
    return lang, tuple(question_in(q, lang, first) or PollQuestion(q["kind"], "", []) for q in stored)


def load_turn(connection: Connection, contact_id: int, now: datetime) -> PollTurn | None:
    """The person's live poll as the dialogue needs it; a question past its window no longer waits."""
    row = connection.execute(_FIND, {"contact": contact_id}).one_or_none()
    if row is None:
        return None
    lang, questions = _questions(row.questions, row.language)
    turn = PollTurn(poll_id=row.id, language=lang, questions=list(questions))
    if row.known is None:                               # question 1 went out with the broadcast
        turn.waiting, asked = 0, row.sent_at or row.updated_at
    else:
        turn.waiting, asked = row.waiting, row.asked_at
    turn.asked_at = as_aware(asked) if asked is not None else None
    asked_at = turn.asked_at
    if row.known is not None:
        turn.reasked, turn.held = bool(row.reasked), bool(row.held)
        for question, option, skipped, has_text in connection.execute(
                _ANSWERS, {"poll": row.id, "contact": contact_id}):
            if not skipped:
                turn.answered[question] = option if option is not None else "text"
    if turn.waiting is not None and asked_at is not None and \
            asked_at + timedelta(hours=row.window_hours or 72) < now:
        turn.waiting, turn.held, turn.reasked = None, False, False     # the window passed: nobody waits
    return turn


def _upsert(table: object, columns: list[str], conflict: str, updates: str) -> TextClause:
    """INSERT ... ON CONFLICT ... DO UPDATE as a typed text() statement: the same words in SQLite and
    PostgreSQL, compiled once (the dialects' insert() is never cached: see bot/inbound.py)."""
    names = ", ".join(f'"{c}"' for c in columns)
    sql = (f"INSERT INTO {table.name} ({names}) VALUES ({', '.join(':' + c for c in columns)}) "  # type: ignore[attr-defined]
           f"ON CONFLICT ({conflict}) DO UPDATE SET {updates}")
    return text(sql).bindparams(*[bindparam(c, type_=table.c[c].type) for c in columns])  # type: ignore[attr-defined]


_UPSERT_ANSWER = _upsert(
    _answers, ["poll_id", "question", "contact_id", "option", "text_enc", "skipped", "language", "channel", "area",
               "case_id", "changes", "created_at", "updated_at"], "poll_id, question, contact_id",
    '"option" = excluded."option", text_enc = excluded.text_enc, skipped = excluded.skipped, '
    "language = excluded.language, channel = excluded.channel, area = excluded.area, "
    "case_id = COALESCE(excluded.case_id, poll_answers.case_id), updated_at = excluded.updated_at, "
    "changes = poll_answers.changes + 1")
_UPSERT_RECIPIENT = _upsert(
    _recipients, ["poll_id", "contact_id", "waiting", "asked_at", "reasked", "held", "finished_at"],
    "poll_id, contact_id",
    "waiting = excluded.waiting, reasked = excluded.reasked, held = excluded.held, "
    "asked_at = COALESCE(excluded.asked_at, poll_recipients.asked_at), "
    "finished_at = COALESCE(excluded.finished_at, poll_recipients.finished_at)")
_CASE_ID = text("SELECT id FROM cases WHERE code = :code").bindparams(
    bindparam("code", type_=Case.__table__.c.code.type))


def save_turn(runtime: Runtime, connection: Connection, contact_id: int, channel: str, state: ContactState,
              now: datetime) -> None:
    """Keep the answers and where the person is; nothing when the turn changed nothing."""
    turn = state.poll
    if turn is None or not turn.changed:
        return
    vault = runtime.vault
    for note in turn.answers:
        case_id = None
        if note.case_code:
            case_id = connection.execute(_CASE_ID, {"code": note.case_code}).scalar()
        connection.execute(_UPSERT_ANSWER, {
            "poll_id": turn.poll_id, "question": note.question, "contact_id": contact_id, "option": note.option,
            "text_enc": vault.encrypt(note.text) if note.text else None, "skipped": note.skipped,
            "language": state.language or turn.language, "channel": channel, "area": state.area,
            "case_id": case_id, "changes": 0, "created_at": now, "updated_at": now})
    connection.execute(_UPSERT_RECIPIENT, {
        "poll_id": turn.poll_id, "contact_id": contact_id, "waiting": turn.waiting,
        "asked_at": now if turn.asked_now else turn.asked_at, "reasked": turn.reasked, "held": turn.held,
        "finished_at": now if turn.finished else None})
