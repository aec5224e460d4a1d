"""One word per concept (content/glossary.yaml): a form to avoid in a language's texts fails the check.

Translators drafting in several styles leave one concept with three words (Badini written half in Sorani);
the glossary names the word to use, and this check finds the forms to avoid, in the topic texts and in the
interface catalog of that language.
"""
import re
from typing import Any


def _pattern(entry: dict[str, Any]) -> re.Pattern[str] | None:
    if entry.get("initial"):
        return re.compile(r"(?<![\w\u200c])" + re.escape(entry["initial"]))
    forms = [f for f in entry.get("avoid") or [] if f]
    if not forms:
        return None
    words = [re.escape(f) for f in forms if " " not in f]
    phrases = [re.escape(f) for f in forms if " " in f]
    end = r"(?![\w\u200c])" if entry.get("whole") else ""     # whole: the word alone (leş, not leşker)
    parts = ([r"(?<![\w\u200c])(?:" + "|".join(words) + ")" + end] if words else []) + phrases
    return re.compile("|".join(parts), re.IGNORECASE)     # Latin: "Xo" opens a sentence too


def problems(glossary: dict[str, Any], texts: list[tuple[str, str, str]]) -> list[str]:
    """texts: (where, language, text). One line per text and concept, with the form found."""
    rules = {lang: [(entry, pattern) for entry in entries or [] if (pattern := _pattern(entry))]
             for lang, entries in glossary.items() if isinstance(entries, list)}
    found = []
    for where, lang, text in texts:
        for entry, pattern in rules.get(lang, []):
            hit = pattern.search(text or "")
            if hit:
                found.append(f"{where} [{lang}]: {hit.group(0)!r} for {entry.get('concept')}: write "
                             f"{entry.get('use')!r} (content/glossary.yaml)")
    return found
