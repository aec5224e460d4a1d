"""The feedback inbox and the case page: read, answer, change status, assign, note."""
import json
from datetime import datetime, timedelta, timezone

from flask import Response, abort, current_app, flash, g, redirect, render_template, request, url_for
from sqlalchemy import func, or_, select

from handlers import codes
from handlers.content import pick
from handlers.i18n import Translator
from handlers.sms import segments

from .. import cases as case_service
from .. import media as media_proxy
from .. import recordings, voice_notes
from ..masking import mask
from ..models import AuditEvent, Case, CaseEvent, Contact, Message, Outbound, User, utcnow
from ..statuses import CaseStatus
from . import blueprint, page_number, require, runtime

PAGE_SIZE = 50
NOTE_LIMIT = 20_000         # the note box says so (maxlength): nothing is cut without a word
SEARCH_SCAN_LIMIT = 5000   # texts are encrypted: search decrypts at most this many filtered cases


def due_before(config: dict, sensitive: bool) -> datetime:
    if sensitive:
        return utcnow() - timedelta(hours=int(config.get("SENSITIVE_RESPONSE_HOURS") or 24))
    return utcnow() - timedelta(days=int(config.get("RESPONSE_DAYS") or 7))


def is_overdue(case: Case, config: dict) -> bool:
    created = case_service.as_aware(case.created_at)
    return (case.first_answer_at is None and case.status not in (CaseStatus.RESOLVED, CaseStatus.CLOSED)
            and created < due_before(config, case.sensitive))


def visible(query, tryout: bool = False):
    """Sensitive cases only for focal points and admins; for others they do not exist. Cases opened on the
    /try page are not the community's: out of lists and reports unless asked for (the inbox's channel "web")."""
    from .. import users
    if not tryout:
        query = query.where(Case.channel != case_service.TRYOUT_CHANNEL)
    return query if users.can(g.user, "see_sensitive") else query.where(Case.sensitive.is_(False))


def conversation_hidden(db, contact_id: int) -> bool:
    """The conversation log of someone who made a sensitive report holds that report (messages are not
    tied to cases): for staff who may not see sensitive cases it does not exist either."""
    from .. import users
    if users.can(g.user, "see_sensitive"):
        return False
    return db.execute(select(Case.id).where(Case.contact_id == contact_id, Case.sensitive.is_(True))
                      .limit(1)).first() is not None


def area_names(lang: str) -> dict[str, str]:
    content = runtime().content.get()
    return {a["id"]: pick(a.get("name") or {}, lang) for gov in content.areas for a in gov.get("areas") or []}


def _filters(args, config):
    query = visible(select(Case), tryout=args.get("channel") == case_service.TRYOUT_CHANNEL)
    for column in ("status", "kind", "language", "channel", "area"):
        if args.get(column):
            query = query.where(getattr(Case, column) == args[column])
    if args.get("sensitive") in ("yes", "no"):
        query = query.where(Case.sensitive.is_(args["sensitive"] == "yes"))
    for name, op in (("from", "__ge__"), ("to", "__lt__")):
        if args.get(name):
            try:
                day = datetime.strptime(args[name], "%Y-%m-%d").replace(tzinfo=timezone.utc)
                day += timedelta(days=1) if name == "to" else timedelta(0)
            except (ValueError, OverflowError):      # not a date, or the day after 9999-12-31
                continue
            query = query.where(getattr(Case.created_at, op)(day))
    if args.get("overdue") == "yes":
        query = query.where(Case.first_answer_at.is_(None), Case.status.not_in((CaseStatus.RESOLVED, CaseStatus.CLOSED)),
                            or_(Case.sensitive.is_(False) & (Case.created_at < due_before(config, False)),
                                Case.sensitive.is_(True) & (Case.created_at < due_before(config, True))))
    if args.get("mine") == "yes":
        query = query.where(Case.assigned_to == g.user.id)
    return query


@blueprint.get("/")
def home():
    return redirect(url_for("dashboard.inbox"))


@blueprint.get("/cases")
def inbox():
    require("see_cases")
    rt = runtime()
    args = request.args
    page = page_number(args)
    query = _filters(args, rt.config).order_by(Case.created_at.desc(), Case.id.desc())
    search = (args.get("q") or "").strip()
    with rt.transaction() as db:
        counts: dict[str, int] = dict(db.execute(visible(select(Case.status, func.count()).group_by(Case.status),
                                      tryout=args.get("channel") == case_service.TRYOUT_CHANNEL)).tuples().all())
        if search:
            from .. import users
            rows = db.execute(query.limit(SEARCH_SCAN_LIMIT)).scalars().all() \
                if users.can(g.user, "see_personal_data") else []
            needle = search.casefold()
            code = codes.find_code(search)     # "123 4567", "١٢٣-٤٥٦٧": the code as pages and people show it
            rows = [c for c in rows if needle in c.code or c.code == code
                    or needle in (rt.vault.decrypt(c.text_enc) or "").casefold()]
            total = len(rows)
            rows = rows[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
        else:
            total = db.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
            rows = db.execute(query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).scalars().all()
        assignees = g.staff_names = dict(db.execute(select(User.id, User.name)).tuples().all())
        voices = voice_notes.lengths(rt.vault, rows)          # voice notes' lengths, kept when first heard
    pages = max(1, -(-total // PAGE_SIZE))
    return render_template("dashboard/inbox.html", cases=rows, counts=counts, total=total, page=page, pages=pages,
                           voices=voices, clock=voice_notes.clock,
                           args=args, overdue=lambda c: is_overdue(c, rt.config), areas=area_names(g.ui_lang),
                           assignees=assignees, statuses=case_service.STATUSES, kinds=case_service.KINDS)


def _case_or_404(db, code: str) -> Case:
    case = db.execute(visible(select(Case).where(Case.code == code), tryout=True)).scalar_one_or_none()
    if case is None:
        abort(404)
    return case


@blueprint.get("/cases/<code>")
def case_page(code):
    require("see_cases")
    from .. import users
    rt = runtime()
    vault = rt.vault
    personal = users.can(g.user, "see_personal_data")
    with rt.transaction() as db:
        case = _case_or_404(db, code)
        db.add(AuditEvent(actor=f"user:{g.user.id}", action="view_case", target=f"case:{case.code}"))
        contact = db.get(Contact, case.contact_id) if case.contact_id else None
        events = case_service.case_events(rt, db, case)
        views = db.execute(select(AuditEvent).where(AuditEvent.target == f"case:{case.code}")
                           .order_by(AuditEvent.id.desc()).limit(50)).scalars().all()
        deliveries = {o.id: o for o in db.execute(select(Outbound).where(Outbound.case_id == case.id)).scalars()}
        log = []
        if contact is not None and personal and not conversation_hidden(db, contact.id):
            for m in db.execute(select(Message).where(Message.contact_id == contact.id)
                                .order_by(Message.id.desc()).limit(30)).scalars().all()[::-1]:
                replies = json.loads(vault.decrypt(m.replies_enc) or "[]") if m.replies_enc else []
                log.append({"at": m.created_at, "text": vault.decrypt(m.text_enc) if m.text_enc else "",
                            "media": len(json.loads(vault.decrypt(m.media_enc) or "[]")) if m.media_enc else 0,
                            "replies": [r["text"] for r in replies]})
        staff = dict(db.execute(select(User.id, User.name)).tuples().all())
        g.staff_names = staff          # who() in the template names the same people: no second query
    attached = voice_notes.entries(vault, case) if personal else []
    media = [r.get("type") or "" for r in attached]    # content types, in order: the page picks the player
    seconds = [voice_notes.clock(r.get("seconds")) for r in attached]
    templates = _answer_templates(case.language or "ar")
    return render_template(
        "dashboard/case.html", case=case, text=(vault.decrypt(case.text_enc) if personal and case.text_enc else None),
        personal=personal, media=media, seconds=seconds, events=events, views=views, deliveries=deliveries, log=log,
        address=mask(contact.channel, vault.decrypt(contact.address_enc)) if contact else None, contact=contact,
        overdue=is_overdue(case, rt.config), areas=area_names(g.ui_lang), statuses=case_service.STATUSES,
        staff=staff, templates=templates, media_kind=media_proxy.kind)


def _answer_templates(lang: str) -> list[dict]:
    """Saved answers in the person's language, titled in the staff member's."""
    return [{"title": pick(t.get("title") or {}, g.ui_lang), "text": pick(t.get("text") or {}, lang)}
            for t in runtime().content.get().answer_templates]


def _actor() -> str:
    return f"user:{g.user.id}"


ANSWER_FORM_MAX = recordings.MAX_BYTES + 256 * 1024      # a voice answer and the form around it


@blueprint.record_once
def _answer_form_checked_after_its_limit(state) -> None:
    """A voice answer may be 20 MB; the app takes 1 MB. The CSRF check is made once the limit is raised."""
    state.app.extensions["csrf"].exempt(answer)


@blueprint.before_app_request
def _answer_limit() -> Response | None:
    if request.endpoint != "dashboard.answer" or request.method != "POST":
        return None
    request.max_content_length = ANSWER_FORM_MAX
    current_app.extensions["csrf"].protect()
    return None


def _voice_answer(code: str) -> tuple[str | None, str | None]:
    """(the recording's hash, None) for an uploaded voice answer, (None, why not) for a refused file,
    (None, None) when no file was chosen. Checked and converted once by the recordings store (PyAV)."""
    upload = request.files.get("voice")
    if upload is None or not upload.filename:
        return None, None
    data = upload.read(recordings.MAX_BYTES + 1)
    try:
        with runtime().transaction() as db:
            return recordings.store(db, data).sha256, None
    except recordings.RecordingRefused as exc:
        return None, Translator(g.ui_lang)(exc.message, **exc.values)


@blueprint.post("/cases/<code>/answer")
def answer(code):
    require("act_on_cases")
    text = (request.form.get("text") or "").strip()
    status = request.form.get("status") or None
    with runtime().transaction() as db:
        _case_or_404(db, code)
    voice, refused = _voice_answer(code)
    if refused:
        flash(refused)
        return redirect(url_for("dashboard.case_page", code=code))
    if not text and not voice:
        flash("empty_answer")
        return redirect(url_for("dashboard.case_page", code=code))
    try:
        result = case_service.answer(runtime(), code, text, _actor(),
                                     status if status in case_service.STATUSES else None, voice=voice)
    except case_service.CaseError:
        abort(400)
    queued = "voice_answer_queued" if voice else "answer_queued"
    flash(queued if result["outbound_id"] else "answer_unreachable")
    return redirect(url_for("dashboard.case_page", code=code))


@blueprint.post("/cases/<code>/status")
def change_status(code):
    require("act_on_cases")
    status = request.form.get("status")
    if status not in case_service.STATUSES:
        abort(400)
    with runtime().transaction() as db:
        case = _case_or_404(db, code)
        case_service.set_status(db, case, status, _actor())
        db.add(AuditEvent(actor=_actor(), action="case_status", target=f"case:{case.code}", detail=status))
    return redirect(url_for("dashboard.case_page", code=code))


@blueprint.post("/cases/<code>/note")
def add_note(code):
    require("act_on_cases")
    text = (request.form.get("text") or "").strip()[:NOTE_LIMIT]
    if text:
        with runtime().transaction() as db:
            case = _case_or_404(db, code)
            db.add(CaseEvent(case_id=case.id, actor=_actor(), action="note", text_enc=runtime().vault.encrypt(text)))
            db.add(AuditEvent(actor=_actor(), action="case_note", target=f"case:{case.code}"))
    return redirect(url_for("dashboard.case_page", code=code))


@blueprint.post("/cases/<code>/assign")
def assign(code):
    require("act_on_cases")
    raw = request.form.get("user_id") or ""
    with runtime().transaction() as db:
        case = _case_or_404(db, code)
        if raw == "me":
            user_id = g.user.id
        elif raw == "":
            user_id = None                   # unassign
        elif raw.isascii() and raw.isdigit() and len(raw) < 12:
            user_id = int(raw)
        else:
            abort(400, "user_id must be a staff member's number, 'me' or empty")
        if user_id is not None and db.get(User, user_id) is None:
            abort(400)
        case.assigned_to = user_id
        db.add(CaseEvent(case_id=case.id, actor=_actor(), action="assign", status_to=str(user_id or "")))
        db.add(AuditEvent(actor=_actor(), action="case_assign", target=f"case:{case.code}", detail=str(user_id)))
    return redirect(url_for("dashboard.case_page", code=code))


# What people send is served to staff inert: shown only when its bytes are an image, sound or video a browser
# renders safely (never SVG, never the provider's word alone), else a download; a sandbox either way. Opened
# on its own, the browser draws it in a page of its own making, styled inline (no script can run there).
INLINE_POLICY = "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; sandbox"
DOWNLOAD_POLICY = "default-src 'none'; sandbox"


@blueprint.get("/cases/<code>/media/<int:n>")
def case_media(code, n):
    """A voice note or photo, fetched from the provider for staff who may see it (audited)."""
    require("see_personal_data")
    rt = runtime()
    with rt.transaction() as db:
        case = _case_or_404(db, code)
        refs = json.loads(rt.vault.decrypt(case.media_enc) or "[]") if case.media_enc else []
        if not 0 <= n < len(refs):
            abort(404)
        db.add(AuditEvent(actor=_actor(), action="view_media", target=f"case:{case.code}", detail=str(n)))
    body, _ = media_proxy.fetch(rt.config, media_proxy.entry(refs[n])[0])
    if body is None:
        abort(502)
    shown = media_proxy.inline_type(body)
    if shown and (shown.startswith("audio/") or shown == "video/3gpp"):
        body, shown = _heard(rt, code, n, refs[n], body, shown)
    headers = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff",
               "Content-Security-Policy": INLINE_POLICY if shown else DOWNLOAD_POLICY,
               "Content-Disposition": "inline" if shown else f'attachment; filename="attachment-{n + 1}.bin"'}
    return Response(body, mimetype=shown or "application/octet-stream", headers=headers)


def _heard(rt, code: str, n: int, ref, body: bytes, shown: str) -> tuple[bytes, str]:
    """A voice note on its way to staff: measured once with PyAV (kept with the case for the inbox), and
    decoded to WAV when the browser cannot play what the phone recorded (AMR)."""
    if not (isinstance(ref, dict) and ref.get("measured")):
        seconds = voice_notes.measure(body)
        if seconds is not None:
            with rt.transaction() as db:
                voice_notes.remember_seconds(rt.vault, _case_or_404(db, code), n, seconds)
    return voice_notes.playable(body, shown)


@blueprint.get("/answer-segments")
def answer_segments():
    """The SMS cost of an answer, for browsers without JavaScript (the page counts live with JS)."""
    text = request.args.get("text", "")
    return {"segments": segments(text), "characters": len(text)}
