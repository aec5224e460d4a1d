"""Matching a free-text question against every item's keywords, in every language at once.

People mix languages and spell loosely, so a keyword matches a word when, after
folding, it is the same word (a bare hamza ء may be left out), a prefix of it (Arabic
and Kurdish glue endings on: الكوليرا, کۆلێراکە), a long-enough beginning of it, one
typo away, or the same word spelled by sound (Iraqi ك for ق, Latin "sh"/"ch" for ş/ç).

Scoring: a matched keyword counts the words it is made of, each word weighted by how
specific it is (a word that keywords of many items use, like "tent" or "min", counts
less than "cholera"); spelling variants of one keyword that match the same words of
the question count once; a keyword of the person's own language counts a little more,
and a keyword of another script family must match strictly: the whole word or a longer
form of it, no typos or truncations (Arabic دهس must not catch Kurdish دەست).
"""
import math

from .content import Content
from .text import stems, tokens

SAME_LANGUAGE_BONUS = 1.25
# Languages whose keywords may match a message's words loosely (prefixes, typos).
FAMILY = {"ar": "arabic", "ckb": "kurdish", "kmr": "kurdish", "kmr_latn": "latin", "en": "latin"}

# Spelling by sound: letters people swap because they sound alike where they live.
_SOUND_LETTERS = str.maketrans({"ق": "ک", "ث": "س", "ص": "س", "ذ": "ز", "ظ": "ض", "ط": "ت"})
_LATIN_DIGRAPHS = (("sh", "s"), ("ch", "c"), ("kh", "x"))


def _sound(word: str) -> str:
    """A coarser key for spelling by sound; only compared for keywords of 5+ letters."""
    word = word.translate(_SOUND_LETTERS)
    for pair, single in _LATIN_DIGRAPHS:
        word = word.replace(pair, single)
    return word


def _one_typo(a: str, b: str) -> bool:
    """True when a and b differ by one insertion, deletion, substitution or swap of two neighbours."""
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [n for n in range(len(a)) if a[n] != b[n]]
        if len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]:
            return True
    if len(a) > len(b):
        a, b = b, a
    i = j = edits = 0
    while i < len(a) and j < len(b):
        if a[i] != b[j]:
            edits += 1
            if edits > 1:
                return False
            if len(a) == len(b):
                i += 1
            j += 1
        else:
            i += 1
            j += 1
    return edits + (len(b) - j) <= 1


def word_matches(keyword: str, word: str, loose: bool = True) -> bool:
    """loose=False (feedback and sensitive words): exact or a longer form only, no typos, no
    truncations - "اعتداء" must not fire on "ارتداء", nor "threat" on "treat"."""
    if word == keyword:
        return True
    if "ء" in keyword + word and keyword.replace("ء", "") == word.replace("ء", ""):
        return True    # a bare hamza is mostly left out (شتا, دوا, ما for شتاء, دواء, ماء): whole words only,
                       # since اطفا(ء) "putting out" must not be the start of اطفال "children"
    if len(keyword) >= (3 if loose else 4) and word.startswith(keyword):
        return True
    if not loose:
        return False
    if len(word) >= 4 and keyword.startswith(word) and len(word) * 10 >= len(keyword) * 7:
        return True
    if len(keyword) >= 6 and _one_typo(keyword, word):
        return True
    if len(keyword) >= 5:
        heard, said = _sound(keyword), _sound(word)
        return (heard, said) != (keyword, word) and (said == heard or said.startswith(heard))
    return False


_SPECIFICITY: dict[int, tuple] = {}


def _specificity(content: Content) -> dict[str, float]:
    """Per keyword word: 1 for a word one item's keywords use, less for a word many items share."""
    cached = _SPECIFICITY.get(id(content))
    if cached and cached[0] is content.keyword_index:
        return cached[1]
    owners: dict[str, set] = {}
    for item_id, _lang, kw_tokens in content.keyword_index:
        for token in kw_tokens:
            owners.setdefault(token, set()).add(item_id)
    weights = {token: 1 / math.sqrt(len(items)) for token, items in owners.items()}
    if len(_SPECIFICITY) > 8:
        _SPECIFICITY.clear()
    _SPECIFICITY[id(content)] = (content.keyword_index, weights)
    return weights


def _covered(kw_tokens: tuple, words: list[set], loose: bool) -> frozenset | None:
    """The positions of the question's words that the keyword's words match, or None."""
    covered = set()
    for k in kw_tokens:
        hits = {n for n, forms in enumerate(words) if any(word_matches(k, f, loose) for f in forms)}
        if not hits:
            return None
        covered |= hits
    return frozenset(covered)


def search(content: Content, text: str, lang: str | None = None) -> list[tuple[str, float]]:
    """Items ranked by how well the text matches their keywords, best first."""
    words = [stems(t) for t in tokens(text)]
    if not words:
        return []
    weights = _specificity(content)
    family = FAMILY.get(lang or "")
    best_per_span: dict[tuple[str, frozenset], float] = {}
    for item_id, kw_lang, kw_tokens in content.keyword_index:
        loose = family is None or FAMILY.get(kw_lang) == family
        span = _covered(kw_tokens, words, loose)
        if span is None:
            continue
        weight = sum(weights.get(k, 1.0) for k in kw_tokens)
        weight *= SAME_LANGUAGE_BONUS if kw_lang == lang else 1.0
        key = (item_id, span)
        best_per_span[key] = max(best_per_span.get(key, 0.0), weight)
    scores: dict[str, float] = {}
    for (item_id, _span), weight in best_per_span.items():
        scores[item_id] = scores.get(item_id, 0.0) + weight
    return sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))


def best(content: Content, text: str, lang: str | None = None) -> tuple[str | None, list[str]]:
    """A clear winner, or up to three candidates to offer as a numbered choice."""
    ranked = search(content, text, lang)
    if not ranked:
        return None, []
    if len(ranked) == 1 or ranked[0][1] >= 1.5 * ranked[1][1]:
        return ranked[0][0], []
    return None, [item_id for item_id, _ in ranked[:3]]
