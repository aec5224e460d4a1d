"""Telling the language of a message, so the first answer is already in the person's language.

Letters decide most cases (FIELD.md): Kurdish letters mean Kurdish, Arabic-only
forms mean Arabic, ç ê î ş û mean Latin Kurmanji. Sorani and Badini share an
alphabet, so everyday words (content/commands.yaml) and topic keywords decide
between them; the person can always switch.
"""
import re

from .content import Content
from .search import index_for
from .text import tokens

KURDISH_LETTERS = set("ەێۆڕڵڤگچپژکیھ")
ARABIC_ONLY = set("ةكيىأإؤ")
KURMANJI_LATIN = set("çêîşûÇÊÎŞÛ")
TELEGRAM_HINTS = {"ar": "ar", "ckb": "ckb", "ku": "kmr", "kmr": "kmr", "en": "en"}
_ARABIC_SCRIPT = re.compile("[\u0600-\u06ff]")
_LATIN = re.compile("[A-Za-z\u00c0-\u024f]")


def _marker_votes(content: Content, text: str, candidates: tuple[str, ...]) -> dict[str, int]:
    words = tokens(text)
    phrase = " ".join(words)
    present = set(words)
    by_first = index_for(content).by_first   # language -> first word -> keywords: only those that could be there
    votes = {lang: 0 for lang in candidates}
    for lang in candidates:
        for marker in content.markers.get(lang, ()):
            if (" " in marker and marker in phrase) or marker in present:
                votes[lang] += 1
        keywords = by_first.get(lang)
        if keywords:
            for word in present:
                for kw in keywords.get(word, ()):
                    if all(k in present for k in kw):
                        votes[lang] += 1
    return votes


def detect(content: Content, text: str, hint: str | None = None) -> str | None:
    """The language of a message, or None when nothing in it tells (digits, emoji)."""
    hinted = TELEGRAM_HINTS.get((hint or "").split("-")[0].lower())
    letters = set(text)
    if _ARABIC_SCRIPT.search(text):
        kurdish = letters & KURDISH_LETTERS
        arabic = letters & ARABIC_ONLY
        if not kurdish and (arabic or hinted not in ("ckb", "kmr")):
            votes = _marker_votes(content, text, ("ar", "ckb", "kmr"))
            if votes["ckb"] > votes["ar"] or votes["kmr"] > votes["ar"]:
                return "ckb" if votes["ckb"] >= votes["kmr"] else "kmr"
            return "ar"
        votes = _marker_votes(content, text, ("ckb", "kmr"))
        if votes["kmr"] > votes["ckb"]:
            return "kmr"
        if votes["ckb"] > votes["kmr"]:
            return "ckb"
        return hinted if hinted in ("ckb", "kmr") else "ckb"
    if _LATIN.search(text):
        if letters & KURMANJI_LATIN:
            return "kmr_latn"
        votes = _marker_votes(content, text, ("kmr_latn", "en"))
        if votes["kmr_latn"] > votes["en"]:
            return "kmr_latn"
        if votes["en"] > votes["kmr_latn"]:
            return "en"
        return "kmr_latn" if hinted == "kmr" else "en"
    return hinted
