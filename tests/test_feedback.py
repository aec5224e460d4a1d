"""Feedback scenarios through the real webhooks: a code for every case, status only for its owner,
sensitive reports handled survivor-first, staff answers delivered on the person's own channel."""
import json
import re

import pytest
from sqlalchemy import select

from bot import cases as case_service
from bot.models import Case, CaseEvent, Outbound
from handlers import codes
from handlers.text import to_ascii_digits

CODE = re.compile(r"[0-9٠-٩]{3} [0-9٠-٩]{4}")


def code_in(text: str) -> str:
    match = CODE.search(text)
    assert match, f"no reference code in {text!r}"
    return to_ascii_digits(match.group(0)).replace(" ", "")


def only_case(runtime) -> Case:
    with runtime.transaction() as session:
        return session.execute(select(Case)).scalar_one()


def test_an_arabic_complaint_on_sms_gets_a_code_and_the_staff_answer_arrives_by_sms(twilio, runtime, app, fake):
    sender = "+9647501234567"
    twilio.say("مرحبا", sender)
    prompt = twilio.say("شكوى", sender)[-1]
    assert "٠." in prompt                                    # a way out: cancel
    reply = "\n".join(twilio.say("لم نستلم السلة الغذائية منذ شهرين في مخيم شاريا", sender))
    code = code_in(reply)
    assert codes.is_valid(code)
    case = only_case(runtime)
    assert case.code == code and case.kind == "complaint" and case.channel == "sms" and case.language == "ar"
    assert runtime.vault.decrypt(case.text_enc).startswith("لم نستلم")

    result = app.test_cli_runner().invoke(args=["feedback", "answer", code, "سيتم توزيع السلال يوم الأحد", "--as",
        "amal"], catch_exceptions=False)
    assert "queued" in result.output
    sent = fake.sent("twilio")
    assert len(sent) == 1
    assert sent[0]["params"]["To"] == sender
    assert "سيتم توزيع السلال يوم الأحد" in sent[0]["params"]["Body"]
    assert to_ascii_digits(sent[0]["params"]["Body"]).count(f"{code[:3]} {code[3:]}") == 1
    with runtime.transaction() as session:
        row = session.execute(select(Outbound)).scalar_one()
        assert row.status == "sent" and row.provider_id.startswith("SMfake")
        assert session.get(Case, case.id).status == "acknowledged"


def test_a_sorani_complaint_on_telegram_by_menu_gets_the_answer_on_telegram(telegram, runtime, app, fake):
    telegram.say("سڵاو", chat_id=4242, language_code="ckb")
    kinds = telegram.say("5", chat_id=4242)
    assert len(kinds["reply_markup"]["keyboard"]) >= 6       # five kinds, the sensitive choice, cancel
    telegram.say("١", chat_id=4242)                          # complaint, typed in Arabic-Indic digits
    reply = telegram.say("ئاو لە کەمپەکەمان نییە سێ ڕۆژە", chat_id=4242)
    code = code_in(reply["text"])
    result = app.test_cli_runner().invoke(args=["feedback", "answer", code, "تانکەری ئاو سبەی دێت"])
    assert result.exit_code == 0, result.output
    sent = fake.sent("telegram")
    assert len(sent) == 1 and sent[0]["params"]["chat_id"] == "4242"
    assert "تانکەری ئاو سبەی دێت" in sent[0]["params"]["text"]


def test_a_badini_complaint_on_whatsapp_by_trigger_word(twilio, runtime, app, fake):
    sender = "whatsapp:+9647701234567"
    twilio.say("سلاڤ، ئەز دڤێت گازندەکێ بکەم", sender)
    twilio.say("گازندە", sender)
    reply = "\n".join(twilio.say("دابەشکرنا خوارنێ نەهاتیە کرن", sender))
    code = code_in(reply)
    case = only_case(runtime)
    assert case.channel == "whatsapp" and case.kind == "complaint"
    app.test_cli_runner().invoke(args=["feedback", "answer", code, "Distribution on Sunday", "--status", "resolved"])
    sent = fake.sent("twilio")
    assert sent[0]["params"]["To"] == sender
    assert sent[0]["params"]["From"] == "whatsapp:+14155238886"
    assert only_case(runtime).status == "resolved"


def test_status_is_told_to_the_owner_only(twilio, runtime, app):
    owner, stranger = "+9647501111111", "+9647502222222"
    twilio.say("مرحبا", owner)
    twilio.say("شكوى", owner)
    code = code_in("\n".join(twilio.say("الماء مقطوع", owner)))
    case_service.answer(runtime, code, "الماء سيعود غدا", "test")
    arabic_code = code.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    mine = "\n".join(twilio.say(arabic_code, owner))
    assert "الماء سيعود غدا" in mine
    twilio.say("مرحبا", stranger)
    theirs = "\n".join(twilio.say(code, stranger))
    assert "الماء" not in theirs and "سيعود" not in theirs
    persian_code = code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    assert "الماء سيعود غدا" in "\n".join(twilio.say(persian_code, owner))


def test_a_sensitive_report_is_flagged_and_answered_survivor_first(telegram, runtime):
    telegram.say("مرحبا", chat_id=777)
    telegram.say("5", chat_id=777)
    telegram.say("6", chat_id=777)                           # "something serious"
    reply = telegram.say("موظف التوزيع طلب مني شيئا مقابل المساعدة", chat_id=777)
    code = code_in(reply["text"])
    case = only_case(runtime)
    assert case.sensitive is True and case.code == code
    assert "موظف التوزيع" not in reply["text"]              # never repeats what the person said


def test_free_text_that_sounds_sensitive_asks_before_passing_it_on(twilio, runtime):
    sender = "+9647503333333"
    twilio.say("مرحبا", sender)
    twilio.say("تعرضت لتحرش من احد العاملين في المنظمة", sender)
    with runtime.transaction() as session:
        assert session.execute(select(Case)).first() is None     # nothing passed on without consent
    reply = "\n".join(twilio.say("1", sender))
    code_in(reply)
    assert only_case(runtime).sensitive is True


def test_a_voice_note_becomes_feedback_with_a_reference_staff_can_open(telegram, runtime):
    from .conftest import payload
    telegram.say("مرحبا")
    response = telegram.post(payload("telegram", "voice"))
    assert response.status_code == 200
    body = telegram.say("1")                                  # it is a complaint
    code_in(body["text"])
    case = only_case(runtime)
    assert json.loads(runtime.vault.decrypt(case.media_enc)) == [
        {"url": "telegram:file:AwACAgIAAxkBAAIBVoice0001", "type": "audio/ogg"}]


def test_twilio_media_is_kept_as_a_reference(twilio, runtime):
    from .conftest import payload
    sender = "whatsapp:+9647701234567"
    twilio.say("hello", sender)
    twilio.say("complaint", sender)
    form = payload("twilio", "whatsapp_voice")
    response = twilio.post(form)
    code_in("\n".join(__import__("tests.conftest", fromlist=["twiml_bodies"]).twiml_bodies(
        response.get_data(as_text=True))))
    assert json.loads(runtime.vault.decrypt(only_case(runtime).media_enc))[0]["url"].startswith("https://api.twilio.com/")


def test_a_webhook_delivered_twice_makes_one_case(twilio, runtime):
    sender = "+9647504444444"
    twilio.say("مرحبا", sender)
    twilio.say("شكوى", sender)
    form = twilio.form("الخيمة تسرب الماء", sender)
    first, second = twilio.post(form), twilio.post(form)
    assert first.get_data() == second.get_data()
    with runtime.transaction() as session:
        assert len(session.execute(select(Case)).all()) == 1


def test_export_has_no_phone_number_and_neutralises_formulas(twilio, runtime, app):
    sender = "+9647505555555"
    twilio.say("hello", sender)
    twilio.say("complaint", sender)
    twilio.say("=HYPERLINK(\"http://x\",\"click\") water is dirty", sender)
    csv_out = app.test_cli_runner().invoke(args=["feedback", "export", "--format", "csv"]).output
    assert "'=HYPERLINK" in csv_out and "\n=HYPERLINK" not in csv_out.replace(",'=", "")
    json_out = app.test_cli_runner().invoke(args=["feedback", "export", "--format", "json"]).output
    record = json.loads(json_out.splitlines()[0])
    assert record["text"].startswith("=HYPERLINK")             # JSON is data, not a spreadsheet
    for out in (csv_out, json_out):
        assert "9647505555555" not in out and "+964" not in out


def test_every_status_change_is_recorded_with_who_and_when(twilio, runtime):
    sender = "+9647506666666"
    twilio.say("hello", sender)
    twilio.say("complaint", sender)
    code = code_in("\n".join(twilio.say("no water", sender)))
    case_service.change_status(runtime, code, "referred", "officer-1")
    case_service.change_status(runtime, code, "closed", "officer-2")
    with pytest.raises(case_service.CaseError):
        case_service.change_status(runtime, code, "lost", "officer-2")
    with runtime.transaction() as session:
        events = session.execute(select(CaseEvent).where(CaseEvent.action == "status")
                                 .order_by(CaseEvent.id)).scalars().all()
    assert [(e.status_to, e.actor) for e in events] == [("new", "person"), ("referred", "officer-1"),
                                                        ("closed", "officer-2")]


def _added_texts(runtime, case: Case) -> list[str]:
    with runtime.transaction() as session:
        events = session.execute(select(CaseEvent).where(CaseEvent.case_id == case.id,
                                                         CaseEvent.action == "added")).scalars().all()
        return [json.loads(runtime.vault.decrypt(e.text_enc))["text"] for e in events if e.text_enc]


def test_after_the_code_a_typed_place_a_question_or_more_words_each_go_where_they_belong(twilio, runtime):
    """"Where are you? (optional)" follows the code: a typed town or camp answers it, a question is
    answered, only the rest joins the case."""
    sender = "+9647501230001"
    twilio.say("مرحبا", sender)
    twilio.say("شكوى", sender)
    code = code_in("\n".join(twilio.say("ماكو ماء بالخيمة من ثلاث ايام", sender)))
    places = "\n".join(twilio.say("دهوك", sender))            # the governorate typed: its list
    assert "شاريا" in places and "خانكي" in places
    thanks = "\n".join(twilio.say("مخيم خانكي", sender))       # a camp typed: kept with the case
    assert thanks.startswith("شكر")
    assert only_case(runtime).area == "duhok-khanke"

    sender2 = "+9647501230002"
    twilio.say("مرحبا", sender2)
    twilio.say("شكوى", sender2)
    twilio.say("الحمام مكسور", sender2)
    more = "\n".join(twilio.say("والباب ما يتسكر من اسبوع", sender2))   # more of the same complaint
    assert "الإضافة" in more, more
    answer = "\n".join(twilio.say("شلون اعرف اذا ابني عنده كوليرا", sender2))   # a new question: answered
    assert "إسهال" in answer and "الإرواء" in answer, answer     # the cholera page on SMS
    assert "الإضافة" not in answer
    with runtime.transaction() as session:
        case = session.execute(select(Case).where(Case.code != code)).scalar_one()
    assert _added_texts(runtime, case) == ["والباب ما يتسكر من اسبوع"]


def test_after_the_code_a_sensitive_report_is_offered_apart_not_added_to_the_ordinary_case(telegram, runtime):
    chat = 555000901
    telegram.say("سڵاو", chat, None)
    telegram.say("سکاڵا", chat, None)
    telegram.say("ئاو نییە لە کەمپەکە", chat, None)
    offer = telegram.say("کارمەندێکی ڕێکخراوێک داوای پارەی لێ کردم بۆ ئەوەی ناوم بنووسێت", chat, None)
    assert "نهێنی" in offer["text"] and not _added_texts(runtime, only_case(runtime))
    telegram.say("1", chat, None)
    with runtime.transaction() as session:
        flags = sorted(c.sensitive for c in session.execute(select(Case)).scalars())
    assert flags == [False, True]


@pytest.mark.parametrize("wish", ["سلاڤ، ئەز دڤێت گازندەکێ بکەم", "مرحبا اريد اقدم شكوى لو سمحت",
                                  "سڵاو، دەمەوێت سکاڵایەک بنێرم", "slav ez dixwazim gazindekê bikim"])
def test_saying_one_wants_to_complain_asks_for_the_complaint_instead_of_filing_the_wish(twilio, runtime, wish):
    sender = "+9647501230011"
    twilio.say(wish, sender)
    with runtime.transaction() as session:
        assert session.execute(select(Case)).first() is None
    code_in("\n".join(twilio.say("خیمەکەمان دڕاوە و کەس نەهات / the tent is torn", sender)))
    case = only_case(runtime)
    assert case.kind == "complaint" and "torn" in runtime.vault.decrypt(case.text_enc)


@pytest.mark.parametrize("thanks", ["شكرا الكم على المساعدة الله يحفظكم", "زۆر سوپاس بۆ هاوکارییەکەتان"])
def test_thanks_for_the_help_is_thanks_not_a_request_for_help(twilio, runtime, thanks):
    sender = "+9647501230012"
    twilio.say("مرحبا", sender)
    reply = "\n".join(twilio.say(thanks, sender))
    with runtime.transaction() as session:
        kinds = [c.kind for c in session.execute(select(Case)).scalars()]
    assert kinds in ([], ["thanks"]) and "2." not in reply.split("\n")[0], reply
    assert kinds == ["thanks"] or "1." in reply        # filed, or welcomed with the way to pass it on
