"""The database tables. Personal data columns end in _enc (encrypted) or _hash (keyed hash): never clear text.

Schema changes are Alembic migrations (bot/migrations); keep the two in step.
"""
from datetime import datetime, timezone

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.expression import false

from .statuses import BroadcastStatus, CaseStatus, OutboundStatus, Purpose, State


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class Contact(Base):
    """A person on one channel (the same person on SMS and Telegram is two contacts)."""
    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("channel", "address_hash", name="uq_contacts_address"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    address_hash: Mapped[str] = mapped_column(String(64))
    address_enc: Mapped[str] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(12))
    state: Mapped[str] = mapped_column(String(32), default=State.NEW)
    state_enc: Mapped[str | None] = mapped_column(Text)  # the dialogue's data, may hold what the person typed
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    subscribed: Mapped[bool] = mapped_column(Boolean, default=False)
    topics: Mapped[str] = mapped_column(String(200), default="")  # announcement topics, comma separated; "" = all
    area: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # "voice on": answers with a recording come with the voice note (handlers/voice.py)
    voice: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Message(Base):
    """One inbound message and the replies that rode on its webhook response."""
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("channel", "provider_id", name="uq_messages_provider"),
        Index("ix_messages_created", "created_at"),
        Index("ix_messages_contact", "contact_id"),
        Index("ix_messages_missed", "missed", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(16))
    provider_id: Mapped[str | None] = mapped_column(String(80))
    text_enc: Mapped[str | None] = mapped_column(Text)
    media_enc: Mapped[str | None] = mapped_column(Text)
    replies_enc: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(12))
    item: Mapped[str | None] = mapped_column(String(60))   # the content item shown, for "most read" reports
    # what the bot could not answer well: no_answer, did_you_mean, language_switch (the unanswered page)
    missed: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Case(Base):
    """A piece of feedback: complaint, question, request for help, suggestion or thanks."""
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_status", "status"),
        Index("ix_cases_created", "created_at"),
        Index("ix_cases_contact", "contact_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(20))
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default=CaseStatus.NEW)
    language: Mapped[str | None] = mapped_column(String(12))
    channel: Mapped[str] = mapped_column(String(16))
    area: Mapped[str | None] = mapped_column(String(64))
    text_enc: Mapped[str | None] = mapped_column(Text)
    media_enc: Mapped[str | None] = mapped_column(Text)
    assigned_to: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    first_answer_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    purged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CaseEvent(Base):
    """Everything that happened to a case, by whom and when: status changes, answers, notes, additions."""
    __tablename__ = "case_events"
    __table_args__ = (Index("ix_case_events_case", "case_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(20))   # status, answer, note, added, assign
    status_from: Mapped[str | None] = mapped_column(String(20))
    status_to: Mapped[str | None] = mapped_column(String(20))
    text_enc: Mapped[str | None] = mapped_column(Text)
    outbound_id: Mapped[int | None] = mapped_column(ForeignKey("outbound.id", ondelete="SET NULL"))


class Outbound(Base):
    """A message sent outside a webhook response; the row is the truth, the task queue only a courier."""
    __tablename__ = "outbound"
    __table_args__ = (
        Index("ix_outbound_status", "status", "next_attempt_at"),
        Index("ix_outbound_provider", "provider_id"),
        Index("ix_outbound_broadcast", "broadcast_id", "status"),
        UniqueConstraint("broadcast_id", "contact_id", name="uq_outbound_broadcast_contact"),  # one each, ever
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(16))
    reply_enc: Mapped[str | None] = mapped_column(Text)      # the Reply as encrypted JSON
    purpose: Mapped[str] = mapped_column(String(20), default=Purpose.REPLY)
    status: Mapped[str] = mapped_column(String(20), default=OutboundStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    provider_id: Mapped[str | None] = mapped_column(String(80))
    failure_reason: Mapped[str | None] = mapped_column(String(40))
    failure_detail: Mapped[str | None] = mapped_column(String(300))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    broadcast_id: Mapped[int | None] = mapped_column(ForeignKey("broadcasts.id", ondelete="CASCADE"))
    language: Mapped[str | None] = mapped_column(String(12))   # the text's language (broadcasts)


class Broadcast(Base):
    """An announcement to the people who opted in. Its texts are not personal data and are kept in clear.

    Status: draft -> approved -> scheduled | sending <-> paused -> done; cancelled from any
    but done. Recipients become Outbound rows (unique per broadcast and contact) in batches,
    `cursor` holding the last contact id selected, so a restart resumes without repeats.
    """
    __tablename__ = "broadcasts"
    __table_args__ = (Index("ix_broadcasts_status", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    texts: Mapped[str] = mapped_column(Text)              # JSON {language: text}
    fallback: Mapped[str | None] = mapped_column(String(12))   # language used where a text is missing; None = skip
    languages: Mapped[str] = mapped_column(String(100), default="")   # targets, comma separated; "" = all
    channels: Mapped[str] = mapped_column(String(60), default="")
    areas: Mapped[str] = mapped_column(Text, default="")
    topic: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default=BroadcastStatus.DRAFT)
    created_by: Mapped[str] = mapped_column(String(80))
    approved_by: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    scheduled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cursor: Mapped[int] = mapped_column(Integer, default=0)
    selection_done: Mapped[bool] = mapped_column(Boolean, default=False)
    recipients: Mapped[int] = mapped_column(Integer, default=0)


class BroadcastLease(Base):
    """One row: which process is sending broadcasts, until when. Provider rates are per sender,
    so one broadcast sends at a time, and a crashed runner's lease simply runs out."""
    __tablename__ = "broadcast_lease"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(40))
    until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditEvent(Base):
    """Who looked at or changed what (staff and operator actions); never the personal data itself."""
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_at", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str | None] = mapped_column(String(80))
    detail: Mapped[str | None] = mapped_column(String(300))


class User(Base):
    """A staff account for the dashboard."""
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))          # admin, officer, focal_point, viewer
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    totp_secret_enc: Mapped[str | None] = mapped_column(Text)
    ui_language: Mapped[str] = mapped_column(String(12), default="en")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # +1 at sign-out
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)   # the last 30-second step a code was used in
    languages: Mapped[str] = mapped_column(String(60), default="", server_default="")  # a translator's, comma separated


class LoginAttempt(Base):
    """Failed logins, to slow down password guessing (per account and per address)."""
    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_at", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    email_hash: Mapped[str] = mapped_column(String(64))
    ip_hash: Mapped[str] = mapped_column(String(64))


class DeadLetter(Base):
    """An inbound message the worker acknowledged but could not handle for a reason other than an outage
    (a fault in our code): kept sealed, as the queue held it, until `flask --app bot queue replay` runs it."""
    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))               # inbound (intake), call (phone)
    sealed: Mapped[str] = mapped_column(Text)                   # encrypted with DATA_KEY, as in the queue
    error: Mapped[str] = mapped_column(String(300))             # exception type and words, no personal data
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ContentVersion(Base):
    """What the bot says, as the YAML files of content/ (the exchange format) and its pictures by hash.

    One row is published (every process answers from it), at most one is the draft staff edit; earlier
    published rows stay as the history a restore copies from."""
    __tablename__ = "content_versions"
    __table_args__ = (Index("ix_content_versions_state", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    state: Mapped[str] = mapped_column(String(12))                 # draft, published, archived, discarded
    files: Mapped[str] = mapped_column(Text)                       # JSON {relative path: YAML text}
    images: Mapped[str] = mapped_column(Text, default="{}")         # JSON {picture name: sha256}
    based_on: Mapped[int | None] = mapped_column(Integer)          # the published version a draft started from
    revision: Mapped[int] = mapped_column(Integer, default=0)       # +1 per draft edit: two editors do not overwrite
    note: Mapped[str | None] = mapped_column(String(300))
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    published_by: Mapped[str | None] = mapped_column(String(80))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ContentImage(Base):
    """A picture of the content, stored once by its hash (re-encoded on upload, metadata stripped)."""
    __tablename__ = "content_images"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)



class Recording(Base):
    """A voice recording (content read aloud, a staff answer), converted once on upload by PyAV: OGG/Opus
    for voice notes, MP3 for the phone line. Kept once, by the OGG's hash; a content version names it in
    recordings.yaml, as it names pictures by hash. Not personal data: only staff record these."""
    __tablename__ = "recordings"
    __table_args__ = (Index("ix_recordings_source", "source_sha256"),)

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)       # of the OGG/Opus bytes
    source_sha256: Mapped[str] = mapped_column(String(64))                  # of the upload: converted once
    ogg: Mapped[bytes] = mapped_column(LargeBinary)
    mp3: Mapped[bytes] = mapped_column(LargeBinary)
    milliseconds: Mapped[int] = mapped_column(Integer)
    source_format: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
class Poll(Base):
    """Questions to the people who opted in (bot/polls.py). Its texts are not personal data: kept in clear.

    Status: draft -> approved -> scheduled | sending -> open -> closed; cancelled from any but closed.
    Question 1 goes out as a broadcast (`broadcast_id`, the carrier: same audience, approval, rates and
    exactly-once sending); the next questions go as replies in the chat. `questions` is JSON:
    [{"kind": "choice" | "free", "text": {lang: text}, "options": [{lang: label}, ...]}, ...].
    """
    __tablename__ = "polls"
    __table_args__ = (Index("ix_polls_status", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    questions: Mapped[str] = mapped_column(Text)
    window_hours: Mapped[int] = mapped_column(Integer, default=72)   # a question waits this long for its answer
    status: Mapped[str] = mapped_column(String(20), default="draft")
    broadcast_id: Mapped[int | None] = mapped_column(ForeignKey("broadcasts.id", ondelete="SET NULL"))
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revision: Mapped[int] = mapped_column(Integer, default=0)   # +1 per draft edit: two editors do not overwrite


class PollRecipient(Base):
    """Where one person is in one poll: the question waiting for their reply (None: none waits), since when,
    whether it was asked again after an answer that fitted no option, and whether a complaint set it aside."""
    __tablename__ = "poll_recipients"

    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True)
    waiting: Mapped[int | None] = mapped_column(Integer)        # 0-based question index
    asked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reasked: Mapped[bool] = mapped_column(Boolean, default=False)
    held: Mapped[bool] = mapped_column(Boolean, default=False)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PollAnswer(Base):
    """One person's answer to one question: a unique row, changed in place until the poll closes.

    language, channel and area are copied at answer time, so the results' breakdowns survive the
    person's erasure (contact_id and text_enc are emptied then, as a message's are)."""
    __tablename__ = "poll_answers"
    __table_args__ = (
        UniqueConstraint("poll_id", "question", "contact_id", name="uq_poll_answers_one"),
        Index("ix_poll_answers_poll", "poll_id", "question"),
        Index("ix_poll_answers_contact", "contact_id"),
        Index("ix_poll_answers_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    question: Mapped[int] = mapped_column(Integer)             # 0-based index
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    option: Mapped[int | None] = mapped_column(Integer)        # 1-based option number (choice questions)
    text_enc: Mapped[str | None] = mapped_column(Text)         # a free answer, encrypted
    skipped: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str | None] = mapped_column(String(12))
    channel: Mapped[str] = mapped_column(String(16))
    area: Mapped[str | None] = mapped_column(String(64))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    changes: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
