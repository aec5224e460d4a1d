"""Safe by default: a channel that cannot authenticate its webhooks does not run, /try is not open to the world
in production, and keys kept beside the data are said and locked down.

Every request here is one an attacker could send; each test failed before its fix."""
import json
import os
import stat

import pytest
from sqlalchemy import func, select

from bot import create_app
from bot.models import Case, Contact, Message

from .conftest import Telegram, Twilio, csrf_token


def build(environ, tmp_path, name="instance-safe", **changes):
    env = {k: v for k, v in {**environ, **changes}.items() if v is not None}
    return create_app({"INSTANCE_PATH": str(tmp_path / name), "ENVIRON": env, "TESTING": True})


def rows(app, model) -> int:
    with app.extensions["bot"].transaction() as session:
        return session.scalar(select(func.count()).select_from(model))


# ---- 1. Telegram without TELEGRAM_WEBHOOK_SECRET ---------------------------------------------------------
@pytest.fixture
def open_telegram(environ, tmp_path):
    """The operator set the bot token and nothing else (the old default: no secret)."""
    app = build(environ, tmp_path, TELEGRAM_WEBHOOK_SECRET=None)
    yield app
    app.extensions["bot"].dispose()


def test_a_secret_is_generated_into_the_keys_and_posts_without_it_are_refused(open_telegram, tmp_path):
    secret = open_telegram.config["TELEGRAM_WEBHOOK_SECRET"]
    keys = tmp_path / "instance-safe" / "keys.json"
    assert secret and json.loads(keys.read_text())["TELEGRAM_WEBHOOK_SECRET"] == secret
    assert stat.S_IMODE(keys.stat().st_mode) == 0o600
    telegram = Telegram(open_telegram.test_client())
    for given in (None, "", "guess", secret + "x"):
        response = telegram.post(telegram.update("status", chat_id=777001), secret=given)
        assert response.status_code == 403, given
        assert "X-Telegram-Bot-Api-Secret-Token" in response.get_json()["error"]
    assert rows(open_telegram, Message) == 0 and rows(open_telegram, Contact) == 0
    assert telegram.post(telegram.update("مرحبا", chat_id=777001), secret=secret).status_code == 200


def test_a_forged_status_request_reads_nobodys_case(open_telegram):
    """The attack from the report: a victim's chat id and "status" got the victim's case in the response."""
    telegram = Telegram(open_telegram.test_client())
    secret = open_telegram.config["TELEGRAM_WEBHOOK_SECRET"]
    victim = 555123
    for text in ("مرحبا", "7", "المسؤول في المخيم يطلب مني فلوس مقابل السلة الغذائية"):
        assert telegram.post(telegram.update(text, chat_id=victim), secret=secret).status_code == 200
    forged = telegram.post(telegram.update("status", chat_id=victim), secret=None)
    assert forged.status_code == 403
    assert "method" not in forged.get_json() and "text" not in json.dumps(forged.get_json())


def test_forged_update_ids_do_not_make_the_real_update_a_duplicate(open_telegram, fake):
    """Dedupe runs only after the secret is checked: forged future ids are refused, not remembered."""
    telegram = Telegram(open_telegram.test_client())
    secret = open_telegram.config["TELEGRAM_WEBHOOK_SECRET"]
    real = telegram.update("مرحبا", chat_id=424200)
    forged = dict(real, message={**real["message"], "text": "stop"})
    assert telegram.post(forged, secret=None).status_code == 403
    answer = telegram.post(real, secret=secret)
    assert answer.status_code == 200 and answer.get_json()["method"] == "sendMessage"
    assert rows(open_telegram, Message) == 1


def test_set_webhook_registers_the_generated_secret(open_telegram, fake):
    result = open_telegram.test_cli_runner().invoke(args=["telegram", "set-webhook"])
    assert result.exit_code == 0, result.output
    call = next(c for c in fake.calls if c.get("method") == "setWebhook")
    assert call["params"]["secret_token"] == open_telegram.config["TELEGRAM_WEBHOOK_SECRET"]


def test_telegram_without_a_token_refuses_every_post(environ, tmp_path):
    app = build(environ, tmp_path, TELEGRAM_BOT_TOKEN=None, TELEGRAM_WEBHOOK_SECRET=None)
    telegram = Telegram(app.test_client())
    response = telegram.post(telegram.update("مرحبا"), secret="")
    assert response.status_code == 403 and "TELEGRAM_BOT_TOKEN" in response.get_json()["error"]
    app.extensions["bot"].dispose()


# ---- 2. Twilio without TWILIO_AUTH_TOKEN -----------------------------------------------------------------
def test_twilio_without_an_auth_token_refuses_unsigned_posts(environ, tmp_path):
    app = build(environ, tmp_path, TWILIO_AUTH_TOKEN=None)
    client = app.test_client()
    twilio = Twilio(client)
    for text in ("مرحبا", "status", "الموظف يطلب فلوس"):
        response = client.post("/webhooks/twilio", data=twilio.form(text, "+9647701112233"))
        assert response.status_code == 403 and "TWILIO_AUTH_TOKEN" in response.get_json()["error"]
    status = client.post("/webhooks/twilio/status", data={"MessageSid": "SM" + "1" * 32, "MessageStatus": "failed"})
    assert status.status_code == 403
    assert rows(app, Message) == 0 and rows(app, Case) == 0
    assert not app.extensions["bot"].channels["sms"]
    app.extensions["bot"].dispose()


def test_a_signed_message_for_the_twilio_channel_switched_off_here_is_refused(environ, tmp_path):
    """SMS and WhatsApp share the number's URL: with WhatsApp's sender unset, a correctly signed WhatsApp
    post is refused (403, the reason), nothing is stored, and SMS goes on; with no account SID at all,
    every Twilio channel is off, delivery callbacks included."""
    app = build(environ, tmp_path, TWILIO_WHATSAPP_FROM=None)
    twilio = Twilio(app.test_client())
    refused = twilio.post(twilio.form("مرحبا", "whatsapp:+9647701112233"))
    assert refused.status_code == 403 and "whatsapp is off" in refused.get_json()["error"]
    assert rows(app, Message) == 0 and rows(app, Contact) == 0
    assert twilio.say("مرحبا", "+9647701112233")                    # SMS, on: answered
    app.extensions["bot"].dispose()
    app = build(environ, tmp_path, name="no-sid", TWILIO_ACCOUNT_SID=None)
    before = rows(app, Message)                                    # the same database: SMS's message above
    twilio = Twilio(app.test_client())
    assert twilio.post(twilio.form("مرحبا", "+9647701112244")).status_code == 403
    callback = {"MessageSid": "SM" + "1" * 32, "MessageStatus": "failed"}
    assert twilio.post(callback, path="/webhooks/twilio/status").status_code == 403
    assert rows(app, Message) == before
    app.extensions["bot"].dispose()


# ---- 8. /try -------------------------------------------------------------------------------------------
def test_the_try_page_is_off_in_production_unless_asked_for(environ, tmp_path):
    app = build(environ, tmp_path, TRY_PAGE=None, APP_ENV="production")
    assert app.test_client().get("/try").status_code == 404
    assert app.test_client().post("/try", data={"text": "hello"}).status_code in (403, 404)
    app.extensions["bot"].dispose()
    dev = build(environ, tmp_path, name="instance-dev", TRY_PAGE=None, APP_ENV="development")
    assert dev.test_client().get("/try").status_code == 200
    dev.extensions["bot"].dispose()


def test_the_try_page_is_rate_limited_per_client_address(environ, tmp_path):
    app = build(environ, tmp_path, TRY_RATE="5")
    client = app.test_client()
    token = csrf_token(client, "/try")
    answers = [client.post("/try", data={"text": f"complaint {n}", "csrf_token": token},
                           environ_base={"REMOTE_ADDR": "198.51.100.7"}).status_code for n in range(8)]
    assert answers[:5] == [302] * 5 and answers[5:] == [429] * 3
    assert rows(app, Message) == 5
    other = app.test_client()              # another address is not held back by the first one
    reply = other.post("/try", data={"text": "hello", "csrf_token": csrf_token(other, "/try")},
                       environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert reply.status_code == 302
    app.extensions["bot"].dispose()


def _try(client, text):
    response = client.post("/try", data={"text": text, "csrf_token": csrf_token(client, "/try")})
    assert response.status_code == 302


def test_try_out_cases_stay_out_of_the_inbox_reports_and_exports_and_are_purged(app, client, runtime):
    from bot import retention, users
    from bot.models import utcnow
    for text in ("مرحبا", "شكوى", "التوزيع تأخر ثلاثة أسابيع ولم يخبرنا أحد"):
        _try(client, text)
    with runtime.transaction() as session:
        case = session.execute(select(Case)).scalar_one()
        assert case.channel == "web"
        code = case.code
        users.create(session, "officer@example.org", "Officer", "a-long-password-1", "officer")
    staff = app.test_client()
    page = staff.post("/dashboard/login", data={"email": "officer@example.org", "password": "a-long-password-1",
                                                 "csrf_token": csrf_token(staff, "/dashboard/login")})
    assert page.status_code == 302
    assert code not in staff.get("/dashboard/cases").get_data(as_text=True)
    assert code in staff.get("/dashboard/cases?channel=web").get_data(as_text=True)     # asked for: shown
    assert staff.get(f"/dashboard/cases/{code}").status_code == 200
    assert code not in staff.get("/dashboard/export.csv").get_data(as_text=True)
    listing = app.test_cli_runner().invoke(args=["feedback", "list"])
    assert code not in listing.output
    assert retention.purge(runtime)["try-out conversations"] == 0            # too fresh
    later = utcnow() + __import__("datetime").timedelta(hours=25)
    assert retention.purge(runtime, now=later)["try-out conversations"] == 1
    assert rows(app, Case) == 0 and rows(app, Message) == 0 and rows(app, Contact) == 0


# ---- 12. keys beside the data ---------------------------------------------------------------------------
def test_a_keys_file_readable_by_others_is_locked_down_and_doctor_says_where_keys_come_from(environ, tmp_path):
    app = build(environ, tmp_path, SECRET_KEY=None, DATA_KEY=None, APP_ENV="development")
    app.extensions["bot"].dispose()
    keys = tmp_path / "instance-safe" / "keys.json"
    os.chmod(keys, 0o644)
    again = build(environ, tmp_path, SECRET_KEY=None, DATA_KEY=None, APP_ENV="development")
    assert stat.S_IMODE(keys.stat().st_mode) == 0o600
    result = again.test_cli_runner().invoke(args=["doctor"])
    line = next(text for text in result.output.splitlines() if " keys " in text)
    assert line.startswith("WARN") and "SECRET_KEY, DATA_KEY" in line and "back it up apart" in line
    again.extensions["bot"].dispose()


def test_an_old_keys_file_gets_the_telegram_secret_once_whoever_starts_first(environ, tmp_path):
    """A keys.json from before the Telegram secret: several processes starting together add one secret."""
    import json
    import multiprocessing
    instance = tmp_path / "old-instance"
    instance.mkdir()
    (instance / "keys.json").write_text(json.dumps({"SECRET_KEY": "s" * 43, "DATA_KEY": environ["DATA_KEY"]}))
    with multiprocessing.get_context("fork").Pool(4) as pool:
        secrets = pool.map(_secret_of, [str(instance)] * 8)
    assert len(set(secrets)) == 1 and secrets[0]
    assert json.loads((instance / "keys.json").read_text())["TELEGRAM_WEBHOOK_SECRET"] == secrets[0]


def _secret_of(instance: str) -> str:
    from bot import config
    return config.load(instance, {"TELEGRAM_BOT_TOKEN": "1:x"})["TELEGRAM_WEBHOOK_SECRET"]
