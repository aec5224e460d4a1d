"""Folding of loosely typed text, so that matching forgives the spellings people really use.

FIELD.md lists the letter variants; Lucene's Sorani and Arabic normalizers are the
reference. We fold *both ways* for every language (the language of a message is
often unknown), and fold harder than those normalizers do: people write Sorani on
Arabic keyboards (ر for ڕ, ل for ڵ, ى for ێ, و for ۆ, ف for ڤ, ب for پ ...).
Folded text is only ever compared, never shown.
"""
import re
import unicodedata
from functools import lru_cache

ARABIC_INDIC = "٠١٢٣٤٥٦٧٨٩"
EXTENDED_INDIC = "۰۱۲۳۴۵۶۷۸۹"
_DIGITS = str.maketrans(ARABIC_INDIC + EXTENDED_INDIC, "0123456789" * 2)

_LETTERS = {
    "ي": "ی", "ى": "ی", "ئ": "ی", "ێ": "ی", "ې": "ی",
    "ك": "ک", "گ": "ک",
    "ه": "ە", "ة": "ە", "ھ": "ە", "ۀ": "ە",
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا",
    "ؤ": "و", "ۆ": "و", "ۇ": "و", "ۊ": "و",
    "ڕ": "ر", "ڵ": "ل", "ڤ": "ف", "پ": "ب", "چ": "ج", "ژ": "ز",
    # Latin Kurmanji letters fold onto plain Latin: people type "nexwesi" for "nexweşî".
    "ç": "c", "ê": "e", "î": "i", "ş": "s", "û": "u", "é": "e", "â": "a",
}
_LETTER_TABLE = str.maketrans(_LETTERS)

# Harakat, superscript alef, tatweel, zero-width and bidi controls: dropped for matching.
_DROP = re.compile("[\u064b-\u065f\u0670\u0640\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_WORD = re.compile(r"\w+", re.UNICODE)
# Kurdish long vowels typed once or twice: وو or و, یی or ی (بووە, بوە; چییە, چیە).
# Consonants stay doubled: چۆنن ("how are you all") is not چۆن ("how").
_DOUBLED = re.compile(r"([وی])\1+")

# Arabic clitics in front of a word: the article and the conjunctions/prepositions fused to it.
# (Folded spellings: ك is ک after folding.)
_ARABIC_PREFIXES = ("وبال", "وال", "بال", "کال", "فال", "لل", "ال")
# Letters of the Arabic present tense in front of a verb: اغسل, نحفظ, يطلع, نتجنب.
_VERB_PREFIXES = ("ا", "ی", "ت", "ن")
_ARABIC_SCRIPT = re.compile("[\u0620-\u06ff]")


def to_ascii_digits(text: str) -> str:
    """Arabic-Indic and Extended Arabic-Indic digits become 0-9."""
    return text.translate(_DIGITS)


def to_arabic_digits(text: str) -> str:
    """0-9 become Arabic-Indic digits, as CLDR's 'arab' numbering shows them."""
    return text.translate(str.maketrans("0123456789", ARABIC_INDIC))


def fold(text: str) -> str:
    """The matching form of a text: one spelling per letter, ASCII digits, lower case."""
    text = unicodedata.normalize("NFKC", text or "")
    text = _DROP.sub("", text).lower()
    return _DOUBLED.sub(r"\1", to_ascii_digits(text).translate(_LETTER_TABLE))


def tokens(text: str) -> list[str]:
    """The folded words of a text."""
    return list(_tokens(text))


@lru_cache(maxsize=8192)
def _tokens(text: str) -> tuple[str, ...]:
    # Cached: one message's text is folded several times (router, language, feedback, search), and the
    # content's phrases (feedback triggers, sensitive words) on every free-text message.
    return tuple(_WORD.findall(fold(text)))


# Kurdish typed on an Arabic keyboard: ه followed by a space stands for ە inside a word, since a bare
# ه would join the next letter ("ته ندروستى" = تەندروستی, "گه رما" = گەرما). Only fragments of two or
# three letters are glued on: "زوره سه رم" keeps زوره as a word.
_SPLIT_E = re.compile(r"(?<!\S)(\S{1,2}?)ه[ \u200c]+(?=[^\s\d])")


def rejoin_split(text: str) -> str | None:
    """The text with such fragments glued to what follows, or None when it has none."""
    joined = _SPLIT_E.sub(lambda m: m.group(1) + "ە", text or "")
    return joined if joined != text else None


def stems(token: str) -> set[str]:
    """A token and its forms without a fused Arabic article or conjunction, or a present-tense prefix."""
    return set(_stems(token))


@lru_cache(maxsize=16384)
def _stems(token: str) -> frozenset[str]:
    forms = {token}
    for prefix in _ARABIC_PREFIXES:
        if token.startswith(prefix) and len(token) - len(prefix) >= 2:
            forms.add(token[len(prefix):])
    if token.startswith(("و", "ب", "ل", "ف")) and len(token) >= 5:
        forms.add(token[1:])
    if _ARABIC_SCRIPT.match(token):
        for form in list(forms):
            if form.startswith(_VERB_PREFIXES) and len(form) >= 4:
                forms.add(form[1:])                  # اغسل -> غسل, نتجنب -> تجنب
    return frozenset(forms)


def parse_number(text: str) -> int | None:
    """The option number a person typed, in any digit system; None if it is not just a number.

    Tolerates what keypads and keyboards add: spaces and a trailing dot or bracket,
    and the label a Telegram button carries ("3. Shelter kit"); "3 tents" is not a number.
    """
    match = _number_match(text)
    return int(match.group(1)) if match else None


def number_rest(text: str) -> str:
    """What follows the number ("3. Shelter kit" -> "Shelter kit"); "" when nothing does."""
    match = _number_match(text)
    return (match.group(2) or "").strip() if match else ""


def _number_match(text: str) -> re.Match[str] | None:
    folded = _DROP.sub("", to_ascii_digits(unicodedata.normalize("NFKC", text or ""))).strip()
    return re.match(r"^(\d{1,2})\s*(?:[.)\-:،,٫](.*))?$", folded, re.S)


def clean_for_storage(text: str, limit: int = 4096) -> str:
    """Text as we keep it: NUL and other C0 controls removed, bounded length; joiners kept."""
    text = "".join(ch for ch in (text or "") if ch in "\n\t" or unicodedata.category(ch) != "Cc")
    return text[:limit]
