"""Facts an answer must keep (content/facts.yaml): an edit that drops one, in any language, fails the check.

A safety fact written once in five languages is easy to lose in the next edit (a shorter SMS, a new
translator); this table says which words must stay and which known mistakes must not come back.
"""
from typing import TYPE_CHECKING, Any

from .i18n import LANGUAGES
from .text import to_ascii_digits

if TYPE_CHECKING:
    from .content import Item  # content imports this module


def _folded(text: str) -> str:
    return to_ascii_digits(str(text)).replace("–", "-").replace("\u0651", "").casefold()


def problems(facts: list[dict[str, Any]], items: dict[str, "Item"]) -> list[str]:
    found = []
    for fact in facts:
        where = f"facts.yaml {fact.get('id', '?')}"
        item = items.get(str(fact.get("item")))
        if item is None:
            found.append(f"{where}: no item {fact.get('item')!r}")
            continue
        for field in fact.get("fields") or ["text"]:
            texts = getattr(item, field, None) or {}
            for lang in LANGUAGES:
                text = _folded(texts.get(lang) or "")
                for phrase in (fact.get("must") or {}).get(lang) or []:
                    if _folded(phrase) not in text:
                        found.append(f"item {item.id} {field} [{lang}]: lost {phrase!r} ({fact.get('why', '').strip()})")
                for phrase in (fact.get("must_not") or {}).get(lang) or []:
                    if _folded(phrase) in text:
                        found.append(f"item {item.id} {field} [{lang}]: says {phrase!r} again "
                                     f"({fact.get('why', '').strip()})")
    return found
