"""The outbound queue: idempotent sends, retries, permanent failures, the WhatsApp window, the sweep,
and a real worker process killed mid-send (SqliteHuey here; RedisHuey too where Redis runs, always in CI)."""
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bot import cases, outbound
from bot.models import Case, Contact, Outbound
from handlers.types import Reply

from .conftest import REDIS_SERVER, redis_url
from .fakes import TELEGRAM_429, TELEGRAM_BLOCKED, twilio_error

ROOT = Path(__file__).resolve().parent.parent


def open_case(telegram=None, twilio=None, sender="+9647501234567", chat_id=555000111) -> str:
    if telegram is not None:
        telegram.say("hello", chat_id=chat_id, language_code="en")
        telegram.say("complaint", chat_id=chat_id)
        text = telegram.say("the water tank is broken", chat_id=chat_id)["text"]
    else:
        twilio.say("hello", sender)
        twilio.say("complaint", sender)
        text = "\n".join(twilio.say("the water tank is broken", sender))
    import re
    return re.search(r"\d{3} \d{4}", text).group(0).replace(" ", "")


def rows(runtime):
    with runtime.transaction() as session:
        return session.execute(select(Outbound).order_by(Outbound.id)).scalars().all()


def test_a_message_is_sent_once_even_if_its_task_runs_twice(telegram, runtime, fake):
    code = open_case(telegram)
    result = cases.answer(runtime, code, "fixed tomorrow", "officer")
    assert outbound.send_one(runtime, result["outbound_id"]) == "not_claimed"
    assert len(fake.sent("telegram")) == 1


def test_telegram_flood_control_retries_after_the_time_it_asks(telegram, runtime, fake):
    code = open_case(telegram)
    fake.fail_next("telegram", 429, TELEGRAM_429)
    result = cases.answer(runtime, code, "fixed tomorrow", "officer")
    row = rows(runtime)[0]
    assert row.status == "queued" and row.failure_reason == "throttled" and row.attempts == 1
    assert outbound.send_one(runtime, result["outbound_id"]) == "sent"      # the scheduled retry
    assert len(fake.sent("telegram")) == 1
    assert rows(runtime)[0].status == "sent"


def test_twilio_5xx_is_temporary(twilio, runtime, fake):
    code = open_case(twilio=twilio)
    fake.fail_next("twilio", 503, twilio_error(20503, 503))
    cases.answer(runtime, code, "fixed tomorrow", "officer")
    assert rows(runtime)[0].status == "queued"
    assert outbound.send_one(runtime, rows(runtime)[0].id) == "sent"


def test_a_user_who_blocked_the_bot_is_recorded_and_not_retried(telegram, runtime, fake):
    code = open_case(telegram)
    fake.fail_next("telegram", 403, TELEGRAM_BLOCKED)
    cases.answer(runtime, code, "fixed tomorrow", "officer")
    row = rows(runtime)[0]
    assert (row.status, row.failure_reason) == ("failed", "blocked")
    with runtime.transaction() as session:
        assert session.execute(select(Contact.opted_out)).scalar() is True


def test_twilio_21610_opted_out_keeps_our_record_in_step(twilio, runtime, fake):
    code = open_case(twilio=twilio)
    fake.fail_next("twilio", 400, twilio_error(21610))
    cases.answer(runtime, code, "fixed tomorrow", "officer")
    assert (rows(runtime)[0].status, rows(runtime)[0].failure_reason) == ("failed", "opted_out")
    with runtime.transaction() as session:
        assert session.execute(select(Contact.opted_out)).scalar() is True


def test_whatsapp_outside_24_hours_falls_back_to_sms_when_the_person_used_sms(twilio, runtime, fake):
    number = "+9647701234567"
    twilio.say("hello", number)                                  # the same person on SMS
    code = open_case(twilio=twilio, sender=f"whatsapp:{number}")
    fake.fail_next("twilio", 400, twilio_error(63016))
    cases.answer(runtime, code, "fixed tomorrow", "officer")
    first, fallback = rows(runtime)
    assert (first.status, first.failure_reason) == ("failed", "outside_window")
    assert fallback.channel == "sms" and fallback.status == "sent"
    assert fake.sent("twilio")[-1]["params"]["To"] == number


def test_whatsapp_outside_24_hours_uses_the_approved_template_when_configured(twilio, runtime, fake):
    runtime.config["TWILIO_WHATSAPP_TEMPLATE_SID"] = "HX0000000000000000000000000000000a"
    code = open_case(twilio=twilio, sender="whatsapp:+9647701234567")
    fake.fail_next("twilio", 400, twilio_error(63016))
    cases.answer(runtime, code, "fixed tomorrow", "officer")
    params = fake.sent("twilio")[-1]["params"]
    assert params["ContentSid"] == "HX0000000000000000000000000000000a"
    assert code in params["ContentVariables"]
    assert "fixed tomorrow" not in str(params)                   # a template never carries the content


def test_whatsapp_outside_24_hours_with_no_way_round_is_marked_undeliverable(twilio, runtime, fake):
    code = open_case(twilio=twilio, sender="whatsapp:+9647709999999")
    fake.fail_next("twilio", 400, twilio_error(63016))
    cases.answer(runtime, code, "fixed tomorrow", "officer")
    assert (rows(runtime)[0].status, rows(runtime)[0].failure_reason) == ("undeliverable", "outside_window")


def test_the_sweep_requeues_lost_tasks_and_never_resends_an_interrupted_send(telegram, runtime, fake):
    open_case(telegram)
    with runtime.transaction() as session:
        case = session.execute(select(Case)).scalar_one()
        contact = session.get(Contact, case.contact_id)
        lost = outbound.queue_reply(runtime, session, contact, Reply("lost task", language="en"), "answer")
        interrupted = outbound.queue_reply(runtime, session, contact, Reply("mid-send", language="en"), "answer")
        session.flush()
        session.execute(update(Outbound).where(Outbound.id == interrupted.id).values(status="sending"))
    assert outbound.sweep(runtime, stranded_after=timedelta(0)) == 1
    by_id = {r.id: r for r in rows(runtime)}
    assert by_id[lost.id].status == "sent"
    assert (by_id[interrupted.id].status, by_id[interrupted.id].failure_reason) == ("failed", "interrupted")
    assert [c["params"]["text"] for c in fake.sent("telegram")] == ["lost task"]


def test_a_delivery_callback_updates_the_status_and_never_goes_backwards(twilio, runtime, fake):
    code = open_case(twilio=twilio)
    cases.answer(runtime, code, "fixed tomorrow", "officer")
    sid = rows(runtime)[0].provider_id
    form = {"MessageSid": sid, "MessageStatus": "delivered", "AccountSid": "AC0", "To": "+1", "From": "+2"}
    assert twilio.post(form, path="/webhooks/twilio/status").get_json()["known"] is True
    twilio.post(dict(form, MessageStatus="sent"), path="/webhooks/twilio/status")
    assert rows(runtime)[0].status == "delivered"


# ---- a real worker process, killed mid-send -----------------------------------------------------------
def _queue_backends():
    backends = ["sqlite"]
    try:
        import redis
        redis.Redis.from_url(redis_url(2)).ping()
        backends.append("redis")
    except Exception:
        if os.environ.get("CI") == "true":
            backends.append("redis-missing")
    return backends


@pytest.fixture(params=_queue_backends())
def worker_env(request, environ, tmp_path):
    if request.param == "redis-missing":
        pytest.fail(f"Redis is required in CI and is not reachable at {REDIS_SERVER}")
    env = {k: v for k, v in os.environ.items() if k not in ("HUEY_IMMEDIATE",)}
    env.update(environ)
    env.update({"INSTANCE_PATH": str(tmp_path / "worker-instance"), "HUEY_IMMEDIATE": "0", "PYTHONPATH": str(ROOT)})
    if request.param == "redis":
        import redis
        redis.Redis.from_url(redis_url(2)).flushdb()
        env["REDIS_URL"] = redis_url(2)
    return env


def _start_worker(env):
    return subprocess.Popen([sys.executable, "-m", "huey.bin.huey_consumer", "bot.queue.huey", "-w", "2",
                             "-k", "thread", "-C"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def _enqueue(env, ids):
    code = f"from bot.outbound import enqueue; enqueue({list(ids)!r})"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, timeout=60,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait(predicate, seconds=30.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_a_worker_killed_mid_send_loses_nothing_and_sends_nothing_twice(telegram, runtime, fake, worker_env):
    open_case(telegram)
    with runtime.transaction() as session:
        contact = session.execute(select(Contact)).scalar_one()
        ids = [outbound.queue_reply(runtime, session, contact, Reply(f"message {n}", language="en"), "answer").id
               for n in range(4)]
    fake.delay = 3.0                       # the provider is slow: the worker will be in the middle of a call
    worker = _start_worker(worker_env)
    try:
        _enqueue(worker_env, ids)
        # both worker threads are inside a provider call
        assert _wait(lambda: len(fake.received) >= 2), "the worker never called the provider"
        os.killpg(worker.pid, signal.SIGKILL)  # killed in the middle of the provider call
        worker.wait(timeout=10)
        fake.delay = 0.0
        time.sleep(3.5)                        # the fake finishes the interrupted call: it was delivered
        worker = _start_worker(worker_env)
        outbound.sweep(runtime, stranded_after=timedelta(0))   # what the periodic sweep does
        assert _wait(lambda: all(r.status in outbound.FINAL for r in rows(runtime)), 60)
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    texts = [c["params"]["text"] for c in fake.sent("telegram")]
    assert sorted(texts) == [f"message {n}" for n in range(4)]          # each exactly once, none lost
