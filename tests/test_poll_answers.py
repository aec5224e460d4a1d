"""Answering polls when things go wrong: a provider delivering an answer twice or eight times at once, one
person's answers racing on several web threads, two writers upserting the same answer, the worker killed
while question 1 goes out (nobody asked twice), STOP in the middle, and the ways people write an answer."""
import os
import signal
import subprocess
import sys
import threading

import pytest
from sqlalchemy import func, select

from bot.models import Outbound, Poll, PollAnswer, utcnow
from bot.poll_answers import save_turn
from handlers.conversation import ContactState
from handlers.i18n import Translator
from handlers.polls import THANKS, PollAnswerNote, PollQuestion, PollTurn, match_option
from handlers.types import Incoming

from .conftest import Twilio, twiml_bodies
from .test_broadcasts import person
from .test_concurrency import all_at_once, server, telegram_request, twilio_request  # noqa: F401  (fixture)
from .test_polls import DAY, SMS_AR, WINTER, approve_and_send, make_poll, opt_in_sms
from .test_queue import ROOT, _start_worker, _wait, worker_env  # noqa: F401  (fixture)


def _answers(runtime) -> list[tuple]:
    with runtime.transaction() as session:
        return session.execute(select(PollAnswer.question, PollAnswer.option, PollAnswer.changes)
                               .order_by(PollAnswer.question)).all()


def test_an_answer_delivered_twice_is_kept_once_and_answered_alike(runtime, fake, twilio):
    opt_in_sms(twilio, SMS_AR, "مرحبا", "duhok", "duhok-khanke")
    approve_and_send(runtime, make_poll(runtime))
    form = twilio.form("١", SMS_AR)
    first = twiml_bodies(twilio.post(form).get_data(as_text=True))
    again = twiml_bodies(twilio.post(form).get_data(as_text=True))
    assert first == again and DAY["text"]["ar"] in first[0]
    assert _answers(runtime) == [(0, 1, 0)]
    assert Translator("ar")(THANKS) in twilio.say("٣", SMS_AR)[0]      # question 2 still waits, once
    assert _answers(runtime) == [(0, 1, 0), (1, 3, 0)]


def test_an_answer_delivered_on_eight_threads_at_once_is_kept_once(server, runtime, fake, twilio):  # noqa: F811
    opt_in_sms(twilio, SMS_AR, "مرحبا", "duhok", "duhok-khanke")
    approve_and_send(runtime, make_poll(runtime))
    form = Twilio(None).form("2", SMS_AR, MessageSid="SM" + "7" * 32, SmsMessageSid="SM" + "7" * 32)
    results = all_at_once(server, [twilio_request(form)] * 8)
    assert all(status == 200 for status, _ in results)
    bodies = {tuple(twiml_bodies(body)) for _, body in results}
    assert len(bodies) == 1 and DAY["text"]["ar"] in next(iter(bodies))[0]
    assert _answers(runtime) == [(0, 2, 0)]


def test_one_persons_answers_racing_on_threads_fill_each_question_once(server, runtime, fake):  # noqa: F811
    """Six different messages "1" from one person at once: the contact's row lock puts them in a line;
    question 1 and question 2 get one answer each, the rest go where "1" leads afterwards."""
    chat = 7660001
    person(runtime, "telegram", str(chat), "ckb", area="erbil-baharka")
    approve_and_send(runtime, make_poll(runtime))
    from .conftest import Telegram
    maker = Telegram(None)
    updates = [maker.update("1", chat_id=chat, language_code="ckb") for _ in range(6)]
    results = all_at_once(server, [telegram_request(u) for u in updates])
    assert all(status == 200 for status, _ in results)
    assert _answers(runtime) == [(0, 1, 0), (1, 1, 0)]


def test_many_people_answering_at_once_are_all_counted(server, runtime, fake):  # noqa: F811
    chats = [7670000 + n for n in range(12)]
    for chat in chats:
        person(runtime, "telegram", str(chat), "ckb", area="erbil-baharka")
    poll_id = make_poll(runtime)
    approve_and_send(runtime, poll_id)
    from .conftest import Telegram
    maker = Telegram(None)
    words = ["بەڵێ", "١", "نەخێر", "2"]
    results = all_at_once(server, [telegram_request(maker.update(words[n % 4], chat_id=chat, language_code="ckb"))
                                   for n, chat in enumerate(chats)])
    assert all(status == 200 for status, _ in results)
    with runtime.transaction() as session:
        counts = dict(session.execute(select(PollAnswer.option, func.count()).group_by(PollAnswer.option)).all())
    assert counts == {1: 6, 2: 6}


def test_two_writers_upserting_the_same_answer_leave_one_row(runtime, database_url):
    """Past the contact's lock (a second worker, a provider retry under another id): the unique
    (poll_id, question, contact_id) and the upsert decide, on SQLite and PostgreSQL, from threads."""
    contact_id = person(runtime, "sms", "+9647506660001", "ar")
    poll_id = make_poll(runtime)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def write(option: int) -> None:
        try:
            barrier.wait(timeout=10)
            with runtime.transaction() as session:
                turn = PollTurn(poll_id, "ar", [PollQuestion("choice", "q", ["a", "b"])], changed=True,
                                answers=[PollAnswerNote(0, option=option)])
                save_turn(runtime, session.connection(), contact_id, "sms",
                          ContactState(language="ar", poll=turn), utcnow())
        except BaseException as exc:      # noqa: BLE001  (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(1 + n % 2,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    rows = _answers(runtime)
    assert len(rows) == 1 and rows[0][2] == 3                             # one row, three changes
    with runtime.transaction() as session:
        assert session.scalar(select(func.count()).select_from(PollAnswer).where(PollAnswer.poll_id == poll_id)) == 1


def test_stop_in_the_middle_of_a_poll_ends_it_for_that_person(runtime, fake, twilio):
    opt_in_sms(twilio, SMS_AR, "مرحبا", "duhok", "duhok-khanke")
    approve_and_send(runtime, make_poll(runtime))
    assert DAY["text"]["ar"] in twilio.say("1", SMS_AR)[0]
    stopped = "\n".join(twilio.say("STOP", SMS_AR))
    assert DAY["text"]["ar"] not in stopped
    for text in ("1", "استبيان", "تخطي"):
        assert twilio.say(text, SMS_AR) == [
            Translator("ar")("You asked us to stop messages. Send START to use the service again.")]
    assert _answers(runtime) == [(0, 1, 0)]


def test_a_worker_killed_while_question_one_goes_out_asks_nobody_twice(runtime, fake, worker_env):  # noqa: F811
    for n in range(30):
        person(runtime, "telegram", str(7680000 + n), "ckb")
    worker_env.update({"TELEGRAM_RATE": "10", "BROADCAST_LEASE_SECONDS": "2"})
    poll_id = make_poll(runtime)
    with runtime.transaction() as session:
        poll = session.get(Poll, poll_id)
        from bot import polls
        polls.approve(session, poll, "user:2", runtime.config)
        polls.send(session, poll, "user:2", runtime.config)
        broadcast_id = poll.broadcast_id
    worker = _start_worker(worker_env)
    try:
        subprocess.run([sys.executable, "-c", "from bot.queue import broadcast_run_task; broadcast_run_task()"],
                       cwd=ROOT, env=worker_env, check=True, timeout=60)
        assert _wait(lambda: len(fake.sent("telegram")) >= 8, 30), "the worker never started sending"
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
        assert len(fake.sent("telegram")) < 30
        worker = _start_worker(worker_env)
        assert _wait(lambda: _carrier_done(runtime, poll_id), 90)
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    chats = [str(c["params"]["chat_id"]) for c in fake.sent("telegram")]
    assert len(chats) == len(set(chats))                                  # nobody asked twice
    assert all(WINTER["text"]["ckb"] in c["params"]["text"] for c in fake.sent("telegram"))
    with runtime.transaction() as session:
        interrupted = session.scalar(select(func.count()).select_from(Outbound).where(
            Outbound.broadcast_id == broadcast_id, Outbound.failure_reason == "interrupted"))
        assert polls.refresh(session, session.get(Poll, poll_id)) == "open"
    # everyone asked, or the gap on record: a message cut off mid-call is marked interrupted, never resent
    # (the provider may have had it: then it is both delivered and on record)
    assert len(chats) <= 30 and len(chats) + interrupted >= 30


def _carrier_done(runtime, poll_id: int) -> bool:
    from bot.models import Broadcast
    with runtime.transaction() as session:
        return session.get(Broadcast, session.get(Poll, poll_id).broadcast_id).status == "done"


# How people write an answer: digits of three systems, a button's label, yes/no words, the option's words.
@pytest.mark.parametrize("lang, text, question, expected", [
    ("ar", "1", WINTER, 1), ("ar", "١", WINTER, 1), ("ar", "۱", WINTER, 1), ("ar", "١. نعم", WINTER, 1),
    ("ar", "نعم", WINTER, 1), ("ar", "اي", WINTER, 1), ("ar", "لا", WINTER, 2), ("ar", "٣", WINTER, None),
    ("ckb", "بەڵێ", WINTER, 1), ("ckb", "نەخێر", WINTER, 2), ("ckb", "ئا", WINTER, 1), ("ckb", "نا", WINTER, 2),
    ("kmr", "بەلێ", WINTER, 1), ("kmr", "نە", WINTER, 2),
    ("en", "yes", WINTER, 1), ("en", "No", WINTER, 2), ("en", "1 2", WINTER, None), ("en", "maybe", WINTER, None),
    ("ar", "الأحد", DAY, 2), ("ar", "يوم الاحد", DAY, None), ("ckb", "یەکشەممە", DAY, 2), ("en", "monday", DAY, 3),
    ("ar", "نعم", DAY, None),
])
def test_an_answer_is_the_options_number_a_yes_or_no_word_or_its_own_words(lang, text, question, expected):
    from handlers.content import load
    from handlers.conversation import Conversation
    ctx = Conversation(load(), Incoming("sms", "x", text), ContactState(language=lang))
    shown = PollQuestion("choice", question["text"][lang], [o[lang] for o in question["options"]])
    assert match_option(ctx, shown, text) == expected


def test_a_complaint_told_in_steps_holds_the_poll_until_the_case_is_filed():
    """"شكوى" alone, then the words, then the optional area question: the poll waits through all of it
    (a number there picks the area, not an option) and asks its question again once the person is done."""
    from handlers import router
    from handlers.content import load

    from .test_router_rules import Services
    content, services = load(), Services()
    state = ContactState(language="ar", state="browsing")
    state.poll = PollTurn(1, "ar", [PollQuestion("choice", WINTER["text"]["ar"], ["نعم", "لا"])], waiting=0)
    t = Translator("ar")

    def say(text: str) -> str:
        ctx = router.respond(content, Incoming("sms", "+9647700000009", text), state, services)
        return "\n".join(r.text for r in ctx.replies)

    say("شكوى")
    assert state.poll.held and state.state == "feedback_text"
    filed = say("الموظف صرخ علينا اثناء التوزيع ولم يعطنا الحصة")
    assert services.cases and state.state == "feedback_area" and WINTER["text"]["ar"] not in filed
    assert state.poll.held and state.poll.waiting == 0
    back = say("0")                                                       # skip the area
    assert t("Back to the poll:") in back and WINTER["text"]["ar"] in back
    assert not state.poll.held
    say("2")
    assert state.poll.answers[-1].option == 2 and state.poll.finished
