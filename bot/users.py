"""Staff accounts: argon2id password hashes (memory-hard), roles, TOTP (required for admins), login throttling.

Roles decide what a person sees (DESIGN: access by role):
admin (everything, users, reveal addresses), officer (cases, answers, broadcasts),
focal_point (an officer who also sees sensitive cases), viewer (read-only, no personal data),
editor (what the bot says: edits every language, publishes), translator (edits and marks reviewed
only the languages assigned to the account, users.languages; publishes nothing). Editors and translators
see no case and no personal data.
"""
import hashlib
import hmac
import ipaddress
import os
import re
import time
from datetime import timedelta, timezone

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, or_, select, update

from handlers.i18n import N_, Refusal

from .models import AuditEvent, LoginAttempt, User, utcnow

ROLES = ("admin", "officer", "focal_point", "viewer", "editor", "translator")
CASE_ROLES = ("admin", "officer", "focal_point", "viewer")
MIN_PASSWORD = 10
MAX_FAILURES = 5               # per account from one address (an IPv6 /64 is one address); x4 per address ...
FAILURE_WINDOW = timedelta(minutes=15)   # ... in this window
ACCOUNT_FREE_FAILURES = MAX_FAILURES * 2   # an account's failures from all addresses before it is slowed ...
ACCOUNT_DELAY_CAP = 60         # ... then it waits this many seconds after its last failure, at most (account_delay)
TOTP_SETUP_SECONDS = 15 * 60   # to add a new second factor to the app and type its first code


def _password_hasher() -> PasswordHasher:
    """argon2id at the library's cost (about 0.1-0.3 s a hash: the point). PASSWORD_HASH_COST=test, for the
    test suite only (it hashes thousands of times), takes the smallest cost: a hash made so is made again at
    full cost at the account's next sign-in in a process without the setting (check_needs_rehash)."""
    if os.environ.get("PASSWORD_HASH_COST") == "test":
        return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    return PasswordHasher()


_hasher = _password_hasher()


class UserError(Refusal):
    pass


def can(user: User | None, what: str) -> bool:
    """The one place that says which role may do what."""
    if user is None or not user.active:
        return False
    rules = {
        "see_cases": CASE_ROLES,
        "see_personal_data": ("admin", "officer", "focal_point"),
        "see_sensitive": ("admin", "focal_point"),
        "act_on_cases": ("admin", "officer", "focal_point"),
        "broadcast": ("admin", "officer", "focal_point"),
        "approve_broadcast": ("admin", "officer", "focal_point"),
        "see_polls": CASE_ROLES,                                  # a viewer: aggregates only
        "poll": ("admin", "officer", "focal_point"),              # compose, send, close
        "approve_poll": ("admin", "officer", "focal_point"),
        "see_poll_answers": ("admin", "officer", "focal_point"),  # free answers, per-respondent export
        "reveal_address": ("admin",),
        "erase_contact": ("admin",),
        "audit_log": ("admin",),
        "manage_users": ("admin",),
        "export": ("admin", "officer", "focal_point"),
        "edit_content": ("admin", "editor", "officer", "translator"),   # a translator: own languages only
        "publish_content": ("admin", "editor"),
        "see_unanswered": ("admin", "editor", "officer"),
        "edit_contacts": ("admin", "editor", "officer"),     # referral and emergency numbers: not translators
    }
    return user.role in rules.get(what, ())


def content_languages(user: User | None) -> tuple[str, ...]:
    """The languages this account may edit and mark reviewed: a translator's own, everyone else's all."""
    from handlers.i18n import LANGUAGES
    if user is None or not can(user, "edit_content"):
        return ()
    if user.role != "translator":
        return tuple(LANGUAGES)
    own = {code.strip() for code in (user.languages or "").split(",")}
    return tuple(lang for lang in LANGUAGES if lang in own)


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


def address_key(ip: str) -> str:
    """What throttling counts as one address: an IPv4 address as it is, an IPv6 address as its /64
    (the network one subscriber or host is given: a single machine can take any of its 2**64 addresses)."""
    try:
        addr = ipaddress.ip_address((ip or "").strip())
        if addr.version == 6 and addr.ipv4_mapped:       # ::ffff:203.0.113.9 is the IPv4 address
            return str(addr.ipv4_mapped)
        if addr.version == 6:
            return str(ipaddress.IPv6Network((int(addr), 64), strict=False))   # int: without a %zone
        return str(addr)
    except ValueError:
        return (ip or "").strip()


def _keys(vault, email: str, ip: str) -> tuple[str, str]:
    """The keys of login_attempts: HMACs with the vault's hash key (from DATA_KEY), not bare SHA-256, so
    that a copy of the table cannot be matched against a list of emails or the whole IPv4 space."""
    return vault.address_hash("login-email", email.lower()), vault.address_hash("login-ip", address_key(ip))


def account_delay(failures: int) -> int:
    """Seconds an account waits after its last failed sign-in, from any address: none for the first ten
    (more than one address can fail: one address alone never slows the account for the others), then
    1, 2, 4 ... up to ACCOUNT_DELAY_CAP. A slow-down, not a lock: a spray from many addresses gets one
    guess a minute at most, and the real person waits at most a minute, from anywhere."""
    if failures < ACCOUNT_FREE_FAILURES:
        return 0
    return min(ACCOUNT_DELAY_CAP, 2 ** min(failures - ACCOUNT_FREE_FAILURES, 16))


def throttled(session, vault, email: str, ip: str) -> str:
    """"" when a sign-in may be tried now; "throttled" when this address (an IPv6 /64) failed too often,
    for this account (MAX_FAILURES) or for any (x4), in FAILURE_WINDOW; "slowed" while the account
    waits account_delay() after its last failure. The first two stop one address without touching the
    person signing in from another; the third slows a spray from many addresses without locking anyone out."""
    since = utcnow() - FAILURE_WINDOW
    recent = select(func.count()).select_from(LoginAttempt).where(LoginAttempt.at >= since)
    email_hash, ip_hash = _keys(vault, email, ip)
    by_pair = session.scalar(recent.where(LoginAttempt.email_hash == email_hash, LoginAttempt.ip_hash == ip_hash))
    by_ip = session.scalar(recent.where(LoginAttempt.ip_hash == ip_hash))
    if by_pair >= MAX_FAILURES or by_ip >= MAX_FAILURES * 4:
        return "throttled"
    by_email, last = session.execute(select(func.count(), func.max(LoginAttempt.at)).where(
        LoginAttempt.at >= since, LoginAttempt.email_hash == email_hash)).one()
    delay = account_delay(by_email)
    if delay and last is not None:
        if last.tzinfo is None:              # SQLite gives the stored UTC time back without its zone
            last = last.replace(tzinfo=timezone.utc)
        if (utcnow() - last).total_seconds() < delay:
            return "slowed"
    return ""


def _failed(session, vault, email: str, ip: str) -> None:
    email_hash, ip_hash = _keys(vault, email, ip)
    session.add(LoginAttempt(email_hash=email_hash, ip_hash=ip_hash))
    # "login:" + what was typed, never "user:<id>": a stranger typing "1" must not look like staff member 1
    session.add(AuditEvent(actor=f"login:{email}"[:80], action="login_failed"))


def _code_step(secret: str | None, code: str, after: int | None) -> int | None:
    """The 30-second step (one before, now, one after: a phone's clock may be a little off) whose code
    this is, if it is later than `after`, the step last used: a code works once."""
    code = (code or "").strip()
    if not secret or len(code) != 6 or not code.isascii() or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    now = int(time.time()) // totp.interval
    for step in (now - 1, now, now + 1):
        if (after is None or step > after) and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _use_step(session, user: User, step: int) -> bool:
    """Record the step as used, unless a concurrent sign-in used it (or a later one) first."""
    done = session.execute(update(User).where(
        User.id == user.id, or_(User.totp_last_step.is_(None), User.totp_last_step < step)
    ).values(totp_last_step=step).execution_options(synchronize_session="fetch"))
    return done.rowcount == 1


def authenticate(session, vault, email: str, password: str, code: str, ip: str) -> tuple[User | None, str]:
    """(user, "") on success; (user, "totp_setup") for the right password of an admin without a second
    factor, who gets no session until one is set up (confirm_totp); else (None, reason): "throttled" or
    "slowed" (see throttled), "totp" (right password, the code field left empty), or "invalid" (a wrong
    password, account or code: never which part; each counts as a failure)."""
    email = (email or "").strip().lower()
    if len(email) > 200 or not email.isprintable():    # no account has such an address; keep it out of queries
        email = "invalid"
    limit = throttled(session, vault, email, ip)
    if limit:
        return None, limit
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
        if not (code or "").strip():
            return None, "totp"
        step = _code_step(vault.decrypt(user.totp_secret_enc), code, user.totp_last_step)
        ok = step is not None and _use_step(session, user, step)
    if not ok:
        _failed(session, vault, email, ip)
        return None, "invalid"
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    if user.role == "admin" and not user.totp_secret_enc:
        return user, "totp_setup"
    signed_in(session, user)
    return user, ""


def signed_in(session, user: User) -> None:
    user.last_login_at = utcnow()
    session.add(AuditEvent(actor=f"user:{user.id}", action="login", target=f"user:{user.id}"))


def set_role(user: User, role: str) -> None:
    """A new role; an account that becomes admin without TOTP is signed out everywhere, so its next
    sign-in goes through the TOTP set-up every admin needs (its session stays no admin session)."""
    if role == "admin" and user.role != "admin" and not user.totp_secret_enc:
        user.session_epoch = (user.session_epoch or 0) + 1
    user.role = role


def session_stamp(user: User) -> str:
    """Changes when the password changes or the person signs out, so a new password or signing out
    ends every old session, also a copy of the cookie left on a shared computer."""
    return hashlib.sha256(f"{user.password_hash}:{user.session_epoch or 0}".encode()).hexdigest()[:16]


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, email: str) -> str:
    """The otpauth:// URI to put in an authenticator app."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name="Community feedback bot")


def enable_totp(session, vault, user: User) -> str:
    """A new TOTP secret (replacing any old one: the command line's way); returns the otpauth:// URI."""
    secret = new_totp_secret()
    user.totp_secret_enc = vault.encrypt(secret)
    user.totp_last_step = None
    return totp_uri(secret, user.email)


def confirm_totp(session, vault, user_id: int, stamp: str, secret: str, code: str, ip: str) -> tuple[User | None, str]:
    """The set-up step of an admin who signed in with the right password and had no second factor
    (authenticate's "totp_setup"): the first code from the app makes `secret` the account's second
    factor and signs the person in. (user, "") then; else (None, reason): "throttled"/"slowed",
    "again" (the account changed since: disabled, new password, a second factor set up elsewhere;
    sign in again), or "code" (a wrong code, counted as a failed sign-in; the set-up stays open)."""
    user = session.get(User, user_id)
    if user is None or not user.active or session_stamp(user) != stamp or user.totp_secret_enc:
        return None, "again"
    limit = throttled(session, vault, user.email, ip)
    if limit:
        return None, limit
    step = _code_step(secret, code, None)
    if step is None:
        _failed(session, vault, user.email, ip)
        return None, "code"
    done = session.execute(update(User).where(User.id == user.id, User.totp_secret_enc.is_(None)).values(
        totp_secret_enc=vault.encrypt(secret), totp_last_step=step).execution_options(synchronize_session="fetch"))
    if done.rowcount != 1:               # another browser finished a set-up first
        return None, "again"
    session.add(AuditEvent(actor=f"user:{user.id}", action="user_totp", target=f"user:{user.id}"))
    signed_in(session, user)
    return user, ""
