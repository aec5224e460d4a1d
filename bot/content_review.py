"""Who checked which language of which item: the review states kept as reviews.yaml in a content version.

Each item x language is `draft` (changed since anyone checked it; also when nothing is recorded),
`needs_update` (the English or Arabic source changed after it was written) or `reviewed` (by whom, when).
The rules are pure functions over the reviews mapping {item id: {language: {state, by, at}}} and over
items as plain dicts (a topic file's item), so they are tested without a database; the dashboard reads
and writes reviews.yaml with read() and write(). Functions return a new mapping and never change theirs.
"""
import copy
from datetime import datetime, timezone

import yaml

from handlers.i18n import LANGUAGES

from .statuses import ReviewState

DRAFT, NEEDS_UPDATE, REVIEWED = ReviewState.DRAFT, ReviewState.NEEDS_UPDATE, ReviewState.REVIEWED
STATES = (DRAFT, NEEDS_UPDATE, REVIEWED)
SOURCE_LANGUAGES = ("en", "ar")          # translators work from these: a change there makes the others stale
REVIEWS_FILE = "reviews.yaml"


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def state_of(reviews: dict, item_id: str, lang: str) -> str:
    """The recorded state, `draft` when nothing is recorded (as Content.review_state reads it)."""
    state = str(((reviews.get(item_id) or {}).get(lang) or {}).get("state") or DRAFT)
    return state if state in STATES else DRAFT


def source_texts(item: dict, lang: str) -> tuple:
    """What a translation is made from, in one language: title, SMS, full text, each step's text and SMS."""
    def one(texts) -> str:
        return str((texts or {}).get(lang) or "")
    steps = tuple((one(s.get("text")), one(s.get("sms"))) for s in item.get("steps") or [])
    return one(item.get("title")), one(item.get("sms")), one(item.get("text")), steps


def language_content(item: dict, lang: str) -> tuple:
    """Everything of one language a reviewer signs for: the texts and the keywords."""
    keywords = tuple(str(k) for k in ((item.get("keywords") or {}).get(lang) or []))
    return source_texts(item, lang), keywords


def changed_languages(before: dict, after: dict) -> list[str]:
    """The languages whose texts or keywords differ between two versions of an item."""
    return [lang for lang in LANGUAGES if language_content(before, lang) != language_content(after, lang)]


def _entry(state: str, actor: str, at: str) -> dict:
    return {"state": str(state), "by": actor, "at": at}     # a plain str: yaml.safe_dump refuses an Enum


def after_save(reviews: dict, item_id: str, before: dict, after: dict, actor: str, at: str | None = None,
               reviewed=()) -> dict:
    """The states once an item is saved: each language that changed is `draft` again; a change of the
    English or Arabic source makes every language not changed in the same save `needs_update`; the
    languages the saver marks reviewed in the same save are `reviewed` (they checked them as saved)."""
    at = at or now()
    changed = changed_languages(before, after)
    sources = [lang for lang in SOURCE_LANGUAGES if source_texts(before, lang) != source_texts(after, lang)]
    result = copy.deepcopy(reviews)
    states = dict(result.get(item_id) or {})
    for lang in changed:
        states[lang] = _entry(DRAFT, actor, at)
    if sources:
        for lang in LANGUAGES:
            if lang not in changed:
                states[lang] = _entry(NEEDS_UPDATE, actor, at)
    for lang in reviewed:
        states[lang] = _entry(REVIEWED, actor, at)
    result[item_id] = states
    return result


def mark_reviewed(reviews: dict, item_id: str, languages, actor: str, at: str | None = None) -> dict:
    result = copy.deepcopy(reviews)
    states = dict(result.get(item_id) or {})
    for lang in languages:
        states[lang] = _entry(REVIEWED, actor, at or now())
    result[item_id] = states
    return result


def forget(reviews: dict, item_id: str) -> dict:
    """A retired item's states go with it (restoring an earlier version brings both back)."""
    return {key: copy.deepcopy(value) for key, value in reviews.items() if key != item_id}


def awaiting(reviews: dict, item_ids, lang: str) -> list[tuple[str, str]]:
    """(item id, state) of the items whose `lang` is not reviewed, in the order given."""
    return [(item_id, state) for item_id in item_ids
            if (state := state_of(reviews, item_id, lang)) != REVIEWED]


def counts(reviews: dict, item_ids, lang: str) -> dict[str, int]:
    found: dict[str, int] = {state: 0 for state in STATES}
    for item_id in item_ids:
        found[state_of(reviews, item_id, lang)] += 1
    return found


def read(files: dict[str, str]) -> dict:
    """reviews.yaml of a version's files ({} when there is none)."""
    text = files.get(REVIEWS_FILE)
    data = yaml.safe_load(text) if text else None
    return dict((data or {}).get("reviews") or {}) if isinstance(data, dict) else {}


def write(reviews: dict) -> str:
    """reviews.yaml: items by id, languages in their usual order, so its diff stays small and readable."""
    ordered = {}
    for item_id in sorted(reviews):
        states = reviews[item_id] or {}
        langs = [lang for lang in LANGUAGES if lang in states] + sorted(set(states) - set(LANGUAGES))
        if langs:
            ordered[item_id] = {lang: {key: states[lang][key] for key in ("state", "by", "at")
                                       if key in (states[lang] or {})} for lang in langs}
    header = ("# Review states per item and language (the dashboard writes this file): draft, needs_update\n"
              "# (the English or Arabic source changed since), reviewed (by whom, when). Absent = draft.\n")
    return header + yaml.safe_dump({"reviews": ordered}, allow_unicode=True, sort_keys=False,
                                   width=float("inf"), default_flow_style=False)
