"""Broadcasts: who gets them, in which language, at what rate; approval; pause, resume, cancel;
a worker killed mid-broadcast; WhatsApp's 24-hour window; progress and replies.

Recipients are made the way the bot makes them (tests/test_subscription.py drives the dialogue);
here many are needed, so they are written as the inbound path writes them.
"""
import json
import os
import signal
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot import broadcast_runner, broadcasts, users
from bot.models import Broadcast, Contact, Outbound, utcnow

from .test_queue import ROOT, _start_worker, _wait, worker_env  # noqa: F401  (fixture)


def person(runtime, channel, address, lang, *, subscribed=True, opted_out=False, area=None, topics="",
           last_seen=None):
    with runtime.transaction() as session:
        contact = Contact(channel=channel, address_hash=runtime.vault.address_hash(channel, address),
                          address_enc=runtime.vault.encrypt(address), language=lang, state="browsing",
                          subscribed=subscribed, opted_out=opted_out, area=area, topics=topics,
                          last_seen_at=last_seen or utcnow())
        session.add(contact)
        session.flush()
        return contact.id


def compose(runtime, actor="user:1", **options):
    options.setdefault("texts", {"ar": "حملة تلقيح ضد الكوليرا يوم الأحد", "ckb": "هەڵمەتی کوتان دژی کۆلێرا ڕۆژی یەکشەممە",
                                 "kmr": "هەلمەتا کوتانێ دژی کۆلێرایێ ڕۆژا یەکشەمبێ"})
    options.setdefault("title", "cholera vaccination")
    with runtime.transaction() as session:
        return broadcasts.create(runtime, session, actor=actor, **options).id


def send_now(runtime, broadcast_id, approver="user:2"):
    with runtime.transaction() as session:
        b = session.get(Broadcast, broadcast_id)
        if broadcasts.approval_required(runtime.config):
            broadcasts.approve(session, b, approver, runtime.config)
        broadcasts.start(session, b, approver, runtime.config)


def delivered(fake):
    """(service, address, text) of each message the providers accepted."""
    out = []
    for call in fake.sent():
        p = call["params"]
        if call["service"] == "telegram":
            out.append(("telegram", str(p["chat_id"]), p.get("text") or p.get("caption")))
        else:
            out.append((call["service"], p["To"], p.get("Body") or p.get("ContentSid")))
    return out


def test_only_people_who_opted_in_and_did_not_stop_receive(runtime, fake):
    person(runtime, "sms", "+9647500000001", "ar")
    person(runtime, "sms", "+9647500000002", "ar", opted_out=True)
    person(runtime, "sms", "+9647500000003", "ar", subscribed=False)
    person(runtime, "telegram", "4001", "ckb")
    send_now(runtime, compose(runtime))
    assert broadcast_runner.run(runtime) == "idle"
    got = delivered(fake)
    assert sorted(a for _, a, _ in got) == ["+9647500000001", "4001"]
    assert any("حملة تلقيح" in text and "STOP" not in text for _, a, text in got if a.startswith("+964"))
    assert any("هەڵمەتی کوتان" in text for _, a, text in got if a == "4001")


def test_a_language_without_text_is_skipped_or_falls_back_as_the_composer_chose(runtime, fake):
    person(runtime, "sms", "+9647500000011", "ar")
    person(runtime, "sms", "+9647500000012", "kmr_latn")
    skip = compose(runtime, texts={"ar": "توزيع البطانيات غدا"})
    with runtime.transaction() as session:
        reach = broadcasts.audience(runtime, session, session.get(Broadcast, skip))
    assert reach["total"] == 1 and reach["skipped"] == 1 and reach["by_language"]["kmr_latn"]["text"] is None
    send_now(runtime, skip)
    broadcast_runner.run(runtime)
    assert [a for _, a, _ in delivered(fake)] == ["+9647500000011"]

    fall = compose(runtime, texts={"ar": "توزيع البطانيات غدا", "kmr": "دابەشکرنا بەتانیان سبەیێ"}, fallback="ar")
    with runtime.transaction() as session:
        reach = broadcasts.audience(runtime, session, session.get(Broadcast, fall))
    assert reach["total"] == 2 and reach["skipped"] == 0 and reach["by_language"]["kmr_latn"]["text"] == "ar"
    send_now(runtime, fall)
    broadcast_runner.run(runtime)
    latn = [text for _, a, text in delivered(fake) if a == "+9647500000012"]
    assert len(latn) == 1 and "توزيع البطانيات" in latn[0]


def test_targeting_by_channel_language_area_governorate_and_topic(runtime, fake):
    a = person(runtime, "sms", "+9647500000021", "ar", area="duhok-khanke", topics="health")
    b = person(runtime, "telegram", "4021", "ckb", area="duhok-sharya", topics="")
    c = person(runtime, "whatsapp", "+9647500000023", "kmr", area="erbil-harshm", topics="shelter")

    def reached(**target):
        broadcast_id = compose(runtime, **target)
        with runtime.transaction() as session:
            query = select(Contact.id).where(broadcasts.audience_filter(session.get(Broadcast, broadcast_id)))
            return set(session.scalars(query))

    assert reached() == {a, b, c}
    assert reached(channels=["sms", "telegram"]) == {a, b}
    assert reached(languages=["kmr"]) == {c}
    assert reached(areas=["duhok-khanke"]) == {a}
    assert reached(areas=["duhok"]) == {a, b}                  # a governorate means all its camps
    assert reached(topic="health") == {a, b}                   # b takes everything
    assert reached(topic="shelter", channels=["whatsapp"]) == {c}
    with pytest.raises(broadcasts.BroadcastError):
        compose(runtime, areas=["atlantis"])
    with pytest.raises(broadcasts.BroadcastError):
        compose(runtime, topic="weather")
    with pytest.raises(broadcasts.BroadcastError):
        compose(runtime, texts={})


def test_a_second_person_must_approve_unless_configured_otherwise(runtime, fake):
    person(runtime, "sms", "+9647500000031", "ar")
    broadcast_id = compose(runtime, actor="user:1")
    with runtime.transaction() as session:
        b = session.get(Broadcast, broadcast_id)
        with pytest.raises(broadcasts.BroadcastError, match="approval"):
            broadcasts.start(session, b, "user:1", runtime.config)
        with pytest.raises(broadcasts.BroadcastError, match="second person"):
            broadcasts.approve(session, b, "user:1", runtime.config)
        broadcasts.approve(session, b, "user:2", runtime.config)
        assert broadcasts.start(session, b, "user:1", runtime.config) is True
    runtime.config["BROADCAST_APPROVAL"] = "none"
    other = compose(runtime, actor="user:1")
    with runtime.transaction() as session:
        assert broadcasts.start(session, session.get(Broadcast, other), "user:1", runtime.config) is True


@pytest.mark.slow       # waits on the clock: 70 messages at 20 a second
def test_the_rate_is_never_exceeded_in_any_second(runtime, fake):
    runtime.config["TELEGRAM_RATE"] = 20.0
    for n in range(70):
        person(runtime, "telegram", str(5000 + n), "ar")
    send_now(runtime, compose(runtime))
    started = time.monotonic()
    assert broadcast_runner.run(runtime) == "idle"
    elapsed = time.monotonic() - started
    times = sorted(c["t"] for c in fake.sent("telegram"))
    assert len(times) == 70
    worst = max(sum(1 for t in times if start <= t < start + 1.0) for start in times)
    assert worst <= 20, f"{worst} messages in one second: {[round(b - a, 3) for a, b in zip(times, times[1:])]}"
    assert elapsed >= 70 / 20 * 0.9                      # not faster overall either
    assert 70 / (times[-1] - times[0]) >= 20 * 0.75     # and near the limit, not far under it (0.9 flaked once in CI: 17.5/s)


def _run_in_thread(runtime):
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("outcome", broadcast_runner.run(runtime)))
    thread.start()
    return thread, result


@pytest.mark.slow       # waits on the clock: 40 messages at 10 a second
def test_pause_resume_and_cancel(runtime, fake):
    runtime.config["TWILIO_SMS_RATE"] = 10.0
    for n in range(40):
        person(runtime, "sms", f"+96475000010{n:02d}", "ar")
    broadcast_id = compose(runtime)
    send_now(runtime, broadcast_id)
    thread, _ = _run_in_thread(runtime)
    assert _wait(lambda: len(fake.sent("twilio")) >= 5, 10)
    with runtime.transaction() as session:
        broadcasts.pause(session, session.get(Broadcast, broadcast_id), "user:2")
    thread.join(10)
    assert not thread.is_alive()
    paused_at = len(fake.sent("twilio"))
    time.sleep(0.5)
    assert len(fake.sent("twilio")) == paused_at < 40               # nothing more while paused
    with runtime.transaction() as session:
        assert broadcasts.progress(session, session.get(Broadcast, broadcast_id))["status"] == "paused"
        broadcasts.resume(session, session.get(Broadcast, broadcast_id), "user:2")
    thread, _ = _run_in_thread(runtime)
    assert _wait(lambda: len(fake.sent("twilio")) >= paused_at + 5, 10)
    with runtime.transaction() as session:
        dropped = broadcasts.cancel(session, session.get(Broadcast, broadcast_id), "user:2")
    thread.join(10)
    sent = len(fake.sent("twilio"))
    time.sleep(0.5)
    assert len(fake.sent("twilio")) == sent and dropped > 0 and sent + dropped <= 40
    addresses = [a for _, a, _ in delivered(fake)]
    assert len(addresses) == len(set(addresses))                     # nobody twice
    with runtime.transaction() as session:
        p = broadcasts.progress(session, session.get(Broadcast, broadcast_id))
    assert p["status"] == "cancelled" and p["cancelled"] == dropped and p["sent"] == sent


def test_whatsapp_outside_the_window_gets_the_broadcast_template_or_is_counted_unreachable(runtime, fake):
    old = utcnow() - timedelta(days=3)
    person(runtime, "whatsapp", "+9647500000041", "ar", last_seen=old)
    person(runtime, "whatsapp", "+9647500000042", "ar")                    # wrote an hour ago: free text
    first = compose(runtime)
    with runtime.transaction() as session:
        reach = broadcasts.audience(runtime, session, session.get(Broadcast, first))
    assert reach["whatsapp_outside_window"] == 1 and reach["whatsapp_template"] is False
    send_now(runtime, first)
    broadcast_runner.run(runtime)
    assert [a for _, a, _ in delivered(fake)] == ["whatsapp:+9647500000042"]
    with runtime.transaction() as session:
        p = broadcasts.progress(session, session.get(Broadcast, first))
    assert p["failure_reasons"] == {"outside_window": 1}

    runtime.config["TWILIO_WHATSAPP_BROADCAST_TEMPLATE_SID"] = "HX0000000000000000000000000000bc"
    second = compose(runtime)
    send_now(runtime, second)
    broadcast_runner.run(runtime)
    templated = [c["params"] for c in fake.sent("twilio") if c["params"].get("ContentSid")]
    assert len(templated) == 1 and templated[0]["To"] == "whatsapp:+9647500000041"
    assert "حملة تلقيح" in json.loads(templated[0]["ContentVariables"])["1"]


def test_progress_counts_replies_that_came_after_the_broadcast(runtime, fake, twilio):
    sender = "+9647500000051"
    twilio.say("مرحبا", sender)
    with runtime.transaction() as session:
        session.execute(Contact.__table__.update().values(subscribed=True))
    broadcast_id = compose(runtime)
    send_now(runtime, broadcast_id)
    broadcast_runner.run(runtime)
    twilio.say("شكرا، وين مكان التلقيح؟", sender)
    with runtime.transaction() as session:
        p = broadcasts.progress(session, session.get(Broadcast, broadcast_id))
    assert p["status"] == "done" and p["sent"] == 1 and p["replies"] == 1
    assert p["by_channel"]["sms"]["sent"] == 1 and p["by_language"]["ar"]["sent"] == 1


def test_the_command_line_composes_approves_sends_and_reports(app, runtime, fake):
    person(runtime, "sms", "+9647500000061", "ar")
    person(runtime, "telegram", "6062", "ckb")
    person(runtime, "telegram", "6063", "en")
    runner = app.test_cli_runner()
    made = runner.invoke(args=["broadcast", "create", "--title", "storm", "--text", "ar=عاصفة قوية الليلة، ثبتوا الخيام",
                               "--text", "ckb=ئەمشەو زریانێکی بەهێز دێت، چادرەکان توند بکەن", "--as", "amal"])
    assert made.exit_code == 0, made.output
    assert "sms 1" in made.output and "telegram 1" in made.output and "en: 1 people get nothing" in made.output
    assert "SMS part(s)" in made.output and "expected time" in made.output
    broadcast_id = int(made.output.strip().split()[-2])
    refused = runner.invoke(args=["broadcast", "send", str(broadcast_id), "--as", "amal"])
    assert refused.exit_code != 0 and "approval" in refused.output
    with runtime.transaction() as db:
        users.create(db, "amal@agency.example", "Amal", "long enough password", "officer")
        users.create(db, "karwan@agency.example", "Karwan", "long enough password", "focal_point")
        users.create(db, "viewer@agency.example", "Vian", "long enough password", "viewer")

    def approve(who):
        return runner.invoke(args=["broadcast", "approve", str(broadcast_id), "--as", who])
    assert "needs --as EMAIL" in approve("karwan").output            # a name is not a second person's check
    assert "No account" in approve("nobody@agency.example").output
    assert "may not approve" in approve("viewer@agency.example").output
    # the draft was written as "amal", a name: her account approving it is a different actor, so the
    # author check needs the account from the start; a draft written with --as EMAIL is refused to its author
    mine = runner.invoke(args=["broadcast", "create", "--title", "mine", "--text", "ar=تجربة", "--as", "amal@agency.example"])
    mine_id = int(mine.output.strip().split()[-2])
    refused = runner.invoke(args=["broadcast", "approve", str(mine_id), "--as", "AMAL@agency.example"])
    assert refused.exit_code != 0 and "second person" in refused.output
    assert approve("karwan@agency.example").exit_code == 0
    with runtime.transaction() as db:
        approved = db.get(Broadcast, broadcast_id)
        karwan = users.find(db, "karwan@agency.example")
        assert approved.status == "approved" and approved.approved_by == f"user:{karwan.id}"
    sent = runner.invoke(args=["broadcast", "send", str(broadcast_id), "--as", "amal"])
    assert sent.exit_code == 0, sent.output                    # HUEY_IMMEDIATE: the runner ran already
    status = runner.invoke(args=["broadcast", "status", str(broadcast_id)])
    assert "done" in status.output and "sent 2" in status.output and "100%" in status.output
    assert len(fake.sent()) == 2


def test_a_worker_killed_mid_broadcast_resumes_and_nobody_gets_it_twice(runtime, fake, worker_env):
    for n in range(30):
        person(runtime, "telegram", str(7000 + n), "ar")
    worker_env.update({"TELEGRAM_RATE": "10", "BROADCAST_LEASE_SECONDS": "2"})
    broadcast_id = compose(runtime)
    send_now(runtime, broadcast_id)                 # HUEY_IMMEDIATE is off in the worker's environment only
    worker = _start_worker(worker_env)
    try:
        import subprocess
        import sys
        subprocess.run([sys.executable, "-c", "from bot.queue import broadcast_run_task; broadcast_run_task()"],
                       cwd=ROOT, env=worker_env, check=True, timeout=60)
        assert _wait(lambda: len(fake.sent("telegram")) >= 8, 30), "the worker never started sending"
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
        at_kill = len(fake.sent("telegram"))
        assert at_kill < 30
        worker = _start_worker(worker_env)        # its start-up hook resumes once the lease runs out, or
        # else the every-minute tick does (a rare slow start in CI took the hook's chance): 90 s covers both
        assert _wait(lambda: _status(runtime, broadcast_id) == "done", 90), _status(runtime, broadcast_id)
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    chats = [str(c["params"]["chat_id"]) for c in fake.sent("telegram")]
    assert len(chats) == len(set(chats))                              # nobody twice
    with runtime.transaction() as session:
        interrupted = session.scalar(select(Outbound.id).where(Outbound.failure_reason == "interrupted"))
    assert len(chats) == 30 or interrupted is not None                # everyone, or the gap is on record
    assert len(chats) >= 29


def _status(runtime, broadcast_id):
    with runtime.transaction() as session:
        return session.get(Broadcast, broadcast_id).status


# ---- the prepared send path (broadcast_runner._prepare -> outbound.send_prepared -> Recorder) ---------------
TELEGRAM_ERRORS = [
    (429, {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 1",
           "parameters": {"retry_after": 1}}),
    (403, {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}),
    (400, {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}),
    (401, {"ok": False, "error_code": 401, "description": "Unauthorized"}),
    (409, {"ok": False, "error_code": 409, "description": "Conflict"}),
    (500, {"ok": False, "error_code": 500, "description": "Internal Server Error"}),
    (502, {"ok": False}),
    (400, {"ok": False, "error_code": 400, "description": "Bad Request: group chat was upgraded",
           "parameters": {"migrate_to_chat_id": -1001}}),
]


@pytest.mark.parametrize("status,body", TELEGRAM_ERRORS)
def test_the_broadcast_telegram_call_maps_every_answer_as_python_telegram_bot_does(runtime, fake, status, body):
    from bot.channels import telegram
    from handlers.types import Reply
    images = runtime.content.get().images
    reply = Reply("حملة *تلقيح*", language="ar")
    fake.fail_next("telegram", status, body)
    expected = telegram.send(runtime.config, "8001", reply, images)
    fake.fail_next("telegram", status, body)
    assert telegram.send_text(runtime.config, "8001", reply, images) == expected
    sent = telegram.send_text(runtime.config, "8001", reply, images)
    assert sent.outcome == "sent" and sent.provider_id
    call = fake.sent("telegram")[-1]["params"]
    assert call == {"chat_id": "8001", "text": "حملة <b>تلقيح</b>", "parse_mode": "HTML"}
    offline = dict(runtime.config, TELEGRAM_API_URL="http://127.0.0.1:9")
    assert (telegram.send_text(offline, "8001", reply, images).outcome,
            telegram.send_text(offline, "8001", reply, images).reason) == ("retry", "connection")


def test_broadcast_failures_are_retried_or_recorded_and_a_block_stops_that_person(runtime, fake):
    ids = [person(runtime, "telegram", str(8100 + n), "ar") for n in range(4)]
    fake.fail_next("telegram", 429, TELEGRAM_ERRORS[0][1], to="8100")   # the first: retried after 1 s
    fake.fail_next("telegram", 403, TELEGRAM_ERRORS[1][1], to="8101")   # the second: blocked us
    fake.fail_next("telegram", 400, TELEGRAM_ERRORS[2][1], to="8102")   # the third: a bad request, not retried
    broadcast_id = compose(runtime)
    send_now(runtime, broadcast_id)
    assert broadcast_runner.run(runtime) == "idle"
    with runtime.transaction() as session:
        rows = {r.contact_id: r for r in session.scalars(select(Outbound).where(Outbound.broadcast_id == broadcast_id))}
        blocked = session.get(Contact, ids[1])
        assert (blocked.opted_out, blocked.subscribed) == (True, False)
    assert _status(runtime, broadcast_id) == "done"
    assert {cid: (r.status, r.failure_reason) for cid, r in rows.items()} == {
        ids[0]: ("sent", None), ids[1]: ("failed", "blocked"), ids[2]: ("failed", "bad_request"),
        ids[3]: ("sent", None)}
    assert rows[ids[0]].attempts == 2 and rows[ids[0]].provider_id and rows[ids[0]].sent_at
    chats = [str(c["params"]["chat_id"]) for c in fake.sent("telegram")]
    assert sorted(chats) == ["8100", "8103"]


def test_someone_who_stops_after_the_batch_was_read_is_not_sent_to(runtime, fake, monkeypatch):
    keep = person(runtime, "telegram", "8201", "ar")
    stops = person(runtime, "telegram", "8202", "ar")
    leaves = person(runtime, "telegram", "8203", "ar")
    prepare = broadcast_runner._prepare

    def then_they_stop(*args):
        jobs = prepare(*args)
        with runtime.transaction() as session:     # after the batch was read, before any claim
            session.execute(Contact.__table__.update().where(Contact.id == stops).values(opted_out=True))
            session.execute(Contact.__table__.update().where(Contact.id == leaves).values(subscribed=False))
        return jobs

    monkeypatch.setattr(broadcast_runner, "_prepare", then_they_stop)
    broadcast_id = compose(runtime)
    send_now(runtime, broadcast_id)
    assert broadcast_runner.run(runtime) == "idle"
    assert [str(c["params"]["chat_id"]) for c in fake.sent("telegram")] == ["8201"]
    with runtime.transaction() as session:
        rows = {r.contact_id: (r.status, r.failure_reason)
                for r in session.scalars(select(Outbound).where(Outbound.broadcast_id == broadcast_id))}
    assert rows == {keep: ("sent", None), stops: ("undeliverable", "opted_out"),
                    leaves: ("undeliverable", "unsubscribed")}


def test_outcomes_whose_write_failed_are_written_later(runtime, fake, monkeypatch):
    from contextlib import contextmanager

    from bot.outbound import rows
    for n in range(3):
        person(runtime, "telegram", str(8300 + n), "ar")
    hot = rows.hot_transaction
    failed = []

    @contextmanager
    def flaky(*args, **kwargs):
        if threading.current_thread().name == "record-outcomes" and not failed:
            failed.append(True)
            raise RuntimeError("database went away")
        with hot(*args, **kwargs) as conn:
            yield conn

    monkeypatch.setattr(rows, "hot_transaction", flaky)
    broadcast_id = compose(runtime)
    send_now(runtime, broadcast_id)
    assert broadcast_runner.run(runtime) == "idle"
    assert failed and len(fake.sent("telegram")) == 3
    with runtime.transaction() as session:
        statuses = [r.status for r in session.scalars(select(Outbound).where(Outbound.broadcast_id == broadcast_id))]
    assert statuses == ["sent"] * 3


def test_a_broadcast_to_a_channel_that_is_off_is_said_before_sending(environ, tmp_path):
    """SMS without Twilio settings: `broadcast show` warns that those people would not receive it."""
    from bot import create_app
    off = {k: v for k, v in environ.items() if not k.startswith("TWILIO_")}
    app = create_app({"INSTANCE_PATH": str(tmp_path / "off"), "ENVIRON": off, "TESTING": True})
    runtime = app.extensions["bot"]
    try:
        person(runtime, "sms", "+9647500000991", "ar")
        person(runtime, "telegram", "9991", "ar")
        broadcast_id = compose(runtime)
        shown = app.test_cli_runner().invoke(args=["broadcast", "show", str(broadcast_id)]).output
        assert "WARNING: sms is off" in shown and "1 people there would not receive it" in shown
        assert "telegram is off" not in shown
    finally:
        runtime.dispose()
