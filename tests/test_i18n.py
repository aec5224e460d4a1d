"""The catalogs really translate (Babel returns English silently when a .mo is missing), and numbers are local."""
import pytest

from handlers.i18n import LANGUAGES, Translator, compile_catalogs, format_number


@pytest.mark.parametrize("lang, script", [("ar", "arabic"), ("ckb", "arabic"), ("kmr", "arabic"),
                                          ("kmr_latn", "latin")])
def test_every_language_translates_the_interface(lang, script):
    t = Translator(lang)
    for message in ("Main menu", "Choose a number:", "Feedback or complaint", "Announcements"):
        translated = t(message)
        assert translated != message, (lang, message)
        if script == "arabic":
            assert any("\u0600" <= ch <= "\u06ff" for ch in translated), (lang, translated)


def test_sorani_and_badini_catalogs_are_not_copies_of_each_other():
    assert Translator("ckb")("Choose your language:") != Translator("kmr")("Choose your language:") or \
        Translator("ckb")("Main menu. Send a number, or write your question:") != \
        Translator("kmr")("Main menu. Send a number, or write your question:")


def test_placeholders_survive_translation():
    for lang in LANGUAGES:
        text = Translator(lang)("Your reference code is {code}.", code="123 4567")
        assert "123 4567" in text, lang


def test_numbers_use_arabic_indic_digits_in_arabic_script():
    assert format_number(1234, "ar") == "١٬٢٣٤"
    assert format_number(1234, "ckb") == "١٬٢٣٤"
    assert format_number(1234, "en") == "1,234"
    assert format_number(1234, "kmr_latn").replace(".", ",") in ("1,234", "1234")


def test_the_compiled_catalogs_are_up_to_date():
    assert compile_catalogs() == []


def test_an_empty_message_stays_empty_not_the_catalog_header():
    for lang in LANGUAGES:
        assert Translator(lang)("") == ""
