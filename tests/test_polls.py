"""Polls as a new user meets them, through the real webhooks: three people who opted in on three channels
get a two-question poll in their language, answer, change an answer, complain in the middle; staff see
the results with small cells hidden and export them for HDX without a phone number. Also the rules staff
work by: what a poll may hold, the approval rule, close and cancel, the command line, erasure, retention."""
import csv
import io
import json
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from bot import broadcast_runner, broadcasts, poll_results, polls, retention
from bot.models import Broadcast, Case, Contact, Outbound, Poll, PollAnswer, utcnow
from handlers.codes import display
from handlers.i18n import Translator
from handlers.polls import AGAIN, BACK_TO_POLL, REPLY_NUMBER, SKIPPED, THANKS

from .test_subscription import governorate_key, place_key

WINTER = {"kind": "choice",
          "text": {"ar": "هل استلمت عائلتك حقيبة الشتاء؟", "ckb": "ئایا خێزانەکەت کیتی زستانەی وەرگرت؟",
                   "kmr": "ئەرێ خێزانا تە کیتا زستانێ وەرگرت؟", "en": "Did your family receive the winter kit?"},
          "options": [{"ar": "نعم", "ckb": "بەڵێ", "kmr": "بەلێ", "en": "Yes"},
                      {"ar": "لا", "ckb": "نەخێر", "kmr": "نەخێر", "en": "No"}]}
DAY = {"kind": "choice",
       "text": {"ar": "أي يوم يناسبكم للتوزيع؟", "ckb": "کام ڕۆژ بۆ دابەشکردن گونجاوە؟",
                "kmr": "کیژ ڕۆژ بۆ دابەشکرنێ باشە؟", "en": "Which day suits the distribution?"},
       "options": [{"ar": "السبت", "ckb": "شەممە", "kmr": "شەمبی", "en": "Saturday"},
                   {"ar": "الأحد", "ckb": "یەکشەممە", "kmr": "یەکشەمبی", "en": "Sunday"},
                   {"ar": "الاثنين", "ckb": "دووشەممە", "kmr": "دووشەمبی", "en": "Monday"}]}
SMS_AR, TG_CKB, WA_KMR = "+9647505550001", 7550002, "whatsapp:+9647705550003"


def opt_in_sms(twilio, sender, greeting, group, camp):
    """Greeting, 6 (announcements), 1 (all), the governorate, the camp, 1 (yes): as a person does."""
    for text in (greeting, "6", "1", governorate_key(group), place_key(group, camp), "1"):
        twilio.say(text, sender)


def opt_in_telegram(telegram, chat, greeting, lang, group, camp):
    for text in (greeting, "6", "1", governorate_key(group), place_key(group, camp), "1"):
        telegram.say(text, chat_id=chat, language_code=lang)


def make_poll(runtime, questions=(WINTER, DAY), actor="user:1", **options) -> int:
    with runtime.transaction() as session:
        return polls.create(runtime, session, title="winter kit", questions=list(questions), actor=actor,
                            **options).id


def approve_and_send(runtime, poll_id, approver="user:2"):
    with runtime.transaction() as session:
        poll = session.get(Poll, poll_id)
        polls.approve(session, poll, approver, runtime.config)
        polls.send(session, poll, approver, runtime.config)
    broadcast_runner.run(runtime)


def text_of(telegram_answer) -> str:
    return telegram_answer["text"]


def test_three_people_answer_a_two_question_poll_in_their_language_and_staff_see_safe_results(
        runtime, fake, twilio, telegram):
    opt_in_sms(twilio, SMS_AR, "مرحبا", "duhok", "duhok-khanke")
    opt_in_telegram(telegram, TG_CKB, "سڵاو", "ckb", "erbil", "erbil-baharka")
    opt_in_sms(twilio, WA_KMR, "سلاڤ، چاوانی؟", "duhok", "duhok-sharya")
    with runtime.transaction() as session:
        people = session.execute(select(Contact.channel, Contact.language, Contact.subscribed)).all()
    assert sorted(people) == [("sms", "ar", True), ("telegram", "ckb", True), ("whatsapp", "kmr", True)]
    fake.calls.clear()

    poll_id = make_poll(runtime)
    approve_and_send(runtime, poll_id)
    sent = {c["service"]: c["params"] for c in fake.sent()}
    assert len(fake.sent()) == 3                                  # question 1, once each, in their language
    assert WINTER["text"]["ckb"] in sent["telegram"]["text"] and "١. بەڵێ" in sent["telegram"]["text"]
    bodies = {p["To"]: p["Body"] for p in (c["params"] for c in fake.sent()) if "To" in p}
    assert WINTER["text"]["ar"] in bodies[SMS_AR] and Translator("ar")(REPLY_NUMBER) in bodies[SMS_AR]
    assert WINTER["text"]["kmr"] in bodies[WA_KMR]

    # question 1: "١" (Arabic digits), "بەڵێ" (a yes word), "2" (a Latin digit); each gets question 2 back
    assert DAY["text"]["ar"] in twilio.say("١", SMS_AR)[0]
    assert DAY["text"]["ckb"] in text_of(telegram.say("بەڵێ", chat_id=TG_CKB, language_code="ckb"))
    assert DAY["text"]["kmr"] in twilio.say("2", WA_KMR)[0]

    # the Badini speaker complains in the middle: a case, and the question comes back
    complaint = "گازندە: کارمەندێن دابەشکرنێ ب ڕەنگەکێ خراب دگەل مە ئاخفتن و قیڕی ل مە کر"
    said = "\n".join(twilio.say(complaint, WA_KMR))
    with runtime.transaction() as session:
        case = session.execute(select(Case)).scalar_one()
    assert case.kind == "complaint" and case.channel == "whatsapp"
    assert Translator("kmr")(BACK_TO_POLL) in said and DAY["text"]["kmr"] in said

    # question 2: the option's own word, "٢", "1"; each then thanked
    t_ar, t_ckb, t_kmr = Translator("ar"), Translator("ckb"), Translator("kmr")
    assert t_ar(THANKS) in twilio.say("السبت", SMS_AR)[0]
    assert t_ckb(THANKS) in text_of(telegram.say("٢", chat_id=TG_CKB, language_code="ckb"))
    assert t_kmr(THANKS) in twilio.say("1", WA_KMR)[0]

    # the Arabic speaker changes question 1: POLL brings it back, "لا" answers, SKIP keeps question 2
    again = twilio.say("استبيان", SMS_AR)[0]
    assert WINTER["text"]["ar"] in again
    assert DAY["text"]["ar"] in twilio.say("لا", SMS_AR)[0]
    kept = twilio.say("تخطي", SMS_AR)[0]
    assert t_ar(SKIPPED) in kept and t_ar(THANKS) in kept

    with runtime.transaction() as session:
        poll = session.get(Poll, poll_id)
        result = poll_results.results(runtime, session, poll)
        by_area = poll_results.breakdown(runtime, session, poll, "area")
        by_channel = poll_results.breakdown(runtime, session, poll, "channel", min_cell=1)
        exported = poll_results.export_respondents(runtime, session, poll, "csv")
        aggregate = poll_results.export_aggregate(runtime, session, poll, "csv", by="governorate")
        rows = session.execute(select(PollAnswer.question, PollAnswer.option, PollAnswer.changes)
                               .order_by(PollAnswer.question, PollAnswer.option)).all()
    assert result["received"] == 3 and result["status"] == "open"   # all sent: open for answers
    first, second = result["questions"]
    assert (first["answered"], first["skipped"]) == (3, 0)
    assert [o["count"] for o in first["options"]] == [1, 2]           # yes: ckb; no: kmr and ar (changed)
    assert [o["percent"] for o in first["options"]] == [33.3, 66.7]
    assert [o["count"] for o in second["options"]] == [2, 1, 0]       # the skip kept "Saturday"
    assert sorted(r.changes for r in rows if r.question == 0) == [0, 0, 1]
    # one person per camp and per channel: below the minimum of 5, nothing but "<5" is shown
    cells = [row for q in by_area["questions"] for row in q["rows"]]
    assert {row["key"] for row in cells} == {"duhok-khanke", "duhok-sharya", "erbil-baharka"}
    assert all(row["total"] == "<5" and set(row["options"].values()) == {"<5"} for row in cells)
    assert by_channel["questions"][0]["rows"][0]["total"] == 1       # a minimum of 1 shows them

    table = list(csv.reader(io.StringIO(exported)))
    assert table[1][0] == "#meta+poll" and "#adm1+code" in table[1] and "#x_poll_option+num" in table[1]
    assert len(table) == 2 + 6
    flat = exported + aggregate
    for address in ("7505550001", "7705550003", str(TG_CKB), "+964"):
        assert address not in flat
    assert len({row[1] for row in table[2:]}) == 3                    # one pseudonymous id per person
    assert all(row[1].startswith("r-") and len(row[1]) == 18 for row in table[2:])
    assert list(csv.reader(io.StringIO(aggregate)))[1][:3] == ["#meta+poll", "#adm1+code", "#loc+code"]


def test_an_answer_that_fits_nothing_is_asked_again_once_then_the_message_is_handled_as_usual(
        runtime, fake, twilio):
    opt_in_sms(twilio, SMS_AR, "مرحبا", "duhok", "duhok-khanke")
    approve_and_send(runtime, make_poll(runtime))
    t = Translator("ar")
    again = twilio.say("ربما", SMS_AR)[0]
    assert t(AGAIN) in again and WINTER["text"]["ar"] in again and "١. نعم" in again
    answer = "\n".join(twilio.say("ما هي أعراض الكوليرا", SMS_AR))
    assert WINTER["text"]["ar"] not in answer and t(AGAIN) not in answer   # the question went to search
    assert "ORS" in answer                                                # the cholera answer
    menu = "\n".join(twilio.say("1", SMS_AR))                             # the question no longer waits
    with runtime.transaction() as session:
        assert session.scalar(select(PollAnswer.id)) is None
    assert WINTER["text"]["ar"] not in menu


def test_menu_help_and_stop_still_work_while_a_question_waits_and_poll_brings_it_back(
        runtime, fake, twilio, telegram):
    opt_in_telegram(telegram, TG_CKB, "سڵاو", "ckb", "erbil", "erbil-baharka")
    approve_and_send(runtime, make_poll(runtime))
    t = Translator("ckb")
    menu = text_of(telegram.say("لیست", chat_id=TG_CKB, language_code="ckb"))
    assert t("Main menu") in menu or "١" in menu
    topic = text_of(telegram.say("1", chat_id=TG_CKB, language_code="ckb"))   # the menu's 1, not the poll's
    assert DAY["text"]["ckb"] not in topic
    back = text_of(telegram.say("ڕاپرسی", chat_id=TG_CKB, language_code="ckb"))
    assert WINTER["text"]["ckb"] in back
    assert DAY["text"]["ckb"] in text_of(telegram.say("1", chat_id=TG_CKB, language_code="ckb"))
    stopped = text_of(telegram.say("ڕاوەستە", chat_id=TG_CKB, language_code="ckb"))
    assert DAY["text"]["ckb"] not in stopped
    still = text_of(telegram.say("2", chat_id=TG_CKB, language_code="ckb"))
    assert t("You asked us to stop messages. Send START to use the service again.") in still
    with runtime.transaction() as session:
        answers = session.execute(select(PollAnswer.question, PollAnswer.option)).all()
    assert answers == [(0, 1)]                                            # nothing after STOP


def test_a_question_not_answered_within_the_window_stops_waiting(runtime, fake, twilio):
    opt_in_sms(twilio, SMS_AR, "مرحبا", "duhok", "duhok-khanke")
    poll_id = make_poll(runtime, window_hours=2)
    approve_and_send(runtime, poll_id)
    with runtime.transaction() as session:
        session.execute(update(Outbound).where(Outbound.broadcast_id == session.get(Poll, poll_id).broadcast_id)
                        .values(sent_at=utcnow() - timedelta(hours=3)))
    reply = "\n".join(twilio.say("1", SMS_AR))
    assert DAY["text"]["ar"] not in reply                                 # "1" is the menu's again
    with runtime.transaction() as session:
        assert session.scalar(select(PollAnswer.id)) is None
    assert WINTER["text"]["ar"] in twilio.say("استبيان", SMS_AR)[0]       # still open: POLL asks again
    assert DAY["text"]["ar"] in twilio.say("1", SMS_AR)[0]


def test_a_free_answer_is_kept_encrypted_and_one_with_a_complaint_becomes_a_case(runtime, fake, twilio):
    free = {"kind": "free", "text": {"ar": "ما الذي يجب أن نحسنه في التوزيع؟", "en": "What should we improve?"}}
    opt_in_sms(twilio, SMS_AR, "مرحبا", "duhok", "duhok-khanke")
    poll_id = make_poll(runtime, questions=[free])
    approve_and_send(runtime, poll_id)
    words = "شكوى: الموظف صرخ علينا ولم يعطنا الحصة كاملة، رقمي 07501234567"
    said = twilio.say(words, SMS_AR)[0]
    assert Translator("ar")(THANKS) in said
    with runtime.transaction() as session:
        answer = session.execute(select(PollAnswer)).scalar_one()
        case = session.get(Case, answer.case_id)
        listed = poll_results.free_answers(runtime, session, session.get(Poll, poll_id), search="الموظف")
        nothing = poll_results.free_answers(runtime, session, session.get(Poll, poll_id), search="خيمة")
    assert "صرخ" not in answer.text_enc and runtime.vault.decrypt(answer.text_enc) == words
    assert case is not None and case.kind == "complaint"
    assert Translator("ar").digits(display(case.code)) in said           # the person gets the reference code
    assert listed["total"] == 1 and "07501234567" not in listed["items"][0]["text"]
    assert listed["items"][0]["case_code"] == case.code and nothing["total"] == 0


def test_what_a_poll_may_hold_and_the_approval_rule(runtime):
    with pytest.raises(polls.PollError, match="at least one question"):
        make_poll(runtime, questions=[])
    with pytest.raises(polls.PollError, match="at most 5"):
        make_poll(runtime, questions=[WINTER] * 6)
    with pytest.raises(polls.PollError, match="2 to 9 options"):
        make_poll(runtime, questions=[{**WINTER, "options": WINTER["options"][:1]}])
    with pytest.raises(polls.PollError, match="option 2 has no"):
        make_poll(runtime, questions=[{**WINTER, "options": [WINTER["options"][0], {"ar": "لا"}]}])
    with pytest.raises(polls.PollError, match="same languages"):
        make_poll(runtime, questions=[WINTER, {**DAY, "text": {"ar": "اي يوم؟"},
                                               "options": [{"ar": "السبت"}, {"ar": "الأحد"}]}])
    with pytest.raises(polls.PollError, match="window"):
        make_poll(runtime, window_hours=0)
    with pytest.raises(broadcasts.BroadcastError, match="Unknown area"):
        make_poll(runtime, areas=["atlantis"])                          # the broadcasts' own target checks
    poll_id = make_poll(runtime, actor="user:1")
    with runtime.transaction() as session:
        poll = session.get(Poll, poll_id)
        with pytest.raises(Exception, match="approval"):
            polls.send(session, poll, "user:1", runtime.config)
        with pytest.raises(Exception, match="second person"):
            polls.approve(session, poll, "user:1", runtime.config)
        polls.approve(session, poll, "user:2", runtime.config)
        with pytest.raises(polls.PollError, match="Only a draft"):
            polls.update(runtime, session, poll, actor="user:1", title="changed")
        assert session.get(Broadcast, poll.broadcast_id).status == "approved"
    runtime.config["BROADCAST_APPROVAL"] = "none"
    other = make_poll(runtime, actor="user:1")
    with runtime.transaction() as session:
        assert polls.send(session, session.get(Poll, other), "user:1", runtime.config) is True


def test_the_carrier_broadcast_is_the_polls_own(runtime, app):
    """Question 1's broadcast is approved and sent as the poll, never alone from the broadcasts side,
    and the broadcasts list leaves it out."""
    poll_id = make_poll(runtime)
    with runtime.transaction() as session:
        carrier = polls.carrier(session, session.get(Poll, poll_id))
        with pytest.raises(broadcasts.BroadcastError, match="carries a poll"):
            broadcasts.approve(session, carrier, "user:2", runtime.config)
        with pytest.raises(broadcasts.BroadcastError, match="carries a poll"):
            broadcasts.start(session, carrier, "user:2", runtime.config)
        listed = session.execute(select(Broadcast.id).where(broadcasts.not_a_poll())).scalars().all()
        assert carrier.id not in listed
    shown = app.test_cli_runner().invoke(args=["broadcast", "list"])
    assert "Poll: winter kit" not in shown.output


def test_a_draft_is_edited_with_its_revision_and_previews_count_sms_parts(runtime):
    poll_id = make_poll(runtime)
    with runtime.transaction() as session:
        poll = session.get(Poll, poll_id)
        old_carrier = poll.broadcast_id
        polls.update(runtime, session, poll, actor="user:1", revision=0, questions=[DAY], channels=["sms"])
        with pytest.raises(polls.PollError, match="changed this poll"):
            polls.update(runtime, session, poll, actor="user:1", revision=0, title="x")
        carrier = polls.carrier(session, poll)
        assert poll.broadcast_id != old_carrier and carrier.channels == "sms"
        assert DAY["text"]["ar"] in json.loads(carrier.texts)["ar"]
        shown = polls.previews(poll)
    ar = next(p for p in shown if p["language"] == "ar")
    assert ar["sms_segments"] <= 3 and "١. السبت" in ar["text"]


def test_closing_ends_answers_and_cancelling_keeps_the_rest_unasked(runtime, fake, twilio):
    opt_in_sms(twilio, SMS_AR, "مرحبا", "duhok", "duhok-khanke")
    poll_id = make_poll(runtime)
    approve_and_send(runtime, poll_id)
    assert DAY["text"]["ar"] in twilio.say("1", SMS_AR)[0]
    with runtime.transaction() as session:
        polls.close(session, session.get(Poll, poll_id), "user:2")
    after = "\n".join(twilio.say("2", SMS_AR))
    assert Translator("ar")(THANKS) not in after
    assert Translator("ar")("There is no open poll for you now.") in "\n".join(twilio.say("استبيان", SMS_AR))
    with runtime.transaction() as session:
        assert session.execute(select(PollAnswer.question)).scalars().all() == [0]
        with pytest.raises(polls.PollError):
            polls.close(session, session.get(Poll, poll_id), "user:2")

    scheduled = make_poll(runtime)
    with runtime.transaction() as session:
        poll = session.get(Poll, scheduled)
        polls.approve(session, poll, "user:2", runtime.config)
        assert polls.send(session, poll, "user:2", runtime.config, at=utcnow() + timedelta(hours=5)) is False
        assert poll.status == "scheduled"
        polls.cancel(session, poll, "user:2")
        assert poll.status == "cancelled" and polls.carrier(session, poll).status == "cancelled"


def test_erasure_and_retention_treat_answers_as_messages(runtime, fake, twilio):
    opt_in_sms(twilio, SMS_AR, "مرحبا", "duhok", "duhok-khanke")
    free = {"kind": "free", "text": {"ar": "ما الذي يجب أن نحسنه؟", "ckb": "چی باشتر بکەین؟",
                                     "kmr": "ئەم چ باشتر بکەین؟", "en": "What should we improve?"}}
    poll_id = make_poll(runtime, questions=[WINTER, free])
    approve_and_send(runtime, poll_id)
    twilio.say("1", SMS_AR)
    twilio.say("نريد بطانيات اكثر للاطفال", SMS_AR)
    with runtime.transaction() as session:
        session.execute(update(PollAnswer).values(updated_at=utcnow() - timedelta(days=100)))
    assert retention.purge(runtime)["poll answers"] == 1
    with runtime.transaction() as session:
        assert session.execute(select(PollAnswer.text_enc).where(PollAnswer.question == 1)).scalar() is None
    twilio.say("احذف بياناتي", SMS_AR)
    twilio.say("نعم", SMS_AR)
    with runtime.transaction() as session:
        left = session.execute(select(PollAnswer.contact_id, PollAnswer.option)).all()
        poll = session.get(Poll, poll_id)
        counts = poll_results.results(runtime, session, poll)
    assert left and all(contact is None for contact, _ in left)        # the counts stay, the person goes
    assert counts["questions"][0]["options"][0]["count"] == 1


def test_the_command_line_creates_approves_sends_reports_closes_and_exports(app, runtime, fake, twilio, tmp_path):
    from bot import users
    opt_in_sms(twilio, SMS_AR, "مرحبا", "duhok", "duhok-khanke")
    with runtime.transaction() as db:
        users.create(db, "amal@agency.example", "Amal", "long enough password", "officer")
        users.create(db, "karwan@agency.example", "Karwan", "long enough password", "officer")
        users.create(db, "vian@agency.example", "Vian", "long enough password", "viewer")
    spec = tmp_path / "poll.json"
    spec.write_text(json.dumps({"title": "winter kit", "questions": [WINTER, DAY], "window_hours": 48,
                                "areas": ["duhok"]}, ensure_ascii=False), encoding="utf-8")
    runner = app.test_cli_runner()
    made = runner.invoke(args=["poll", "create", str(spec), "--as", "amal@agency.example"])
    assert made.exit_code == 0, made.output
    poll_id = int(made.output.split("poll ")[1].split()[0])
    shown = runner.invoke(args=["poll", "show", str(poll_id)])
    assert "SMS part" in shown.output and "sms 1" in shown.output and WINTER["text"]["ar"] in shown.output
    refused = runner.invoke(args=["poll", "approve", str(poll_id), "--as", "amal@agency.example"])
    assert refused.exit_code != 0 and "second person" in refused.output
    assert "may not approve" in runner.invoke(args=["poll", "approve", str(poll_id), "--as",
                                                    "vian@agency.example"]).output
    assert runner.invoke(args=["poll", "approve", str(poll_id), "--as", "karwan@agency.example"]).exit_code == 0
    sent = runner.invoke(args=["poll", "send", str(poll_id), "--as", "karwan@agency.example"])
    assert sent.exit_code == 0, sent.output
    assert WINTER["text"]["ar"] in fake.sent()[-1]["params"]["Body"]        # HUEY_IMMEDIATE: sent already
    twilio.say("1", SMS_AR)
    status = runner.invoke(args=["poll", "status", str(poll_id)])
    assert status.exit_code == 0 and "received 1" in status.output and "1 (100.0%)" in status.output
    assert runner.invoke(args=["poll", "close", str(poll_id), "--as", "karwan@agency.example"]).exit_code == 0
    out = tmp_path / "answers.csv"
    exported = runner.invoke(args=["poll", "export", str(poll_id), "--format", "csv", "--output", str(out)])
    assert exported.exit_code == 0, exported.output
    text = out.read_text(encoding="utf-8")
    assert "#x_poll_question+num" in text and "7505550001" not in text
    aggregate = runner.invoke(args=["poll", "export", str(poll_id), "--aggregate", "--by", "area",
                                    "--format", "json"])
    assert json.loads(aggregate.output)["hxl"]["count"] == "#indicator+num+count"
    assert runner.invoke(args=["poll", "show", "999"]).exit_code != 0


def test_breakdowns_group_in_sql_and_hide_small_cells_and_the_timeline_hides_only_small_periods(runtime):
    """Six answers in one camp and hour (five yes, one no) and two in another camp: the camp with two is
    hidden whole; the one with six shows 5 yes, hides the 1 and so its total; over time the hour shows 8."""
    poll_id = make_poll(runtime)
    at = utcnow().replace(minute=10, second=0, microsecond=0)
    with runtime.transaction() as session:
        for n in range(8):
            contact = person_row(session, runtime, n)
            session.add(PollAnswer(poll_id=poll_id, question=0, contact_id=contact, option=1 if n < 5 else 2,
                                   language="ar", channel="sms", area="duhok-khanke" if n < 6 else "duhok-sharya",
                                   created_at=at, updated_at=at))
    with runtime.transaction() as session:
        poll = session.get(Poll, poll_id)
        by_area = {row["key"]: row for row in poll_results.breakdown(runtime, session, poll, "area")["questions"][0]["rows"]}
        by_governorate = poll_results.breakdown(runtime, session, poll, "governorate")["questions"][0]["rows"]
        by_hour = poll_results.breakdown(runtime, session, poll, "hour")["questions"][0]["rows"]
        over_time = poll_results.timeline(runtime, session, poll, "hour")
        by_day = poll_results.timeline(runtime, session, poll, "day")
    assert by_area["duhok-khanke"]["options"] == {"1": 5, "2": "<5"} and by_area["duhok-khanke"]["total"] == "<5"
    assert by_area["duhok-sharya"]["options"] == {"1": "<5", "2": "<5"}
    assert by_area["duhok-khanke"]["group"] == "duhok"
    assert [(row["key"], row["total"], row["options"]) for row in by_governorate] == \
        [("duhok", "<5", {"1": 5, "2": "<5"})]                           # 3 "no" hidden, so the total too
    local = at.astimezone(ZoneInfo(runtime.config["TIMEZONE"]))
    assert [row["key"] for row in by_hour] == [local.strftime("%Y-%m-%d %H:00")]
    assert over_time == [{"period": local.strftime("%Y-%m-%d %H:00"), "answers": 8}]
    assert by_day == [{"period": local.strftime("%Y-%m-%d"), "answers": 8}]


def person_row(session, runtime, n: int) -> int:
    contact = Contact(channel="sms", address_hash=runtime.vault.address_hash("sms", f"+96475077700{n:02d}"),
                      address_enc=runtime.vault.encrypt(f"+96475077700{n:02d}"), language="ar", state="browsing",
                      subscribed=True, opted_out=False, topics="")
    session.add(contact)
    session.flush()
    return contact.id
