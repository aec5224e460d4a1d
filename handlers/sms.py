"""SMS segment arithmetic: what one text costs a person on a cheap phone.

GSM-7 fits 160 characters in one segment (153 per part when split); any other
character (all Arabic script) makes the whole message UCS-2: 70 in one segment,
67 per part, counted in UTF-16 code units (an emoji costs two).
"""
import re
from collections.abc import Sequence

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€\f")

# Latin Kurmanji's ê î û ş ç are not GSM-7: one of them makes a whole SMS UCS-2 (70 characters a
# segment instead of 160). SMS_FOLD_LATIN sends kmr_latn SMS with plain letters instead; readable, if less
# correct, and about a fifth cheaper (`flask --app bot content check --sms-report`).
LATIN_FOLD = str.maketrans({"ê": "e", "î": "i", "û": "u", "ş": "s", "ç": "c", "Ê": "E", "Î": "I", "Û": "U",
                            "Ş": "S"})
FOLDED_LANGUAGES = ("kmr_latn",)


def fold_latin(text: str) -> str:
    return text.translate(LATIN_FOLD)


# What the content and the dialogue allow one SMS reply to cost.
MAX_SEGMENTS = 3


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in text)


def segments(text: str) -> int:
    """How many SMS segments a text is billed as."""
    if not text:
        return 1
    if is_gsm7(text):
        units = sum(2 if ch in GSM7_EXTENDED else 1 for ch in text)
        return 1 if units <= 160 else -(-units // 153)
    units = len(text.encode("utf-16-le")) // 2
    return 1 if units <= 70 else -(-units // 67)


def fits_sms(lines: list[str], options: Sequence[tuple[str, str, object]] = (), max_segments: int = MAX_SEGMENTS) -> bool:
    """Whether a screen (text lines, then one "key. label" line per option) fits max_segments."""
    text = "\n".join([line for line in lines if line] + [f"{option[0]}. {option[1]}" for option in options])
    return segments(text) <= max_segments


def budget(text_sample: str, max_segments: int = MAX_SEGMENTS) -> int:
    """How many characters of this kind of text fit in max_segments."""
    if is_gsm7(text_sample):
        return 160 if max_segments == 1 else 153 * max_segments
    return 70 if max_segments == 1 else 67 * max_segments


def split_pages(text: str, room: int) -> list[str]:
    """Cut a long text into pages of at most `room` characters, at sentence or word ends."""
    text = re.sub(r"\n\s*\n+", "\n", re.sub(r"[ \t]+", " ", text)).strip()
    pages: list[str] = []
    while len(text) > room:
        cut = max((text.rfind(mark, 0, room) for mark in ("\n", ". ", "؟ ", "? ", "! ", "، ", "; ", ": ")), default=-1)
        if cut < room // 2:
            cut = text.rfind(" ", 0, room)
        else:
            cut += 1  # keep the full stop on this page
        if cut <= 0:
            cut = room
        pages.append(text[:cut].strip())
        text = text[cut:].strip()
    if text:
        pages.append(text)
    return pages
