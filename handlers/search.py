"""Matching a free-text question against every item's keywords, in every language at once.

People mix languages and spell loosely, so a keyword matches a word when, after
folding, it is the same word, a prefix of it (Arabic and Kurdish glue endings on:
الكوليرا, کۆلێراکە), a long-enough beginning of it, or one typo away.
"""
from .content import Content
from .text import stems, tokens

SAME_LANGUAGE_BONUS = 1.25


def _one_typo(a: str, b: str) -> bool:
    """True when a and b differ by one insertion, deletion or substitution."""
    if abs(len(a) - len(b)) > 1:
        return False
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
    if len(keyword) >= (3 if loose else 4) and word.startswith(keyword):
        return True
    if not loose:
        return False
    if len(word) >= 4 and keyword.startswith(word) and len(word) * 10 >= len(keyword) * 7:
        return True
    return len(keyword) >= 6 and _one_typo(keyword, word)


def search(content: Content, text: str, lang: str | None = None) -> list[tuple[str, float]]:
    """Items ranked by how well the text matches their keywords, best first."""
    words = [stems(t) for t in tokens(text)]
    if not words:
        return []
    scores: dict[str, float] = {}
    for item_id, kw_lang, kw_tokens in content.keyword_index:
        if all(any(word_matches(k, form) for forms in words for form in forms) for k in kw_tokens):
            weight = len(kw_tokens) * (SAME_LANGUAGE_BONUS if kw_lang == lang else 1.0)
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
