"""The problems `content check` finds, sorted to where someone fixes them: an item's field in one language.

The checks write problems as text ("item cholera sms [ckb]: 160 characters, over 150", "item x keywords:
missing kmr", "keyword 'x' (ckb) points at two items: a and b"); the editor shows each next to its field,
and the publish page lists them by item and field. What names no item stays in the general list.
"""
import re
from collections import defaultdict

_ITEM = re.compile(r"item (?P<item>[a-z0-9][a-z0-9-]*)(?: step (?P<step>\d+))?"
                   r"(?: (?P<field>title|sms|text|keywords))?(?: \[(?P<lang>[a-z_]+)\])?:(?P<rest>.*)", re.S)
_MISSING = re.compile(r" missing (?P<lang>ar|ckb|kmr|kmr_latn|en)$")
_KEYWORD = re.compile(r"keyword .* \((?P<lang>[a-z_]+)\) points at two items: (?P<a>\S+) and (?P<b>\S+)$")


def place(problem: str) -> list[tuple[str, str, str]]:
    """(item id, field, language) each problem belongs to; field is "title", "sms", "text", "keywords",
    "step N text", "step N sms", "step N" or "" (the item as a whole); language "" for every language."""
    if found := _KEYWORD.match(problem):
        return [(found["a"], "keywords", found["lang"]), (found["b"], "keywords", found["lang"])]
    found = _ITEM.match(problem)
    if not found:
        return []
    field = found["field"] or ""
    if found["step"]:
        field = f"step {found['step']} {field}".strip()
    lang = found["lang"] or ""
    if not lang and (missing := _MISSING.search(found["rest"])):
        lang = missing["lang"]
    return [(found["item"], field, lang)]


def by_item(problems: list[str]) -> tuple[dict[str, list[tuple[str, str, str]]], list[str]]:
    """({item id: [(field, language, problem)]}, problems that name no item)."""
    items: dict[str, list] = defaultdict(list)
    general = []
    for problem in problems:
        places = place(problem)
        if not places:
            general.append(problem)
        for item_id, field, lang in places:
            items[item_id].append((field, lang, problem))
    return dict(items), general


def by_field(problems: list[str], item_id: str) -> dict[tuple[str, str], list[str]]:
    """{(field, language): [problem]} for one item, for the editor."""
    found: dict[tuple[str, str], list[str]] = defaultdict(list)
    for field, lang, problem in by_item(problems)[0].get(item_id, []):
        found[(field, lang)].append(problem)
    return dict(found)
