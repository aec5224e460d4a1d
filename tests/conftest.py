"""Fixtures: an app on a real database (SQLite always; PostgreSQL too where it runs, and always in CI),
loopback fakes of the providers, and helpers that post real payloads through the real entry points."""
import json
import os
import re
import shutil
from pathlib import Path

os.environ.setdefault("HUEY_IMMEDIATE", "1")  # tasks run in-process, unless a test starts a real consumer
# argon2id at its smallest cost (bot/users.py): the suite hashes a password for nearly every staff test, and
# 0.1-0.3 s a hash at full cost was minutes of the run; what the tests prove does not depend on the cost.
os.environ.setdefault("PASSWORD_HASH_COST", "test")

import pytest
import yaml
from jinja2 import BytecodeCache
from sqlalchemy import create_engine, make_url, text
from twilio.request_validator import RequestValidator

from bot import create_app, db
from bot.models import Base

from .fakes import FakeProviders

PAYLOADS = Path(__file__).parent / "payloads"

# ---- one run, or several processes of one run (pytest-xdist, `-n 2`): each its own databases --------------
# PYTEST_XDIST_WORKER is gw0, gw1, ... in a worker, unset otherwise. A worker gets its own PostgreSQL database
# (TEST_DATABASE_URL's name + _gw0, created on demand) and its own three Redis databases (below); pytest's
# tmp_path is per worker already, and every server a test starts binds a free port.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
WORKER_INDEX = int(WORKER[2:]) if WORKER[2:].isdigit() else 0
BASE_PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _worker_database(url: str) -> str:
    if not WORKER:
        return url
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{WORKER}").render_as_string(hide_password=False)


PG_URL = _worker_database(BASE_PG_URL)
# Redis databases the production-shape tests empty: REDIS_DB, +1, +2 (another run on this machine: TEST_REDIS_DB;
# another Redis server: TEST_REDIS_URL, without a database number). Worker N of a parallel run takes the three
# below worker N-1's: with the default 13, gw0 has 13-15 and gw1 10-12, within the 16 a stock Redis has.
REDIS_SERVER = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")
REDIS_DB = int(os.environ.get("TEST_REDIS_DB", "13")) - 3 * WORKER_INDEX
if REDIS_DB < 0:
    raise RuntimeError(f"worker {WORKER} has no Redis databases left below TEST_REDIS_DB: raise it or run fewer workers")


def redis_url(offset: int) -> str:
    """The URL of this run's (this worker's) Redis database REDIS_DB + offset (offset 0, 1 or 2)."""
    assert offset in (0, 1, 2), "the suite owns three Redis databases"
    return f"{REDIS_SERVER}/{REDIS_DB + offset}"


DATA_KEY = "dGVzdC1kYXRhLWtleS10ZXN0LWRhdGEta2V5LXRlc3Q="
SECRET = "s3cret-telegram"
TWILIO_TOKEN = "twilio-auth-token-for-tests"
PUBLIC_URL = "https://bot.example.org"


def _postgres_available() -> bool:
    try:
        engine = create_engine(BASE_PG_URL)     # a worker's own database may not exist yet: postgres_ready makes it
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


def _reuse_url_builders() -> None:
    """Werkzeug compiles two small Python functions for each URL rule of each app it builds (an AST, then
    compile(): half of the 0.13 s CPU an app takes to build here, and the suite builds an app per test). Each
    function is a pure product of the rule's text, parsed parts, defaults and converters, so it is compiled
    once per process under that key and handed to every later rule with the same key: the very function
    werkzeug would compile again. Routing and URL building are werkzeug's own code all the same."""
    from werkzeug.routing.rules import Rule
    compile_builder = Rule._compile_builder
    built: dict = {}

    def _compile_builder(self, append_unknown: bool = True):
        key = (self.rule, append_unknown, tuple(self._trace),
               tuple(sorted((str(k), repr(v)) for k, v in (self.defaults or {}).items())),
               tuple(sorted((name, type(c), getattr(c, "regex", None)) for name, c in self._converters.items())))
        if key not in built:
            built[key] = compile_builder(self, append_unknown)
        return built[key]

    Rule._compile_builder = _compile_builder


_reuse_url_builders()


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: starts real processes (gunicorn, the queue worker, a browser), "
                            "repeats a test on PostgreSQL, or waits on the clock; `-m 'not slow'` leaves it out")


# Fixtures that start real processes: a test using one is slow (`pytest -m "not slow"` leaves it out).
PROCESS_FIXTURES = {"production", "deployment", "worker_env", "browser", "gunicorn_port"}


def pytest_collection_modifyitems(config, items):
    """The fast subset is every in-process test once, on SQLite: the PostgreSQL run of a test that takes both
    backends is slow (CI runs it; the full suite locally too, where PostgreSQL answers)."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        params = getattr(getattr(item, "callspec", None), "params", {})
        if PROCESS_FIXTURES & fixtures or str(params.get("database_url", "sqlite")).startswith("postgresql"):
            item.add_marker(pytest.mark.slow)
        if "browser" in fixtures:      # one Chromium at a time: on one xdist worker (--dist loadgroup)
            item.add_marker(pytest.mark.xdist_group("browser"))


def pytest_report_header(config):
    return f"database backends: {', '.join(_backends())}"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A migrated SQLite database holding the seed, made by the code a first start runs (db.upgrade, then
    content_versions.seed): each test's copy starts as a deployment's second start does, without seeding
    the content again (a third of building an app). The first start itself is what each PostgreSQL test
    meets (its database is emptied), and test_content_versions checks what it seeds."""
    from sqlalchemy.orm import Session

    from bot import content_versions
    from handlers.content import CONTENT_DIR
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    db.upgrade(f"sqlite:///{path}")
    engine = create_engine(f"sqlite:///{path}")
    with Session(engine) as session, session.begin():
        content_versions.seed(session, CONTENT_DIR)
    engine.dispose()
    return path


def _own_database(url: str) -> None:
    """Create this worker's database when it is missing (from the maintenance connection of TEST_DATABASE_URL),
    and let its commits return before the WAL reaches the disk: a crash of the test server could lose the last
    commits of a run, nothing else changes (locks, isolation and what other connections see are the same)."""
    name = make_url(url).database
    admin = create_engine(BASE_PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if url != BASE_PG_URL and not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                                      {"name": name}):
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    finally:
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_ready():
    _own_database(PG_URL)
    engine = create_engine(PG_URL)
    with engine.begin() as conn:      # whatever an earlier run (of any branch) left: every table, then migrate
        tables = conn.scalars(text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")).all()
        if tables:
            conn.execute(text("DROP TABLE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE"))
    engine.dispose()
    db.upgrade(PG_URL)
    engine = create_engine(PG_URL)
    with engine.connect() as conn:
        sequences = conn.scalars(text("SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()"))
        # DELETE, children first, and the id sequences back to 1: what TRUNCATE ... RESTART IDENTITY leaves,
        # in a tenth of its time on tables this small (TRUNCATE makes new files for each table, every test)
        empty = "; ".join([f'DELETE FROM "{t.name}"' for t in reversed(Base.metadata.sorted_tables)]
                          + [f'ALTER SEQUENCE "{name}" RESTART' for name in sequences])
    yield PostgresDatabase(PG_URL, engine, empty)
    engine.dispose()


class PostgresDatabase:
    def __init__(self, url: str, engine, empty_statement: str):
        self.url, self.engine, self.empty_statement = url, engine, empty_statement

    def empty(self) -> None:
        """Every table empty, as a fresh migrated database (the app seeds the content at its start)."""
        with self.engine.begin() as conn:
            conn.exec_driver_sql(self.empty_statement)


@pytest.fixture(params=_backends())
def database_url(request, tmp_path, sqlite_template):
    if request.param == "postgresql-missing":
        pytest.fail(f"PostgreSQL is required in CI and is not reachable at {PG_URL}")
    if request.param == "postgresql":
        database = request.getfixturevalue("postgres_ready")
        database.empty()
        return database.url
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


class _CompiledTemplates(BytecodeCache):
    """Jinja's compiled templates kept for the whole run: the suite builds an app per test, and each app's
    Jinja environment would compile every page it renders again (a fifth of a dashboard test's time). Jinja
    checks each entry against its template's source, so an edited template is compiled anew."""

    def __init__(self) -> None:
        self.code: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        if bucket.key in self.code:
            bucket.bytecode_from_string(self.code[bucket.key])

    def dump_bytecode(self, bucket) -> None:
        self.code[bucket.key] = bucket.bytecode_to_string()


COMPILED_TEMPLATES = _CompiledTemplates()


@pytest.fixture
def app(environ, tmp_path):
    application = create_app({"INSTANCE_PATH": str(tmp_path / "instance"), "ENVIRON": environ, "TESTING": True})
    application.jinja_env.bytecode_cache = COMPILED_TEMPLATES
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
