"""Many deliveries at the same moment, through a real threaded HTTP server on loopback.

Providers retry and fan out: the same Twilio MessageSid or Telegram update_id can
arrive on several web threads at once, and one person can send several messages
faster than we answer. Each scenario releases its threads together (a Barrier)
and checks the database afterwards: handled once, one contact, a state that still
decodes, and a conversation that goes on.
"""
import http.client
import json
import threading
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator
from werkzeug.serving import make_server

from bot.inbound import load_state
from bot.models import Contact, Message

from .conftest import PUBLIC_URL, SECRET, TWILIO_TOKEN, Telegram, Twilio, twiml_bodies
from .fakes import serve_in_thread

THREADS = 8


@pytest.fixture
def server(app):
    """The app behind werkzeug's threaded server on a free loopback port, as gunicorn threads would run it."""
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    serve_in_thread(httpd)
    yield httpd.server_port
    httpd.shutdown()
    httpd.server_close()


def _post(port: int, path: str, body: bytes, headers: dict) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8")
    finally:
        conn.close()


def twilio_request(form: dict) -> tuple[str, bytes, dict]:
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(PUBLIC_URL + "/webhooks/twilio", form)
    return "/webhooks/twilio", urlencode(form).encode(), {
        "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}


def telegram_request(update: dict) -> tuple[str, bytes, dict]:
    return "/webhooks/telegram", json.dumps(update, ensure_ascii=False).encode(), {
        "Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET}


def all_at_once(port: int, requests: list[tuple[str, bytes, dict]]) -> list[tuple[int, str]]:
    """Send every request from its own thread, released together; results in request order."""
    barrier = threading.Barrier(len(requests))
    results: list = [None] * len(requests)

    def run(i, request):
        barrier.wait(timeout=30)
        try:
            results[i] = _post(port, *request)
        except Exception as exc:  # a dropped connection is a failure the test reports, not a crash
            results[i] = (0, repr(exc))

    threads = [threading.Thread(target=run, args=(i, r)) for i, r in enumerate(requests)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def test_one_twilio_message_delivered_on_eight_threads_at_once_is_handled_once(server, runtime):
    form = Twilio(None).form("مرحبا", "+9647501110001")
    results = all_at_once(server, [twilio_request(form)] * THREADS)

    assert [status for status, _ in results] == [200] * THREADS, results
    bodies = {body for _, body in results}
    assert len(bodies) == 1, "every delivery must get the same TwiML"
    assert twiml_bodies(bodies.pop())  # and it says something
    with runtime.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 1
        assert session.scalar(select(func.count()).select_from(Contact)) == 1


def test_one_telegram_update_delivered_on_eight_threads_at_once_is_handled_once(server, runtime):
    update = Telegram(None).update("سڵاو", chat_id=77001, language_code="ckb")
    results = all_at_once(server, [telegram_request(update)] * THREADS)

    assert [status for status, _ in results] == [200] * THREADS, results
    answers = [json.loads(body) for _, body in results]
    assert all(a == answers[0] for a in answers)
    assert answers[0]["method"] == "sendMessage" and answers[0]["chat_id"] == 77001
    with runtime.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 1
        assert session.scalar(select(func.count()).select_from(Contact)) == 1


def test_two_first_messages_from_a_new_number_at_once_make_one_contact(server, runtime):
    twilio = Twilio(None)
    requests = [twilio_request(twilio.form("مرحبا", "+9647501110002")),
                twilio_request(twilio.form("الكوليرا", "+9647501110002"))]
    results = all_at_once(server, requests)

    assert [status for status, _ in results] == [200, 200], results
    assert all(twiml_bodies(body) for _, body in results)
    with runtime.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Contact)) == 1
        assert session.scalar(select(func.count()).select_from(Message)) == 2
        contact_ids = set(session.scalars(select(Message.contact_id)))
    assert len(contact_ids) == 1 and None not in contact_ids


def test_many_first_messages_from_many_new_people_at_once(server, runtime):
    """Different people at the same moment: nobody waits for anybody's lock, nobody is lost."""
    telegram = Telegram(None)
    greetings = ["مرحبا", "سڵاو", "silav", "slav", "hello", "مرحبا", "سڵاو", "silav"]
    requests = [telegram_request(telegram.update(text, chat_id=78000 + i, language_code=None))
                for i, text in enumerate(greetings)]
    results = all_at_once(server, requests)

    assert [status for status, _ in results] == [200] * len(greetings), results
    assert [json.loads(body)["chat_id"] for _, body in results] == [78000 + i for i in range(len(greetings))]
    with runtime.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Contact)) == len(greetings)


@pytest.mark.parametrize("channel", ["sms", "telegram"])
def test_ten_menu_choices_at_once_never_break_the_conversation(server, runtime, channel):
    twilio, telegram = Twilio(None), Telegram(None)
    if channel == "sms":
        def request(text):
            return twilio_request(twilio.form(text, "+9647501110003"))
    else:
        def request(text):
            return telegram_request(telegram.update(text, chat_id=77003, language_code="ar"))

    status, _ = _post(server, *request("مرحبا"))
    assert status == 200
    choices = ["1", "2", "3", "4", "٢", "0", "١", "5", "9", "٠"]
    results = all_at_once(server, [request(choice) for choice in choices])
    assert [status for status, _ in results] == [200] * len(choices), results

    with runtime.transaction() as session:
        contact = session.execute(select(Contact)).scalar_one()
        state = load_state(runtime, contact)       # still decodes: no half-written or lost state
        assert state.language == "ar"
        assert session.scalar(select(func.count()).select_from(Message)) == 1 + len(choices)
        assert session.scalar(select(func.count()).select_from(Message).where(
            Message.replies_enc.is_(None))) == 0    # every message got its replies stored
    if contact.state_enc:
        assert runtime.vault.decrypt(contact.state_enc) is not None

    status, body = _post(server, *request("0"))  # back to the menu, from wherever the race left us
    assert status == 200
    if channel == "sms":
        text = "\n".join(twiml_bodies(body))
        assert "١." in text
    else:
        answer = json.loads(body)
        buttons = [row[0]["text"] for row in answer["reply_markup"]["keyboard"]]
        assert buttons[0].startswith("١. ")


# ---- from processes, into several gunicorn worker processes, as production runs ----------------------

def _fire(args):
    """One client process: wait for the common start time, then post."""
    import time as _time
    port, path, body, headers, start = args
    _time.sleep(max(0.0, start - _time.time()))
    return _post(port, path, body, headers)


@pytest.fixture
def gunicorn_port(environ, tmp_path):
    import os
    import socket
    import subprocess
    import sys
    import time as _time
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**{k: v for k, v in os.environ.items() if k != "HUEY_IMMEDIATE"}, **environ,
           "INSTANCE_PATH": str(tmp_path / "gunicorn-instance"), "HUEY_IMMEDIATE": "1", "PYTHONPATH": str(root)}
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "bot:create_app()", "--bind", f"127.0.0.1:{port}",
                                "--workers", "3", "--threads", "2", "--timeout", "60"], cwd=root, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = _time.monotonic() + 60
    while _time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                break
        except OSError:
            _time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("gunicorn did not start")
    yield port
    os.killpg(process.pid, 15)
    process.wait(timeout=30)


def test_the_same_message_sid_from_several_processes_into_several_workers_is_handled_once(
        gunicorn_port, runtime, app):
    import multiprocessing
    import time as _time

    from .conftest import payload
    form = payload("twilio", "sms")
    form.update({"Body": "مرحبا", "From": "+9647509990001", "MessageSid": "SM" + "7" * 32,
                 "SmsMessageSid": "SM" + "7" * 32, "SmsSid": "SM" + "7" * 32})
    path, body, headers = twilio_request(form)
    start = _time.time() + 3.0          # all six client processes are up by then
    with multiprocessing.get_context("spawn").Pool(6) as pool:
        results = pool.map(_fire, [(gunicorn_port, path, body, headers, start)] * 6)
    statuses = {status for status, _ in results}
    assert statuses <= {200, 503}, results          # 503 (retry later) is allowed under lock contention
    answered = [twiml_bodies(text) for status, text in results if status == 200]
    assert answered and all(a == answered[0] for a in answered)     # every answer the same
    with runtime.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 1
        assert session.scalar(select(func.count()).select_from(Contact)) == 1


@pytest.mark.slow
def test_the_procfile_web_line_starts_on_a_fresh_embedded_instance(tmp_path):
    """Four gunicorn workers booting together on a new instance/: one creates the keys and the SQLite
    schema, the others wait and use them (before, two raced: 'table already exists', master gone)."""
    import json
    import os
    import socket
    import sqlite3
    import subprocess
    import sys
    import time as _time
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    instance = tmp_path / "fresh-instance"
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "DATA_KEY", "SECRET_KEY", "REDIS_URL", "HUEY_IMMEDIATE")}
    env.update({"INSTANCE_PATH": str(instance), "PYTHONPATH": str(root), "EMBEDDED_WORKER": "0"})
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "bot:create_app()", "-c", "python:bot.gunicorn_conf",
                                "--bind", f"127.0.0.1:{port}", "--workers", "4", "--threads", "2", "--timeout", "60"],
                               cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    try:
        deadline = _time.monotonic() + 60
        status = None
        while _time.monotonic() < deadline and status != 200:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/readyz")
                status = conn.getresponse().status
            except OSError:
                _time.sleep(0.3)
        assert status == 200
        _time.sleep(2)
        assert process.poll() is None, "the gunicorn master exited: a worker failed to boot"
        keys = json.loads((instance / "keys.json").read_text())
        assert set(keys) == {"SECRET_KEY", "DATA_KEY", "TELEGRAM_WEBHOOK_SECRET"}
        with sqlite3.connect(instance / "bot.sqlite3") as db:
            current = db.execute("SELECT version_num FROM alembic_version").fetchone()[0]
        from bot.db import head_revision
        assert current == head_revision(f"sqlite:///{instance / 'bot.sqlite3'}")
    finally:
        os.killpg(process.pid, 15)
        process.wait(timeout=30)
