"""Feedback cases for reporting, as CSV or JSON lines: no phone number, no chat id, ever.

CSV cells that a spreadsheet would run as a formula (= + - @, tab, CR first) are
prefixed with a quote (OWASP's advice on CSV injection).
"""
import csv
import io
import json
from datetime import datetime

from sqlalchemy import select

from .cases import TRYOUT_CHANNEL, as_aware
from .models import AuditEvent, Case, CaseEvent
from .statuses import CaseEventAction

FIELDS = ("code", "created_at", "updated_at", "first_answer_at", "closed_at", "kind", "sensitive", "status",
          "language", "channel", "area", "text", "media_count", "answers")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _iso(value: datetime | None) -> str | None:
    return as_aware(value).isoformat() if value else None


def rows(runtime, since: datetime | None = None, statuses: tuple = (), include_sensitive_text: bool = False,
         actor: str = "cli") -> list[dict]:
    vault = runtime.vault
    with runtime.transaction() as session:
        query = select(Case).where(Case.channel != TRYOUT_CHANNEL).order_by(Case.id)   # not /try's cases
        if since:
            query = query.where(Case.created_at >= since)
        if statuses:
            query = query.where(Case.status.in_(statuses))
        cases = session.execute(query).scalars().all()
        answers: dict[int, list[str]] = {}
        if cases:
            for case_id, text_enc in session.execute(select(CaseEvent.case_id, CaseEvent.text_enc).where(
                    CaseEvent.action == CaseEventAction.ANSWER, CaseEvent.case_id.in_([c.id for c in cases]))
                    .order_by(CaseEvent.id)):
                answers.setdefault(case_id, []).append(vault.decrypt(text_enc) or "")
        session.add(AuditEvent(actor=actor, action="export", detail=f"{len(cases)} cases"))
    out = []
    for case in cases:
        hide = case.sensitive and not include_sensitive_text
        media = json.loads(vault.decrypt(case.media_enc) or "[]") if case.media_enc else []
        out.append({
            "code": case.code, "created_at": _iso(case.created_at), "updated_at": _iso(case.updated_at),
            "first_answer_at": _iso(case.first_answer_at), "closed_at": _iso(case.closed_at),
            "kind": case.kind, "sensitive": case.sensitive, "status": case.status, "language": case.language,
            "channel": case.channel, "area": case.area,
            "text": "[sensitive: focal points only]" if hide else (vault.decrypt(case.text_enc) or ""),
            "media_count": len(media),
            "answers": [] if hide else answers.get(case.id, []),
        })
    return out


def to_csv(records: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=FIELDS)
    writer.writeheader()
    for record in records:
        flat = {**record, "answers": " | ".join(record["answers"])}
        writer.writerow({k: neutralise(v) for k, v in flat.items()})
    return buffer.getvalue()


def to_json_lines(records: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
