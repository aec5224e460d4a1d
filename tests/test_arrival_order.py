"""One person's messages are handled in the order they arrived, in queue mode too (INBOUND_MODE=queue).

The webhook puts each acknowledged message in its sender's waiting room (bot.queue.WaitingRoom) as it
queues it; a worker handles the person's waiting messages first arrived first. In-process for the rules;
a real gunicorn with three Huey consumer processes for the proof (PostgreSQL + Redis)."""
import json
import os
import subprocess
import sys
import threading
import time
from collections import defaultdict

import pytest
from sqlalchemy import func, select

from bot import intake, queue
from bot.models import Contact, DeadLetter, Message, Outbound
from handlers.types import Incoming

from .conftest import REDIS_SERVER, redis_url
from .test_intake import ROOT, Production, _free_port, _post, _telegram, _twilio, _wait_for


@pytest.fixture
def room(monkeypatch):
    """A waiting room of its own (HUEY_IMMEDIATE runs each task inside the webhook, so accept keeps none)."""
    fresh = queue.MemoryWaitingRoom()
    monkeypatch.setattr(queue, "waiting_room", lambda: fresh)
    return fresh


def _arrived(runtime, room, address: str, text: str, sid: str) -> str:
    """What accept does in a deployment: sealed with the person's room, and in the room."""
    incoming = Incoming("sms", address, text, sid)
    person = runtime.vault.address_hash("sms", address)
    sealed = intake.seal(runtime, incoming, person)
    room.arrive(person, sealed)
    return sealed


def _texts_in_handling_order(runtime) -> dict[int, list[str]]:
    """Per contact, what it sent in the order the messages were handled (messages.id: each row is inserted
    under the contact's lock, in the transaction of its turn)."""
    with runtime.transaction() as session:
        rows = session.execute(select(Message.contact_id, Message.text_enc).order_by(Message.id)).all()
    texts = defaultdict(list)
    for contact_id, text_enc in rows:
        texts[contact_id].append(runtime.vault.decrypt(text_enc))
    return dict(texts)


def test_a_later_message_handles_the_earlier_one_still_waiting_first(runtime, room, fake):
    """Two SMS from one person wait together; the worker that takes the second first handles the first,
    then its own; the first one's own task then finds it handled and answers nothing more."""
    first = _arrived(runtime, room, "+9647701110001", "مرحبا", "SM" + "1" * 32)
    second = _arrived(runtime, room, "+9647701110001", "2", "SM" + "2" * 32)
    assert intake.process(runtime, second) == "answered"
    assert list(_texts_in_handling_order(runtime).values()) == [["مرحبا", "2"]]
    assert room.waiting(runtime.vault.address_hash("sms", "+9647701110001")) == []
    assert intake.process(runtime, first) == "duplicate"
    assert [s["params"]["To"] for s in fake.sent("twilio")] == ["+9647701110001"] * 2


def test_the_next_message_waits_while_another_worker_sends_the_earlier_reply(runtime, room, fake):
    """Another worker has stored the first message and is still sending its reply (it has not left the room):
    the second waits until it has (bounded by ORDER_WAIT_SECONDS, for a worker that died there)."""
    first = _arrived(runtime, room, "+9647701110006", "مرحبا", "SM" + "7" * 32)
    second = _arrived(runtime, room, "+9647701110006", "2", "SM" + "8" * 32)
    person = runtime.vault.address_hash("sms", "+9647701110006")
    assert intake._handle(runtime, intake.unseal(runtime, first)) == "answered"     # the other worker, so far
    threading.Timer(0.5, room.leave, (person, first)).start()                     # ... its send done
    started = time.monotonic()
    assert intake.process(runtime, second) == "answered"
    assert 0.4 < time.monotonic() - started < intake.ORDER_WAIT_SECONDS
    assert [s["params"]["To"] for s in fake.sent("twilio")] == ["+9647701110006"] * 2


def test_different_people_do_not_wait_for_each_other(runtime, room, fake):
    waiting = _arrived(runtime, room, "+9647701110002", "مرحبا", "SM" + "3" * 32)
    other = _arrived(runtime, room, "+9647701110003", "مرحبا", "SM" + "4" * 32)
    assert intake.process(runtime, other) == "answered"
    assert [s["params"]["To"] for s in fake.sent("twilio")] == ["+9647701110003"]
    assert room.waiting(runtime.vault.address_hash("sms", "+9647701110002")) == [waiting]


def test_an_earlier_message_that_fails_is_left_to_its_own_worker(runtime, room, fake):
    """A broken earlier message (a fault, not an outage) does not hold the person's next one: that one is
    answered, and the broken one's own task keeps it as a dead letter and takes it out of the room."""
    person = runtime.vault.address_hash("sms", "+9647701110004")
    broken = runtime.vault.encrypt(json.dumps({"channel": "sms", "address": "+9647701110004", "person": person}))
    room.arrive(person, broken)
    good = _arrived(runtime, room, "+9647701110004", "مرحبا", "SM" + "5" * 32)
    assert intake.process(runtime, good) == "answered"
    assert room.waiting(person) == [broken]
    intake.FAULT_TRIES, tries = 1, intake.FAULT_TRIES
    try:
        assert intake.process(runtime, broken) == "dead_letter"
    finally:
        intake.FAULT_TRIES = tries
    assert room.waiting(person) == []
    with runtime.transaction() as session:
        assert session.scalar(select(func.count()).select_from(DeadLetter)) == 1


def test_a_message_missing_from_its_room_is_still_handled(runtime, room, fake):
    """The room is an order, never the message's only copy: a message not (or no longer) in it is handled."""
    person = runtime.vault.address_hash("sms", "+9647701110005")
    sealed = intake.seal(runtime, Incoming("sms", "+9647701110005", "مرحبا", "SM" + "6" * 32), person)
    assert intake.process(runtime, sealed) == "answered"
    assert intake.process(runtime, sealed) == "duplicate"


def _rooms():
    rooms = ["sqlite", "memory"]
    try:
        import redis
        redis.Redis.from_url(redis_url(2)).ping()
        rooms.append("redis")
    except Exception:
        pass
    return rooms


@pytest.mark.parametrize("kind", _rooms())
def test_each_room_keeps_arrival_order_per_person(kind, tmp_path):
    from huey import RedisHuey, SqliteHuey
    if kind == "redis":
        import redis
        redis.Redis.from_url(redis_url(2)).flushdb()
        room = queue.RedisWaitingRoom(RedisHuey("t", url=redis_url(2)).storage)
    elif kind == "sqlite":
        room = queue.SqliteWaitingRoom(SqliteHuey("t", filename=str(tmp_path / "q.sqlite3")).storage)
    else:
        room = queue.MemoryWaitingRoom()
    for n in range(5):
        for person in ("a", "b"):
            room.arrive(person, f"{person}{n}")
    room.leave("a", "a2")
    assert room.waiting("a") == ["a0", "a1", "a3", "a4"]
    assert room.waiting("b") == [f"b{n}" for n in range(5)]
    assert room.waiting("c") == []


def _room(kind: str, tmp_path):
    from huey import RedisHuey, SqliteHuey
    if kind == "redis":
        import redis
        redis.Redis.from_url(redis_url(2)).flushdb()
        return queue.RedisWaitingRoom(RedisHuey("t", url=redis_url(2)).storage)
    if kind == "sqlite":
        return queue.SqliteWaitingRoom(SqliteHuey("t", filename=str(tmp_path / "q.sqlite3")).storage)
    return queue.MemoryWaitingRoom()


@pytest.mark.parametrize("kind", _rooms())
def test_each_room_tells_whose_messages_have_waited_too_long(kind, tmp_path):
    room = _room(kind, tmp_path)
    room.arrive("a", "a0")
    room.arrive("a", "a1")
    room.arrive("b", "b0")
    room.leave("b", "b0")
    assert room.stale(time.time() - 60) == []               # nothing has waited a minute
    later = time.time() + 1
    assert room.stale(later) == [("a", "a1")]                # a's last message; b's room is empty
    room.arrive("c", "c0")                                   # c wrote just now: not stale before `later - 1`
    assert ("c", "c0") not in room.stale(later - 1)
    room.leave("a", "a0")
    room.leave("a", "a1")
    assert all(person != "a" for person, _ in room.stale(time.time() + 1))


def test_a_message_whose_worker_was_killed_is_handled_by_the_rescue(runtime, room, fake):
    """SIGKILL takes the task with the worker and runs no handler: the message is left in its room only.
    The periodic rescue queues the person's last waiting message again; it handles both, in order."""
    _arrived(runtime, room, "+9647701110009", "مرحبا", "SM" + "7" * 32)
    _arrived(runtime, room, "+9647701110009", "2", "SM" + "8" * 32)
    assert intake.rescue_waiting(runtime, older_than=3600) == 0       # not waiting long enough yet
    assert _texts_in_handling_order(runtime) == {}
    assert intake.rescue_waiting(runtime, older_than=0) == 1
    assert list(_texts_in_handling_order(runtime).values()) == [["مرحبا", "2"]]
    assert room.waiting(runtime.vault.address_hash("sms", "+9647701110009")) == []
    assert [s["params"]["To"] for s in fake.sent("twilio")] == ["+9647701110009"] * 2
    assert intake.rescue_waiting(runtime, older_than=0) == 0          # nothing left, nothing sent twice
    assert [s["params"]["To"] for s in fake.sent("twilio")] == ["+9647701110009"] * 2


# ---- the proof: many people, interleaved, three consumer processes -------------------------------------
PEOPLE, MESSAGES, CONSUMERS, THREADS = 30, 5, 3, 4


def _backend(database_url: str) -> str:
    return "postgresql+redis" if database_url.startswith("postgresql") else "sqlite+sqlitehuey"


@pytest.fixture
def deployment(environ, tmp_path):
    """gunicorn (2 workers x 4 threads) in queue mode and THREE Huey consumers (4 threads each)."""
    env = {k: v for k, v in os.environ.items() if k != "HUEY_IMMEDIATE"}
    env.update(environ)
    env.update({"INSTANCE_PATH": str(tmp_path / "order-instance"), "HUEY_IMMEDIATE": "0", "INBOUND_MODE": "queue",
                "PYTHONPATH": str(ROOT), "EMBEDDED_WORKER": "0", "TWILIO_SMS_RATE": "1000",
                "TELEGRAM_RATE": "1000"})
    if not environ["DATABASE_URL"].startswith("postgresql"):
        pytest.skip("three consumer processes are the production shape: PostgreSQL + Redis")
    if environ["DATABASE_URL"].startswith("postgresql"):
        import redis
        try:
            redis.Redis.from_url(redis_url(1)).flushdb()
        except redis.ConnectionError:
            if os.environ.get("CI") == "true":
                pytest.fail(f"Redis is required in CI and is not reachable at {REDIS_SERVER}")
            pytest.skip(f"Redis is not reachable at {REDIS_SERVER}")
        env["REDIS_URL"] = redis_url(1)
    port = _free_port()
    production = Production(port, env, tmp_path)
    production.processes["web"] = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "bot:create_app()", "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--threads", "4", "--timeout", "60"], cwd=ROOT, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def healthy():
            try:
                return _post(port, "/healthz", b"", {}, method="GET")[0] == 200
            except OSError:
                return False
        assert _wait_for(healthy, 90), "gunicorn did not start"
        for n in range(CONSUMERS):
            with open(tmp_path / f"worker{n}.log", "a") as log:
                production.processes[f"worker{n}"] = subprocess.Popen(
                    [sys.executable, "-m", "huey.bin.huey_consumer", "bot.queue.huey", "-w", str(THREADS),
                     "-k", "thread"], cwd=ROOT, env=env, start_new_session=True, stdout=log,
                    stderr=subprocess.STDOUT)
        yield production
    finally:
        for name in production.processes:
            production.stop(name)


def _logs(deployment) -> str:
    return "\n".join((deployment.logs / f"worker{n}.log").read_text(errors="replace")[-1500:]
                     for n in range(CONSUMERS))


@pytest.mark.slow
def test_thirty_people_writing_at_once_are_each_answered_in_the_order_they_wrote(deployment, fake, runtime,
                                                                               database_url):
    """30 people (half SMS, half Telegram) each send 5 numbered messages, one after the other as soon as the
    last was acknowledged, all at the same time: 150 messages interleaved across people, waiting together
    in the queue, taken by 12 worker threads in 3 consumer processes. Every person's messages are handled
    (messages.id), and answered (the provider's log), in the order that person sent them."""
    def person(n: int) -> None:
        for step in range(1, MESSAGES + 1):
            text = f"{step}"
            if n % 2:
                status, _ = _twilio(deployment.port, f"+96477300{n:05d}", text, f"SM{n:016d}{step:016d}")
            else:
                status, _ = _telegram(deployment.port, 770000 + n, text, 5_000_000 + n * 10 + step)
            assert status == 200
    started = time.monotonic()
    senders = [threading.Thread(target=person, args=(n,)) for n in range(PEOPLE)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    acknowledged = time.monotonic() - started
    total = PEOPLE * MESSAGES
    assert _wait_for(lambda: len(fake.sent()) >= total, 180), (len(fake.sent()), _logs(deployment))
    handled = time.monotonic() - started
    time.sleep(1)                                     # an answer sent twice would come now
    order = _texts_in_handling_order(runtime)
    expected = [f"{step}" for step in range(1, MESSAGES + 1)]
    out_of_order = {c: texts for c, texts in order.items() if texts != expected}
    assert len(order) == PEOPLE and not out_of_order, out_of_order
    answered = defaultdict(int)
    for call in fake.sent():
        answered[str(call["params"].get("To") or call["params"].get("chat_id"))] += 1
    assert sorted(answered.values()) == [MESSAGES] * PEOPLE
    with runtime.transaction() as session:
        # each reply is an outbound row written with its message: sent in the order the messages were handled
        replies = defaultdict(list)
        for contact_id, sent_at in session.execute(select(Outbound.contact_id, Outbound.sent_at)
                                                   .order_by(Outbound.id)):
            replies[contact_id].append(sent_at)
        unordered = {c: times for c, times in replies.items()
                     if len(times) != MESSAGES or None in times or times != sorted(times)}
        assert not unordered, unordered
        assert session.scalar(select(func.count()).select_from(Contact)) == PEOPLE
        assert session.scalar(select(func.count()).select_from(DeadLetter)) == 0
    print(f"\n{_backend(database_url)}: {PEOPLE} people x {MESSAGES} messages, {CONSUMERS} consumers x "
          f"{THREADS} threads: acknowledged in {acknowledged:.1f} s, all handled in order in {handled:.1f} s")
