"""Emergency numbers reach people: HELP shows the verified ones on every channel, every answer that tells
people to call carries them, and no number reaches a person that nobody checked.

`content check` fails on each kind of mistake an editor could bring back (a test per rule)."""
import re

import pytest
import yaml

from handlers.content import CONTENT_DIR, load
from handlers.i18n import LANGUAGES
from handlers.sms import segments
from handlers.text import to_ascii_digits

from .conftest import content_check, edit_yaml

NUMBERS = ("911", "115", "122")


def _digits(text: str) -> set[str]:
    return set(re.findall(r"\d+", to_ascii_digits(text)))


@pytest.fixture(scope="module")
def content():
    return load()


def test_every_emergency_number_carries_its_source_and_the_date_it_was_checked():
    data = yaml.safe_load((CONTENT_DIR / "referrals.yaml").read_text(encoding="utf-8"))
    numbers = data["emergency"]["numbers"]
    assert {n["phone"] for n in numbers} == set(NUMBERS)
    for number in numbers:
        assert number["source"].strip() and number["verified_on"] and number["verified_by"], number["id"]
        assert not number.get("sample")


@pytest.mark.parametrize("lang, hello", [("ar", "مساعدة"), ("ckb", "یارمەتی"), ("kmr", "هاریکاری"),
                                         ("kmr_latn", "alîkarî"), ("en", "help")])
def test_help_shows_the_emergency_numbers_on_sms_within_the_budget(twilio, lang, hello):
    sender = f"+96475012{LANGUAGES.index(lang):05d}"
    first = {"ar": "مرحبا", "ckb": "سڵاو", "kmr": "سلاڤ", "kmr_latn": "silav", "en": "hello"}[lang]
    twilio.say(first, sender)
    bodies = twilio.say(hello, sender)
    text = "\n".join(bodies)
    assert _digits(text) >= set(NUMBERS), text
    assert all(segments(body) <= 3 for body in bodies)


def test_help_shows_the_emergency_numbers_on_telegram_and_whatsapp(telegram, twilio):
    telegram.say("مرحبا", chat_id=880011)
    reply = telegram.say("مساعدة", chat_id=880011)
    assert _digits(reply["text"]) >= set(NUMBERS)
    twilio.say("سڵاو", "whatsapp:+9647501110001")
    assert _digits("\n".join(twilio.say("یارمەتی", "whatsapp:+9647501110001"))) >= set(NUMBERS)


def test_a_sample_contact_is_never_shown_whatever_its_number(twilio):
    """The IIC's 6999 is a real-looking number marked sample (nobody verified it for this deployment)."""
    twilio.say("hello", "+9647509990001")
    text = "\n".join(twilio.say("help", "+9647509990001"))
    assert "6999" not in text and "000 000" not in text


@pytest.mark.parametrize("item, field", [("heat", "sms"), ("heat", "text"), ("clinic", "text"),
                                         ("mental-health", "sms"), ("mental-health", "text"),
                                         ("fire-what-to-do", "text"), ("report-danger", "sms"),
                                         ("report-danger", "text"), ("trafficking-signs", "sms")])
def test_answers_that_tell_people_to_call_carry_the_numbers_in_every_language(content, item, field):
    for lang in LANGUAGES:
        text = getattr(content.items[item], field)[lang]
        assert _digits(text) >= set(NUMBERS), (item, field, lang, text)
        assert "HELP" not in text and "{emergency}" not in text, (item, lang)


def test_the_heat_stroke_answer_on_sms_carries_the_numbers_and_fits(twilio):
    sender = "+9647501234599"
    twilio.say("مرحبا", sender)
    bodies = twilio.say("ضربة شمس", sender)
    assert _digits("\n".join(bodies)) >= set(NUMBERS), bodies
    assert all(segments(body) <= 3 for body in bodies)


# ---- content check: each rule fails on a reintroduced mistake -------------------------------------------
def _item(data, item_id):
    return next(i for i in data["items"] if i["id"] == item_id)


@pytest.mark.parametrize("file, change, message", [
    ("referrals.yaml", lambda d: d["emergency"]["numbers"][1].pop("verified_on"),
     "no source and verified_on date"),
    ("referrals.yaml", lambda d: d["emergency"]["numbers"][0].pop("source"), "no source and verified_on date"),
    ("referrals.yaml", lambda d: d["emergency"]["inline"].update(ckb="٩١١"), "inline [ckb]: 115 is missing"),
    ("referrals.yaml", lambda d: d["emergency"]["inline_sms"].update(ar="٩١١ (كوردستان ١١٥/١٢٢/١٠٤)"),
     "104 is not a verified number"),
    ("referrals.yaml", lambda d: d["contacts"][2].update(phone="+964 750 123 4567", sample=False),
     "a phone without source and verified_on is never shown"),
    ("topics/health.yaml", lambda d: _item(d, "clinic")["text"].update(
        en="Go to the clinic. For the numbers for your area, send HELP." + "." * 300),
     "sends people to HELP for numbers"),
    ("topics/safety.yaml", lambda d: _item(d, "report-danger")["sms"].update(kmr="مەترسیان بۆ ئیدارا کەمپێ بێژە."),
     "{emergency} in ar, ckb, en, kmr_latn but not in kmr"),
])
def test_content_check_fails_on_each_emergency_number_mistake(app, content_copy, file, change, message):
    edit_yaml(content_copy / file, change)
    result = content_check(app, content_copy)
    assert result.exit_code == 1 and message in result.output, result.output


def test_an_unverified_contact_is_not_shown_even_with_a_real_looking_number(content_copy):
    edit_yaml(content_copy / "referrals.yaml", lambda d: d["contacts"][2].update(phone="+964 750 123 4567",
                                                                              sample=False))
    from handlers import referrals
    contact = load(content_copy).referrals[2]
    assert not referrals.shown(contact)
    contact.update(source="Agency protection team, call of 2026-12-01", verified_on="2026-12-01")
    assert referrals.shown(contact)
