"""Telling the language of a message, so the first answer is already in the person's language.

Letters decide most cases (FIELD.md): Kurdish vowels and letters (ە ێ ۆ ڕ ڵ ڤ) mean Kurdish,
Arabic-only forms mean Arabic, ç ê î ş û mean Latin Kurmanji. گ چ پ ژ and the Persian
forms of ی ک are Kurdish too, but Iraqi Arabic writes گ and چ (يگول, چا) and many
phones type ی ک: beside an Arabic-only letter they do not decide, words do. Sorani and
Badini share an alphabet, so everyday words (content/commands.yaml) and topic keywords
decide between them; the person can always switch.
"""
import re

from .content import Content
from .langid import model_for
from .search import index_for
from .text import rejoin_split, tokens

KURDISH_LETTERS = set("ەێۆڕڵڤگچپژکیھ")
KURDISH_VOWELS = set("ەێۆڕڵڤ")        # never in Arabic writing
ARABIC_ONLY = set("ةكيىأإؤ")
KURMANJI_LATIN = set("çêîşûÇÊÎŞÛ")
TELEGRAM_HINTS = {"ar": "ar", "ckb": "ckb", "ku": "kmr", "kmr": "kmr", "en": "en"}
ARABIC_SCRIPT = re.compile("[\u0600-\u06ff]")
_ARTICLE = ("ال", "بال", "وال", "فال", "کال", "لل")    # folded: ك is ک
LATIN = re.compile("[A-Za-z\u00c0-\u024f]")


def _marker_votes(content: Content, text: str, candidates: tuple[str, ...]) -> dict[str, int]:
    """Everyday words and topic keywords of each candidate language found in the text, and grammar.

    Between Arabic and Kurdish, one-letter words do not count (Badini ب "with" is Iraqi ب "for" in
    "ب ٥٠٠٠ دولار")."""
    words = tokens(text)
    phrase = " ".join(words)
    present = set(words)
    by_first = index_for(content).by_first   # language -> first word -> keywords: only those that could be there
    votes = grammar_votes(text, words, candidates)
    for lang in candidates:
        for marker in content.markers.get(lang, ()):
            if "ar" in candidates and len(marker) == 1:
                continue
            if (" " in marker and marker in phrase) or marker in present:
                votes[lang] += 1
        keywords = by_first.get(lang)
        if keywords:
            for word in present:
                for kw in set(keywords.get(word, ())):   # spellings that fold alike count once
                    if all(k in present for k in kw):
                        votes[lang] += 1
    return votes


def grammar_votes(text: str, words: list[str], candidates: tuple[str, ...]) -> dict[str, int]:
    """Word shapes: the Arabic article (الكوليرا, بالمخيم) for Arabic; endings for Sorani or Badini."""
    votes = {lang: 0 for lang in candidates}
    if "ar" in candidates:
        votes["ar"] += sum(1 for word in words if len(word) > 4 and word.startswith(_ARTICLE))
    if "ckb" in candidates and "kmr" in candidates:
        for word in _RAW_WORD.findall(text):     # endings need the Kurdish letters folding merges (ێ/ی)
            if len(word) >= 5 and word.endswith(_SORANI_DEFINITE):
                votes["ckb"] += 1
            elif len(word) >= 5 and word.startswith("دە") and word.endswith(_SORANI_VERB_ENDINGS):
                votes["ckb"] += 1
            elif len(word) >= 4 and word.endswith(("ێ", "ێن")) and not word.startswith("دە"):
                votes["kmr"] += 1
    return votes


# Grammar that tells Sorani from Badini where the words are shared: Sorani's definite ending
# (نەخۆشییەکە, منداڵەکان) and present tense دە- (دەخوات, دەکەین); Badini's oblique and plural
# ezafe endings -ێ, -ێن (کولێرایێ, نیشانێن), which Sorani writes mostly on دە- verbs (دەبێ).
_SORANI_DEFINITE = ("ەکە", "ەکان", "ەکەم", "ەکەت", "ەکەی", "ەکانی", "ەکەمان", "ەکەیە")
_SORANI_VERB_ENDINGS = ("ات", "ێت", "ەم", "ەین", "ەن", "ەیت", "ێم", "ێن")
_RAW_WORD = re.compile(r"\w+")


def detect(content: Content, text: str, hint: str | None = None) -> str | None:
    """The language of a message, or None when nothing in it tells (digits, emoji).

    Letters narrow the candidates (a Kurdish vowel rules Arabic out, ç ê î ş û mean Kurmanji); among
    those left, marker words and grammar vote and the letter statistics (langid) weigh every message,
    so one shared word does not decide alone and a message with no marker word is still told. A close
    call goes to the first candidate: Arabic, then the phone's language, then Sorani (most speakers)."""
    hinted = TELEGRAM_HINTS.get((hint or "").split("-")[0].lower())
    letters = set(text)
    if ARABIC_SCRIPT.search(text):
        kurdish = letters & KURDISH_LETTERS
        arabic = letters & ARABIC_ONLY
        if not letters & KURDISH_VOWELS and (arabic or not kurdish) and (arabic or hinted not in ("ckb", "kmr")):
            return _weigh(content, text, ("ar", "ckb", "kmr"))
        return _weigh(content, text, ("kmr", "ckb") if hinted == "kmr" else ("ckb", "kmr"))
    if LATIN.search(text):
        if letters & KURMANJI_LATIN:
            return "kmr_latn"
        return _weigh(content, text, ("kmr_latn", "en") if hinted == "kmr" else ("en", "kmr_latn"))
    return hinted


VOTE = 0.2          # one marker word or grammar sign, in langid's units (mean log-probability per n-gram)
CLOSE = 0.1         # scores nearer than this are a close call: the candidates' order decides


def _weigh(content: Content, text: str, candidates: tuple[str, ...]) -> str:
    votes = _marker_votes(content, text, candidates)
    model = model_for(content)
    scores = model.scores(text, candidates)
    if (split := rejoin_split(text)) is not None:    # Kurdish typed as "گه رما" on an Arabic keyboard
        joined, joined_scores = _marker_votes(content, split, candidates), model.scores(split, candidates)
        votes = {lang: max(votes[lang], joined[lang]) for lang in candidates}
        scores = {lang: max(scores[lang], joined_scores[lang]) for lang in candidates}
    if len(set(votes.values())) == 1 and len(tokens(split or text)) < 2:
        return candidates[0]        # one unknown word ("كوليرا" is Arabic and Kurdish): too little to weigh
    total = {lang: scores[lang] + VOTE * votes[lang] for lang in candidates}
    best = max(total.values())
    return next(lang for lang in candidates if total[lang] > best - CLOSE)
