"""Poll results: counts per question and option, breakdowns, free answers, exports (CSV/JSON with HXL).

Privacy: a breakdown cell (language, channel, governorate, camp, day or hour x option) counting fewer
than POLL_MIN_CELL people (default 5) but more than none is shown as "<5", never its number, so a small
camp's answers cannot point at a person; a row whose total is below the minimum is hidden whole, and a
row with exactly one hidden cell hides its total too (else the cell is a subtraction away). The totals
per question and option (the whole poll) are shown as they are. A viewer gets only aggregates: no free
answers, no per-respondent export (the caller checks users.can(user, "see_poll_answers")).

API:
    results(runtime, session, poll) -> dict          received, and per question: answered, skipped,
                                                     per option count and percent (of those who answered)
    breakdown(runtime, session, poll, by, min_cell=None) -> dict
                                                     by: language | channel | governorate | area | day | hour
    free_answers(runtime, session, poll, question=None, search=None, limit=50, offset=0) -> dict
                                                     {total, more, items}: decrypted, phone numbers masked;
                                                     search folds letters, "more" = total is a lower bound
    stream_respondents(runtime, session, poll, fmt="csv"|"json") -> Iterator[str]
                                                     one row per person and question; pseudonymous id
                                                     (keyed hash, per poll), never an address; in pieces,
                                                     rows read in batches (audit_respondent_export first)
    export_respondents(runtime, session, poll, fmt="csv"|"json") -> str      the same whole, audited
    export_aggregate(runtime, session, poll, fmt="csv"|"json", by="area", min_cell=None) -> str
    HXL: the CSV's second row holds the hashtags (HXL_RESPONDENT / HXL_AGGREGATE)
"""
import csv
import io
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from handlers.text import fold

from .cases import as_aware
from .export import neutralise
from .models import AuditEvent, Case, Outbound, Poll, PollAnswer
from .polls import questions_of, refresh
from .runtime import Runtime
from .unanswered import masked

BREAKDOWNS = ("language", "channel", "governorate", "area", "day", "hour")
RECEIVED = ("sent", "delivered", "read")
DEFAULT_MIN_CELL = 5
SEARCH_BATCH = 500          # free answers decrypted per fetch while searching
SEARCH_COUNT_UP_TO = 500    # matches counted exactly; past that "more than 500"
EXPORT_BATCH = 1000         # answers per fetch of the per-respondent export
STREAM_ROWS = 500           # rows per piece of a streamed export

# HXL (https://hxlstandard.org/standard/1-1final/dictionary/): #adm1 governorate, #loc camp or district,
# #date, #meta for the record's own data; #x_ hashtags are the extension form for what the dictionary lacks.
HXL_RESPONDENT = {"poll": "#meta+poll", "respondent": "#meta+id+respondent", "question": "#x_poll_question+num",
                  "question_text": "#x_poll_question+text", "option": "#x_poll_option+num",
                  "option_label": "#x_poll_option+label", "answer_text": "#x_poll_answer+text",
                  "skipped": "#x_poll_skipped", "language": "#meta+lang", "channel": "#meta+channel",
                  "governorate": "#adm1+code", "area": "#loc+code", "date": "#date", "changes": "#meta+changes"}
HXL_AGGREGATE = {"poll": "#meta+poll", "governorate": "#adm1+code", "area": "#loc+code", "key": "#meta+group",
                 "question": "#x_poll_question+num", "question_text": "#x_poll_question+text",
                 "option": "#x_poll_option+num", "option_label": "#x_poll_option+label",
                 "count": "#indicator+num+count", "percent": "#indicator+pct"}


def min_cell(runtime: Runtime, value: int | None = None) -> int:
    """The smallest count shown in a breakdown (POLL_MIN_CELL); at least 1."""
    chosen = value if value is not None else runtime.config.get("POLL_MIN_CELL", DEFAULT_MIN_CELL)
    return max(1, int(chosen if chosen is not None else DEFAULT_MIN_CELL))


def received(session: Session, poll: Poll) -> int:
    """People question 1 reached: the carrier's outbound rows the provider took."""
    if not poll.broadcast_id:
        return 0
    return session.scalar(select(func.count()).select_from(Outbound).where(
        Outbound.broadcast_id == poll.broadcast_id, Outbound.status.in_(RECEIVED))) or 0


def results(runtime: Runtime, session: Session, poll: Poll) -> dict:
    """Totals for the whole poll: received, and per question answered, skipped, per option count and percent."""
    refresh(session, poll)
    questions = questions_of(poll)
    counts: dict[tuple[int, int | None, bool], int] = {}
    for question, option, skipped, text_given, count in session.execute(
            select(PollAnswer.question, PollAnswer.option, PollAnswer.skipped,
                   PollAnswer.text_enc.is_not(None), func.count())
            .where(PollAnswer.poll_id == poll.id)
            .group_by(PollAnswer.question, PollAnswer.option, PollAnswer.skipped, PollAnswer.text_enc.is_not(None))):
        key = (question, option if not skipped else None, bool(skipped))
        counts[key] = counts.get(key, 0) + count
    respondents = session.scalar(select(func.count(func.distinct(PollAnswer.contact_id))).where(
        PollAnswer.poll_id == poll.id, PollAnswer.skipped.is_(False))) or 0
    out = []
    for index, question in enumerate(questions):
        skipped = counts.get((index, None, True), 0)
        answered = sum(n for (q, _o, s), n in counts.items() if q == index and not s)
        options = [{"number": number, "label": label, "count": counts.get((index, number, False), 0),
                    "percent": round(100 * counts.get((index, number, False), 0) / answered, 1) if answered else 0.0}
                   for number, label in enumerate(question.get("options") or [], 1)]
        out.append({"number": index + 1, "kind": question["kind"], "text": question["text"],
                    "answered": answered, "skipped": skipped, "options": options})
    return {"poll": poll.id, "title": poll.title, "status": poll.status, "received": received(session, poll),
            "answered_any": respondents, "questions": out}


def _governorates(runtime: Runtime) -> dict[str, str]:
    """Area id -> its governorate id, and each governorate to itself (handlers/areas.py's content)."""
    found: dict[str, str] = {}
    for group in runtime.content.get().areas:
        gov = str(group.get("id"))
        found[gov] = gov
        for area in group.get("areas") or []:
            found[area["id"]] = gov
    return found


def _area_names(runtime: Runtime) -> dict[str, dict]:
    names: dict[str, dict] = {}
    for group in runtime.content.get().areas:
        names[str(group.get("id"))] = group.get("name") or {}
        for area in group.get("areas") or []:
            names[area["id"]] = area.get("name") or {}
    return names


def _hour_bucket(session: Session) -> ColumnElement[str]:
    """The UTC hour of an answer's first time as "YYYY-MM-DD HH", grouped in SQL (SQLite keeps UTC text)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", PollAnswer.created_at), "YYYY-MM-DD HH24")
    return func.substr(PollAnswer.created_at, 1, 13)


def _local_key(bucket: str, by: str, zone: str) -> str:
    """A UTC hour bucket as the office's day or hour (TIMEZONE; a zone with a half-hour offset shows the
    local time its UTC hour starts at)."""
    from zoneinfo import ZoneInfo
    at = datetime.strptime(bucket, "%Y-%m-%d %H").replace(tzinfo=timezone.utc).astimezone(ZoneInfo(zone))
    return at.strftime("%Y-%m-%d") if by == "day" else at.strftime("%Y-%m-%d %H:00")


def _grouped(runtime: Runtime, session: Session, poll: Poll, by: str) -> dict[int, dict[str, dict[int | None, int]]]:
    """question -> group key -> option (None for a free answer) -> people, counted in SQL: a few hundred
    rows whatever the number of answers."""
    column = {"language": PollAnswer.language, "channel": PollAnswer.channel, "area": PollAnswer.area,
              "governorate": PollAnswer.area}.get(by)
    group = column if column is not None else _hour_bucket(session)
    govs = _governorates(runtime) if by == "governorate" else {}
    zone = runtime.config.get("TIMEZONE") or "UTC"
    out: dict[int, dict[str, dict[int | None, int]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    for question, option, value, count in session.execute(
            select(PollAnswer.question, PollAnswer.option, group, func.count())
            .where(PollAnswer.poll_id == poll.id, PollAnswer.skipped.is_(False))
            .group_by(PollAnswer.question, PollAnswer.option, group)):
        if by == "governorate":
            key = govs.get(value or "", "") or "?"
        elif column is not None:
            key = value or "?"
        else:
            key = _local_key(value, by, zone)
        out[question][key][option] += count
    return out


def breakdown(runtime: Runtime, session: Session, poll: Poll, by: str, min_cell: int | None = None) -> dict:
    """Counts per group (language, channel, governorate, camp, day or hour in TIMEZONE) and option, with
    the small cells hidden (see the module's docstring)."""
    if by not in BREAKDOWNS:
        raise ValueError(f"breakdown by one of {', '.join(BREAKDOWNS)}")
    least = globals()["min_cell"](runtime, min_cell)
    hidden = f"<{least}"
    names = _area_names(runtime) if by in ("governorate", "area") else {}
    govs = _governorates(runtime)
    grouped = _grouped(runtime, session, poll, by)
    out = []
    for index, question in enumerate(questions_of(poll)):
        numbers = range(1, len(question.get("options") or []) + 1)
        rows = []
        for key, cells in sorted(grouped[index].items()):
            total = sum(cells.values())
            if total < least:
                rows.append(_row(by, key, names, govs, hidden, {str(n): hidden for n in numbers}))
                continue
            shown: dict[str, int | str] = {}
            for number in numbers:
                count = cells.get(number, 0)
                shown[str(number)] = hidden if 0 < count < least else count
            small = sum(1 for v in shown.values() if v == hidden)
            rows.append(_row(by, key, names, govs, hidden if small == 1 else total, shown))
        out.append({"number": index + 1, "kind": question["kind"], "rows": rows})
    return {"by": by, "min_cell": least, "questions": out}


def _row(by: str, key: str, names: dict, govs: dict, total: int | str, options: dict) -> dict:
    label = names.get(key, key) if by in ("governorate", "area") else key
    return {"key": key, "label": label, "group": govs.get(key) if by == "area" else None,
            "total": total, "options": options}


def timeline(runtime: Runtime, session: Session, poll: Poll, by: str = "hour") -> list[dict]:
    """People who answered question 1, per hour or day of their first answer (TIMEZONE), for the chart:
    a period is hidden ("<5") only when its own count is under the minimum (its options do not matter)."""
    least = min_cell(runtime)
    per = {key: sum(cells.values())
           for key, cells in _grouped(runtime, session, poll, "hour" if by == "hour" else "day")[0].items()}
    return [{"period": key, "answers": n if n >= least else f"<{least}"} for key, n in sorted(per.items())]


def free_answers(runtime: Runtime, session: Session, poll: Poll, question: int | None = None,
                 search: str | None = None, limit: int = 50, offset: int = 0,
                 count_up_to: int = SEARCH_COUNT_UP_TO, sensitive_words: bool = True) -> dict:
    """The free answers, newest first, phone numbers and e-mails masked; `search` matches folded words.

    Without a search the page is cut in SQL and only its answers are decrypted; the total is a count.
    With one, every answer must be opened to be matched (they are encrypted at rest): they are read in
    batches, newest first, until the page is filled and `count_up_to` matches (or the page's end,
    if further) are counted. Past that the total is a lower bound ("more": True, "more than N" on the
    page): a staff member pages through the newest matches, and a rare word is counted exactly.
    sensitive_words=False: a search never matches inside a sensitive report's words (whoever may not read
    them must not learn, by searching, whether they hold a name or a word)."""
    query = (select(PollAnswer.question, PollAnswer.text_enc, PollAnswer.language, PollAnswer.channel,
                    PollAnswer.area, PollAnswer.updated_at, Case.code, Case.sensitive)
             .outerjoin(Case, Case.id == PollAnswer.case_id)
             .where(PollAnswer.poll_id == poll.id, PollAnswer.text_enc.is_not(None))
             .order_by(PollAnswer.updated_at.desc(), PollAnswer.id.desc()))
    if question is not None:
        query = query.where(PollAnswer.question == question)
    wanted = fold(search or "").strip()
    if not wanted:
        total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
        page = session.execute(query.limit(limit).offset(offset))
        items = [_free_item(number, runtime.vault.decrypt(text_enc) or "", *rest)
                 for number, text_enc, *rest in page]
        return {"total": total, "more": False, "items": items}
    count_up_to = max(count_up_to, offset + limit)
    matches, more, items = 0, False, []
    for number, text_enc, *rest in session.execute(query.execution_options(yield_per=SEARCH_BATCH)):
        if rest[-1] and not sensitive_words:     # Case.sensitive
            continue
        text = runtime.vault.decrypt(text_enc) or ""
        if wanted not in fold(text):
            continue
        if matches == count_up_to:
            more = True                      # one match past the bound: "more than count_up_to"
            break
        if offset <= matches < offset + limit:
            items.append(_free_item(number, text, *rest))
        matches += 1
    return {"total": matches, "more": more, "items": items}


def _free_item(number: int, text: str, language: str | None, channel: str, area: str | None, at: datetime,
               code: str | None, sensitive: bool | None) -> dict:
    return {"question": number + 1, "text": masked(text), "language": language, "channel": channel,
            "area": area, "at": as_aware(at), "case_code": code, "sensitive": bool(sensitive)}


@contextmanager
def reading(runtime: Runtime) -> Iterator[Session]:
    """A session for a long read that locks nothing. On SQLite a transaction is BEGIN IMMEDIATE, the
    one write lock, which a download would hold for as long as the browser takes: there the autocommit
    engine reads (WAL: one SELECT sees one snapshot, writers go on). On PostgreSQL a transaction, which
    a server-side cursor needs and which blocks nobody."""
    if runtime.engine.dialect.name == "sqlite":
        with Session(runtime.statement_engine) as session:
            yield session
    else:
        with runtime.transaction() as session:
            yield session


def pseudonym(runtime: Runtime, poll_id: int, contact_id: int | None, answer_id: int) -> str:
    """The same person in one poll's export is one id; not linkable to another poll's, nor reversible
    (a keyed hash with DATA_KEY's hash key). After an erasure each answer stands alone."""
    seed = f"{contact_id}" if contact_id is not None else f"erased-{answer_id}"
    return "r-" + runtime.vault.address_hash("poll", f"{poll_id}:{seed}")[:16]


def respondent_rows(runtime: Runtime, session: Session, poll: Poll) -> Iterator[dict]:
    """One row per person and question, read in batches (a server-side cursor on PostgreSQL): the
    memory a row takes, not a poll's."""
    questions = questions_of(poll)
    govs = _governorates(runtime)
    shown: dict[tuple[int, str | None], tuple[str, list[str]]] = {}   # (question, language) -> its texts
    seen: tuple[int | None, str] = (None, "")       # rows come by person: one keyed hash per person
    query = (select(PollAnswer.id, PollAnswer.contact_id, PollAnswer.question, PollAnswer.option,
                    PollAnswer.text_enc, PollAnswer.skipped, PollAnswer.language, PollAnswer.channel,
                    PollAnswer.area, PollAnswer.updated_at, PollAnswer.changes)
             .where(PollAnswer.poll_id == poll.id)
             .order_by(PollAnswer.contact_id, PollAnswer.question, PollAnswer.id)
             .execution_options(yield_per=EXPORT_BATCH))
    for answer_id, contact_id, number, option, text_enc, skipped, language, channel, area, at, changes \
            in session.execute(query).tuples():
        texts = shown.get((number, language))
        if texts is None:
            texts = shown[(number, language)] = _texts_in(questions, number, language)
        question_text, labels = texts
        if contact_id is None or seen[0] != contact_id:
            seen = (contact_id, pseudonym(runtime, poll.id, contact_id, answer_id))
        yield {"poll": poll.id, "respondent": seen[1], "question": number + 1, "question_text": question_text,
               "option": option or "", "option_label": labels[option - 1] if option and option <= len(labels) else "",
               "answer_text": masked(runtime.vault.decrypt(text_enc) or "") if text_enc else "",
               "skipped": bool(skipped), "language": language or "", "channel": channel,
               "governorate": govs.get(area or "", ""), "area": area or "",
               "date": as_aware(at).isoformat(), "changes": changes or 0}


def _texts_in(questions: list[dict], number: int, language: str | None) -> tuple[str, list[str]]:
    """A question's text and option labels as the export writes them: English, else the answer's language
    (else the question's first)."""
    question = questions[number] if number < len(questions) else {"text": {}, "options": []}
    lang = language if language in question["text"] else next(iter(question["text"]), None)
    labels = [option.get("en") or option.get(lang or "", "") for option in question.get("options") or []]
    return question["text"].get("en") or question["text"].get(lang or "", ""), labels


def audit_respondent_export(session: Session, poll: Poll, actor: str) -> None:
    """Written before the first byte goes out, so a download cut in the middle is still in the log."""
    count = session.scalar(select(func.count()).select_from(PollAnswer).where(PollAnswer.poll_id == poll.id)) or 0
    session.add(AuditEvent(actor=actor, action="poll_export", target=f"poll:{poll.id}",
                           detail=f"{count} answers, per respondent"))


def aggregate_rows(runtime: Runtime, session: Session, poll: Poll, by: str = "area",
                   min_cell: int | None = None) -> list[dict]:
    """Counts per group and option (small cells hidden), plus the whole poll's totals (group "all")."""
    totals = results(runtime, session, poll)
    table = breakdown(runtime, session, poll, by, min_cell)
    govs = _governorates(runtime)
    questions = questions_of(poll)
    rows = []
    for question, info in zip(questions, totals["questions"]):
        text = question["text"].get("en") or next(iter(question["text"].values()))
        for option in info["options"]:
            rows.append({"poll": poll.id, "governorate": "", "area": "", "key": "all", "question": info["number"],
                         "question_text": text, "option": option["number"],
                         "option_label": option["label"].get("en") or next(iter(option["label"].values())),
                         "count": option["count"], "percent": option["percent"]})
    for question, info in zip(questions, table["questions"]):
        text = question["text"].get("en") or next(iter(question["text"].values()))
        for row in info["rows"]:
            for number, count in row["options"].items():
                label = question["options"][int(number) - 1]
                rows.append({"poll": poll.id,
                             "governorate": row["key"] if by == "governorate" else govs.get(row["key"], "")
                             if by == "area" else "",
                             "area": row["key"] if by == "area" else "", "key": f"{by}:{row['key']}",
                             "question": info["number"], "question_text": text, "option": int(number),
                             "option_label": label.get("en") or next(iter(label.values())),
                             "count": count, "percent": ""})
    return rows


def _csv(rows: Iterable[dict], tags: dict[str, str], every: int = 1) -> Iterator[str]:
    """The CSV in pieces of `every` rows, the HXL hashtag row right under the headers."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(tags))
    writer.writeheader()
    writer.writerow(tags)
    for n, row in enumerate(rows, 1):
        writer.writerow({k: neutralise(v) for k, v in row.items()})
        if n % every == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _json(rows: Iterable[dict], tags: dict[str, str], every: int = 1) -> Iterator[str]:
    """The text json.dumps({"hxl": tags, "rows": [...]}, ensure_ascii=False, indent=1) gives, written a
    few rows at a time. A row is a flat dict of text, numbers and booleans: each value goes through
    json's own C string encoder (json.dumps with an indent runs the pure-Python encoder, twice as slow)."""
    head = json.dumps({"hxl": tags}, ensure_ascii=False, indent=1)
    parts = [head[:-2] + ',\n "rows": [']
    keys: dict[str, str] = {}
    first = True
    for n, row in enumerate(rows, 1):
        lines = []
        for key, value in row.items():
            name = keys.get(key) or keys.setdefault(key, "   " + _JSON_TEXT(key) + ": ")
            lines.append(name + _json_value(value))
        parts.append(("\n  {\n" if first else ",\n  {\n") + ",\n".join(lines) + "\n  }")
        first = False
        if n % every == 0:
            yield "".join(parts)
            parts = []
    parts.append("]\n}" if first else "\n ]\n}")
    yield "".join(parts)


_JSON_TEXT: Callable[[str], str] = json.encoder.encode_basestring    # ensure_ascii=False's (C when built)
_JSON_WORDS = {True: "true", False: "false"}


def _json_value(value: object) -> str:
    if isinstance(value, str):
        return _JSON_TEXT(value)
    if isinstance(value, bool):
        return _JSON_WORDS[value]
    if type(value) is int:
        return int.__repr__(value)
    return json.dumps(value, ensure_ascii=False)


def stream_respondents(runtime: Runtime, session: Session, poll: Poll, fmt: str = "csv",
                       every: int = STREAM_ROWS) -> Iterator[str]:
    """The per-respondent file in pieces of `every` rows, as export_respondents gives it whole; no audit
    (the caller's: audit_respondent_export)."""
    rows = respondent_rows(runtime, session, poll)
    return _json(rows, HXL_RESPONDENT, every) if fmt == "json" else _csv(rows, HXL_RESPONDENT, every)


def export_respondents(runtime: Runtime, session: Session, poll: Poll, fmt: str = "csv", actor: str = "cli") -> str:
    """One row per person and question, pseudonymous: no number, no chat id, no address. Whole, for a
    small poll or a test; the CLI and the dashboard stream it (stream_respondents)."""
    audit_respondent_export(session, poll, actor)
    return "".join(stream_respondents(runtime, session, poll, fmt))


def export_aggregate(runtime: Runtime, session: Session, poll: Poll, fmt: str = "csv", by: str = "area",
                     min_cell: int | None = None, actor: str = "cli") -> str:
    rows = aggregate_rows(runtime, session, poll, by, min_cell)
    session.add(AuditEvent(actor=actor, action="poll_export", target=f"poll:{poll.id}", detail=f"aggregate by {by}"))
    if fmt == "json":
        return json.dumps({"hxl": HXL_AGGREGATE, "rows": rows}, ensure_ascii=False, indent=1)
    return "".join(_csv(rows, HXL_AGGREGATE))
