"""A poll's results: counts and percentages per question and option, breakdowns by language, channel,
governorate and camp and over time, charts drawn by the app; live while the poll runs (static/
poll_results.js asks results.json every few seconds and puts the server-drawn section in place); free
answers, masked and searchable, for the roles that may read what people write; exports.

Counting and its privacy rules (cells under POLL_MIN_CELL hidden) are bot.poll_results'; a viewer gets
only what that module aggregates, never a free answer or a per-respondent row.
"""
import hashlib
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from flask import Response, abort, g, jsonify, render_template, request, stream_with_context
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handlers.content import pick
from handlers.i18n import N_, NATIVE_NAMES, Translator, format_number

from .. import poll_results as service
from .. import polls as poll_service
from .. import users
from ..cases import as_aware
from ..models import AuditEvent, Poll, PollAnswer, utcnow
from . import blueprint, page_number, require, runtime
from .charts import bars, stacked_columns
from .polls import poll_or_404

GROUPS = {"language": N_("By language"), "channel": N_("By channel"), "governorate": N_("By governorate"),
          "area": N_("By camp or district")}        # the breakdown tables, in this order
EXPORT_BY = {"area": N_("camp or district"), "governorate": N_("governorate"), "language": N_("language"),
             "channel": N_("channel"), "day": N_("day")}
ANSWERS_PAGE = 50


def _percent(value: float, lang: str) -> str:
    return f"{format_number(value, lang)}%"


def _period(poll: Poll, session: Session) -> str:
    """Hours for a poll's first three days, then days (a quarterly survey is read by the day)."""
    carrier = poll_service.carrier(session, poll)
    started = as_aware(carrier.started_at or poll.created_at) or utcnow()
    end = as_aware(poll.closed_at) or utcnow()
    return "hour" if end - started <= timedelta(days=3) else "day"


def _group_label(by: str, row: dict[str, Any], t: Translator) -> str:
    label, key = row.get("label"), str(row["key"])
    if by == "language":
        return NATIVE_NAMES.get(key, key)
    if by == "channel":
        return t(key)
    if isinstance(label, dict):
        return pick(label, t.lang) or key
    return t("unknown") if key == "?" else str(label or key)


def _view(session: Session, poll: Poll) -> dict[str, Any]:
    """Everything the results section shows, already in the staff member's language."""
    rt = runtime()
    lang = g.ui_lang
    t = Translator(lang)
    rtl = lang in ("ar", "ckb")
    totals = service.results(rt, session, poll)
    tables = {by: service.breakdown(rt, session, poll, by) for by in GROUPS}
    period = _period(poll, session)
    timeline = service.timeline(rt, session, poll, by=period)
    questions = []
    for index, question in enumerate(totals["questions"]):
        options = question["options"]
        # the label isolated (U+2068..U+2069): "1. نعم" stays in that order on an English page
        chart = bars([(f"{t.digits(str(o['number']))}. \u2068{pick(o['label'], lang)}\u2069", o["count"])
                      for o in options],
                     rtl=rtl, shown=[f"{format_number(o['count'], lang)} · {_percent(o['percent'], lang)}"
                                     for o in options]) if options else None
        breakdowns = []
        for by in GROUPS:
            rows = tables[by]["questions"][index]["rows"]
            named = [{**row, "name": _group_label(by, row, t)} for row in rows]
            if by == "area":      # governorate -> camp: each camp under its governorate's name
                govs = {row["key"]: _group_label("governorate", row, t)
                        for row in tables["governorate"]["questions"][index]["rows"]}
                named = sorted(({**row, "name": f"{govs.get(row['group'], '')} › {row['name']}"
                                 if row.get("group") in govs else row["name"]} for row in named),
                               key=lambda row: row["name"])
            breakdowns.append({"by": by, "rows": named})
        questions.append({**question, "shown_text": pick(question["text"], lang), "chart": chart,
                          "options": [{**o, "shown_label": pick(o["label"], lang)} for o in options],
                          "not_answered": max(0, totals["received"] - question["answered"] - question["skipped"]),
                          "breakdowns": breakdowns})
    drawn = [(row["period"][5:] if period == "day" else row["period"][11:16], row["answers"]) for row in timeline]
    over_time = stacked_columns([label for label, _ in drawn],
                                {"answers": [n if isinstance(n, int) else 0 for _, n in drawn]},
                                {"answers": t("People who answered question 1")}) \
        if any(isinstance(n, int) and n for _, n in drawn) else None
    return {"totals": totals, "questions": questions, "over_time": over_time, "period": period,
            "hidden_periods": [label for label, n in drawn if not isinstance(n, int)],
            "min_cell": tables["language"]["min_cell"], "live": poll.status in poll_service.LIVE}


def _section(session: Session, poll: Poll) -> tuple[str, dict[str, Any]]:
    view = _view(session, poll)
    html = render_template("dashboard/_poll_results.html", p=poll, breakdown_names=GROUPS, **view)
    return html, view


def _stamp(session: Session, poll: Poll) -> str:
    """What the results depend on, in two indexed queries: the answers' count, last change and changes,
    the people question 1 reached, the status, the reader's language. The live page sends it back, and
    while nothing changed it gets no new section (a results page left open during a poll of 100,000
    people does not count every answer again every few seconds)."""
    count, last, changes = session.execute(
        select(func.count(), func.max(PollAnswer.updated_at), func.sum(PollAnswer.changes))
        .where(PollAnswer.poll_id == poll.id)).one()
    seen = f"{poll.status}|{count}|{last}|{changes}|{service.received(session, poll)}|{g.ui_lang}"
    return hashlib.sha256(seen.encode()).hexdigest()[:16]


@blueprint.get("/polls/<int:poll_id>/results")
def poll_results_page(poll_id: int) -> ResponseReturnValue:
    require("see_polls")
    with runtime().transaction() as db:
        poll = poll_or_404(db, poll_id)
        html, view = _section(db, poll)
        stamp = _stamp(db, poll)
    return render_template("dashboard/poll_results.html", p=poll, section=html, stamp=stamp,
                           live=view["live"], groups=EXPORT_BY,
                           see_answers=users.can(g.user, "see_poll_answers"))


@blueprint.get("/polls/<int:poll_id>/results.json")
def poll_results_json(poll_id: int) -> ResponseReturnValue:
    """What the live page needs: the totals (for scripts and tests) and the section drawn again; with
    ?stamp= the page's own and nothing changed since, only that (no counting)."""
    require("see_polls")
    with runtime().transaction() as db:
        poll = poll_or_404(db, poll_id)
        poll_service.refresh(db, poll)
        stamp = _stamp(db, poll)
        if request.args.get("stamp") == stamp:
            return jsonify({"status": poll.status, "live": poll.status in poll_service.LIVE, "stamp": stamp,
                            "unchanged": True})
        html, view = _section(db, poll)
    totals = view["totals"]
    return jsonify({"status": poll.status, "live": view["live"], "stamp": stamp, "html": html,
                    "received": totals["received"], "answered": totals["answered_any"],
                    "questions": [{"number": q["number"], "answered": q["answered"], "skipped": q["skipped"],
                                   "options": [{"number": o["number"], "count": o["count"], "percent": o["percent"]}
                                               for o in q["options"]]} for q in totals["questions"]]})


@blueprint.get("/polls/<int:poll_id>/answers")
def poll_answers_page(poll_id: int) -> ResponseReturnValue:
    """The free answers, newest first, numbers and e-mails masked, searchable; each view is audited."""
    require("see_poll_answers")
    search = (request.args.get("q") or "").strip()[:200]
    raw = request.args.get("question") or ""
    question = int(raw) - 1 if raw.isascii() and raw.isdigit() and 1 <= int(raw) <= 5 else None
    page = page_number(request.args)
    rt = runtime()
    with rt.transaction() as db:
        poll = poll_or_404(db, poll_id)
        focal = users.can(g.user, "see_sensitive")      # a sensitive report's words: focal points and admins
        found = service.free_answers(rt, db, poll, question=question, search=search or None,
                                     limit=ANSWERS_PAGE, offset=(page - 1) * ANSWERS_PAGE, sensitive_words=focal)
        items = [{**item, "text": None} if item["sensitive"] and not focal else item for item in found["items"]]
        free = [(n, pick(q["text"], g.ui_lang)) for n, q in enumerate(poll_service.questions_of(poll), 1)
                if q["kind"] == "free"]
        db.add(AuditEvent(actor=f"user:{g.user.id}", action="poll_view_answers", target=f"poll:{poll.id}",
                          detail=f"search: {search}" if search else None))
    pages = max(1, -(-found["total"] // ANSWERS_PAGE)) + (1 if found["more"] else 0)   # "more": a next page
    return render_template("dashboard/poll_answers.html", p=poll, items=items, total=found["total"],
                           more=found["more"],
                           search=search, question=question, free=free, page=page, pages=pages,
                           areas=_area_names())


def _area_names() -> dict[str, str]:
    content = runtime().content.get()
    names: dict[str, str] = {}
    for gov in content.areas:
        names[str(gov.get("id"))] = pick(gov.get("name") or {}, g.ui_lang)
        for area in gov.get("areas") or []:
            names[area["id"]] = pick(area.get("name") or {}, g.ui_lang)
    return names


@blueprint.get("/polls/<int:poll_id>/export/<kind>.<fmt>")
def poll_export(poll_id: int, kind: str, fmt: str) -> ResponseReturnValue:
    """The same files as `flask --app bot poll export`: per respondent (pseudonymous, no number) or
    aggregated (small cells hidden), CSV with the HXL row or JSON; audited by bot.poll_results."""
    if kind not in ("respondents", "aggregate") or fmt not in ("csv", "json"):
        abort(404)
    require("see_poll_answers" if kind == "respondents" else "see_polls")
    by = request.args.get("by") or "area"
    if by not in EXPORT_BY:
        return Response(f"by must be one of {', '.join(EXPORT_BY)}", status=400, mimetype="text/plain")
    rt = runtime()
    actor = f"user:{g.user.id}"
    name = f"poll-{poll_id}-{kind}" + (f"-by-{by}" if kind == "aggregate" else "")
    with rt.transaction() as db:
        poll = poll_or_404(db, poll_id)
        if kind == "respondents":
            service.audit_respondent_export(db, poll, actor)      # committed before the file streams
        else:
            body = service.export_aggregate(rt, db, poll, fmt, by=by, actor=actor)
    if kind == "respondents":
        chunks = _streamed(poll_id, fmt)
    else:
        chunks = iter([body])
    if fmt == "csv":   # the byte-order mark: Excel then reads Arabic and Kurdish as UTF-8
        return Response(stream_with_context(_prefixed("\ufeff", chunks)), mimetype="text/csv",
                        headers={"Content-Disposition": f"attachment; filename={name}.csv"})
    return Response(stream_with_context(chunks), mimetype="application/json",
                    headers={"Content-Disposition": f"attachment; filename={name}.json"})


def _prefixed(first: str, chunks: Iterator[str]) -> Iterator[str]:
    yield first
    yield from chunks


def _streamed(poll_id: int, fmt: str) -> Iterator[str]:
    """The per-respondent file as it is read: a few hundred rows in memory, whatever the poll's size."""
    rt = runtime()
    with service.reading(rt) as db:
        poll = db.get(Poll, poll_id)
        if poll is not None:
            yield from service.stream_respondents(rt, db, poll, fmt)
