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


def _extracted(*folders: str) -> set[str]:
    """The msgids `pybabel extract` (README, Translations) finds in these folders, with babel.cfg's methods."""
    from pathlib import Path

    from babel.messages.extract import extract_from_dir
    root = Path(__file__).resolve().parent.parent
    keywords = {"t": None, "N_": None, "_": None, "plural": (1, 2)}
    found = set()
    for folder in folders:
        for _name, _line, message, _comments, _context in extract_from_dir(
                root / folder, [("**.py", "python"), ("**.html", "jinja2")], keywords=keywords):
            found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_message_the_code_says_is_in_the_catalogs_and_the_template():
    """A string added to the code and not to the catalogs would reach people in English; one that extraction
    cannot see (a t() inside an f-string) would be dropped from the catalogs by the next `pybabel update`."""
    from babel.messages.pofile import read_po

    from handlers.i18n import LOCALES_DIR

    def ids(path) -> set[str]:
        with open(path, "rb") as fh:
            return {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}

    people, everything = _extracted("handlers"), _extracted("handlers", "bot")
    assert ids(LOCALES_DIR / "messages.pot") == everything, "regenerate locales/messages.pot (README, Translations)"
    for lang in ("ar", "ckb"):                  # the people's and the staff's languages
        assert ids(LOCALES_DIR / lang / "LC_MESSAGES" / "messages.po") == everything, lang
    for lang in ("kmr", "kmr_latn"):            # the people's: every message of the dialogue and the phone menu
        assert not people - ids(LOCALES_DIR / lang / "LC_MESSAGES" / "messages.po"), lang
