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

from .content import Content, KeywordEntry
from .text import _stems, rejoin_split, tokens

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


def _specificity(content: Content) -> dict[str, float]:
    """Per keyword word: 1 for a word one item's keywords use, less for a word many items share."""
    return index_for(content).weights


class SearchIndex:
    """The keywords of one Content, arranged so a question's words find their few candidate keywords.

    A word is compared (word_matches, unchanged) only with the keyword words that could match it:
    the same word, a hamza-less spelling, a beginning of the word, a word it begins, one edit away
    (deletion neighbourhoods), or a sound-alike key it starts with. Every rule of word_matches is
    covered by one of these look-ups, so the results are those of comparing every keyword word with
    every word of the question; only the comparisons that could never match are skipped.
    """

    def __init__(self, keyword_index: list[KeywordEntry]):
        self.source = keyword_index
        self.size = len(keyword_index)
        owners: dict[str, set[str]] = {}
        for item_id, _lang, kw_tokens in keyword_index:
            for token in kw_tokens:
                owners.setdefault(token, set()).add(item_id)
        self.weights = {token: 1 / math.sqrt(len(items)) for token, items in owners.items()}
        # (item id, language, tokens, summed weight) in keyword_index order; token -> positions of its entries
        self.entries = [(item_id, lang, kw_tokens, sum(self.weights.get(k, 1.0) for k in kw_tokens))
                        for item_id, lang, kw_tokens in keyword_index]
        self.by_token: dict[str, list[int]] = {}
        # language -> first keyword word -> the keywords (token tuples) of that language starting with it
        self.by_first: dict[str, dict[str, list[tuple[str, ...]]]] = {}
        for n, (_item_id, lang, kw_tokens) in enumerate(keyword_index):
            for token in dict.fromkeys(kw_tokens):
                self.by_token.setdefault(token, []).append(n)
            if kw_tokens:
                self.by_first.setdefault(lang, {}).setdefault(kw_tokens[0], []).append(kw_tokens)
        self.tokens = frozenset(self.by_token)
        self._dehamza: dict[str, list[str]] = {}
        self._extends: dict[str, list[str]] = {}   # a beginning of 4+ letters and 70 % -> the keyword words
        self._deletes: dict[str, list[str]] = {}   # 6+ letter keyword words and each with one letter less
        self._sounds: dict[str, list[str]] = {}    # sound key of 5+ letter keyword words
        for k in sorted(self.tokens):
            self._dehamza.setdefault(k.replace("ء", ""), []).append(k)
            for n in range(4, len(k)):
                if n * 10 >= len(k) * 7:
                    self._extends.setdefault(k[:n], []).append(k)
            if len(k) >= 6:
                for key in {k} | {k[:i] + k[i + 1:] for i in range(len(k))}:
                    self._deletes.setdefault(key, []).append(k)
            if len(k) >= 5:
                self._sounds.setdefault(_sound(k), []).append(k)
        self._matches: dict[str, tuple[frozenset[str], frozenset[str]]] = {}

    def candidates(self, word: str) -> set[str]:
        """Every keyword word that word_matches(keyword, word) could accept (a superset)."""
        tokens = self.tokens
        found = {word} if word in tokens else set()
        found.update(self._dehamza.get(word.replace("ء", ""), ()))
        for n in range(3, len(word)):
            if word[:n] in tokens:
                found.add(word[:n])
        if len(word) >= 4:
            found.update(self._extends.get(word, ()))
        if len(word) >= 5:
            for key in {word} | {word[:i] + word[i + 1:] for i in range(len(word))}:
                found.update(self._deletes.get(key, ()))
        said = _sound(word)
        for n in range(1, len(said) + 1):
            found.update(self._sounds.get(said[:n], ()))
        return found

    def matches(self, word: str) -> tuple[frozenset[str], frozenset[str]]:
        """The keyword words matching word loosely, and strictly (strict matches are loose ones too)."""
        known = self._matches.get(word)
        if known is None:
            loose = frozenset(k for k in self.candidates(word) if word_matches(k, word, True))
            strict = frozenset(k for k in loose if word_matches(k, word, False))
            known = (loose, strict)
            if len(self._matches) > 50_000:
                self._matches.clear()
            self._matches[word] = known
        return known


def index_for(content: Content) -> SearchIndex:
    """The content's search index, built once per loaded content (again if its keywords were replaced)."""
    index = getattr(content, "search_index", None)
    if index is None or index.source is not content.keyword_index or index.size != len(content.keyword_index):
        index = SearchIndex(content.keyword_index)
        content.search_index = index
    return index


def search(content: Content, text: str, lang: str | None = None) -> list[tuple[str, float]]:
    """Items ranked by how well the text matches their keywords, best first."""
    words = [_stems(t) for t in tokens(text)]
    if not words:
        return []
    index = index_for(content)
    family = FAMILY.get(lang or "")
    # keyword word -> positions of the question's words it matches, loosely and strictly
    loose_hits: dict[str, set[int]] = {}
    strict_hits: dict[str, set[int]] = {}
    for n, forms in enumerate(words):
        for form in forms:
            loose, strict = index.matches(form)
            for k in loose:
                loose_hits.setdefault(k, set()).add(n)
            for k in strict:
                strict_hits.setdefault(k, set()).add(n)
    by_token = index.by_token
    candidates: set[int] = set()
    for k in loose_hits:
        candidates.update(by_token.get(k, ()))
    entries = index.entries
    best_per_span: dict[tuple[str, frozenset[int]], float] = {}
    for n in sorted(candidates):          # keyword_index order, so scores add up in the same order
        item_id, kw_lang, kw_tokens, weight = entries[n]
        same_family = family is None or FAMILY.get(kw_lang) == family
        hits = loose_hits if same_family else strict_hits
        covered: set[int] = set()
        for k in kw_tokens:
            found = hits.get(k)
            if not found:
                break
            covered |= found
        else:
            weight *= SAME_LANGUAGE_BONUS if kw_lang == lang else 1.0
            key = (item_id, frozenset(covered))
            best_per_span[key] = max(best_per_span.get(key, 0.0), weight)
    scores: dict[str, float] = {}
    for (item_id, _span), weight in best_per_span.items():
        scores[item_id] = scores.get(item_id, 0.0) + weight
    return sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))


def best(content: Content, text: str, lang: str | None = None) -> tuple[str | None, list[str]]:
    """A clear winner, or up to three candidates to offer as a numbered choice."""
    ranked = search(content, text, lang)
    if (split := rejoin_split(text)) is not None:       # "ته ندروستى": also as the word it stands for
        rejoined = search(content, split, lang)
        if rejoined and (not ranked or rejoined[0][1] > ranked[0][1]):
            ranked = rejoined
    if not ranked:
        return None, []
    if len(ranked) == 1 or ranked[0][1] >= 1.5 * ranked[1][1]:
        return ranked[0][0], []
    return None, [item_id for item_id, _ in ranked[:3]]
