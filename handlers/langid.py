"""How much a text looks like each language, letter by letter: naive Bayes over character n-grams.

Marker words decide a language only when a message holds one; many do not ("نيشانه كاني كوليرا جين",
"cend sing pedivine"). Letter sequences still tell: Sorani -ەکان, لە, -ەوە; Badini -ێن, د-, ژ; Arabic ال-.
The statistics are learnt from our own texts in each language (topic texts, keywords, feedback words,
place names, the interface catalogs), folded as messages are, and once more with ە split from the
next letter as Arabic keyboards leave it ("ته ندروستى"). No language model library covers Sorani
and Badini in Arabic script (CLD and fastText know Sorani, none Badini), hence these few lines.
"""
import math
import re
import threading
from collections import Counter
from functools import lru_cache
from typing import TYPE_CHECKING

from babel.messages.pofile import read_po

from .i18n import LOCALES_DIR
from .text import tokens

if TYPE_CHECKING:
    from .content import Content  # content imports this module when it loads

LANGUAGES = ("ar", "ckb", "kmr", "kmr_latn", "en")
SIZES = (1, 2, 3, 4)
_UNSEEN = 0.5               # add-k smoothing
_VOCABULARY = 200_000       # n-grams any language could have
_SPLIT = re.compile("([هە])(?=\\w)")
_PLACEHOLDER = re.compile(r"\{\w+\}")


def _word_grams(word: str) -> list[str]:
    padded = f" {word} "
    size = len(padded)
    return [padded[i:i + n] for n in SIZES for i in range(size - n + 1)]


def grams(text: str) -> list[str]:
    out = []
    for word in tokens(text):
        if not word.isdigit():
            out += _word_grams(word)
    return out


def _statistics(lang: str, texts: tuple[str, ...]) -> tuple[dict[str, float], float]:
    """One language's n-gram log-probabilities and its unseen value, from its texts."""
    words: Counter[str] = Counter()          # n-grams counted per distinct word: the same counts, a fraction of the work
    for text in texts:
        words.update(tokens(text))
        if lang in ("ckb", "kmr"):
            words.update(tokens(_SPLIT.sub(r"\1 ", text)))
    counts: Counter[str] = Counter()
    for word, times in words.items():
        if not word.isdigit():
            for gram in _word_grams(word):
                counts[gram] += times
    denominator = sum(counts.values()) + _UNSEEN * _VOCABULARY
    logp = {g: math.log((n + _UNSEEN) / denominator) for g, n in counts.items()
            if n > 1}     # seen once: no better than unseen, and a third of the memory
    return logp, math.log(_UNSEEN / denominator)


# A language's statistics by its texts: an edit of a Sorani sentence retrains Sorani alone (a fifth of the
# work). The last two per language are kept: the published version's and the draft's.
_by_language: dict[str, dict[int, tuple[dict[str, float], float]]] = {}
_by_language_lock = threading.Lock()       # gunicorn's threads may load a new version at once


def _statistics_kept(lang: str, texts: tuple[str, ...]) -> tuple[dict[str, float], float]:
    key = hash(texts)
    with _by_language_lock:
        kept = _by_language.setdefault(lang, {})
        if key not in kept:
            if len(kept) >= 2:
                kept.pop(next(iter(kept)))
            kept[key] = _statistics(lang, texts)
        return kept[key]


class Model:
    def __init__(self, samples: dict[str, list[str]]):
        self.logp: dict[str, dict[str, float]] = {}
        self.unseen: dict[str, float] = {}
        for lang, texts in samples.items():
            self.logp[lang], self.unseen[lang] = _statistics_kept(lang, tuple(texts))

    def scores(self, text: str, languages: tuple[str, ...]) -> dict[str, float]:
        """Mean log-probability of the text's n-grams in each language (higher is likelier)."""
        found = grams(text)
        scores = {}
        for lang in languages:
            logp, unseen = self.logp.get(lang, {}), self.unseen.get(lang, math.log(_UNSEEN / _VOCABULARY))
            scores[lang] = sum(logp.get(g, unseen) for g in found) / max(1, len(found))
        return scores


def model_for(content: "Content") -> Model:
    """Built when content loads, kept on it; a language whose texts did not change is not trained again."""
    model: Model | None = content.__dict__.get("_langid")
    if model is None:
        samples = {lang: list(_catalog_texts(lang)) for lang in LANGUAGES}
        _collect([content.feedback, content.areas, [t.title for t in content.topics]], samples)
        for item in content.items.values():
            _collect([item.title, item.sms, item.text, item.keywords, [(s.text, s.sms) for s in item.steps]], samples)
        for lang, words in content.markers.items():
            samples.setdefault(lang, []).extend(sorted(words))
        model = Model(samples)     # each language's statistics come from _by_language when its texts are the same
        content.__dict__["_langid"] = model
    return model


def _collect(node: object, samples: dict[str, list[str]]) -> None:
    """Every string found under a language's key, at any depth."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in samples and isinstance(value, (str, list)):
                for text in (value if isinstance(value, list) else [value]):
                    if isinstance(text, (str, int, float)):
                        samples[key].append(str(text))
                    else:
                        _collect(text, samples)
            else:
                _collect(value, samples)
    elif isinstance(node, (list, tuple)):
        for value in node:
            _collect(value, samples)


@lru_cache(maxsize=None)
def _catalog_texts(lang: str) -> tuple[str, ...]:
    path = LOCALES_DIR / lang / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return ()
    with path.open("rb") as fh:
        catalog = read_po(fh)
    texts: list[str] = []
    for message in catalog:
        if message.id and not message.fuzzy and (message.string or lang == "en"):
            found = message.string or message.id        # English: the msgid is the text
            strings = found if isinstance(found, tuple) else (found,)
            texts.extend(_PLACEHOLDER.sub(" ", str(s)) for s in strings if s)
    return tuple(texts)
