"""Nobody loses the whole service by typing "enough" or "cancel": inside a step that word cancels the step,
elsewhere the person is asked once; the carriers' own opt-out words still stop at once on SMS."""
import pytest
from sqlalchemy import select

from bot.models import Contact


def opted_out(runtime) -> list[bool]:
    with runtime.transaction() as session:
        return [c.opted_out for c in session.execute(select(Contact).order_by(Contact.id)).scalars()]


@pytest.mark.parametrize("first, word, lang", [("مرحبا", "الغاء", "ar"), ("مرحبا", "بس", "ar"),
                                               ("سڵاو", "بەسە", "ckb"), ("silav", "betal", "kmr_latn"),
                                               ("hello", "cancel", "en")])
def test_inside_a_step_the_word_cancels_the_step_not_the_service(telegram, runtime, first, word, lang):
    telegram.say(first, chat_id=771000, language_code=lang)
    telegram.say("5", chat_id=771000)                   # feedback: which kind?
    telegram.say("1", chat_id=771000)                   # a complaint: "write your message, or 0 to cancel"
    reply = telegram.say(word, chat_id=771000)
    assert opted_out(runtime) == [False]
    assert "keyboard" in reply["reply_markup"]           # back at a menu with its buttons
    telegram.say("3", chat_id=771000)                    # and the service still answers


@pytest.mark.parametrize("first, word, yes, lang", [("مرحبا", "بس", "١", "ar"), ("سڵاو", "بەس", "بەڵێ", "ckb"),
                                                    ("سلاڤ", "بەسە", "1", "kmr"), ("hello", "quit", "yes", "en")])
def test_outside_a_step_the_person_is_asked_once_before_everything_stops(telegram, runtime, first, word, yes,
                                                                         lang):
    telegram.say(first, chat_id=772000, language_code=lang)
    asked = telegram.say(word, chat_id=772000)
    assert opted_out(runtime) == [False]
    assert asked["reply_markup"]["keyboard"][0][0]["text"].split(". ", 1)[0] in ("1", "١", "۱")
    telegram.say(yes, chat_id=772000)
    assert opted_out(runtime) == [True]


def test_answering_no_keeps_the_service(telegram, runtime):
    telegram.say("مرحبا", chat_id=773000)
    telegram.say("كافي", chat_id=773000)
    telegram.say("لا", chat_id=773000)
    assert opted_out(runtime) == [False]
    assert "text" in telegram.say("الكوليرا", chat_id=773000)


@pytest.mark.parametrize("word", ["STOP", "Cancel", "END", "quit", "UNSUBSCRIBE", "stopall"])
def test_on_sms_the_carriers_opt_out_words_stop_at_once_even_inside_a_step(twilio, runtime, word):
    sender = "+9647507770001"
    twilio.say("hello", sender)
    twilio.say("5", sender)
    twilio.say("1", sender)
    reply = "\n".join(twilio.say(word, sender))
    assert opted_out(runtime) == [True]
    assert "START" in reply


def test_an_unambiguous_stop_word_still_stops_at_once_everywhere(telegram, runtime):
    telegram.say("مرحبا", chat_id=774000)
    telegram.say("ايقاف", chat_id=774000)
    assert opted_out(runtime) == [True]
