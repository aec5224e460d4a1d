"""People ask in free text, the way they type: a new contact's first message gets the item that
answers it (or a short numbered choice offering it), in every language, through the real webhooks;
and words the bot does not know still get the menu and an offer to ask the team: no dead end.

The questions are tables in tests/payloads/questions.yaml (the keywords were tuned against it)
and tests/payloads/questions_holdout.yaml (written after the tuning and never tuned on: it
measures how well matching generalises, and must stay at or above HOLDOUT_MIN).
"""
import itertools

import pytest
import yaml

from handlers.content import load
from handlers.i18n import Translator

from .conftest import PAYLOADS, twiml_bodies

CONTENT = load()
LANGS = ("ar", "ckb", "kmr", "kmr_latn", "en")
HOLDOUT_MIN = 0.80


def _table(name: str) -> dict[str, list[dict]]:
    data = yaml.safe_load((PAYLOADS / name).read_text(encoding="utf-8"))
    return {lang: data.get(lang) or [] for lang in LANGS}


QUESTIONS = _table("questions.yaml")
HOLDOUT = _table("questions_holdout.yaml")
# A second held-out set of the kinds that still missed, written before any tuning for them: reported, and
# required not to fall below what it measured when it was written (TYPED_MIN).
TYPED = _table("questions_holdout_typed.yaml")
TYPED_MIN = 0.90
# Written after questions.yaml, Iraqi Arabic and Badini only, to broaden keywords for dialect words:
# every question must get its answer, like the main set (or be marked `weak:` with a reason).
MORE = _table("questions_more.yaml")
# The language the answer may come in. Sorani and Badini share one script and many words
# (FIELD.md: letters cannot tell them apart), and Latin text without ç ê î ş û may read as English;
# either way the person gets the right item and can switch language from the menu.
ANSWER_LANGS = {"ar": ("ar",), "ckb": ("ckb",), "kmr": ("kmr", "ckb"), "kmr_latn": ("kmr_latn", "en"),
                "en": ("en",)}
TELEGRAM_HINT = {"ar": "ar", "ckb": None, "kmr": None, "kmr_latn": None, "en": "en"}
NONSENSE = {"ar": "البطيخ الاحمر بالسوق رخيص", "ckb": "پشیلەکەم ڕەنگی سەوزە",
            "kmr": "پشیکا من ڕەنگێ وێ کەسکە", "kmr_latn": "pisîka min kesk e",
            "en": "my cat likes purple bananas"}
_numbers = itertools.count(1)


def _item(expect: str):
    topic_id, _, item_id = expect.partition("/")
    item = CONTENT.items[item_id]
    assert item.topic == topic_id, f"{expect}: the item is in topic {item.topic}"
    return item


def outcome(reply: str, expect: str, langs: tuple[str, ...]) -> str | None:
    """"answer" when the reply is the item itself, "choice" when a "Did you mean" list offers it."""
    item = _item(expect)
    flat = reply.replace("*", "")
    for lang in langs:
        for text in (item.sms[lang], item.text[lang]):
            if text.split("\n")[0][:40] in flat:
                return "answer"
    for lang in langs:
        if Translator(lang)("Did you mean:") in flat and item.title[lang] in flat:
            return "choice"
    return None


def sms(twilio, text: str) -> str:
    """The first SMS of a new contact, through the signed Twilio webhook; everything sent back."""
    response = twilio.post(twilio.form(text, f"+96475{next(_numbers):08d}"))
    assert response.status_code == 200, response.get_data(as_text=True)
    return "\n".join(twiml_bodies(response.get_data(as_text=True)))


def telegram_text(telegram, text: str, hint: str | None) -> str:
    body = telegram.say(text, chat_id=700000 + next(_numbers), language_code=hint)
    buttons = [button["text"] for row in (body.get("reply_markup") or {}).get("keyboard", []) for button in row]
    return "\n".join([body.get("text") or body.get("caption") or ""] + buttons)


def test_the_question_tables_point_at_real_items():
    for table in (QUESTIONS, HOLDOUT, MORE):
        for lang, questions in table.items():
            for entry in questions:
                _item(entry["expect"])
    assert all(len(QUESTIONS[lang]) >= 20 for lang in LANGS)
    assert all(len(HOLDOUT[lang]) >= 15 for lang in LANGS)
    asked = {entry["expect"] for questions in QUESTIONS.values() for entry in questions}
    assert {f"{item.topic}/{item.id}" for item in CONTENT.items.values()} <= asked, "every item is asked for"


@pytest.mark.parametrize("lang", LANGS)
def test_a_question_typed_as_people_type_it_gets_its_answer_by_sms(twilio, lang):
    """e.g. "شلون انصب الخيمة", "کۆلێرا چیە", "ez çawa çadirê ava bikim" as someone's first SMS."""
    wrong = []
    for entry in QUESTIONS[lang]:
        reply = sms(twilio, entry["q"])
        if outcome(reply, entry["expect"], ANSWER_LANGS[lang]) is None and not entry.get("weak"):
            wrong.append((entry["q"], entry["expect"], reply[-160:]))
    assert not wrong, "\n".join(map(repr, wrong))


@pytest.mark.parametrize("lang", [lang for lang in LANGS if MORE[lang]])
def test_more_dialect_questions_get_their_answer_by_sms(twilio, lang, capsys):
    """questions_more.yaml: Iraqi Arabic (شلون, شكد, اكو, هواية) and Badini (چاوا, کیڤە, دێ, ئەز)."""
    wrong, right = [], 0
    for entry in MORE[lang]:
        reply = sms(twilio, entry["q"])
        if outcome(reply, entry["expect"], ANSWER_LANGS[lang]) is not None:
            right += 1
        elif not entry.get("weak"):
            wrong.append((entry["q"], entry["expect"], reply[-160:]))
    with capsys.disabled():
        print(f"\nmore {lang}: {right}/{len(MORE[lang])}")
    assert not wrong, "\n".join(map(repr, wrong))


@pytest.mark.parametrize("lang", LANGS)
def test_a_question_on_telegram_gets_the_full_answer(telegram, lang):
    for entry in [e for e in QUESTIONS[lang] if not e.get("weak")][:4]:
        reply = telegram_text(telegram, entry["q"], TELEGRAM_HINT[lang])
        assert outcome(reply, entry["expect"], ANSWER_LANGS[lang]), (entry, reply[-200:])


@pytest.mark.parametrize("lang", LANGS)
def test_words_the_bot_does_not_know_get_the_menu_and_an_offer_to_ask_the_team(twilio, telegram, lang):
    for reply in (sms(twilio, NONSENSE[lang]), telegram_text(telegram, NONSENSE[lang], TELEGRAM_HINT[lang])):
        t = next((Translator(other) for other in ANSWER_LANGS[lang]
                  if Translator(other)("Main menu") in reply), Translator(lang))
        assert t("Sorry, I have no answer to that yet. You can send your question to our team, "
                 "or choose a topic from the menu.")[:30] in reply, reply
        for label in ("Send my question to the team", "Feedback or complaint", "Main menu"):
            assert t(label) in reply, (label, reply)


def _measure(twilio, capsys, table: dict, label: str) -> tuple[float, list, list]:
    """Each question as a new contact's first SMS: (accuracy, figures per language, misses), printed."""
    figures, misses, total_right, total = [], [], 0, 0
    for lang in LANGS:
        right = 0
        for entry in table[lang]:
            if outcome(sms(twilio, entry["q"]), entry["expect"], ANSWER_LANGS[lang]):
                right += 1
            else:
                misses.append((lang, entry["q"], entry["expect"]))
        figures.append(f"{lang} {right}/{len(table[lang])}")
        total_right, total = total_right + right, total + len(table[lang])
    accuracy = total_right / total
    with capsys.disabled():
        print(f"\n{label} accuracy {accuracy:.0%} ({', '.join(figures)}); missed: {misses}")
    return accuracy, figures, misses


def test_held_out_questions_mostly_get_their_answer(twilio, capsys):
    """Questions written after the keywords were tuned: the measure of how matching generalises."""
    accuracy, figures, misses = _measure(twilio, capsys, HOLDOUT, "held-out")
    assert accuracy >= HOLDOUT_MIN, (accuracy, figures, misses)


def test_the_second_held_out_set_as_people_type_it(twilio, capsys):
    """First messages that are whole dialect questions, one everyday word for a topic, Iraqi verb forms,
    smugglers asking for money: each must get its item (or a choice offering it) as a first message."""
    accuracy, figures, misses = _measure(twilio, capsys, TYPED, "second held-out")
    assert accuracy >= TYPED_MIN, (accuracy, figures, misses)


@pytest.mark.parametrize("keyword, typed", [
    ("شتاء", "الشتا"),            # a bare hamza left out
    ("ون بووە", "ون بوە"),        # Sorani long vowel typed once
    ("غسل اليدين", "اغسل اليدين"),  # Arabic present-tense prefix on a verb
    ("تجنب الحريق", "نتجنب الحريق"),
    ("قاچاخچی", "كاچاخچي"),        # Iraqi ك for ق
    ("qaçaxçî", "qachaxchi"),      # Latin "ch" for ç
    ("cholera", "chloera"),        # two letters swapped
])
def test_loose_spellings_still_match_the_keyword(keyword, typed):
    from handlers.search import word_matches
    from handlers.text import stems, tokens
    words = [stems(t) for t in tokens(typed)]
    assert all(any(word_matches(k, f) for forms in words for f in forms) for k in tokens(keyword))


def test_loose_matching_does_not_cross_scripts_or_swallow_words():
    from handlers.search import search
    assert "child-safety" not in dict(search(CONTENT, "چۆن دەست بشۆم", "ckb"))   # Arabic دهس is not Kurdish دەست
    assert "fire-what-to-do" not in dict(search(CONTENT, "اطفالي", "ar"))          # اطفاء is not the start of اطفال
