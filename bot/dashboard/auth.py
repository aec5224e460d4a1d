"""Signing in and out, and the interface language."""
import time
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
    """Email, password and (once set up) a code. An admin without a second factor gets no session for
    the right password: the answer is the set-up step (_totp_setup), and the session starts after its
    first code. The pending set-up is kept in the signed session cookie, its secret encrypted."""
    if request.method == "POST" and request.form.get("step") == "totp_setup":
        return _confirm_totp_setup()
    error = None
    ask_code = False
    if request.method == "POST":
        with runtime().transaction() as db:
            user, reason = users.authenticate(db, runtime().vault, request.form.get("email", ""),
                                              request.form.get("password", ""), request.form.get("code", ""),
                                              request.remote_addr or "")
            if user is not None and reason == "totp_setup":
                secret = users.new_totp_secret()
                session["totp_setup"] = {"user": user.id, "pw": users.session_stamp(user),
                                         "secret": runtime().vault.encrypt(secret),
                                         "until": int(time.time()) + users.TOTP_SETUP_SECONDS}
                return _totp_setup(secret, user.email)
            if user is not None:
                return _start_session(user)
        if reason in ("throttled", "slowed"):
            return render_template("dashboard/login.html", error=reason, ask_code=False), 429
        error, ask_code = reason, reason == "totp"
    return render_template("dashboard/login.html", error=error, ask_code=ask_code)


def _start_session(user: User):
    session.clear()
    session.permanent = True
    session["user_id"] = user.id
    session["pw"] = users.session_stamp(user)   # a password change signs every session out
    session["ui_lang"] = g.ui_lang
    return redirect(_safe_next(request.args.get("next")))


def _totp_setup(secret: str, email: str, wrong_code: bool = False):
    page = render_template("dashboard/totp_setup.html", secret=secret, uri=users.totp_uri(secret, email),
                           wrong_code=wrong_code)
    return page, 200, {"Cache-Control": "private, no-store"}     # the page holds the secret


def _confirm_totp_setup():
    pending = session.get("totp_setup")
    if not isinstance(pending, dict):
        pending = {}
    secret = None
    if isinstance(pending.get("until"), int) and pending["until"] > time.time():
        secret = runtime().vault.decrypt(pending.get("secret"))
    if not secret or not isinstance(pending.get("user"), int) or not isinstance(pending.get("pw"), str):
        session.pop("totp_setup", None)
        return render_template("dashboard/login.html", error="again", ask_code=False)
    with runtime().transaction() as db:
        user, reason = users.confirm_totp(db, runtime().vault, pending["user"], pending["pw"], secret,
                                          request.form.get("code", ""), request.remote_addr or "")
        if user is not None:
            return _start_session(user)
        known = db.get(User, pending["user"]) if reason == "code" else None
        email = known.email if known is not None else ""
    if reason in ("throttled", "slowed"):
        return render_template("dashboard/login.html", error=reason, ask_code=False), 429
    if reason == "code":
        return _totp_setup(secret, email, wrong_code=True)
    session.pop("totp_setup", None)
    return render_template("dashboard/login.html", error="again", ask_code=False)


@blueprint.post("/logout")
def logout():
    with runtime().transaction() as db:
        db.add(AuditEvent(actor=f"user:{g.user.id}", action="logout"))
        user = db.get(User, g.user.id)
        if user is not None:
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
