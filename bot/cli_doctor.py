"""`flask --app bot doctor`: is this deployment ready? One line per check, PASS / WARN / FAIL and why.

Strict where it matters only in production (APP_ENV=production, the default when
DATABASE_URL is not SQLite): generated keys and a PUBLIC_URL that is not https
fail there and only warn in development. Exits 1 when any check fails, so a
release step or a CI job can run it.
"""
import sqlite3
from urllib.parse import urlsplit

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from . import channels, db
from .channels import telegram
from .runtime import current as current_runtime

PASS, WARN, FAIL = "PASS", "WARN", "FAIL"


def check_database(runtime, config) -> tuple[str, str]:
    """Reachable, and the Alembic revision is the newest migration."""
    try:
        with runtime.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        return FAIL, f"cannot connect ({type(exc).__name__}): check DATABASE_URL"
    current, head = db.current_revision(runtime.engine), db.head_revision(config["DATABASE_URL"])
    kind = runtime.engine.dialect.name
    if current != head:
        return FAIL, f"{kind} at migration {current or 'none'}, newest is {head}: run `flask --app bot db upgrade`"
    return PASS, f"{kind} reachable, migrations at head ({head})"


def check_queue(config) -> tuple[str, str]:
    """Redis answers PING when REDIS_URL is set; otherwise the SqliteHuey file can be written."""
    if config.get("REDIS_URL"):
        import redis
        try:
            redis.Redis.from_url(config["REDIS_URL"], socket_timeout=3, socket_connect_timeout=3).ping()
        except Exception as exc:
            return FAIL, f"Redis at REDIS_URL does not answer ({type(exc).__name__})"
        return PASS, "Redis answers (RedisHuey)"
    path = config.get("HUEY_SQLITE_PATH") or ""
    try:
        conn = sqlite3.connect(path, timeout=5)
        try:
            conn.execute("BEGIN IMMEDIATE")   # takes the write lock: proves we may write, changes nothing
            conn.execute("ROLLBACK")
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return FAIL, f"cannot write the queue file {path} ({exc})"
    if config.get("APP_ENV") == "production":
        return WARN, f"SqliteHuey in {path}: web and workers must share this machine; set REDIS_URL to scale out"
    return PASS, f"SqliteHuey file writable ({path})"


def check_waiting(runtime) -> tuple[str, str]:
    """What waits: tasks in the queue (inbound messages pile up there while the database is down) and
    inbound messages kept as dead letters (a fault, not an outage: nobody has answered them)."""
    from sqlalchemy import func, select

    from .models import DeadLetter
    from .queue import waiting
    try:
        queued, scheduled = waiting()
    except Exception as exc:
        return FAIL, f"cannot read the queue ({type(exc).__name__})"
    try:
        with runtime.transaction() as session:
            dead = session.scalar(select(func.count()).select_from(DeadLetter))
    except Exception as exc:
        return FAIL, f"cannot count dead letters ({type(exc).__name__})"
    figures = f"{queued} task(s) waiting, {scheduled} scheduled"
    if dead:
        return WARN, (f"{dead} inbound message(s) failed and wait as dead letters: fix the cause (worker log), "
                      f"then `flask --app bot queue replay`; {figures}")
    return PASS, f"no dead letters; {figures}"


def check_keys(config) -> tuple[str, str]:
    """Keys from instance/keys.json sit beside the data: a copy of instance/ alone then opens every
    stored text and forges staff sessions. Fine on a laptop, never in production."""
    generated = list(config.get("KEYS_FROM_INSTANCE") or [])
    if config.get("TELEGRAM_SECRET_FROM_INSTANCE"):
        generated.append("TELEGRAM_WEBHOOK_SECRET")
    if not generated:
        return PASS, "keys come from the environment (not stored beside the data)"
    reason = (f"{', '.join(generated)} generated into instance/keys.json, beside the database: back it up apart "
              "from the data, or set them in the environment")
    if config.get("APP_ENV") == "production":
        return FAIL, reason
    return WARN, reason


def check_public_url(config) -> tuple[str, str]:
    url = config.get("PUBLIC_URL") or ""
    parts = urlsplit(url)
    strict = config.get("APP_ENV") == "production"
    if not url:
        return (FAIL if strict else WARN), "PUBLIC_URL is not set: providers cannot reach the webhooks"
    if parts.scheme != "https" or not parts.netloc:
        return (FAIL if strict else WARN), f"PUBLIC_URL {url} is not an https address"
    return PASS, f"PUBLIC_URL {url}"


def check_telegram_settings(config) -> tuple[str, str]:
    if not config.get("TELEGRAM_BOT_TOKEN"):
        return WARN, "off: TELEGRAM_BOT_TOKEN is not set"
    if not config.get("TELEGRAM_WEBHOOK_SECRET"):
        return FAIL, "TELEGRAM_WEBHOOK_SECRET is missing: the webhook refuses every post (403)"
    if config.get("TELEGRAM_SECRET_FROM_INSTANCE"):
        reason = ("TELEGRAM_WEBHOOK_SECRET is not set: using the one generated into instance/keys.json "
                  "(run `flask --app bot telegram set-webhook` after any change)")
        if config.get("APP_ENV") == "production":
            return FAIL, reason + "; set it in the environment, the same on every web machine"
        return WARN, reason
    return PASS, "token and webhook secret set"


def check_twilio_settings(config) -> list[tuple[str, str, str]]:
    sid, token = config.get("TWILIO_ACCOUNT_SID"), config.get("TWILIO_AUTH_TOKEN")
    sms_from = config.get("TWILIO_SMS_FROM") or config.get("TWILIO_MESSAGING_SERVICE_SID")
    wa_from = config.get("TWILIO_WHATSAPP_FROM")
    if not (sid or token or sms_from or wa_from):
        return [("sms", WARN, "off: Twilio is not configured"), ("whatsapp", WARN, "off: Twilio is not configured")]
    if not (sid and token):
        missing = " and ".join(n for n, v in (("TWILIO_ACCOUNT_SID", sid), ("TWILIO_AUTH_TOKEN", token)) if not v)
        return [("twilio", FAIL, f"{missing} not set: SMS and WhatsApp are off and /webhooks/twilio refuses "
                                 "every post (403: without the token no post can be verified)")]
    if not (sms_from or wa_from):
        return [("twilio", FAIL, "credentials set but no sender: set TWILIO_SMS_FROM (or "
                                 "TWILIO_MESSAGING_SERVICE_SID) and/or TWILIO_WHATSAPP_FROM")]
    return [("sms", PASS, "sender set") if sms_from else
            ("sms", WARN, "off: TWILIO_SMS_FROM / TWILIO_MESSAGING_SERVICE_SID not set"),
            ("whatsapp", PASS, f"sender {wa_from}") if wa_from else
            ("whatsapp", WARN, "off: TWILIO_WHATSAPP_FROM not set")]


def check_telegram_webhook(config) -> tuple[str, str]:
    """Ask Telegram (getWebhookInfo) where it posts updates: it must be PUBLIC_URL/webhooks/telegram."""
    expected = (config.get("PUBLIC_URL") or "").rstrip("/") + "/webhooks/telegram"
    bot = telegram.make_bot(config)

    async def go():
        async with bot:
            return await bot.get_webhook_info()
    try:
        info = telegram._run(go())
    except Exception as exc:
        return FAIL, f"getWebhookInfo failed ({type(exc).__name__}: {str(exc)[:120]})"
    if not info.url:
        return FAIL, f"no webhook set (updates would wait): run `flask --app bot telegram set-webhook` for {expected}"
    if info.url != expected:
        return FAIL, f"Telegram posts to {info.url}, expected {expected}: run `flask --app bot telegram set-webhook`"
    if info.last_error_message:
        return WARN, (f"webhook {info.url}, but Telegram's last delivery failed: {info.last_error_message} "
                      f"({info.pending_update_count} pending)")
    return PASS, f"webhook {info.url} ({info.pending_update_count} pending)"


def check_content(runtime) -> tuple[str, str]:
    """The published version, its problems, and whether this release's content/ brings changes."""
    from handlers.content import read_dir

    from . import content_versions
    content = runtime.content.get()
    version = runtime.content.version_id
    if content.problems:
        return FAIL, f"version {version}: {len(content.problems)} problem(s): run `flask --app bot content check --draft`"
    try:
        with runtime.transaction() as session:
            published = content_versions.published(session)
            draft = content_versions.draft(session)
            same = published is not None and content_versions.files_of(session, published) == read_dir(
                runtime.content.content_dir)
    except SQLAlchemyError as exc:
        return FAIL, f"the content versions cannot be read ({exc.__class__.__name__}): see the database check"
    notes = [f"version {version}, {len(content.items)} items, no problems"]
    if draft is not None:
        notes.append(f"a draft (version {draft.id}) waits: `content diff`, then publish or discard it")
    if not same:
        notes.append(f"{runtime.content.content_dir.name}/ in this release differs from it: `content import "
                     f"{runtime.content.content_dir}` and `content diff` to see, `content publish` to take it")
    return (PASS if len(notes) == 1 else WARN), "; ".join(notes)


def check_reviewed_only(runtime, config) -> tuple[str, str]:
    """REVIEWED_ONLY: people get only translations a reviewer approved (the nearest reviewed language)."""
    from handlers.i18n import LANGUAGES
    content = runtime.content.get()
    counts = {lang: sum(content.review_state(i, lang) == "reviewed" for i in content.items) for lang in LANGUAGES}
    summary = ", ".join(f"{lang} {n}/{len(content.items)}" for lang, n in counts.items())
    if config.get("REVIEWED_ONLY"):
        return PASS, f"on: answers only with reviewed text, else the nearest reviewed language ({summary} reviewed)"
    return PASS, f"off (REVIEWED_ONLY=1 to answer only with reviewed text; {summary} reviewed)"


def check_recordings(runtime, config) -> tuple[str, str]:
    """Recordings of the published content per language, and whether the channels that fetch them by link
    (WhatsApp, Messenger, Viber, the phone line) can: they need PUBLIC_URL."""
    from handlers.recordings import parse_name
    recordings = runtime.content.get().recordings
    if not recordings:
        return PASS, "none (an editor adds them on an item's page, or content/audio/)"
    counts: dict[str, list[int]] = {}
    for name, entry in recordings.items():
        lang = (parse_name(str(name)) or ("", None, "?"))[2]
        counts.setdefault(lang, [0, 0])[0] += 1
        counts[lang][1] += (entry or {}).get("state") == "reviewed"
    summary = ", ".join(f"{lang} {n} ({ok} reviewed)" for lang, (n, ok) in sorted(counts.items()))
    if not config.get("PUBLIC_URL"):
        return WARN, (f"{summary}; PUBLIC_URL is not set: only Telegram (which uploads them) can send them, "
                      "WhatsApp, Messenger, Viber and the phone line fetch them by link")
    return PASS, summary


def check_referrals(runtime) -> tuple[str, str]:
    """Sample referral contacts (content/referrals.yaml) are never shown to people: survivors then get
    no number to call. Not a failure (a deployment may start without), but said every time."""
    samples = [r.get("id") or str(r.get("name", {}).get("en", "?")) for r in runtime.content.get().referrals
               if r.get("sample")]
    if samples:
        return WARN, (f"{len(samples)} referral contact(s) still marked sample: true and not shown "
                      f"({', '.join(map(str, samples))}): verify them and set real numbers in content/referrals.yaml")
    return PASS, "referral contacts verified (none marked sample)"


def check_try_page(config) -> tuple[str, str]:
    if config.get("TRY_PAGE") and config.get("APP_ENV") == "production":
        return WARN, "/try is public: anyone can chat and open cases; set TRY_PAGE=0 unless you want that"
    return PASS, "off" if not config.get("TRY_PAGE") else "on (development)"


def run_checks(runtime, config) -> list[tuple[str, str, str]]:
    """Every check as (name, PASS|WARN|FAIL, reason), in the order they are printed."""
    results = [("database", *check_database(runtime, config)),
               ("queue", *check_queue(config)),
               ("waiting", *check_waiting(runtime)),
               ("keys", *check_keys(config)),
               ("public_url", *check_public_url(config)),
               ("telegram", *check_telegram_settings(config))]
    results += check_twilio_settings(config)
    if config.get("TELEGRAM_BOT_TOKEN"):
        results.append(("telegram_webhook", *check_telegram_webhook(config)))
    for adapter in channels.ADAPTERS.values():    # each channel's own checks (settings, its webhook)
        results += adapter.doctor(config)
    results.append(("content", *check_content(runtime)))
    results.append(("reviewed_only", *check_reviewed_only(runtime, config)))
    results.append(("recordings", *check_recordings(runtime, config)))
    results.append(("referrals", *check_referrals(runtime)))
    results.append(("try_page", *check_try_page(config)))
    return results


@click.command("doctor")
@with_appcontext
def doctor_command():
    """Check this deployment: database and migrations, queue, keys, PUBLIC_URL, providers, Telegram webhook."""
    config = current_app.config
    results = run_checks(current_runtime(), config)
    click.echo(f"environment: {config.get('APP_ENV')} (APP_ENV)")
    for name, status, reason in results:
        click.echo(f"{status}  {name:<17} {reason}")
    failed = [name for name, status, _ in results if status == FAIL]
    if failed:
        click.echo(f"{len(failed)} check(s) failed: {', '.join(failed)}")
        raise SystemExit(1)
    click.echo("all checks passed" + (" (with warnings)" if any(s == WARN for _, s, _ in results) else ""))
