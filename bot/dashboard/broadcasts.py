"""Broadcast pages: compose with previews and audience counts, approve, send, follow progress."""
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, g, jsonify, redirect, render_template, request, url_for
from sqlalchemy import select

from handlers.content import pick
from handlers.i18n import LANGUAGES, NATIVE_NAMES, Translator

from .. import broadcasts as service
from ..models import Broadcast, Poll
from . import blueprint, require, runtime


def _actor() -> str:
    return f"user:{g.user.id}"


def _broadcast_or_404(db, broadcast_id: int) -> Broadcast:
    broadcast = db.get(Broadcast, broadcast_id)
    if broadcast is None:
        abort(404)
    return broadcast


def _choices():
    content = runtime().content.get()
    return {"languages": [(code, NATIVE_NAMES[code]) for code in LANGUAGES],
            "channels": service.CHANNELS,
            "governorates": [(gov.get("id"), pick(gov.get("name") or {}, g.ui_lang),
                              [(a["id"], pick(a.get("name") or {}, g.ui_lang)) for a in gov.get("areas") or []])
                             for gov in content.areas],
            "topics": [(t.id, pick(t.title, g.ui_lang)) for t in content.topics]}


@blueprint.get("/broadcasts")
def broadcasts():
    require("broadcast")
    with runtime().transaction() as db:
        rows = db.execute(select(Broadcast).where(service.not_a_poll()).order_by(Broadcast.id.desc())
                          .limit(100)).scalars().all()
    return render_template("dashboard/broadcasts.html", rows=rows)


@blueprint.route("/broadcasts/new", methods=["GET", "POST"])
def new_broadcast():
    require("broadcast")
    form = request.form
    error = None
    if request.method == "POST":
        when = None
        if form.get("at"):
            try:   # the form's local time is the office's (TIMEZONE, Baghdad by default)
                zone = ZoneInfo(current_app.config.get("TIMEZONE") or "Asia/Baghdad")
                when = datetime.strptime(form["at"], "%Y-%m-%dT%H:%M").replace(tzinfo=zone).astimezone(timezone.utc)
            except (ValueError, OverflowError):
                error = "bad_time"
        if error is None:
            try:
                with runtime().transaction() as db:
                    broadcast = service.create(
                        runtime(), db, title=form.get("title", ""), actor=_actor(),
                        texts={lang: form.get(f"text_{lang}", "") for lang in LANGUAGES},
                        fallback=form.get("fallback") or None, languages=form.getlist("language"),
                        channels=form.getlist("channel"), areas=form.getlist("area"),
                        topic=form.get("topic") or None, scheduled_at=when)
                    broadcast_id = broadcast.id
                return redirect(url_for("dashboard.broadcast_page", broadcast_id=broadcast_id))
            except service.BroadcastError as exc:
                error = exc.translated(Translator(g.ui_lang))
    return render_template("dashboard/broadcast_new.html", form=form, error=error, **_choices()), \
        (400 if error else 200)


def _poll_carried(db, broadcast_id: int) -> int | None:
    """The poll whose question 1 this broadcast carries: it is approved, sent and closed as the poll."""
    return db.scalar(select(Poll.id).where(Poll.broadcast_id == broadcast_id))


@blueprint.get("/broadcasts/<int:broadcast_id>")
def broadcast_page(broadcast_id):
    require("broadcast")
    rt = runtime()
    with rt.transaction() as db:
        poll_id = _poll_carried(db, broadcast_id)
        if poll_id is not None:
            return redirect(url_for("dashboard.poll_page", poll_id=poll_id))
        broadcast = _broadcast_or_404(db, broadcast_id)
        reach = service.audience(rt, db, broadcast)
        progress = service.progress(db, broadcast)
        previews = service.previews(broadcast, current_app.config)
    return render_template("dashboard/broadcast.html", b=broadcast, reach=reach, progress=progress,
                           previews=previews, needs_approval=service.approval_required(rt.config),
                           mine=broadcast.created_by == _actor(), names=dict(_choices()["languages"]))


@blueprint.get("/broadcasts/<int:broadcast_id>/progress.json")
def broadcast_progress(broadcast_id):
    require("broadcast")
    with runtime().transaction() as db:
        return jsonify(service.progress(db, _broadcast_or_404(db, broadcast_id)))


@blueprint.post("/broadcasts/<int:broadcast_id>/<action>")
def broadcast_action(broadcast_id, action):
    require("approve_broadcast" if action == "approve" else "broadcast")

    def resumed(db, b) -> bool:
        service.resume(db, b, _actor())
        return True
    changes = {"approve": lambda db, b: service.approve(db, b, _actor(), runtime().config),
               "send": lambda db, b: service.start(db, b, _actor(), runtime().config),
               "pause": lambda db, b: service.pause(db, b, _actor()),
               "resume": resumed,
               "cancel": lambda db, b: service.cancel(db, b, _actor()) and False}
    if action not in changes:
        abort(404)
    with runtime().transaction() as db:
        poll_id = _poll_carried(db, broadcast_id)
    if poll_id is not None:     # a poll's carrier changes only with its poll (bot/polls.py keeps them in step)
        return redirect(url_for("dashboard.poll_page", poll_id=poll_id)), 303
    try:
        with runtime().transaction() as db:
            wake = changes[action](db, _broadcast_or_404(db, broadcast_id))
    except service.BroadcastError as exc:
        flash(exc.translated(Translator(g.ui_lang)))
        return redirect(url_for("dashboard.broadcast_page", broadcast_id=broadcast_id)), 303
    if action in ("send", "resume") and wake:
        service.wake()
    return redirect(url_for("dashboard.broadcast_page", broadcast_id=broadcast_id))
