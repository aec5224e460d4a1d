"""Staff accounts: argon2id password hashes (memory-hard), roles, optional TOTP, login throttling.

Roles decide what a person sees (DESIGN: access by role):
admin (everything, users, reveal addresses), officer (cases, answers, broadcasts),
focal_point (an officer who also sees sensitive cases), viewer (read-only, no personal data).
"""
import hashlib
import re
from datetime import timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select

from handlers.i18n import N_, Refusal

from .models import AuditEvent, LoginAttempt, User, utcnow

ROLES = ("admin", "officer", "focal_point", "viewer")
MIN_PASSWORD = 10
MAX_FAILURES = 5               # per account from one address; x4 per address, x10 per account ...
FAILURE_WINDOW = timedelta(minutes=15)   # ... in this window
_hasher = PasswordHasher()


class UserError(Refusal):
    pass


def can(user: User | None, what: str) -> bool:
    """The one place that says which role may do what."""
    if user is None or not user.active:
        return False
    rules = {
        "see_cases": ROLES,
        "see_personal_data": ("admin", "officer", "focal_point"),
        "see_sensitive": ("admin", "focal_point"),
        "act_on_cases": ("admin", "officer", "focal_point"),
        "broadcast": ("admin", "officer", "focal_point"),
        "approve_broadcast": ("admin", "officer", "focal_point"),
        "reveal_address": ("admin",),
        "erase_contact": ("admin",),
        "audit_log": ("admin",),
        "manage_users": ("admin",),
        "export": ("admin", "officer", "focal_point"),
    }
    return user.role in rules.get(what, ())


def _check_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise UserError(N_("A password needs at least {count} characters."), count=MIN_PASSWORD)


_EMAIL = re.compile(r"[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+")
NAME_LIMIT = 120


def create(session, email: str, name: str, password: str, role: str) -> User:
    email = (email or "").strip().lower()
    if len(email) > 200 or not _EMAIL.fullmatch(email):       # 200: what sign-in accepts
        raise UserError(N_("That is not an email address."))
    if len((name or "").strip()) > NAME_LIMIT or "\x00" in (name or ""):
        raise UserError(N_("A name can have at most {count} characters."), count=NAME_LIMIT)
    if role not in ROLES:
        raise UserError(N_("The role must be one of {names}."), names=", ".join(ROLES))
    _check_password(password)
    if session.execute(select(User).where(User.email == email)).scalar_one_or_none():
        raise UserError(N_("{email} already has an account."), email=email)
    user = User(email=email, name=name or email, password_hash=_hasher.hash(password), role=role, active=True)
    session.add(user)
    session.flush()
    return user


def leaves_no_admin(session, user: User, role: str | None = None, active: bool | None = None) -> bool:
    """Would this change leave no active admin? Then nobody could manage accounts any more."""
    if user.role != "admin" or not user.active:
        return False
    if (role or user.role) == "admin" and (user.active if active is None else active):
        return False
    others = session.scalar(select(func.count()).select_from(User).where(
        User.role == "admin", User.active.is_(True), User.id != user.id))
    return not others


def find(session, email: str) -> User:
    email = (email or "").strip().lower()
    user = None if len(email) > 200 or not email.isprintable() else \
        session.execute(select(User).where(User.email == email)).scalar_one_or_none()
    if user is None:
        raise UserError(N_("No account for {email}."), email=email)
    return user


def set_password(user: User, password: str) -> None:
    _check_password(password)
    user.password_hash = _hasher.hash(password)


def _digest(value: str) -> str:
    return hashlib.sha256((value or "").encode()).hexdigest()


def throttled(session, email: str, ip: str) -> bool:
    """Guessing is slowed per account *from one address* and per address, so a stranger's five wrong
    passwords do not lock the real person out; an account guessed at from many addresses is slowed too,
    but only after many more failures (a lockout then costs an attacker a botnet, not five posts)."""
    since = utcnow() - FAILURE_WINDOW
    recent = select(func.count()).select_from(LoginAttempt).where(LoginAttempt.at >= since)
    email_hash, ip_hash = _digest(email.lower()), _digest(ip)
    by_pair = session.scalar(recent.where(LoginAttempt.email_hash == email_hash, LoginAttempt.ip_hash == ip_hash))
    by_ip = session.scalar(recent.where(LoginAttempt.ip_hash == ip_hash))
    by_email = session.scalar(recent.where(LoginAttempt.email_hash == email_hash))
    return by_pair >= MAX_FAILURES or by_ip >= MAX_FAILURES * 4 or by_email >= MAX_FAILURES * 10


def authenticate(session, vault, email: str, password: str, code: str, ip: str) -> tuple[User | None, str]:
    """(user, "") on success, else (None, reason): "throttled", "totp", or "invalid" (never which part)."""
    email = (email or "").strip().lower()
    if len(email) > 200 or not email.isprintable():    # no account has such an address; keep it out of queries
        email = "invalid"
    if throttled(session, email, ip):
        return None, "throttled"
    user = session.execute(select(User).where(User.email == email)).scalar_one_or_none()
    ok = False
    if user is not None and user.active:
        try:
            ok = _hasher.verify(user.password_hash, password or "")
        except (VerificationError, InvalidHashError):
            ok = False
    else:
        _hasher.hash(password or "x")  # spend the same time whether or not the account exists
    if ok and user.totp_secret_enc:
        secret = vault.decrypt(user.totp_secret_enc)
        if not code:
            return None, "totp"
        ok = pyotp.TOTP(secret).verify(code.strip(), valid_window=1)
    if not ok:
        session.add(LoginAttempt(email_hash=_digest(email), ip_hash=_digest(ip)))
        # "login:" + what was typed, never "user:<id>": a stranger typing "1" must not look like staff member 1
        session.add(AuditEvent(actor=f"login:{email}"[:80], action="login_failed"))
        return None, "invalid"
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = utcnow()
    session.add(AuditEvent(actor=f"user:{user.id}", action="login", target=f"user:{user.id}"))
    return user, ""


def session_stamp(user: User) -> str:
    """Changes when the password changes or the person signs out, so a new password or signing out
    ends every old session, also a copy of the cookie left on a shared computer."""
    return hashlib.sha256(f"{user.password_hash}:{user.session_epoch or 0}".encode()).hexdigest()[:16]


def enable_totp(session, vault, user: User) -> str:
    """A new TOTP secret; returns the otpauth:// URI to put in an authenticator app."""
    secret = pyotp.random_base32()
    user.totp_secret_enc = vault.encrypt(secret)
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name="Community feedback bot")
