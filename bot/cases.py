"""Feedback cases in the database: what the dialogue may do (CaseServices) and what staff do (answer, status).

Every staff change is a CaseEvent with who and when; answers go out through the
outbound queue in the person's language, on their channel, with the reference code.
"""
import json
from datetime import datetime
from typing import Any, overload

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from handlers import codes
from handlers.conversation import CaseSummary, MediaRef, OwnCase
from handlers.i18n import Translator

from .models import AuditEvent, Case, CaseEvent, Contact, Message, Outbound, PollAnswer, PollRecipient, utcnow
from .statuses import CaseEventAction, CaseKind, CaseStatus, OutboundStatus, Purpose


def reachable(channel: str) -> bool:
    """A channel an adapter sends on; not "web" (the /try page): nothing can reach it."""
    from .channels import find
    return find(channel) is not None
TRYOUT_CHANNEL = "web"      # the /try page: its cases are try-outs, kept apart and deleted after TRY_RETENTION_HOURS
# Plain strings: click.Choice would show an Enum's member names, not its values.
STATUSES: tuple[str, ...] = tuple(status.value for status in CaseStatus)
KINDS: tuple[str, ...] = tuple(kind.value for kind in CaseKind)


class CaseError(ValueError):
    """A staff action that cannot be done (unknown case, bad status...): said plainly to the operator."""


class CaseServices:
    """The storage side of the feedback dialogue, bound to one contact inside one transaction."""

    def __init__(self, runtime, session, contact: Contact, incoming, message_id: int):
        self.runtime = runtime
        self.session = session
        self.contact = contact
        self.incoming = incoming
        self.message_id = message_id
        self.erased = False

    def open_case(self, kind: str, text: str, media: list[MediaRef], area: str | None, sensitive: bool) -> str:
        vault = self.runtime.vault
        now = utcnow()
        for _ in range(20):
            code = codes.new_code()
            try:
                with self.session.begin_nested():
                    case = Case(code=code, contact_id=self.contact.id, kind=kind if kind in KINDS else CaseKind.COMPLAINT,
                                sensitive=sensitive, status=CaseStatus.NEW, language=self.contact.language,
                                channel=self.contact.channel, area=area,
                                text_enc=vault.encrypt(text) if text else None,
                                media_enc=vault.encrypt(json.dumps(media)) if media else None,
                                created_at=now, updated_at=now)
                    self.session.add(case)
                    self.session.flush()
                break
            except IntegrityError:
                continue  # the code was taken: draw another
        else:
            raise RuntimeError("could not draw a free reference code")
        self.session.add(CaseEvent(case_id=case.id, at=now, actor="person", action=CaseEventAction.STATUS,
                                   status_to=CaseStatus.NEW))
        return code

    def _own_case(self, code: str) -> Case | None:
        return self.session.execute(select(Case).where(
            Case.code == code, Case.contact_id == self.contact.id)).scalar_one_or_none()

    def add_to_case(self, code: str, text: str, media: list[MediaRef]) -> bool:
        case = self._own_case(code)
        if case is None or case.status == CaseStatus.CLOSED:
            return False
        vault = self.runtime.vault
        self.session.add(CaseEvent(case_id=case.id, actor="person", action=CaseEventAction.ADDED,
                                   text_enc=vault.encrypt(json.dumps({"text": text, "media": media},
                                                                     ensure_ascii=False))))
        case.updated_at = utcnow()
        return True

    def set_case_area(self, code: str, area: str) -> None:
        case = self._own_case(code)
        if case is not None:
            case.area = area

    def case_status(self, code: str) -> CaseSummary | None:
        case = self._own_case(code)
        if case is None:
            return None
        answer = self.session.execute(select(CaseEvent.text_enc).where(
            CaseEvent.case_id == case.id, CaseEvent.action == CaseEventAction.ANSWER).order_by(CaseEvent.id.desc())
            .limit(1)).scalar()
        return {"status": case.status, "kind": case.kind,
                "answer": self.runtime.vault.decrypt(answer) if answer else None}

    def my_cases(self, limit: int = 3) -> list[OwnCase]:
        """This person's latest cases, newest first: "what happened to my complaint?" without the code."""
        codes_ = self.session.execute(select(Case.code).where(Case.contact_id == self.contact.id)
                                      .order_by(Case.id.desc()).limit(limit)).scalars().all()
        return [{"code": code, **found} for code in codes_ if (found := self.case_status(code)) is not None]

    def erase_contact(self) -> None:
        erase_contact(self.session, self.contact.id, actor="person")
        self.erased = True


def erase_contact(session, contact_id: int, actor: str) -> None:
    """Delete what we hold about a person; cases keep only their kind, dates and status for counts."""
    now = utcnow()
    case_ids = select(Case.id).where(Case.contact_id == contact_id)
    session.execute(delete(CaseEvent).where(CaseEvent.case_id.in_(case_ids), CaseEvent.action != CaseEventAction.STATUS))
    session.execute(update(Case).where(Case.contact_id == contact_id).values(
        text_enc=None, media_enc=None, area=None, contact_id=None, purged_at=now,
        status=CaseStatus.CLOSED, closed_at=now))
    session.execute(update(Message).where(Message.contact_id == contact_id).values(
        text_enc=None, media_enc=None, replies_enc=None, contact_id=None))
    # poll answers: counts stay (as a message's row does), the words and the link to the person go
    session.execute(update(PollAnswer).where(PollAnswer.contact_id == contact_id).values(
        text_enc=None, contact_id=None))
    session.execute(delete(PollRecipient).where(PollRecipient.contact_id == contact_id))
    session.execute(delete(Outbound).where(Outbound.contact_id == contact_id,
                                           Outbound.status.in_(OutboundStatus.waiting())))
    session.execute(update(Outbound).where(Outbound.contact_id == contact_id).values(
        reply_enc=None, contact_id=None))
    session.execute(delete(Contact).where(Contact.id == contact_id))
    session.add(AuditEvent(actor=actor, action="erase_contact", target=f"contact:{contact_id}", at=now))


def find_case(session, code: str) -> Case:
    digits = codes.find_code(code) or code
    if not digits.isprintable() or len(digits) > 40:
        raise CaseError(f"no case with code {code!r}")
    case = session.execute(select(Case).where(Case.code == digits)).scalar_one_or_none()
    if case is None:
        raise CaseError(f"no case with code {code}")
    return case


def set_status(session, case: Case, status: str, actor: str) -> None:
    if status not in STATUSES:
        raise CaseError(f"unknown status {status!r}; choose one of {', '.join(STATUSES)}")
    if status == case.status:
        return
    now = utcnow()
    session.add(CaseEvent(case_id=case.id, at=now, actor=actor, action=CaseEventAction.STATUS,
                          status_from=case.status, status_to=status))
    case.status = status
    case.updated_at = now
    if status == CaseStatus.CLOSED:
        case.closed_at = now


def answer_case(runtime, session, case: Case, text: str, actor: str, status: str | None = None,
                voice: str | None = None) -> Outbound | None:
    """Store a staff answer and queue it to the person, in their language, with the reference code;
    `voice`: a recorded answer (a recording's hash) sent as a voice note where the channel plays one.

    Returns the queued message (None when the person erased their data, sent STOP, or wrote from the
    /try page, which no message can reach afterwards; the answer is still shown with the status).
    The caller commits, then hands the message to the queue (outbound.enqueue).
    """
    from handlers.types import Reply

    from .outbound import queue_reply

    text = (text or "").strip()
    if not text and not voice:
        raise CaseError("the answer is empty")
    now = utcnow()
    vault = runtime.vault
    contact = session.get(Contact, case.contact_id) if case.contact_id else None
    outbound = None
    if contact is not None and not contact.opted_out and reachable(contact.channel):
        t = Translator(contact.language or case.language or "ar")
        body = t("Answer about your message {code}:", code=t.digits(codes.display(case.code)))
        reply = Reply(text=f"{body}\n{text}".strip(), language=t.lang, voice=voice)
        outbound = queue_reply(runtime, session, contact, reply, purpose=Purpose.ANSWER, case_id=case.id)
    shown = f"{text} 🔊".strip() if voice else text          # the case page says a voice note went too
    session.add(CaseEvent(case_id=case.id, at=now, actor=actor, action=CaseEventAction.ANSWER, text_enc=vault.encrypt(shown),
                          outbound_id=outbound.id if outbound else None))
    if case.first_answer_at is None:
        case.first_answer_at = now
    if case.status == CaseStatus.NEW:
        set_status(session, case, CaseStatus.ACKNOWLEDGED, actor)
    if status:
        set_status(session, case, status, actor)
    case.updated_at = now
    session.add(AuditEvent(actor=actor, action="answer_case", target=f"case:{case.code}", at=now))
    return outbound


def case_events(runtime, session, case: Case) -> list[dict]:
    rows = session.execute(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)).scalars()
    return [{"at": e.at, "actor": e.actor, "action": e.action, "from": e.status_from, "to": e.status_to,
             "text": runtime.vault.decrypt(e.text_enc) if e.text_enc else None, "outbound_id": e.outbound_id}
            for e in rows]


@overload
def as_aware(value: datetime) -> datetime: ...
@overload
def as_aware(value: None) -> None: ...
@overload
def as_aware(value: datetime | None) -> datetime | None: ...


def as_aware(value: datetime | None) -> datetime | None:
    """SQLite gives naive datetimes back; we store UTC, so say so."""
    from datetime import timezone
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def answer(runtime, code: str, text: str, actor: str, status: str | None = None, voice: str | None = None) -> dict[str, Any]:
    """The staff answer service: store, queue, then send through the worker. Used by the CLI and the dashboard."""
    from .outbound import enqueue
    with runtime.transaction() as session:
        case = find_case(session, code)
        row = answer_case(runtime, session, case, text, actor, status, voice=voice)
        result: dict[str, Any] = {"code": case.code, "status": case.status, "outbound_id": row.id if row else None,
                                  "channel": row.channel if row else None}
    if result["outbound_id"]:
        enqueue([result["outbound_id"]])
    return result


def change_status(runtime, code: str, status: str, actor: str) -> str:
    with runtime.transaction() as session:
        case = find_case(session, code)
        set_status(session, case, status, actor)
        session.add(AuditEvent(actor=actor, action="case_status", target=f"case:{case.code}", detail=status))
        return case.status
