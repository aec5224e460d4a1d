"""The Content section: topics, their items with each language's review state, one item's editor with
every language side by side and its preview on each channel, the review queue of a language.

Pages read the draft when there is one, else the published version (the first save makes the draft).
Who may change what is bot.users': content_languages() are the languages an account may edit and mark
reviewed (a translator's own, everyone else's all); what belongs to no language (sources, pictures, new,
moved or retired items) needs all of them. Saving and the other changes are in content_items.py.
"""
from flask import Response, abort, current_app, g, redirect, render_template, request, url_for
from sqlalchemy import text

from handlers.content import CAPTION_MAX, SMS_MAX, SMS_PARTS, TEXT_MAX, TITLE_MAX, pick
from handlers.i18n import LANGUAGES, NATIVE_NAMES, RTL, Translator
from handlers.sms import GSM7_EXTENDED, fold_latin, is_gsm7, segments
from handlers.yaml_texts import parsed

from .. import content_edit, content_preview, content_problems, content_review, users
from .. import content_versions as versions
from ..models import ContentVersion
from . import blueprint, require, runtime

_DRAFT_LOCK = 74_018      # pg_advisory_xact_lock key: one change of the draft at a time, on every machine
TELEGRAM_LIMIT, WHATSAPP_LIMIT = 4096, content_preview.WHATSAPP_BODY_LIMIT
LIMITS = {"title": TITLE_MAX, "sms": SMS_MAX, "text": TEXT_MAX, "step text": CAPTION_MAX, "step sms": SMS_MAX}


def actor() -> str:
    return f"user:{g.user.id}"


def own_languages() -> tuple[str, ...]:
    return users.content_languages(g.user)


def edits_everything() -> bool:
    """Sources, pictures and the list of items belong to no language: only for those who edit all."""
    return set(own_languages()) == set(LANGUAGES)


def t(message: str, **values) -> str:
    """A message in the reader's interface language (pybabel extracts t("...") calls)."""
    return Translator(g.ui_lang)(message, **values)


@blueprint.before_request
def content_roles_start_here():
    """Editors and translators see no case: signing in (which goes to the inbox) brings them here."""
    if request.endpoint in ("dashboard.inbox", "dashboard.home") and g.get("user") is not None \
            and not users.can(g.user, "see_cases") and users.can(g.user, "edit_content"):
        return redirect(url_for("dashboard.content_index"))
    return None


def working(db) -> ContentVersion:
    """The draft if there is one, else the published version."""
    version = versions.draft(db) or versions.published(db)
    if version is None:
        abort(404)
    return version


def token_of(version: ContentVersion) -> str:
    """What a form carries of the version it was loaded from: a save into anything else is stale."""
    return f"{version.id}:{version.revision}" if version.state == versions.DRAFT else f"p{version.id}"


def draft_for(db, token: str) -> ContentVersion:
    """The draft to change, if it is still the one the form was loaded from (else versions.Stale); made
    from the published version when the form came from there. One change of the draft at a time."""
    if db.bind.dialect.name == "postgresql":
        db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _DRAFT_LOCK})
    current = versions.draft(db)
    token = (token or "").strip()
    if current is None:
        base = versions.published(db)
        if base is None or token != f"p{base.id}":
            raise versions.Stale("the published version changed since the page was loaded")
        return versions.start_draft(db, actor())
    if token != token_of(current):
        raise versions.Stale(f"the draft is at {token_of(current)}, the page at {token}")
    return current


def sms_facts(value: str, lang: str, expand: str, fold: bool) -> dict:
    """What the counter under an SMS field says, as handlers/sms.py counts it (the JS does the same)."""
    value = value.replace("{emergency}", expand)
    if fold and lang == "kmr_latn":
        value = fold_latin(value)
    gsm = is_gsm7(value)
    units = sum(2 if ch in GSM7_EXTENDED else 1 for ch in value) if gsm else len(value.encode("utf-16-le")) // 2
    parts, most = segments(value) if value else 0, SMS_PARTS.get(lang, 3)
    return {"characters": len(value), "units": units, "parts": parts, "most": most,
            "encoding": "GSM-7" if gsm else "UCS-2", "target": 306 if gsm else 134,
            "over": len(value) > SMS_MAX or parts > most}


def languages_view() -> list[dict]:
    mine = own_languages()
    return [{"code": code, "name": NATIVE_NAMES[code], "dir": "rtl" if code in RTL else "ltr",
             "editable": code in mine} for code in LANGUAGES]


def topics_of(content) -> list[dict]:
    return [{"id": topic.id, "title": pick(topic.title, g.ui_lang),
             "entries": [{"id": item.id, "title": pick(item.title, g.ui_lang)} for item in topic.items]}
            for topic in content.topics]


@blueprint.get("/content")
def content_index():
    require("edit_content")
    with runtime().transaction() as db:
        version = working(db)
        content = versions.content_of(db, version)
        published = versions.published(db)
        summary = {"version": version.id, "state": version.state, "revision": version.revision,
                   "based_on": version.based_on, "published": published.id if published else None,
                   "created_by": version.created_by, "problems": len(content.problems)}
    topics = topics_of(content)
    ids = [item["id"] for topic in topics for item in topic["entries"]]
    queues = {lang: content_review.counts(content.reviews, ids, lang) for lang in LANGUAGES}
    return render_template("dashboard/content_index.html", summary=summary, topics=topics, queues=queues,
                           languages=languages_view(), mine=own_languages())


@blueprint.get("/content/topics/<topic_id>")
def content_topic(topic_id):
    require("edit_content")
    with runtime().transaction() as db:
        version = working(db)
        content = versions.content_of(db, version)
        token = token_of(version)
    topic = next((tp for tp in topics_of(content) if tp["id"] == topic_id), None)
    if topic is None:
        abort(404)
    problems, _ = content_problems.by_item(content.problems)
    return render_template("dashboard/content_topic.html", topic=topic, reviews=content.reviews, token=token,
                           languages=languages_view(), problems=problems, everything=edits_everything(),
                           state_of=content_review.state_of)


def editor_context(db, item_id: str, preview_lang: str | None = None) -> dict:
    """Everything the editor shows of one item: its raw texts ({emergency} as written), states, problems
    by field, counters' inputs and the preview on each channel in one language (the page stays light: the
    account's first language, or the one asked for)."""
    if preview_lang not in LANGUAGES:
        preview_lang = next(iter(own_languages()), "en") if g.ui_lang not in own_languages() else g.ui_lang
    version = working(db)
    files, _ = versions.files_of(db, version)
    where = content_edit.find(files).get(item_id)
    if where is None:
        abort(404)
    name, position = where
    data = parsed(files[name])
    item = data["items"][position]
    content = versions.content_of(db, version)
    fold = bool(current_app.config.get("SMS_FOLD_LATIN"))
    emergency = content.emergency or {}
    expand = {lang: {"sms": (emergency.get("inline_sms") or {}).get(lang) or "",
                     "text": (emergency.get("inline") or {}).get(lang) or ""} for lang in LANGUAGES}
    topic = content.topic(str(data.get("topic") or ""))
    return {
        "item": item, "item_id": item_id, "title_ui": pick(item.get("title") or {}, g.ui_lang) or item_id,
            "token": token_of(version), "is_draft": version.state == versions.DRAFT,
        "version": version, "topic_id": topic.id if topic else "", "position": position,
        "count": len(data.get("items") or []), "topic_title": pick(topic.title, g.ui_lang) if topic else "",
        "states": content.reviews.get(item_id) or {}, "state_of": content_review.state_of,
        "recordings": content.recordings,
        "reviews": content.reviews, "languages": languages_view(), "everything": edits_everything(),
        "problems": content_problems.by_field(content.problems, item_id), "expand": expand, "fold": fold,
        "limits": LIMITS, "telegram_limit": TELEGRAM_LIMIT, "whatsapp_limit": WHATSAPP_LIMIT,
        "sms_facts": lambda value, lang: sms_facts(str(value or ""), lang, expand[lang]["sms"], fold),
        "preview_lang": preview_lang,
        "preview": content_preview.item(content, preview_lang, item_id, current_app.config),
    }


@blueprint.get("/content/items/<item_id>")
def content_item(item_id):
    require("edit_content")
    with runtime().transaction() as db:
        context = editor_context(db, item_id, request.args.get("preview"))
    return render_template("dashboard/content_item.html", unsaved=[], error=None, **context)


@blueprint.get("/content/review/<lang>")
def content_review_queue(lang):
    """What awaits review in one language: changed (draft) or behind its source (needs update)."""
    require("edit_content")
    if lang not in LANGUAGES:
        abort(404)
    with runtime().transaction() as db:
        content = versions.content_of(db, working(db))
    rows = [{"topic": topic["title"], **entry, "state": content_review.state_of(content.reviews, entry["id"], lang),
             "review": (content.reviews.get(entry["id"]) or {}).get(lang) or {}}
            for topic in topics_of(content) for entry in topic["entries"]]
    waiting = [row for row in rows if row["state"] != content_review.REVIEWED]
    return render_template("dashboard/content_review.html", lang=lang, rows=waiting, total=len(rows),
                           mine=lang in own_languages(), languages=languages_view())


@blueprint.get("/content/pictures/<path:name>")
def content_picture(name):
    """A picture of the draft (or the published version), for the editor: inert, never sniffed."""
    require("edit_content")
    with runtime().transaction() as db:
        _, images = versions.files_of(db, working(db))
    data = images.get(name)
    if data is None:
        abort(404)
    response = Response(data, mimetype="image/jpeg" if name.lower().endswith((".jpg", ".jpeg")) else "image/png")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.cache_control.private = True
    response.cache_control.max_age = 300
    return response
