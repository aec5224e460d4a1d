"""Fixtures: an app on a real database (SQLite always; PostgreSQL too where it runs, and always in CI),
loopback fakes of the providers, and helpers that post real payloads through the real entry points."""
import json
import os
import re
import shutil
from pathlib import Path

os.environ.setdefault("HUEY_IMMEDIATE", "1")  # tasks run in-process, unless a test starts a real consumer

import pytest
import yaml
from sqlalchemy import create_engine, text
from twilio.request_validator import RequestValidator

from bot import create_app, db
from bot.models import Base

from .fakes import FakeProviders

PAYLOADS = Path(__file__).parent / "payloads"
PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
# Redis databases the production-shape tests empty: REDIS_DB, +1, +2 (another run on this machine: TEST_REDIS_DB)
REDIS_DB = int(os.environ.get("TEST_REDIS_DB", "13"))
DATA_KEY = "dGVzdC1kYXRhLWtleS10ZXN0LWRhdGEta2V5LXRlc3Q="
SECRET = "s3cret-telegram"
TWILIO_TOKEN = "twilio-auth-token-for-tests"
PUBLIC_URL = "https://bot.example.org"


def _postgres_available() -> bool:
    try:
        engine = create_engine(PG_URL)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


def _backends() -> list[str]:
    if _postgres_available():
        return ["sqlite", "postgresql"]
    if os.environ.get("CI") == "true":
        return ["sqlite", "postgresql-missing"]  # fails loudly below: CI must test on PostgreSQL
    return ["sqlite"]


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: starts real processes (gunicorn, the queue worker, a browser)")


# Fixtures that start real processes: a test using one is slow (`pytest -m "not slow"` leaves it out).
PROCESS_FIXTURES = {"production", "deployment", "worker_env", "browser", "gunicorn_port"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if PROCESS_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


def pytest_report_header(config):
    return f"database backends: {', '.join(_backends())}"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    db.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_ready():
    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        Base.metadata.drop_all(conn)
    engine.dispose()
    db.upgrade(PG_URL)
    return PG_URL


def _truncate(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=_backends())
def database_url(request, tmp_path, sqlite_template):
    if request.param == "postgresql-missing":
        pytest.fail(f"PostgreSQL is required in CI and is not reachable at {PG_URL}")
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_ready")
        _truncate(url)
        return url
    path = tmp_path / "bot.sqlite3"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def fake():
    providers = FakeProviders().start()
    yield providers
    providers.stop()


@pytest.fixture
def environ(database_url, fake, tmp_path):
    """The environment a deployment would set: every provider configured, pointed at the loopback fake."""
    return {
        "DATABASE_URL": database_url, "DATA_KEY": DATA_KEY, "SECRET_KEY": "test-secret",
        "PUBLIC_URL": PUBLIC_URL,
        "TELEGRAM_BOT_TOKEN": "123456:TEST-token", "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "TELEGRAM_API_URL": fake.url,
        "TWILIO_ACCOUNT_SID": "AC00000000000000000000000000000000", "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "TWILIO_SMS_FROM": "+9647000000000", "TWILIO_WHATSAPP_FROM": "whatsapp:+14155238886",
        "TWILIO_API_URL": fake.url, "AUTO_MIGRATE": "1",
        "TRY_PAGE": "1",        # off by default in production (PostgreSQL); the suite tries it on both
    }


@pytest.fixture
def app(environ, tmp_path):
    application = create_app({"INSTANCE_PATH": str(tmp_path / "instance"), "ENVIRON": environ, "TESTING": True})
    yield application
    application.extensions["bot"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runtime(app):
    return app.extensions["bot"]


def payload(channel: str, name: str) -> dict:
    return json.loads((PAYLOADS / channel / f"{name}.json").read_text(encoding="utf-8"))


class Telegram:
    """Posts real Telegram update JSON to the webhook, as Telegram does."""

    def __init__(self, client):
        self.client = client
        self.next_id = 200000000

    def update(self, text: str, chat_id: int = 555000111, language_code: str | None = "ar", **extra) -> dict:
        self.next_id += 1
        body = payload("telegram", "text")
        body["update_id"] = self.next_id
        message = body["message"]
        message["text"] = text
        message["chat"]["id"] = message["from"]["id"] = chat_id
        if language_code is None:
            message["from"].pop("language_code", None)
        else:
            message["from"]["language_code"] = language_code
        message.update(extra)
        return body

    def post(self, body, secret: str | None = SECRET, content_type="application/json"):
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        data = body if isinstance(body, (str, bytes)) else json.dumps(body, ensure_ascii=False)
        return self.client.post("/webhooks/telegram", data=data, headers=headers, content_type=content_type)

    def say(self, text: str, chat_id: int = 555000111, language_code: str | None = "ar") -> dict:
        response = self.post(self.update(text, chat_id, language_code))
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()


class Twilio:
    """Posts Twilio form posts signed with twilio's own RequestValidator, as Twilio does."""

    def __init__(self, client):
        self.client = client
        self.n = 0

    def form(self, text: str, sender: str, **extra) -> dict:
        self.n += 1
        base = payload("twilio", "whatsapp" if sender.startswith("whatsapp:") else "sms")
        sid = f"SM{self.n:032d}"
        base.update({"Body": text, "From": sender, "MessageSid": sid, "SmsMessageSid": sid, "SmsSid": sid})
        base.update(extra)
        return base

    def post(self, form: dict, path="/webhooks/twilio", token=TWILIO_TOKEN, signature=None):
        url = PUBLIC_URL + path
        sig = signature if signature is not None else RequestValidator(token).compute_signature(url, form)
        return self.client.post(path, data=form, headers={"X-Twilio-Signature": sig})

    def say(self, text: str, sender: str = "+9647501234567") -> list[str]:
        response = self.post(self.form(text, sender))
        assert response.status_code == 200, response.get_data(as_text=True)
        return twiml_bodies(response.get_data(as_text=True))


def twiml_bodies(xml: str) -> list[str]:
    from xml.etree import ElementTree
    root = ElementTree.fromstring(xml)
    return [(m.findtext("Body") if m.find("Body") is not None else (m.text or "")) for m in root.iter("Message")]


@pytest.fixture
def telegram(client):
    return Telegram(client)


@pytest.fixture
def twilio(client):
    return Twilio(client)


def csrf_token(client, url: str) -> str:
    """The token a page's form carries, as a browser would send it back."""
    page = client.get(url).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, f"no CSRF token in {url}"
    return found.group(1)


def totp_code(runtime, email: str) -> str:
    """A second-factor code the account has not used yet, from its stored secret, as the person's phone
    would show it ("" for an account without one). A code works once: when this 30-second step is used
    up, the next one is taken, and when that is used too, this waits for the clock, as a person would."""
    import time

    import pyotp
    from sqlalchemy import select

    from bot.models import User
    with runtime.transaction() as db:
        user = db.execute(select(User).where(User.email == email.strip().lower())).scalar_one_or_none()
        if user is None or not user.totp_secret_enc:
            return ""
        secret, last = runtime.vault.decrypt(user.totp_secret_enc), user.totp_last_step
    totp = pyotp.TOTP(secret)
    while True:
        now = int(time.time()) // totp.interval
        for step in (now, now + 1):       # not now - 1: the clock may pass a step before the server checks
            if last is None or step > last:
                return totp.generate_otp(step)
        time.sleep(totp.interval - time.time() % totp.interval + 0.05)


@pytest.fixture
def content_copy(tmp_path) -> Path:
    """A copy of content/ to break on purpose."""
    from handlers.content import CONTENT_DIR
    target = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, target)
    return target


def edit_yaml(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def content_check(app, content_dir: Path):
    """`flask --app bot content check` on another content folder, as an editor would run it."""
    app.extensions["bot"].content.content_dir = content_dir
    return app.test_cli_runner().invoke(args=["content", "check"])
