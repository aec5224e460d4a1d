"""Safety facts stay in every language: the answers people get say them, and `content check` fails when an edit
drops one or brings an old mistake back (content/facts.yaml)."""
from pathlib import Path

import pytest
import yaml

from handlers.content import CONTENT_DIR
from handlers.text import to_ascii_digits

from .conftest import content_check


def test_a_sorani_speaker_on_telegram_learns_that_scabies_is_a_mite(telegram):
    telegram.say("سڵاو", chat_id=660001, language_code="ckb")
    reply = telegram.say("گەڕوو", chat_id=660001)
    assert "مایت" in reply["text"] and "مێرووی زۆر وردەوەیە" not in reply["text"]


def test_an_arabic_speaker_gets_the_ors_amounts_by_age_and_what_to_do_without_a_sachet(telegram):
    telegram.say("مرحبا", chat_id=660002)
    text = to_ascii_digits(telegram.say("الكوليرا", chat_id=660002)["text"])
    assert "50-100" in text and "100-200" in text and "الرضاعة" in text and "لا يوجد كيس" in text


def test_someone_thinking_of_ending_their_life_is_told_to_get_help_now_on_sms(twilio):
    twilio.say("hello", "+9647503330001")
    text = "\n".join(twilio.say("i want to kill myself", "+9647503330001"))
    assert "now" in text.lower() and "911" in text, text


def _replace(path: Path, old: str, new: str):
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.mark.parametrize("old, new, message", [
    ("الجرب سببه عثّ (سوس) صغير جداً يعيش في الجلد، وهو ليس حشرة.", "الجرب سببه حشرات صغيرة جداً تعيش في الجلد.",
     "says 'سببه حشرات' again"),
    ("گەری ژ ئەگەرێ مایتان چێدبیت (زیندەوەرێن گەلەک هویر وەکی گەنێ، نە مێشوولک)", "گەری ژ ئەگەرێ مێشوولکێن گەلەک هویر چێدبیت",
     "lost 'مایت'"),
    ("زارۆکێ ژ دوو سالان کێمتر ٥٠-١٠٠ مل", "زارۆکێ ژ دوو سالان کێمتر پەرداخەک", "[kmr]: lost '50-100'"),
    ("- No ORS sachet? Go to the clinic now;", "- Go to the clinic;", "[en]: lost 'no ors sachet'"),
    ("Suicidal? Get help now, don't be alone:", "Self-harm thoughts? Send help today:", "mental-health sms [en]: lost 'now'"),
])
def test_content_check_fails_when_a_safety_fact_is_lost(app, content_copy, old, new, message):
    _replace(content_copy / "topics" / "health.yaml", old, new)
    result = content_check(app, content_copy)
    assert result.exit_code == 1 and message in result.output, result.output


def test_every_fact_names_every_language():
    facts = yaml.safe_load((CONTENT_DIR / "facts.yaml").read_text(encoding="utf-8"))["facts"]
    for fact in facts:
        assert set(fact["must"]) == {"ar", "ckb", "kmr", "kmr_latn", "en"}, fact["id"]
        assert fact["why"].strip()


# ---- sensitive flags come from words that mean it ------------------------------------------------------
def test_by_means_of_is_not_a_bribe_and_a_request_for_contact_is_not_a_report(twilio):
    twilio.say("مرحبا", "+9647504440001")
    reply = "\n".join(twilio.say("ارسلت الطلب بواسطة صديقي", "+9647504440001"))
    assert "sounds serious" not in reply and "خطيراً" not in reply and "في خطر" not in reply, reply
    twilio.say("سڵاو", "+9647504440002")
    reply = "\n".join(twilio.say("داوای پەیوەندی دەکەم بە بەڕێوەبەری کەمپەوە", "+9647504440002"))
    assert "لە مەترسیدایت" not in reply, reply


def test_favouritism_is_still_a_sensitive_report(twilio):
    twilio.say("مرحبا", "+9647504440003")
    reply = "\n".join(twilio.say("ما يسجلونا الا بالواسطة", "+9647504440003"))
    assert "٩١١" in reply, reply          # the sensitive offer, with the emergency numbers


@pytest.mark.parametrize("old, new, message", [
    ("تعرضت للاحتيال, بالواسطة,", "تعرضت للاحتيال, واسطة, بالواسطة,", "'ارسلت الطلب بواسطة صديقي' is flagged"),
    ("ژیانم لە مەترسیدایە, واستەی دەوێت,", "ژیانم لە مەترسیدایە, داوای پەیوەندی, واستەی دەوێت,",
     "'داوای پەیوەندی دەکەم بە بەڕێوەبەری کەمپەوە' is flagged"),
    ("ابتزاز, فساد, نصب واحتيال, تعرضت للاحتيال, بالواسطة,", "ابتزاز, فساد, نصب واحتيال, تعرضت للاحتيال,",
     "'ما يسجلونا الا بالواسطة' is not flagged"),
])
def test_content_check_fails_on_a_sensitive_word_that_fires_on_ordinary_text(app, content_copy, old, new, message):
    _replace(content_copy / "feedback.yaml", old, new)
    result = content_check(app, content_copy)
    assert result.exit_code == 1 and message in result.output, result.output


# ---- each language its own voice: digits and language markers -----------------------------------------
@pytest.mark.parametrize("file, old, new, message", [
    ("topics/health.yaml", "اغسل يديك بالصابون ٢٠ ثانية", "اغسل يديك بالصابون 20 ثانية",
     "item handwashing sms [ar]: Latin digits"),
    ("commands.yaml", "  kmr: [سلاڤ,", "  kmr: [سلاڤ, ڤێ,", "language_markers [kmr]: 'فی' folds to a word the ar texts use"),
    ("commands.yaml", "  ckb: [سڵاو,", "  ckb: [سڵاو, لە,", "language_markers [ckb]: 'لە' folds to a word the ar texts use"),
    ("commands.yaml", "  ckb: [سڵاو,", "  ckb: [سڵاو, چی,", "language_markers [ckb]: 'جی' folds to a word the kmr texts use"),
])
def test_content_check_fails_on_latin_digits_in_arabic_and_on_colliding_markers(app, content_copy, file, old, new,
                                                                                message):
    path = content_copy / file
    text = path.read_text(encoding="utf-8")
    start = text.index("language_markers:") if file == "commands.yaml" else 0
    assert text.count(old, start) >= 1, old
    path.write_text(text[:start] + text[start:].replace(old, new, 1), encoding="utf-8")
    result = content_check(app, content_copy)
    assert result.exit_code == 1 and message in result.output, result.output


@pytest.mark.parametrize("old, new, message", [
    ("قومێن بچویک پشتی هەر زکچوونەکێ", "قومێن بچووک پشتی هەر زکچوونەکێ", "'بچووک' for small: write 'بچویک'"),
    ("بێژە ئیدارا کەمپێ.", "بێژە ڕێڤەبەریا کەمپێ.", "'ڕێڤەبەریا کەمپ' for camp management"),
])
def test_content_check_fails_on_a_badini_form_the_glossary_avoids(app, content_copy, old, new, message):
    _replace(content_copy / "topics" / "health.yaml", old, new)
    result = content_check(app, content_copy)
    assert result.exit_code == 1 and message in result.output, result.output


@pytest.mark.parametrize("file, old, new, message", [
    ("safety.yaml", "Ji bo tiştên xwe nesekine", "Ji bo tiştên xo nesekine", "'xo' for self (reflexive): write 'xwe'"),
    ("safety.yaml", "kmr_latn: Ewlehiya kampê", "kmr_latn: Ewlehiya kempê", "'kemp' for camp: write 'kamp'"),
    ("migration.yaml", "derxistina endamên laş", "derxistina endamên leş", "'leş' for body (leş is a corpse)"),
])
def test_content_check_fails_on_a_transliterated_form_in_latin_kurmanji(app, content_copy, file, old, new, message):
    _replace(content_copy / "topics" / file, old, new)
    result = content_check(app, content_copy)
    assert result.exit_code == 1 and message in result.output, result.output


def test_a_whole_word_rule_leaves_longer_words_alone():
    from handlers import glossary
    rules = {"kmr_latn": [{"concept": "body", "use": "laş", "avoid": ["leş"], "whole": True}]}
    assert glossary.problems(rules, [("x", "kmr_latn", "leşkerên sînor")]) == []
    assert glossary.problems(rules, [("x", "kmr_latn", "endamên leş.")])


def test_the_glossary_covers_the_interface_catalog_too(app, tmp_path):
    from handlers import glossary
    from handlers.i18n import catalog_strings
    rules = yaml.safe_load((CONTENT_DIR / "glossary.yaml").read_text(encoding="utf-8"))
    texts = [("locales/kmr", "kmr", text) for _msgid, text in catalog_strings("kmr")]
    assert texts and glossary.problems(rules, texts) == []
    assert glossary.problems(rules, [("locales/kmr x", "kmr", "نامەیەکێ بنێرە")])
