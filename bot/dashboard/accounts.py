"""Staff accounts for admins: who has access, with which role; add, disable, change role, reset password,
and the languages a translator edits and reviews (users.languages).

The same rules as `flask --app bot users ...` (bot.users); every change is in the audit log.
An admin cannot disable or demote their own account (so there is always one admin left).
"""
import secrets

from flask import abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from handlers.i18n import LANGUAGES, NATIVE_NAMES, Translator

from .. import users
from ..models import AuditEvent, User
from . import blueprint, require, runtime


def _languages(form) -> str:
    """The ticked languages, in their usual order, as users.languages keeps them ("ckb,kmr")."""
    ticked = set(form.getlist("languages"))
    return ",".join(lang for lang in LANGUAGES if lang in ticked)


def _page(rows, temporary=None):
    return render_template("dashboard/users.html", rows=rows, roles=users.ROLES, temporary=temporary,
                           languages=[(code, NATIVE_NAMES[code]) for code in LANGUAGES])


def _audit(db, action: str, user: User, detail: str = "") -> None:
    db.add(AuditEvent(actor=f"user:{g.user.id}", action=action, target=f"user:{user.id}", detail=detail or None))


@blueprint.get("/users")
def accounts():
    require("manage_users")
    with runtime().transaction() as db:
        rows = db.execute(select(User).order_by(User.active.desc(), User.email)).scalars().all()
    return _page(rows)


@blueprint.post("/users")
def create_account():
    require("manage_users")
    temporary = secrets.token_urlsafe(12)     # shown once; the person changes it with reset-password
    try:
        with runtime().transaction() as db:
            user = users.create(db, request.form.get("email", ""), request.form.get("name", ""), temporary,
                                request.form.get("role", "viewer"))
            if user.role == "translator":
                user.languages = _languages(request.form)
            _audit(db, "user_create", user, f"{user.role} {user.languages or ''}".strip())
            rows = db.execute(select(User).order_by(User.active.desc(), User.email)).scalars().all()
    except users.UserError as exc:
        flash(exc.translated(Translator(g.ui_lang)))
        return redirect(url_for("dashboard.accounts"))
    return _page(rows, temporary=(user.email, temporary))


@blueprint.post("/users/<int:user_id>/<action>")
def change_account(user_id, action):
    require("manage_users")
    if user_id == g.user.id and action in ("disable", "role"):
        flash("not_yourself")
        return redirect(url_for("dashboard.accounts"))
    with runtime().transaction() as db:
        user = db.get(User, user_id)
        if user is None:
            abort(404)
        if action == "disable":
            user.active = False
        elif action == "enable":
            user.active = True
        elif action == "role" and request.form.get("role") in users.ROLES:
            users.set_role(user, request.form["role"])
        elif action == "languages":
            user.languages = _languages(request.form)
        else:
            abort(400)
        _audit(db, f"user_{action}", user, {"role": user.role, "languages": user.languages}.get(action, ""))
    return redirect(url_for("dashboard.accounts"))
