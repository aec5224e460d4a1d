"""`flask --app bot users create|list|disable|set-role|reset-password|totp`: staff accounts."""
import click
from flask.cli import AppGroup
from sqlalchemy import select

from handlers.i18n import N_

from . import users
from .models import AuditEvent, User
from .runtime import Runtime
from .runtime import current as current_runtime

users_cli = AppGroup("users", help="Staff accounts for the dashboard.")


def _runtime() -> Runtime:
    return current_runtime()


def _password(value):
    return value or click.prompt("Password", hide_input=True, confirmation_prompt=True)


@users_cli.command("create")
@click.argument("email")
@click.option("--name", default="", help="How the person is shown in case histories.")
@click.option("--role", type=click.Choice(users.ROLES), default="officer", show_default=True)
@click.option("--password", default=None, help="Asked for when not given (better: not in shell history).")
def create(email, name, role, password):
    """Create an account."""
    try:
        with _runtime().transaction() as session:
            user = users.create(session, email, name, _password(password), role)
            session.add(AuditEvent(actor="cli", action="user_create", target=f"user:{user.id}", detail=role))
    except users.UserError as exc:
        raise click.ClickException(str(exc))
    click.echo(f"created {user.email} ({role}); sign in at /dashboard"
               + ("; an admin sets up a second factor (an authenticator app) at the first sign-in"
                  if role == "admin" else ""))


@users_cli.command("list")
def list_users():
    """All accounts: email, role, active, second factor, last login."""
    with _runtime().transaction() as session:
        accounts = session.execute(select(User).order_by(User.id)).scalars().all()
        if not accounts:
            click.echo("no staff account yet: flask --app bot users create you@example.org --role admin")
        for user in accounts:
            last = user.last_login_at.strftime("%Y-%m-%d %H:%M UTC") if user.last_login_at else "never"
            click.echo(f"{user.email:<32} {user.role:<12} {'active' if user.active else 'disabled':<9} "
                       f"{'2FA' if user.totp_secret_enc else '-':<4} {last}")


def _change(email, change, what):
    try:
        with _runtime().transaction() as session:
            user = users.find(session, email)
            result = change(session, user)
            session.add(AuditEvent(actor="cli", action=what, target=f"user:{user.id}"))
            return result
    except users.UserError as exc:
        raise click.ClickException(str(exc))


@users_cli.command("disable")
@click.argument("email")
def disable(email):
    """Disable an account (it can no longer sign in; its history stays)."""
    def change(session, user):
        if users.leaves_no_admin(session, user, active=False):
            raise users.UserError(N_("That would leave no active admin: make another admin first."))
        user.active = False
    _change(email, change, "user_disable")
    click.echo(f"disabled {email}")


@users_cli.command("enable")
@click.argument("email")
def enable(email):
    """Enable a disabled account again."""
    _change(email, lambda s, u: setattr(u, "active", True), "user_enable")
    click.echo(f"enabled {email}")


@users_cli.command("set-role")
@click.argument("email")
@click.argument("role", type=click.Choice(users.ROLES))
@click.option("--languages", default=None, help="A translator's languages, comma separated (ar,ckb,kmr,kmr_latn,en).")
def set_role(email, role, languages):
    """Change an account's role (a translator edits only --languages)."""
    from handlers.i18n import LANGUAGES
    wanted = [code.strip() for code in (languages or "").split(",") if code.strip()]
    if any(code not in LANGUAGES for code in wanted):
        raise click.ClickException(f"languages are among {', '.join(LANGUAGES)}")

    def change(session, user):
        if users.leaves_no_admin(session, user, role=role):
            raise users.UserError(N_("That would leave no active admin: make another admin first."))
        users.set_role(user, role)
        if languages is not None:
            user.languages = ",".join(wanted)
    _change(email, change, "user_set_role")
    click.echo(f"{email} is now {role}" + (f" ({', '.join(wanted) or 'no language'})" if languages is not None else ""))


@users_cli.command("reset-password")
@click.argument("email")
@click.option("--password", default=None)
def reset_password(email, password):
    """Set a new password."""
    new = _password(password)
    _change(email, lambda s, u: users.set_password(u, new), "user_reset_password")
    click.echo(f"password changed for {email}")


@users_cli.command("totp")
@click.argument("email")
def totp(email):
    """Give the account a new second factor (TOTP), replacing any old one, and print the URI for an
    authenticator app. (Admins who have none set one up themselves at their next sign-in.)"""
    uri = _change(email, lambda s, u: users.enable_totp(s, _runtime().vault, u), "user_totp")
    click.echo(f"add this to the authenticator app: {uri}")
