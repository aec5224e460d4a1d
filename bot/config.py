"""Configuration, read once from the environment; missing secrets are generated into instance/ on first run.

Every variable is listed in README.md. Provider settings that are missing switch
that channel off with a log line; they never stop the app.
"""
import json
import logging
import os
import secrets
from base64 import urlsafe_b64encode
from collections.abc import Mapping
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DEV_KEY_FILE = "keys.json"
ENV_VARS = (
    "DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DATA_KEY", "PUBLIC_URL",
    "TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET", "TELEGRAM_API_URL",
    "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_SMS_FROM", "TWILIO_MESSAGING_SERVICE_SID",
    "TWILIO_WHATSAPP_FROM", "TWILIO_WHATSAPP_TEMPLATE_SID", "TWILIO_API_URL",
    "MESSAGE_RETENTION_DAYS", "CASE_RETENTION_DAYS", "RESPONSE_DAYS", "SENSITIVE_RESPONSE_HOURS",
    "HUEY_IMMEDIATE", "LOG_FORMAT", "METRICS_TOKEN", "TRY_PAGE", "APP_ENV", "BENCH_COUNT_SQL",
    "TWILIO_WHATSAPP_BROADCAST_TEMPLATE_SID", "BROADCAST_APPROVAL", "EMBEDDED_WORKER", "TIMEZONE",
    "INBOUND_MODE", "SMS_FOLD_LATIN", "CONTENT_CHECK_SECONDS", "REVIEWED_ONLY",
    "MESSENGER_PAGE_ACCESS_TOKEN", "MESSENGER_APP_SECRET", "MESSENGER_VERIFY_TOKEN", "MESSENGER_API_URL",
    "MESSENGER_BROADCAST_TAG", "MESSENGER_ANSWER_TAG", "VIBER_AUTH_TOKEN", "VIBER_API_URL", "VIBER_SENDER_NAME",
    "TWILIO_VOICE", "TWILIO_VOICE_ARABIC", "TWILIO_VOICE_ARABIC_LANGUAGE", "TWILIO_VOICE_RECORD_SECONDS",
    "PHONE_PROMPTS_DIR",
)
INT_VARS = {"MESSAGE_RETENTION_DAYS": 90, "CASE_RETENTION_DAYS": 365, "RESPONSE_DAYS": 7,
            "SENSITIVE_RESPONSE_HOURS": 24, "BROADCAST_THREADS": 16,
            "BROADCAST_LEASE_SECONDS": 30, "TRUSTED_PROXIES": 0,
            "TRY_RATE": 10, "TRY_RETENTION_HOURS": 24, "INTAKE_RETRY_MAX_SECONDS": 60,
            "WAITING_RESCUE_SECONDS": 600, "RECORDING_LINK_SECONDS": 3600, "POLL_MIN_CELL": 5}
FLOAT_VARS = {"TELEGRAM_RATE": 25.0, "TWILIO_SMS_RATE": 10.0, "TWILIO_WHATSAPP_RATE": 20.0, "MESSENGER_RATE": 10.0,
              "VIBER_RATE": 10.0}


def _new_keys() -> dict:
    # The Telegram secret: 1-256 of A-Z a-z 0-9 _ - (Bot API setWebhook), which token_urlsafe gives.
    return {"SECRET_KEY": secrets.token_urlsafe(32),
            "DATA_KEY": urlsafe_b64encode(secrets.token_bytes(32)).decode(),
            "TELEGRAM_WEBHOOK_SECRET": secrets.token_urlsafe(32)}


def _instance_keys(instance: Path) -> dict:
    """Keys for the embedded default: made once, kept in instance/keys.json (mode 600).

    A file from before a key existed gets the missing one added (written whole, then renamed over it)."""
    path = instance / DEV_KEY_FILE
    if path.exists():
        keys = json.loads(path.read_text())
        if any(name not in keys for name in _new_keys()):
            keys = _add_missing_keys(instance, path)
        _tighten(path)
        return keys
    keys = _new_keys()
    # Written whole under another name, then linked into place: of several processes starting together
    # (gunicorn's workers), one wins and the others read its keys, never a half-written file.
    draft = instance / f".{DEV_KEY_FILE}.{os.getpid()}"
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(keys, fh)
    try:
        os.link(draft, path)
    except FileExistsError:
        return json.loads(path.read_text())
    finally:
        os.unlink(draft)
    log.warning("generated new keys in %s: keep this file, or set SECRET_KEY and DATA_KEY", path)
    return keys


def _add_missing_keys(instance: Path, path: Path) -> dict:
    """A keys.json from before a key existed gets it, under a lock: gunicorn's workers start together, and
    each must end up with the same new key (a Telegram secret that differs between workers refuses posts)."""
    import fcntl
    with open(instance / f".{DEV_KEY_FILE}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        keys = json.loads(path.read_text())          # read again under the lock: another worker may have added it
        missing = {name: value for name, value in _new_keys().items() if name not in keys}
        if missing:
            keys = {**missing, **keys}
            draft = instance / f".{DEV_KEY_FILE}.{os.getpid()}"
            fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                json.dump(keys, fh)
            os.replace(draft, path)
        return keys


def _tighten(path: Path) -> None:
    """keys.json opens everything stored (DATA_KEY) and forges staff sessions (SECRET_KEY): owner only."""
    try:
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)
            log.warning("%s was readable by others: now mode 600", path)
    except OSError:
        pass


def _zone(name: str | None) -> str:
    """The office's time zone for the dashboard (times are stored in UTC); a wrong name is said, not fatal."""
    from zoneinfo import ZoneInfo
    try:
        ZoneInfo(name or DEFAULT_TIMEZONE)
        return name or DEFAULT_TIMEZONE
    except (ValueError, KeyError, OSError):
        log.warning("TIMEZONE %r is not a time zone name (like Asia/Baghdad): using %s", name, DEFAULT_TIMEZONE)
        return DEFAULT_TIMEZONE


DEFAULT_TIMEZONE = "Asia/Baghdad"


def load(instance_path: str, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The settings as a plain dict for app.config."""
    env = os.environ if environ is None else environ
    instance = Path(instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    config: dict[str, Any] = {name: env.get(name) or None for name in ENV_VARS}
    config["INSTANCE_DIR"] = str(instance)
    for name, default in INT_VARS.items():
        try:
            config[name] = int(env.get(name) or "") if env.get(name) else default
        except ValueError:
            log.error("%s must be a whole number; using %s", name, default)
            config[name] = default
    for name, rate in FLOAT_VARS.items():
        try:
            config[name] = float(env.get(name) or rate)
            if config[name] <= 0:
                raise ValueError
        except ValueError:
            log.error("%s must be a positive number of messages per second; using %s", name, rate)
            config[name] = rate
    if not config["DATABASE_URL"]:
        config["DATABASE_URL"] = f"sqlite:///{instance / 'bot.sqlite3'}"
    elif config["DATABASE_URL"].startswith("postgres://"):  # what some platforms still hand out
        config["DATABASE_URL"] = "postgresql://" + config["DATABASE_URL"][len("postgres://"):]
    # A key not set in the environment comes from instance/keys.json (made on first start). The Telegram
    # secret too: a webhook that anyone can post to must never run, so there is always one (DESIGN: safe by default).
    generated_names = [name for name in ("SECRET_KEY", "DATA_KEY") if not config[name]]
    if config["TELEGRAM_BOT_TOKEN"] and not config["TELEGRAM_WEBHOOK_SECRET"]:
        generated_names.append("TELEGRAM_WEBHOOK_SECRET")
    config["KEYS_FROM_INSTANCE"] = [name for name in generated_names if name != "TELEGRAM_WEBHOOK_SECRET"]
    config["TELEGRAM_SECRET_FROM_INSTANCE"] = "TELEGRAM_WEBHOOK_SECRET" in generated_names
    if generated_names:
        generated = _instance_keys(instance)
        for name in generated_names:
            config[name] = generated[name]
    # production or development: `doctor` is strict in production; SQLite (the embedded default) means development.
    config["APP_ENV"] = (config["APP_ENV"] or (
        "development" if config["DATABASE_URL"].startswith("sqlite") else "production")).lower()
    config["BENCH_COUNT_SQL"] = config["BENCH_COUNT_SQL"] == "1"
    config["AUTO_MIGRATE"] = env.get("AUTO_MIGRATE", "1" if config["DATABASE_URL"].startswith("sqlite") else "0") == "1"
    # /try opens cases from anyone on the internet: on in the embedded default, off in production unless asked for.
    config["TRY_PAGE"] = (config["TRY_PAGE"] or ("1" if config["APP_ENV"] == "development" else "0")) == "1"
    config["TIMEZONE"] = _zone(config["TIMEZONE"])
    config["HUEY_IMMEDIATE"] = (config["HUEY_IMMEDIATE"] or "0") == "1"
    config["SMS_FOLD_LATIN"] = (config["SMS_FOLD_LATIN"] or "0") == "1"
    config["REVIEWED_ONLY"] = (config["REVIEWED_ONLY"] or "0") == "1"   # answer only with reviewed translations
    config["BROADCAST_APPROVAL"] = "none" if (config["BROADCAST_APPROVAL"] or "").lower() == "none" else "required"
    config["EMBEDDED_WORKER"] = (config["EMBEDDED_WORKER"] or ("0" if config["REDIS_URL"] else "1")) == "1" \
        and not config["HUEY_IMMEDIATE"]
    config["HUEY_SQLITE_PATH"] = str(instance / "queue.sqlite3")
    mode = (config["INBOUND_MODE"] or "inline").lower()
    if mode not in ("inline", "queue"):
        log.error("INBOUND_MODE must be inline or queue, not %r: using inline", mode)
        mode = "inline"
    config["INBOUND_MODE"] = mode
    return config


def channels_enabled(config: dict) -> dict[str, bool]:
    """Which providers are configured (each adapter says, bot/channels/); a missing one is off."""
    from .channels import enabled
    return enabled(config)
