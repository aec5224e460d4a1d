"""INBOUND_MODE=queue: the webhook acknowledges at once and the queue worker answers through the provider's API.

In-process (HUEY_IMMEDIATE, the suite's default) for the dialogue's side; a real gunicorn and a real Huey
consumer for the production shape (SqliteHuey, and RedisHuey where Redis runs, always in CI)."""
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from bot import create_app
from bot.models import Case, Contact, Message, Outbound

from .conftest import PUBLIC_URL, REDIS_SERVER, SECRET, TWILIO_TOKEN, Telegram, Twilio, payload, redis_url
from .test_queue import _queue_backends

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def queued_app(environ, tmp_path):
    application = create_app({"INSTANCE_PATH": str(tmp_path / "instance"), "TESTING": True,
                              "ENVIRON": {**environ, "INBOUND_MODE": "queue"}})
    yield application
    application.extensions["bot"].dispose()


@pytest.fixture
def qtelegram(queued_app):
    return Telegram(queued_app.test_client())


@pytest.fixture
def qtwilio(queued_app):
    return Twilio(queued_app.test_client())


def count(app, model) -> int:
    with app.extensions["bot"].transaction() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_telegram_is_acknowledged_at_once_and_answered_through_the_api(qtelegram, queued_app, fake):
    response = qtelegram.post(qtelegram.update("مرحبا", chat_id=424242))
    assert response.status_code == 200
    assert response.get_json() == {"ok": True}            # no method in the response: the answer goes by API
    sent = fake.sent("telegram")
    assert len(sent) == 1 and str(sent[0]["params"]["chat_id"]) == "424242"
    assert "keyboard" in json.loads(sent[0]["params"]["reply_markup"])     # the menu's buttons
    with queued_app.extensions["bot"].transaction() as session:
        row = session.execute(select(Outbound)).scalar_one()
        assert (row.status, row.purpose, row.channel) == ("sent", "reply", "telegram")
    # the conversation goes on as inline: a menu choice, then a topic list
    qtelegram.post(qtelegram.update("١", chat_id=424242))
    qtelegram.post(qtelegram.update("١", chat_id=424242))
    texts = [s["params"]["text"] for s in fake.sent("telegram")]
    assert len(texts) == 3 and texts[1] != texts[2]
    assert count(queued_app, Message) == 3


def test_sms_is_acknowledged_with_empty_twiml_and_answered_by_the_messages_api(qtwilio, queued_app, fake):
    response = qtwilio.post(qtwilio.form("هلو", "+9647701112233"))
    assert response.status_code == 200
    assert response.get_data(as_text=True).endswith("<Response />")
    sent = fake.sent("twilio")
    assert len(sent) == 1 and sent[0]["params"]["To"] == "+9647701112233"
    assert sent[0]["params"]["From"] == "+9647000000000" and sent[0]["params"]["Body"]


def test_a_complaint_in_queue_mode_gets_its_reference_code(qtwilio, queued_app, fake):
    sender = "whatsapp:+9647701112244"
    for text in ("مرحبا", "١", "شكوى", "الماي مقطوع بالمخيم من ثلاث ايام"):
        assert qtwilio.post(qtwilio.form(text, sender)).status_code == 200
    bodies = [s["params"]["Body"] for s in fake.sent("twilio")]
    assert len(bodies) == 4
    assert re.search(r"[\d٠-٩]{3} [\d٠-٩]{4}", bodies[-1]), bodies[-1]
    assert count(queued_app, Case) == 1


def test_a_repeated_delivery_is_answered_once(qtelegram, queued_app, fake):
    update = qtelegram.update("hello", chat_id=777001, language_code="en")
    for _ in range(3):
        assert qtelegram.post(update).status_code == 200
    assert len(fake.sent("telegram")) == 1
    assert count(queued_app, Message) == 1 and count(queued_app, Outbound) == 1


def test_erasure_is_confirmed_although_the_address_is_gone(qtelegram, queued_app, fake):
    chat = 777002
    qtelegram.post(qtelegram.update("hello", chat_id=chat, language_code="en"))
    qtelegram.post(qtelegram.update("1", chat_id=chat, language_code="en"))     # English
    qtelegram.post(qtelegram.update("delete my data", chat_id=chat, language_code="en"))
    asked = fake.sent("telegram")[-1]["params"]["text"]
    assert "delete" in asked.lower()
    qtelegram.post(qtelegram.update("yes", chat_id=chat, language_code="en"))
    last = fake.sent("telegram")[-1]["params"]
    assert str(last["chat_id"]) == str(chat) and last["text"] != asked
    assert count(queued_app, Contact) == 0


def test_an_erasure_confirmation_the_provider_refused_is_tried_again(qtelegram, queued_app, fake):
    """The address lives only in the sealed task: a 5xx from Telegram schedules a retry, which sends it."""
    from bot.queue import huey
    huey.flush()                      # the in-process queue's schedule outlives each test
    chat = 777003
    for text in ("hello", "1", "delete my data"):
        qtelegram.post(qtelegram.update(text, chat_id=chat, language_code="en"))
    sent_before = len(fake.sent("telegram"))
    fake.fail_next("telegram", 502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}, to=str(chat))
    qtelegram.post(qtelegram.update("yes", chat_id=chat, language_code="en"))
    assert len(fake.sent("telegram")) == sent_before and count(queued_app, Contact) == 0
    retries = [t for t in huey.scheduled() if t.name.endswith("erasure_notice_task")]
    assert len(retries) == 1 and str(chat) not in repr(retries[0].args)      # sealed: no chat id readable
    huey.execute(retries[0], timestamp=retries[0].eta)                        # as the consumer would, 30 s later
    huey.flush()
    last = fake.sent("telegram")[-1]["params"]
    assert len(fake.sent("telegram")) == sent_before + 1 and str(last["chat_id"]) == str(chat)


def _count_statements(runtime):
    """Every statement sent to the database plus each transaction's BEGIN, as bench/inbound.py counts
    them (BENCH_COUNT_SQL): the autocommit engine sends no BEGIN."""
    from sqlalchemy import event
    counted = []
    for engine, begins in ((runtime.engine, True), (runtime.statement_engine, False)):
        event.listen(engine, "before_cursor_execute", lambda *args: counted.append(args[2].split()[0]))
        if begins:
            event.listen(engine, "begin", lambda conn: counted.append("BEGIN"))
    return counted


def test_the_worker_stores_answers_and_records_a_message_in_at_most_eight_statements(qtwilio, queued_app, fake):
    """The issue's budget (bench/inbound.py measures it under load): the turn's transaction, the reply's
    row, then one UPDATE to claim it and one to record that it went."""
    runtime = queued_app.extensions["bot"]
    sender = "+9647701119900"
    qtwilio.post(qtwilio.form("مرحبا", sender))                     # a new person: created on the way
    counted = _count_statements(runtime)
    for text in ("١", "شنو اعراض الكوليرا"):
        del counted[:]
        assert qtwilio.post(qtwilio.form(text, sender)).status_code == 200
        assert len(counted) <= 8, counted
        assert counted.count("UPDATE") >= 2          # the claim and the outcome
    assert len(fake.sent("twilio")) == 3
    with runtime.transaction() as session:
        assert [r.status for r in session.execute(select(Outbound)).scalars()] == ["sent"] * 3


def test_a_reply_the_provider_refused_is_sent_again_later(qtelegram, queued_app, fake):
    """The task that wrote the reply sends it; a 5xx leaves the row queued with a retry scheduled."""
    from bot.queue import huey
    huey.flush()
    chat = 777004
    fake.fail_next("telegram", 502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}, to=str(chat))
    assert qtelegram.post(qtelegram.update("hello", chat_id=chat, language_code="en")).status_code == 200
    assert fake.sent("telegram") == []
    with queued_app.extensions["bot"].transaction() as session:
        row = session.execute(select(Outbound)).scalar_one()
        assert (row.status, row.attempts, row.failure_reason is not None) == ("queued", 1, True)
    retries = [t for t in huey.scheduled() if t.name.endswith("send_outbound_task")]
    assert len(retries) == 1 and retries[0].args == (row.id,)
    huey.execute(retries[0], timestamp=retries[0].eta)
    huey.flush()
    assert [str(s["params"]["chat_id"]) for s in fake.sent("telegram")] == [str(chat)]
    with queued_app.extensions["bot"].transaction() as session:
        assert session.execute(select(Outbound.status)).scalar_one() == "sent"


def test_nothing_readable_is_put_on_the_queue(queued_app):
    from bot import intake
    from handlers.types import Incoming, Media
    runtime = queued_app.extensions["bot"]
    incoming = Incoming("sms", "+9647709998877", "my daughter has diarrhoea", "SM" + "1" * 32,
                        media=[Media("https://api.twilio.com/m/1", "image/jpeg")], language_hint="ar")
    sealed = intake.seal(runtime, incoming)
    assert "+9647709998877" not in sealed and "diarrhoea" not in sealed
    assert intake.unseal(runtime, sealed) == incoming


# ---- production shape: gunicorn acknowledging, a separate Huey consumer answering ---------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Production:
    """The web and worker processes of one test; the worker can be stopped and started again."""

    def __init__(self, port: int, env: dict, logs: Path):
        self.port, self.env, self.processes, self.logs = port, env, {}, logs

    def start_worker(self) -> None:
        with open(self.logs / "worker.log", "a") as log:
            self.processes["worker"] = subprocess.Popen(
                [sys.executable, "-m", "huey.bin.huey_consumer", "bot.queue.huey", "-w", "4", "-k", "thread"],
                cwd=ROOT, env=self.env, start_new_session=True, stdout=log, stderr=subprocess.STDOUT)

    def worker_log(self) -> str:
        return (self.logs / "worker.log").read_text(errors="replace")[-3000:]

    def stop(self, name: str) -> None:
        """SIGTERM, as a platform sends on a deploy or restart, then wait for the process to end."""
        process = self.processes[name]
        try:
            os.killpg(process.pid, 15)
        except ProcessLookupError:
            pass
        process.wait(timeout=30)


@pytest.fixture(params=_queue_backends())
def production(request, environ, tmp_path):
    """Procfile-like: gunicorn (2 workers) in queue mode, and a Huey consumer."""
    if request.param == "redis-missing":
        pytest.fail(f"Redis is required in CI and is not reachable at {REDIS_SERVER}")
    env = {k: v for k, v in os.environ.items() if k != "HUEY_IMMEDIATE"}
    env.update(environ)
    env.update({"INSTANCE_PATH": str(tmp_path / "prod-instance"), "HUEY_IMMEDIATE": "0", "INBOUND_MODE": "queue",
                "PYTHONPATH": str(ROOT), "EMBEDDED_WORKER": "0"})
    if request.param == "redis":
        import redis
        redis.Redis.from_url(redis_url(1)).flushdb()
        env["REDIS_URL"] = redis_url(1)
    port = _free_port()
    production = Production(port, env, tmp_path)
    production.processes["web"] = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "bot:create_app()", "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--threads", "4"], cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    production.start_worker()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if _post(port, "/healthz", b"", {}, method="GET")[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("gunicorn did not start")
        yield production
    finally:
        for name in production.processes:
            production.stop(name)


def _post(port, path, body, headers, method="POST"):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8")
    finally:
        conn.close()


def _twilio(port, sender, text, sid):
    form = {**payload("twilio", "sms"), "Body": text, "From": sender, "MessageSid": sid, "SmsMessageSid": sid,
            "SmsSid": sid}
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(PUBLIC_URL + "/webhooks/twilio", form)
    return _post(port, "/webhooks/twilio", urlencode(form).encode(),
                 {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature})


def _telegram(port, chat, text, update_id):
    update = payload("telegram", "text")
    update["update_id"] = update_id
    update["message"]["text"] = text
    update["message"]["chat"]["id"] = update["message"]["from"]["id"] = chat
    return _post(port, "/webhooks/telegram", json.dumps(update, ensure_ascii=False).encode(),
                 {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET})


def test_gunicorn_acknowledges_and_a_separate_consumer_answers_each_message_once(production, fake, runtime):
    people = 12
    for n in range(people):
        for step, text in enumerate(("مرحبا", "١")):
            sid = f"SM{n:016d}{step:016d}"
            for _ in range(2):                                   # every post delivered twice
                status, body = _twilio(production.port, f"+96477000{n:05d}", text, sid)
                assert status == 200 and "<Message>" not in body
            status, body = _telegram(production.port, 880000 + n, text, 900000 + n * 10 + step)
            assert status == 200 and json.loads(body) == {"ok": True}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(fake.sent()) < people * 4:
        time.sleep(0.2)
    time.sleep(1)                       # anything sent twice would come now
    sms = [s["params"]["To"] for s in fake.sent("twilio")]
    chats = [str(s["params"]["chat_id"]) for s in fake.sent("telegram")]
    assert sorted(sms) == sorted([f"+96477000{n:05d}" for n in range(people)] * 2)
    assert sorted(chats) == sorted([str(880000 + n) for n in range(people)] * 2)
    with runtime.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == people * 4
        assert session.scalar(select(func.count()).select_from(Contact)) == people * 2


def _wait_for(condition, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_a_message_being_handled_when_the_worker_is_stopped_is_handled_after_the_restart(production, fake,
                                                                                        runtime):
    """A deploy stops the consumer with SIGTERM. The provider had its 200 long ago and the sealed task is
    the message's only copy: a task cut off mid-turn goes back on the queue, the next consumer runs it."""
    sender = "+9647700099001"
    assert _twilio(production.port, sender, "مرحبا", "SM" + "7" * 32)[0] == 200
    assert _wait_for(lambda: len(fake.sent("twilio")) == 1)
    with runtime.engine.connect() as conn:       # the person's row held: the next turn waits inside its transaction
        # (SQLite: the engine's BEGIN IMMEDIATE takes the one write lock; PostgreSQL: the row's lock)
        conn.exec_driver_sql("SELECT id FROM contacts" + ("" if conn.dialect.name == "sqlite" else " FOR UPDATE"))
        assert _twilio(production.port, sender, "١", "SM" + "8" * 32)[0] == 200
        if conn.dialect.name == "sqlite":
            time.sleep(2)                        # the consumer has taken the task and waits for the lock
        else:                                    # until the consumer's turn waits for the lock
            assert _wait_for(lambda: _waiting_for_a_lock(runtime), 30), production.worker_log()
        production.stop("worker")
        conn.rollback()
    assert count_messages(runtime) == 1          # the second turn never finished
    production.start_worker()
    assert _wait_for(lambda: count_messages(runtime) == 2 and len(fake.sent("twilio")) == 2), production.worker_log()
    time.sleep(1)                                # a second answer would come now
    assert [s["params"]["To"] for s in fake.sent("twilio")] == [sender, sender]


def _waiting_for_a_lock(runtime) -> bool:
    with runtime.engine.connect() as conn:
        return bool(conn.exec_driver_sql("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                         "AND datname = current_database()").scalar())


def count_messages(runtime) -> int:
    with runtime.transaction() as session:
        return session.scalar(select(func.count()).select_from(Message))


@pytest.mark.slow       # starts a process of its own
def test_the_webhook_answers_503_when_the_queue_is_down(environ, tmp_path):
    """Redis not reachable: the provider is told to deliver again, nothing is lost or half-stored."""
    env = {k: v for k, v in os.environ.items() if k != "HUEY_IMMEDIATE"}
    env.update(environ)
    env.update({"INSTANCE_PATH": str(tmp_path / "down-instance"), "HUEY_IMMEDIATE": "0", "INBOUND_MODE": "queue",
                "REDIS_URL": f"redis://127.0.0.1:{_free_port()}/0", "EMBEDDED_WORKER": "0", "PYTHONPATH": str(ROOT)})
    script = """
import json, sys
from tests.conftest import Telegram, Twilio
from bot import create_app
app = create_app()
client = app.test_client()
t = Telegram(client).post(Telegram(client).update("hello", chat_id=1234))
w = Twilio(client).post(Twilio(client).form("hello", "+9647701234000"))
print(json.dumps([t.status_code, t.headers.get("Retry-After"), w.status_code, w.get_data(as_text=True)]))
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    telegram_status, retry_after, twilio_status, body = json.loads(done.stdout.strip().splitlines()[-1])
    assert (telegram_status, retry_after, twilio_status) == (503, "5", 503)
    assert "retry" in body
