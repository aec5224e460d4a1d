"""The staff dashboard: server-rendered pages in English, Arabic or Sorani, for officers on slow links.

Every page needs a signed-in, active account; what it shows depends on the role
(bot.users.can). Sensitive cases do not exist for roles that may not see them:
they are left out of lists and counts, and their pages answer 404.
"""
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask import Blueprint, abort, current_app, g, redirect, request, session, url_for
from sqlalchemy import select

from handlers.i18n import BABEL_LOCALE, NATIVE_NAMES, Translator, direction, format_number
from handlers.text import to_arabic_digits

from .. import users
from ..models import User
from ..runtime import Runtime
from ..runtime import current as current_runtime
from . import labels

blueprint = Blueprint("dashboard", __name__, url_prefix="/dashboard")
UI_LANGUAGES = ("en", "ar", "ckb")
PUBLIC_ENDPOINTS = {"dashboard.login", "dashboard.set_language", "dashboard.static"}


def runtime() -> Runtime:
    return current_runtime()


@blueprint.before_request
def sane_input():
    """One place for what no page can use: ids beyond what the database holds (404), NUL characters (400)."""
    if any(isinstance(v, int) and not 0 <= v < 2 ** 63 or isinstance(v, str) and "\x00" in v
           for v in (request.view_args or {}).values()):
        abort(404)
    if any("\x00" in value for source in (request.args, request.form) for value in source.values()):
        abort(400, "a field holds a NUL character")


def page_number(args, limit: int = 100_000) -> int:
    """?page= as a page that exists or the last one could: digits only, at least 1, at most limit."""
    raw = (args.get("page") or "1").strip()
    return min(max(1, int(raw)), limit) if raw.isascii() and raw.isdigit() and len(raw) < 12 else 1


@blueprint.before_request
def load_user():
    g.user = None
    user_id = session.get("user_id")
    if user_id:
        with runtime().transaction() as db:
            user = db.get(User, user_id)
            if user is not None and user.active and session.get("pw") == users.session_stamp(user):
                g.user = user
    g.ui_lang = session.get("ui_lang") or (g.user.ui_language if g.user else None) or _browser_language()
    if g.user is None and request.endpoint not in PUBLIC_ENDPOINTS:
        return redirect(url_for("dashboard.login", next=request.full_path))


def _browser_language() -> str:
    return request.accept_languages.best_match(UI_LANGUAGES) or "en"


def require(what: str) -> None:
    if not users.can(g.user, what):
        abort(403)


@blueprint.app_context_processor
def template_helpers():
    lang = getattr(g, "ui_lang", "en")
    t = Translator(lang)
    zone = ZoneInfo(current_app.config.get("TIMEZONE") or "Asia/Baghdad")

    def when(value: datetime | None) -> str:
        if value is None:
            return "—"
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        try:
            value = value.astimezone(zone)
        except OverflowError:      # year 1 or 9999 in another zone: shown as stored (UTC)
            pass
        text = format_datetime(value, "d MMM y HH:mm", locale=BABEL_LOCALE.get(lang, "en"))
        return to_arabic_digits(text) if lang in ("ar", "ckb") else text

    def query_with(**changes) -> str:
        from urllib.parse import urlencode
        params = {k: v for k, v in request.args.items()}
        params.update({k: str(v) for k, v in changes.items()})
        return urlencode(params)

    def who(actor: str | None) -> str:
        """user:3 -> the staff member's name; person; cli:amal -> amal (command line)."""
        actor = actor or ""
        if actor.startswith("user:") and actor[5:].isdigit():
            if "staff_names" not in g:
                with runtime().transaction() as db:
                    g.staff_names = dict(db.execute(select(User.id, User.name)).tuples().all())
            return g.staff_names.get(int(actor[5:]), actor)
        if actor == "person":
            return t("the person")
        if actor.startswith("cli:"):
            return t("{name} (command line)", name=actor[4:])
        return actor

    def lang_name(code: str | None) -> str:
        return NATIVE_NAMES.get(code, code) if code else "—"

    def action_name(action: str) -> str:
        return t(labels.AUDIT_ACTIONS[action]) if action in labels.AUDIT_ACTIONS else action

    return {"who": who, "lang_name": lang_name, "action_name": action_name, "_": t, "ui_lang": lang,
        "query_with": query_with, "ui_dir": direction(lang), "when": when, "UI_LANGUAGES": UI_LANGUAGES,
            "num": lambda n: format_number(n, lang), "can": lambda what: users.can(getattr(g, "user", None), what),
            "current_user": getattr(g, "user", None), "flashes": labels.FLASHES}


from . import (  # noqa: E402,F401  (routes register on the blueprint)
    accounts,
    auth,
    broadcasts,
    cases,
    contacts,
    content,
    content_contacts,  # noqa: E402,F401,I001  (referral contacts and emergency numbers)
    content_files,  # noqa: E402,F401,I001  (translators' files)
    content_items,
    content_recordings,  # noqa: E402,F401,I001  (voice recordings on the content editor)
    content_release,
    poll_results,  # noqa: E402,F401,I001  (a poll's results, free answers and exports)
    polls,  # noqa: E402,F401,I001  (the poll editor and a poll's page)
    reports,
    unanswered,  # noqa: E402,F401,I001  (the unanswered questions page)
)
