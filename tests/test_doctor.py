"""`flask --app bot doctor`: an operator checks a deployment before sending people to it.

Real database, real migrations, the loopback fake of the Telegram API for
getWebhookInfo, a real Redis where one runs on this machine.
"""
import socket

import pytest
from alembic import command
from sqlalchemy import create_engine

from bot import create_app, db

from .conftest import redis_url


def run_doctor(app):
    result = app.test_cli_runner().invoke(args=["doctor"])
    lines = {}
    for line in result.output.splitlines():
        parts = line.split(None, 2)
        if len(parts) >= 2 and parts[0] in ("PASS", "WARN", "FAIL"):
            lines[parts[1]] = (parts[0], parts[2] if len(parts) > 2 else "")
    return result, lines


def build(environ, tmp_path, **changes):
    """An app as the operator's environment makes it (None removes a variable)."""
    env = {k: v for k, v in {**environ, **changes}.items() if v is not None}
    return create_app({"INSTANCE_PATH": str(tmp_path / "instance-doctor"), "ENVIRON": env, "TESTING": True})


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_fresh_deployment_fails_until_the_telegram_webhook_is_set_then_passes(app):
    result, lines = run_doctor(app)
    assert result.exit_code == 1, result.output
    assert lines["telegram_webhook"][0] == "FAIL" and "set-webhook" in lines["telegram_webhook"][1]
    for name in ("database", "keys", "public_url", "telegram", "sms", "whatsapp", "content"):
        assert lines[name][0] == "PASS", (name, result.output)
    assert "at head" in lines["database"][1]

    set_webhook = app.test_cli_runner().invoke(args=["telegram", "set-webhook"])
    assert set_webhook.exit_code == 0, set_webhook.output
    result, lines = run_doctor(app)
    assert result.exit_code == 0, result.output
    assert lines["telegram_webhook"] == ("PASS", "webhook https://bot.example.org/webhooks/telegram (0 pending)")
    assert "all checks passed" in result.output


def test_a_webhook_pointing_elsewhere_fails_and_a_failing_one_warns(app, fake):
    fake.webhook_url = "https://old-server.example.org/webhooks/telegram"
    result, lines = run_doctor(app)
    assert result.exit_code == 1
    assert lines["telegram_webhook"][0] == "FAIL" and "old-server" in lines["telegram_webhook"][1]

    fake.webhook_url = "https://bot.example.org/webhooks/telegram"
    fake.webhook_error = "Connection timed out"
    result, lines = run_doctor(app)
    assert result.exit_code == 0, result.output
    assert lines["telegram_webhook"][0] == "WARN" and "Connection timed out" in lines["telegram_webhook"][1]


def test_an_unreachable_telegram_api_fails_the_webhook_check(environ, tmp_path):
    app = build(environ, tmp_path, TELEGRAM_API_URL=f"http://127.0.0.1:{closed_port()}")
    result, lines = run_doctor(app)
    assert result.exit_code == 1
    assert lines["telegram_webhook"][0] == "FAIL" and "getWebhookInfo failed" in lines["telegram_webhook"][1]


def test_a_database_behind_its_migrations_fails(app, fake, runtime, database_url):
    fake.webhook_url = "https://bot.example.org/webhooks/telegram"
    runtime.dispose()
    command.downgrade(db.alembic_config(database_url), "-1")
    try:
        result, lines = run_doctor(app)
        assert result.exit_code == 1
        assert lines["database"][0] == "FAIL" and "db upgrade" in lines["database"][1]
    finally:
        db.upgrade(database_url)
    assert run_doctor(app)[0].exit_code == 0


def test_an_unreachable_database_fails_without_a_traceback(app, fake, runtime):
    fake.webhook_url = "https://bot.example.org/webhooks/telegram"
    healthy = runtime.engine
    runtime.engine = create_engine(f"postgresql://nobody@127.0.0.1:{closed_port()}/none")
    try:
        result, lines = run_doctor(app)
    finally:
        runtime.engine = healthy
    assert result.exit_code == 1
    assert lines["database"][0] == "FAIL" and "cannot connect" in lines["database"][1]
    assert "Traceback" not in result.output


@pytest.mark.parametrize("app_env, public_url, status", [
    ("production", "http://bot.example.org", "FAIL"),
    ("production", None, "FAIL"),
    ("production", "https://bot.example.org", "PASS"),
    ("development", "http://127.0.0.1:5000", "WARN"),
])
def test_public_url_must_be_https_in_production(environ, tmp_path, fake, app_env, public_url, status):
    fake.webhook_url = (public_url or "") + "/webhooks/telegram"
    app = build(environ, tmp_path, APP_ENV=app_env, PUBLIC_URL=public_url)
    result, lines = run_doctor(app)
    assert lines["public_url"][0] == status, result.output
    assert (result.exit_code == 1) == (status == "FAIL")


@pytest.mark.parametrize("app_env, status, exit_code", [("production", "FAIL", 1), ("development", "WARN", 0)])
def test_generated_development_keys_fail_in_production(environ, tmp_path, fake, app_env, status, exit_code):
    fake.webhook_url = "https://bot.example.org/webhooks/telegram"
    app = build(environ, tmp_path, APP_ENV=app_env, SECRET_KEY=None, DATA_KEY=None)
    assert app.config["KEYS_FROM_INSTANCE"]
    result, lines = run_doctor(app)
    assert lines["keys"][0] == status and "keys.json" in lines["keys"][1]
    assert result.exit_code == exit_code, result.output


def test_sqlite_means_development_and_anything_else_production_unless_app_env_says(environ, tmp_path):
    app = build(environ, tmp_path, APP_ENV=None)
    expected = "development" if environ["DATABASE_URL"].startswith("sqlite") else "production"
    assert app.config["APP_ENV"] == expected
    assert build(environ, tmp_path, APP_ENV="Production").config["APP_ENV"] == "production"


@pytest.mark.parametrize("app_env, status, exit_code", [("production", "FAIL", 1), ("development", "WARN", 0)])
def test_a_telegram_secret_generated_into_the_instance_folder_fails_in_production(environ, tmp_path, fake, app_env,
                                                                                  status, exit_code):
    """Without TELEGRAM_WEBHOOK_SECRET one is generated (the webhook never runs open), but several web machines
    would each make their own: production must set it."""
    fake.webhook_url = "https://bot.example.org/webhooks/telegram"
    app = build(environ, tmp_path, APP_ENV=app_env, TELEGRAM_WEBHOOK_SECRET=None)
    assert app.config["TELEGRAM_WEBHOOK_SECRET"] and app.config["TELEGRAM_SECRET_FROM_INSTANCE"]
    result, lines = run_doctor(app)
    assert lines["telegram"][0] == status and "TELEGRAM_WEBHOOK_SECRET" in lines["telegram"][1], result.output
    assert lines["keys"][0] == status and "TELEGRAM_WEBHOOK_SECRET" in lines["keys"][1]
    assert result.exit_code == exit_code, result.output


@pytest.mark.parametrize("changes, failing, reason", [
    ({"TWILIO_AUTH_TOKEN": None}, "twilio", "TWILIO_AUTH_TOKEN"),
    ({"TWILIO_SMS_FROM": None, "TWILIO_WHATSAPP_FROM": None}, "twilio", "no sender"),
])
def test_incomplete_provider_settings_fail(environ, tmp_path, fake, changes, failing, reason):
    fake.webhook_url = "https://bot.example.org/webhooks/telegram"
    result, lines = run_doctor(build(environ, tmp_path, **changes))
    assert result.exit_code == 1
    assert lines[failing][0] == "FAIL" and reason in lines[failing][1], result.output


def test_channels_left_off_only_warn_and_skip_the_webhook_check(environ, tmp_path):
    off = {name: None for name in ("TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET", "TWILIO_WHATSAPP_FROM")}
    result, lines = run_doctor(build(environ, tmp_path, **off))
    assert result.exit_code == 0, result.output
    assert lines["telegram"][0] == "WARN" and lines["whatsapp"][0] == "WARN" and lines["sms"][0] == "PASS"
    assert "telegram_webhook" not in lines


def test_queue_redis_unreachable_fails(environ, tmp_path, fake):
    fake.webhook_url = "https://bot.example.org/webhooks/telegram"
    result, lines = run_doctor(build(environ, tmp_path, REDIS_URL=f"redis://127.0.0.1:{closed_port()}/0"))
    assert result.exit_code == 1
    assert lines["queue"][0] == "FAIL" and "Redis" in lines["queue"][1]


def test_queue_redis_that_answers_passes(environ, tmp_path, fake):
    import redis
    url = redis_url(0)
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {url}")
    fake.webhook_url = "https://bot.example.org/webhooks/telegram"
    result, lines = run_doctor(build(environ, tmp_path, REDIS_URL=url))
    assert lines["queue"] == ("PASS", "Redis answers (RedisHuey)"), result.output


def test_queue_file_that_cannot_be_written_fails(app, fake, tmp_path):
    fake.webhook_url = "https://bot.example.org/webhooks/telegram"
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the queue's folder should be")
    app.config["HUEY_SQLITE_PATH"] = str(blocker / "queue.sqlite3")
    result, lines = run_doctor(app)
    assert result.exit_code == 1
    assert lines["queue"][0] == "FAIL" and "cannot write the queue file" in lines["queue"][1]
