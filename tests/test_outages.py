"""An outage never loses a message the webhook acknowledged.

Production shape: gunicorn and a separate Huey consumer in their own processes. PostgreSQL is taken away
by a loopback TCP proxy between them and the server (stopped: connections refused, as when the server is
down or restarting); SQLite by holding its write lock. Then: every message acknowledged during the outage
is stored and answered once when the database comes back, in queue mode (the worker waits as long as the
outage lasts, no try limit) and in inline mode (the webhook queues the message instead of a 503, which
Twilio would not deliver again)."""
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from urllib.parse import urlencode
from xml.etree import ElementTree

import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from bot import intake
from bot.models import Case, DeadLetter, Message
from handlers import codes
from handlers.text import to_ascii_digits

from .conftest import PUBLIC_URL, REDIS_SERVER, TWILIO_TOKEN, payload, redis_url
from .test_intake import ROOT, Production, _free_port, _post, _telegram, _twilio, _wait_for


class TcpProxy:
    """127.0.0.1:<port> -> the database server; down() refuses new connections and cuts the open ones."""

    def __init__(self, target: tuple[str, int]):
        self.target, self.port = target, _free_port()
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        self.listener = None
        self.up()

    def up(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def down(self) -> None:
        try:
            self.listener.shutdown(socket.SHUT_RDWR)     # wakes the accept() below (close alone does not)
        except OSError:
            pass
        self.listener.close()
        with self.lock:
            for sock in self.sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
            self.sockets.clear()

    def _accept(self, listener) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source, sink) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class Outage:
    """Takes the test's database away from the web and worker processes, and gives it back."""

    def __init__(self, runtime, proxy: TcpProxy | None):
        self.runtime, self.proxy, self.conn = runtime, proxy, None

    def start(self) -> None:
        if self.proxy:
            self.proxy.down()
        else:                                    # SQLite: the one write lock, held
            self.conn = self.runtime.engine.connect()
            self.conn.exec_driver_sql("SELECT 1")     # the engine's BEGIN IMMEDIATE has taken the lock

    def end(self) -> None:
        if self.proxy:
            self.proxy.up()
        else:
            self.conn.rollback()
            self.conn.close()


def _environment(environ, tmp_path, mode: str):
    env = {k: v for k, v in os.environ.items() if k != "HUEY_IMMEDIATE"}
    env.update(environ)
    env.update({"INSTANCE_PATH": str(tmp_path / "outage-instance"), "HUEY_IMMEDIATE": "0", "INBOUND_MODE": mode,
                "PYTHONPATH": str(ROOT), "EMBEDDED_WORKER": "0", "INTAKE_RETRY_MAX_SECONDS": "0.5",
                "METRICS_TOKEN": "metrics-token", "TWILIO_VOICE": "1"})
    proxy = None
    if environ["DATABASE_URL"].startswith("postgresql"):
        url = environ["DATABASE_URL"]
        host, port = re.search(r"@([^:/]+):(\d+)/", url).groups()
        proxy = TcpProxy((host, int(port)))
        env["DATABASE_URL"] = url.replace(f"@{host}:{port}/", f"@127.0.0.1:{proxy.port}/")
        import redis
        try:
            redis.Redis.from_url(redis_url(0)).flushdb()
            env["REDIS_URL"] = redis_url(0)     # PostgreSQL + Redis: the production shape
        except redis.ConnectionError:
            if os.environ.get("CI") == "true":
                pytest.fail(f"Redis is required in CI and is not reachable at {REDIS_SERVER}")
    return env, proxy


@pytest.fixture(params=["queue", "inline"])
def deployment(request, environ, tmp_path, runtime):
    env, proxy = _environment(environ, tmp_path, request.param)
    port = _free_port()
    production = Production(port, env, tmp_path)
    production.processes["web"] = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "bot:create_app()", "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--threads", "4", "--timeout", "60"], cwd=ROOT, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    production.start_worker()
    production.mode = request.param
    production.outage = Outage(runtime, proxy)
    try:
        assert _wait_for(lambda: _healthy(port), 60), "gunicorn did not start"
        yield production
    finally:
        for name in production.processes:
            production.stop(name)
        if proxy:
            proxy.down()


def _healthy(port) -> bool:
    try:
        return _post(port, "/healthz", b"", {}, method="GET")[0] == 200
    except OSError:
        return False


def _metrics(port) -> dict:
    status, body = _post(port, "/metrics", b"", {"Authorization": "Bearer metrics-token"}, method="GET")
    assert status == 200, body
    return {line.split()[0]: float(line.split()[1]) for line in body.splitlines()
            if line and not line.startswith("#") and len(line.split()) == 2}


def _count(runtime) -> int:
    with runtime.transaction() as session:
        return session.scalar(select(func.count()).select_from(Message))


def test_every_message_acknowledged_during_a_database_outage_is_answered_once_after_it(deployment, fake,
                                                                                     runtime):
    postgres = deployment.outage.proxy is not None
    people = 4 if postgres else 2        # SQLite: each post waits out the 10 s lock before it is queued
    deployment.outage.start()
    acknowledged = []
    try:
        for n in range(people):
            status, body = _twilio(deployment.port, f"+96477100{n:05d}", "مرحبا", f"SM{n:032d}")
            assert status == 200 and "<Message>" not in body, (status, body)
            acknowledged.append(("sms", n))
            status, body = _telegram(deployment.port, 990000 + n, "مرحبا", 700000 + n)
            assert status == 200 and json.loads(body) == {"ok": True}, (status, body)
            acknowledged.append(("telegram", n))
        if postgres:
            # Longer than the old window (Huey's 8 retries): the worker keeps trying, and says so.
            assert _wait_for(lambda: deployment.worker_log().count("waiting for the database") >= 12, 60), \
                deployment.worker_log()
            figures = _metrics(deployment.port)
            assert figures["bot_database_up"] == 0
            assert figures["bot_queue_tasks_waiting"] + figures["bot_queue_tasks_scheduled"] >= 1
        else:
            time.sleep(3)
        assert fake.sent() == []
    finally:
        deployment.outage.end()
    assert _wait_for(lambda: _count(runtime) == len(acknowledged) and len(fake.sent()) == len(acknowledged), 120), \
        (_count(runtime), len(fake.sent()), deployment.worker_log())
    time.sleep(1.5)                       # an answer sent twice would come now
    assert sorted(s["params"]["To"] for s in fake.sent("twilio")) == [f"+96477100{n:05d}" for n in range(people)]
    assert sorted(int(s["params"]["chat_id"]) for s in fake.sent("telegram")) == [990000 + n for n in range(people)]
    assert _count(runtime) == len(acknowledged)
    with runtime.transaction() as session:
        assert session.scalar(select(func.count()).select_from(DeadLetter)) == 0


@pytest.mark.parametrize("deployment", ["inline"], indirect=True)      # queue mode queues every message anyway
def test_after_an_outage_a_persons_next_message_waits_behind_the_ones_queued_during_it(deployment, fake, runtime):
    """Inline mode: messages acknowledged during an outage wait in the queue. The same person's next message,
    answered at once, would overtake them (a menu choice answered before the greeting it follows): it is
    queued behind them instead, while another person's is answered inline as usual; the worker then handles
    the person's three in the order they were written."""
    sender, other = "+9647710000777", "+96477100008"
    deployment.stop("worker")               # what was queued stays queued until the worker is back
    deployment.outage.start()
    try:
        for n, text in enumerate(("مرحبا", "١")):
            status, body = _twilio(deployment.port, sender, text, f"SM{n:032d}")
            assert status == 200 and "<Message>" not in body, (status, body)
    finally:
        deployment.outage.end()
    status, body = _twilio(deployment.port, sender, "١", f"SM{2:032d}")
    assert status == 200 and "<Message>" not in body, body           # behind the two, not answered now
    # others: answered inline as ever, once the web's pooled connections (cut by the outage) are new (one
    # whose first try met a stale connection is queued, and their next would wait behind it: a new person each)
    inline = iter(_twilio(deployment.port, f"{other}{n:02d}", "مرحبا", f"SM{n:032d}")[1] for n in range(3, 100))
    assert _wait_for(lambda: "<Message>" in next(inline), 30)
    deployment.start_worker()
    assert _wait_for(lambda: sum(s["params"]["To"] == sender for s in fake.sent("twilio")) == 3, 120), \
        deployment.worker_log()
    with runtime.transaction() as session:
        handled = session.scalars(select(Message.provider_id).where(
            Message.provider_id.in_([f"SM{n:032d}" for n in range(3)])).order_by(Message.id)).all()
    assert handled == [f"SM{n:032d}" for n in range(3)]


def _recorded(port, caller: str) -> tuple[int, str]:
    """The <Record> action Twilio posts once the caller pressed # (signed over the URL and its query)."""
    path = "/webhooks/twilio/voice?s=recorded&l=ar"
    form = {**payload("twilio_voice", "call"), "From": caller, "Caller": caller, "CallStatus": "in-progress",
            "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/{RECORDING}",
            "RecordingSid": RECORDING, "RecordingDuration": "6", "Digits": "#"}
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(PUBLIC_URL + path, form)
    return _post(port, path, urlencode(form).encode(),
                 {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature})


ACCOUNT, RECORDING = "AC00000000000000000000000000000000", "RE0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize("deployment", ["inline"], indirect=True)      # a call is answered inline in both modes
def test_a_callers_message_recorded_during_an_outage_is_kept_and_its_code_comes_by_sms(deployment, fake, runtime):
    """Twilio posts a <Record> action once (a 503 would lose the message and play the caller an error): the
    recording's reference waits in the queue, the caller hears it is received, and when the database is
    back the case is opened and its code sent by SMS, once, however often the action is delivered."""
    caller = "+9647501234999"
    deployment.outage.start()
    try:
        for _ in range(2):                                    # delivered twice during the outage
            status, body = _recorded(deployment.port, caller)
            assert status == 200, body
            said = [s.text for s in ElementTree.fromstring(body).iter("Say")]
            assert said[:2] == ["شكرًا لك. وصلت رسالتك.", "سيصلك رقمها المرجعي برسالة نصية على رقم الهاتف هذا."], said
        assert fake.sent() == []
    finally:
        deployment.outage.end()
    assert _wait_for(lambda: len(fake.sent("twilio")) == 1, 120), deployment.worker_log()
    sms = fake.sent("twilio")[0]["params"]
    with runtime.transaction() as session:
        case = session.execute(select(Case)).scalar_one()
        assert case.channel == "voice" and case.language == "ar"
        assert sms["To"] == caller and codes.find_code(sms["Body"]) == case.code, sms["Body"]
        assert "شكرًا لك. وصلت رسالتك." in sms["Body"]

    def read_out() -> bool:            # delivered again, the database up: the same code, read out twice (a
        status, body = _recorded(deployment.port, caller)     # try on a pooled connection the outage cut is kept)
        digits = [to_ascii_digits(s.text or "") for s in ElementTree.fromstring(body).iter("Say")]
        return status == 200 and "".join(d for d in digits if d.isdigit()) == case.code * 2

    assert _wait_for(read_out, 30)
    time.sleep(1.5)                                            # a second SMS (any later delivery's) would come now
    assert len(fake.sent("twilio")) == 1
    with runtime.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 1


# ---- faults that are not outages: kept, shown, replayed -------------------------------------------------
@pytest.mark.slow       # waits on the clock: the queue's retry delays
def test_a_message_that_fails_for_another_reason_is_kept_as_a_dead_letter_and_can_be_replayed(app, runtime,
                                                                                             fake):
    from bot.queue import receive_task
    from handlers.types import Incoming
    broken = runtime.vault.encrypt(json.dumps({"channel": "sms", "address": "+9647712345670"}))  # no text: a fault
    receive_task(broken)                  # HUEY_IMMEDIATE: runs here, tries 3 times, then keeps it
    good = intake.seal(runtime, Incoming("sms", "+9647712345671", text="مرحبا", provider_id="SM" + "4" * 32))
    with runtime.transaction() as session:
        session.add(DeadLetter(kind="inbound", sealed=good, error="RuntimeError: a bug since fixed"))
        letters = session.execute(select(DeadLetter).order_by(DeadLetter.id)).scalars().all()
        assert [letter.attempts for letter in letters] == [3, 1] and letters[0].error.startswith("KeyError")
        assert "+964" not in letters[0].sealed + letters[0].error
    runner = app.test_cli_runner()
    status = runner.invoke(args=["queue", "status"])
    assert "dead letters: 2" in status.output, status.output
    doctor = runner.invoke(args=["doctor"])
    assert any(line.startswith("WARN  waiting") and "2 inbound" in line for line in doctor.output.splitlines()), doctor.output
    replay = runner.invoke(args=["queue", "replay"])
    assert replay.exit_code == 1 and "handled 1, failed again 1" in replay.output
    assert [s["params"]["To"] for s in fake.sent("twilio")] == ["+9647712345671"]
    with runtime.transaction() as session:
        left = session.execute(select(DeadLetter)).scalar_one()
        assert left.sealed == broken and left.attempts == 4


def test_metrics_show_dead_letters_and_the_queue(environ, tmp_path, runtime):
    from bot import create_app
    app = create_app({"INSTANCE_PATH": str(tmp_path / "m"), "TESTING": True,
                      "ENVIRON": {**environ, "METRICS_TOKEN": "t0ken"}})
    rt = app.extensions["bot"]
    with rt.transaction() as session:
        session.add(DeadLetter(kind="inbound", sealed=rt.vault.encrypt("{}"), error="KeyError: 'text'"))
    body = app.test_client().get("/metrics", headers={"Authorization": "Bearer t0ken"}).get_data(as_text=True)
    assert "bot_dead_letters 1" in body and "bot_queue_tasks_waiting" in body
    rt.dispose()
