"""The small pure pieces: folding, option numbers, SMS segments, reference codes, language detection."""
import pytest

from handlers import codes
from handlers.content import load
from handlers.language import detect
from handlers.sms import segments, split_pages
from handlers.text import fold, parse_number, tokens


@pytest.mark.parametrize("a, b", [
    ("الكوليرا", "الکولیرا"),           # Arabic kaf/yeh vs Kurdish forms
    ("مدرسة", "مدرسه"),                  # teh marbuta vs heh
    ("إسهال", "اسهال"),                  # hamza on alef
    ("مـــاء", "ماء"),                   # tatweel
    ("مَاءٌ", "ماء"),                    # harakat
    ("نەخۆشی", "نەخوشی"),                # Sorani oe typed as waw
    ("ڕێگا", "ريگا"),                    # Sorani rr and ee typed on an Arabic keyboard
    ("nexweşî", "nexwesi"),              # Latin Kurmanji without its letters
    ("سڵاو\u200cچۆنی", "سلاوچونی"),       # zero-width non-joiner
])
def test_spelling_variants_fold_to_the_same_form(a, b):
    assert fold(a) == fold(b)


@pytest.mark.parametrize("typed, number", [
    ("3", 3), ("٣", 3), ("۳", 3), (" ٣ ", 3), ("3.", 3), ("١٢", 12), ("٣. عدة المأوى", 3), ("3 tents", None),
    ("abc", None), ("", None), ("1234", None),
])
def test_option_numbers_in_every_digit_system(typed, number):
    assert parse_number(typed) == number


def test_sms_segments_follow_gsm7_and_ucs2_rules():
    assert segments("a" * 160) == 1 and segments("a" * 161) == 2
    assert segments("م" * 70) == 1 and segments("م" * 71) == 2 and segments("م" * 201) == 3
    assert segments("€" * 80) == 1  # extension characters count twice: 160 units
    assert segments("😀" * 35) == 1 and segments("😀" * 36) == 2  # two UTF-16 units each


def test_long_texts_split_at_sentence_ends():
    text = "هذه جملة قصيرة. " * 30
    pages = split_pages(text, 140)
    assert all(len(p) <= 140 for p in pages)
    assert all(p.endswith(".") for p in pages)


def test_reference_codes_survive_any_digit_system_and_catch_typos():
    code = codes.new_code()
    assert codes.is_valid(code)
    arabic = code.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    persian = code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    assert codes.find_code(arabic) == code == codes.find_code(persian)
    assert codes.find_code(f"status {code[:3]}-{code[3:]}") == code
    for i in range(len(code)):
        typo = code[:i] + str((int(code[i]) + 1) % 10) + code[i + 1:]
        assert not codes.is_valid(typo)


@pytest.fixture(scope="module")
def content():
    return load()


@pytest.mark.parametrize("text, hint, lang", [
    ("مرحبا كيف الحال", None, "ar"),
    ("شلونكم", None, "ar"),
    ("سڵاو، چۆنی؟", None, "ckb"),
    ("دەمەوێت بزانم", None, "ckb"),
    ("ئەز دڤێت بزانم", None, "kmr"),
    ("silav, çawa yî?", None, "kmr_latn"),
    ("slav ez dixwazim", None, "kmr_latn"),
    ("hello, how are you", None, "en"),
    ("123", None, None),
    ("123", "ckb", "ckb"),
    ("😀", "ar", "ar"),
])
def test_the_language_of_a_first_message(content, text, hint, lang):
    assert detect(content, text, hint) == lang


# Messages with no marker word: told by their letters (handlers/langid.py). Kurdish typed on an Arabic
# keyboard (ه for ە, ي for ێ, و for ۆ, ك for ک, ج for چ, ب for پ), Badini in Latin letters without ç ê î ş û.
@pytest.mark.parametrize("text, lang", [
    ("ابني حرارته عالية من البارحة شنو اسوي", "ar"),
    ("الخيمة دا تخر مي من فوك", "ar"),
    ("كوليرا", "ar"),                                   # one word in both languages: Arabic, as before
    ("منداله كه م تاي هه يه جي بكه م", "ckb"),
    ("جادره كه مان دلوپه ده كات", "ckb"),
    ("كه ي خيوه ت دابه ش ده كه ن", "ckb"),
    ("نيشانه كاني كوليرا جين", "ckb"),
    ("چۆن دەست بشۆم", "ckb"),
    ("زاروكي من تا هه يه دي ج كه م", "kmr"),
    ("كوني مه ئاف دجيتي", "kmr"),
    ("کۆنێ مە ئاڤ دچیتێ", "kmr"),
    ("قاچاخچی پارە ژ مە دخوازیت بۆ ئەورووپا", "kmr"),
    ("kone me av dicite", "kmr_latn"),
    ("qacaxci pere ji me dixwaze", "kmr_latn"),
    ("cend sing pedivine", "kmr_latn"),
    ("the tent is leaking", "en"),
])
def test_the_language_of_a_message_without_marker_words(content, text, lang):
    assert detect(content, text) == lang


def test_tokens_are_folded_words():
    assert tokens("Hello, WORLD!") == ["hello", "world"]
