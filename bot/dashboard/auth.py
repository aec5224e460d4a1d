"""Signing in and out, and the interface language."""
from datetime import timedelta

from flask import g, redirect, render_template, request, session, url_for
from flask.sessions import SecureCookieSessionInterface

from .. import users
from ..models import AuditEvent, User
from . import UI_LANGUAGES, blueprint, runtime


def _safe_next(target: str | None) -> str:
    """Only paths on this site: a login link must not send staff elsewhere."""
    if target and target.startswith("/dashboard") and "//" not in target and "\\" not in target \
            and target.isprintable() and len(target) <= 500:
        return target
    return url_for("dashboard.inbox")


@blueprint.route("/login", methods=["GET", "POST"])
def login():
    error = None
    ask_code = False
    if request.method == "POST":
        with runtime().transaction() as db:
            user, reason = users.authenticate(db, runtime().vault, request.form.get("email", ""),
                                              request.form.get("password", ""), request.form.get("code", ""),
                                              request.remote_addr or "")
            if user is not None:
                session.clear()
                session.permanent = True
                session["user_id"] = user.id
                session["pw"] = users.session_stamp(user)   # a password change signs every session out
                session["ui_lang"] = g.ui_lang
                return redirect(_safe_next(request.args.get("next")))
        if reason == "throttled":
            return render_template("dashboard/login.html", error="throttled", ask_code=False), 429
        error, ask_code = reason, reason == "totp"
    return render_template("dashboard/login.html", error=error, ask_code=ask_code)


@blueprint.post("/logout")
def logout():
    with runtime().transaction() as db:
        db.add(AuditEvent(actor=f"user:{g.user.id}", action="logout"))
        user = db.get(User, g.user.id)
        user.session_epoch = (user.session_epoch or 0) + 1     # every copy of the cookie stops working
    session.clear()
    return redirect(url_for("dashboard.login"))


@blueprint.get("/language/<lang>")
def set_language(lang):
    if lang in UI_LANGUAGES:
        session["ui_lang"] = lang
    return redirect(_safe_next(request.args.get("next")))


def init_session(app) -> None:
    """Secure cookies: HttpOnly, SameSite, Secure behind https, twelve hours."""
    public = app.config.get("PUBLIC_URL") or ""
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      SESSION_COOKIE_SECURE=public.startswith("https://"),
                      PERMANENT_SESSION_LIFETIME=timedelta(hours=12))
    app.session_interface = _NoSessionForProviders()


class _NoSessionForProviders(SecureCookieSessionInterface):
    """Telegram and Twilio never hold a session cookie: their posts skip opening one (a signing
    serializer built per request) and get Flask's null session, which refuses to store anything."""

    def open_session(self, app, request):
        if request.path.startswith("/webhooks/"):
            return None
        return super().open_session(app, request)
