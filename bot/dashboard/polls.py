"""Poll pages: the list, the editor (1..5 questions, texts per language, live SMS parts), the poll's page
with its audience and previews, and approve / send / close / cancel. The rules are bot.polls' (the
broadcast approval rule included); these views read the form and say the reasons in the staff member's
language (400), as the broadcast pages do.
"""
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from handlers.i18n import LANGUAGES, N_, Refusal, Translator
from handlers.polls import REPLY_NUMBER, REPLY_WORDS

from .. import broadcasts as broadcast_service
from .. import polls as service
from ..models import Broadcast, Poll
from . import blueprint, require, runtime
from .broadcasts import _choices
from .poll_form import SLOTS, FormError, form_of, questions_from

BAD_TIME = N_("That time is not valid.")


def _actor() -> str:
    return f"user:{g.user.id}"


def poll_or_404(db: Session, poll_id: int) -> Poll:
    poll = db.get(Poll, poll_id)
    if poll is None:
        abort(404)
    return poll


def _office_time(value: str) -> datetime | None:
    """The form's "send at" (office time, TIMEZONE) in UTC; empty: none. FormError when it is no time."""
    if not value:
        return None
    try:
        zone = ZoneInfo(current_app.config.get("TIMEZONE") or "Asia/Baghdad")
        return datetime.strptime(value, "%Y-%m-%dT%H:%M").replace(tzinfo=zone).astimezone(timezone.utc)
    except (ValueError, OverflowError):
        raise FormError(BAD_TIME) from None


def _office_form_time(value: datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    zone = ZoneInfo(current_app.config.get("TIMEZONE") or "Asia/Baghdad")
    return value.astimezone(zone).strftime("%Y-%m-%dT%H:%M")


def _fields(form: MultiDict) -> dict[str, Any]:
    """The editor's fields as bot.polls takes them (create and update alike)."""
    return {"title": form.get("title", ""), "questions": questions_from(form, LANGUAGES),
            "fallback": form.get("fallback") or None, "languages": form.getlist("language"),
            "channels": form.getlist("channel"), "areas": form.getlist("area"),
            "topic": form.get("topic") or None, "scheduled_at": _office_time(form.get("at", "")),
            "window_hours": (form.get("window_hours") or "72").strip()}


def channel_previews(carrier: Broadcast, shown: list[dict[str, Any]], config: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """bot.polls.previews (each question and language as sent) grouped by question, each with what every
    channel of the audience shows, as the broadcast page has it (the channel adapters' own previews)."""
    from handlers.types import Incoming, Reply

    from .. import channels as registry
    chosen = broadcast_service._list(carrier.channels) or list(registry.ADAPTERS)
    grouped: dict[int, list[dict[str, Any]]] = {}
    for item in shown:
        reply = Reply(item["text"], language=item["language"])
        views = [(adapter.label, adapter.preview(Incoming(name, "preview"), [reply], config))
                 for name, adapter in registry.ADAPTERS.items() if name in chosen]
        grouped.setdefault(item["question"], []).append({**item, "channels": views})
    return [grouped[number] for number in sorted(grouped)]


def _sent_with() -> dict[str, dict[str, str]]:
    """Per language, the lines a question is sent with (how to answer; question 1 also how to stop), so
    the editor's live counter counts what the person's phone receives (handlers/polls.render_question)."""
    return {code: {"choice": Translator(code)(REPLY_NUMBER), "free": Translator(code)(REPLY_WORDS),
                   "footer": Translator(code)(broadcast_service.FOOTER)} for code in LANGUAGES}


def _editor(form: MultiDict, heading: str, error: str | None, revision: int | None = None) -> ResponseReturnValue:
    return render_template("dashboard/poll_form.html", form=form, error=error, heading=heading,
                           revision=revision, slots=SLOTS, sent_with=_sent_with(), **_choices()), \
        (400 if error else 200)


@blueprint.get("/polls")
def polls() -> ResponseReturnValue:
    require("see_polls")
    with runtime().transaction() as db:
        rows = db.execute(select(Poll, Broadcast).outerjoin(Broadcast, Poll.broadcast_id == Broadcast.id)
                          .order_by(Poll.id.desc()).limit(100)).all()
        listed = [{"poll": poll, "status": service.refresh(db, poll), "questions": len(service.questions_of(poll)),
                   "recipients": broadcast.recipients if broadcast else 0,
                   "scheduled_at": broadcast.scheduled_at if broadcast else None} for poll, broadcast in rows]
    return render_template("dashboard/polls.html", rows=listed)


@blueprint.route("/polls/new", methods=["GET", "POST"])
def new_poll() -> ResponseReturnValue:
    require("poll")
    heading = Translator(g.ui_lang)("New poll")
    if request.method == "GET":
        return _editor(request.form, heading, None)
    try:
        with runtime().transaction() as db:
            poll = service.create(runtime(), db, actor=_actor(), **_fields(request.form))
            poll_id = poll.id
    except Refusal as exc:
        return _editor(request.form, heading, exc.translated(Translator(g.ui_lang)))
    return redirect(url_for("dashboard.poll_page", poll_id=poll_id))


@blueprint.route("/polls/<int:poll_id>/edit", methods=["GET", "POST"])
def edit_poll(poll_id: int) -> ResponseReturnValue:
    require("poll")
    t = Translator(g.ui_lang)
    rt = runtime()
    with rt.transaction() as db:
        poll = poll_or_404(db, poll_id)
        if poll.status != "draft":
            flash(t("Only a draft can be changed."))
            return redirect(url_for("dashboard.poll_page", poll_id=poll_id)), 303
        heading = t("Change poll {number}", number=poll_id)
        if request.method == "GET":
            carrier = service.carrier(db, poll)
            fields = {"title": poll.title, "window_hours": poll.window_hours, "fallback": carrier.fallback,
                      "topic": carrier.topic, "at": _office_form_time(carrier.scheduled_at),
                      "language": broadcast_service._list(carrier.languages),
                      "channel": broadcast_service._list(carrier.channels),
                      "area": broadcast_service._list(carrier.areas)}
            return _editor(form_of(service.questions_of(poll), fields), heading, None, poll.revision)
    raw = request.form.get("revision", "")   # the draft's revision the form was read at; none or garbled: stale
    revision = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else -1
    try:
        with rt.transaction() as db:
            service.update(rt, db, poll_or_404(db, poll_id), actor=_actor(), revision=revision,
                           **_fields(request.form))
    except Refusal as exc:
        return _editor(request.form, heading, exc.translated(t), revision)
    return redirect(url_for("dashboard.poll_page", poll_id=poll_id))


@blueprint.get("/polls/<int:poll_id>")
def poll_page(poll_id: int) -> ResponseReturnValue:
    require("see_polls")
    rt = runtime()
    with rt.transaction() as db:
        poll = poll_or_404(db, poll_id)
        service.refresh(db, poll)
        carrier = service.carrier(db, poll)
        reach = service.audience(rt, db, poll)
        previews = channel_previews(carrier, service.previews(poll, current_app.config), current_app.config)
    return render_template("dashboard/poll.html", p=poll, carrier=carrier, reach=reach, previews=previews,
                           questions=service.questions_of(poll),
                           needs_approval=broadcast_service.approval_required(rt.config),
                           mine=poll.created_by == _actor(), names=dict(_choices()["languages"]))


def _approve(db: Session, poll: Poll) -> bool:
    service.approve(db, poll, _actor(), runtime().config)
    return False


def _send(db: Session, poll: Poll) -> bool:
    return service.send(db, poll, _actor(), runtime().config)


def _close(db: Session, poll: Poll) -> bool:
    service.close(db, poll, _actor())
    return False


def _cancel(db: Session, poll: Poll) -> bool:
    service.cancel(db, poll, _actor())
    return False


# action -> (what the role must be allowed to do, the change); a change returns "wake the sender now"
ACTIONS: dict[str, tuple[str, Callable[[Session, Poll], bool]]] = {
    "approve": ("approve_poll", _approve), "send": ("poll", _send), "close": ("poll", _close),
    "cancel": ("poll", _cancel)}


@blueprint.post("/polls/<int:poll_id>/<action>")
def poll_action(poll_id: int, action: str) -> ResponseReturnValue:
    if action not in ACTIONS:
        abort(404)
    allowed, change = ACTIONS[action]
    require(allowed)
    try:
        with runtime().transaction() as db:
            wake = change(db, poll_or_404(db, poll_id))
    except Refusal as exc:
        flash(exc.translated(Translator(g.ui_lang)))
        return redirect(url_for("dashboard.poll_page", poll_id=poll_id)), 303
    if wake:
        broadcast_service.wake()
    return redirect(url_for("dashboard.poll_page", poll_id=poll_id))
