"""The content files as Python objects and their check.

Content is data (content/*.yaml) so translators review it side by side; this module
only loads, validates and indexes it. Nothing here knows about channels.
"""
import hashlib
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from .facts import problems as fact_problems
from .glossary import problems as glossary_problems
from .i18n import LANGUAGES
from .recordings import problems as recording_problems
from .referrals import area_problems, expand
from .referrals import problems as referral_problems
from .sms import fold_latin, is_gsm7, segments
from .text import tokens
from .yaml_texts import parsed

if TYPE_CHECKING:   # both are built from a Content and cached on it; they import this module
    from .feedback import PhraseMatcher
    from .search import SearchIndex

log = logging.getLogger(__name__)
CONTENT_DIR = Path(__file__).resolve().parent.parent / "content"
FALLBACK = {"kmr_latn": "kmr", "kmr": "ckb", "ckb": "ar", "ar": "en", "en": "ar"}

TITLE_MAX = 28
TOPIC_TITLE_MAX = 24
INDIC_DIGIT_LANGUAGES = ("ar", "ckb", "kmr")   # one digit system per language: the interface's ٠-٩
GSM_LANGUAGES = ("en", "kmr_latn")   # Latin script: their SMS must be GSM-7 (kmr_latn once folded, SMS_FOLD_LATIN)
SMS_MAX = 150          # leaves room for the option lines within three UCS-2 segments
# SMS parts an item's SMS text may take alone: two for Arabic script (134 UCS-2 characters) and English;
# Latin Kurmanji three unfolded (ê î û ş ç make it UCS-2), one or two once folded (SMS_FOLD_LATIN)
SMS_PARTS = {"ar": 2, "ckb": 2, "kmr": 2, "en": 2, "kmr_latn": 3}
CAPTION_MAX = 900      # Telegram captions hold 1024
TEXT_MAX = 1500
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
COMMANDS = ("stop", "start", "help", "menu", "back", "more", "language", "yes", "no", "delete_data", "status",
            "subscribe", "skip", "poll")

Texts = dict[str, str]          # language -> text
YamlMap = dict[str, Any]        # a mapping as the YAML files hold it (schema: content/README.md)
KeywordEntry = tuple[str, str, tuple[str, ...]]   # (item id, language, folded keyword tokens)


def pick(texts: Texts, lang: str) -> str:
    """The text in this language, or in the nearest language we have."""
    seen = set()
    next_lang: str | None = lang
    while next_lang and next_lang not in seen:
        if texts.get(next_lang):
            return texts[next_lang]
        seen.add(next_lang)
        next_lang = FALLBACK.get(next_lang)
    return next((v for v in texts.values() if v), "")


@dataclass
class Step:
    image: str
    text: Texts
    sms: Texts


@dataclass
class Item:
    id: str
    topic: str
    title: Texts
    sms: Texts
    text: Texts
    keywords: dict[str, list[str]]
    sources: list[YamlMap]
    steps: list[Step] = field(default_factory=list)


@dataclass
class Topic:
    id: str
    order: int
    title: Texts
    items: list[Item]


@dataclass
class Content:
    topics: list[Topic]
    items: dict[str, Item]
    commands: dict[str, str]          # folded phrase -> command name
    greetings: set[str]               # folded phrases
    markers: dict[str, set[str]]      # language -> folded marker words
    keyword_index: list[KeywordEntry]
    areas: list[YamlMap]
    referrals: list[YamlMap]
    feedback: YamlMap
    images: dict[str, bytes]          # pictures by name (images/ in the files), served at /content-images/
    problems: list[str]
    answer_templates: list[YamlMap] = field(default_factory=list)   # saved staff answers (answer_templates.yaml)
    # built from keyword_index when the content loads (search.SearchIndex), rebuilt if keyword_index is replaced
    search_index: "SearchIndex | None" = field(default=None, repr=False, compare=False)
    phrase_matcher: "PhraseMatcher | None" = field(default=None, repr=False, compare=False)
    topic_names: dict[str, str] | None = field(default=None, repr=False, compare=False)   # topics.topic_named
    language_names: dict[str, str] = field(default_factory=dict)   # folded name -> language code, or "kurdish"
    language_talk: set[str] = field(default_factory=set)       # folded words around a name: "speak", "in"
    emergency: YamlMap = field(default_factory=dict)         # referrals.yaml's emergency numbers (referrals.py)
    carrier_opt_out: set[str] = field(default_factory=set)     # folded words an SMS carrier itself treats as STOP
    # reviews.yaml: {item id: {language: {state: reviewed | needs_update | draft, by, at}}}; absent = draft
    reviews: dict[str, dict[str, YamlMap]] = field(default_factory=dict)
    # recordings.yaml: {"<item>[.step<N>].<lang>": {sha256, seconds, state, by, at}} (handlers/recordings.py)
    recordings: dict[str, dict[str, Any]] = field(default_factory=dict)

    def review_state(self, item_id: str, lang: str) -> str:
        return str(((self.reviews.get(item_id) or {}).get(lang) or {}).get("state") or "draft")

    def topic(self, topic_id: str) -> Topic | None:
        return next((t for t in self.topics if t.id == topic_id), None)


class BrokenFile(ValueError):
    pass


def read_dir(content_dir: Path) -> tuple[dict[str, str], dict[str, bytes]]:
    """The content files of a directory as (YAML texts by relative path, pictures by name under images/)."""
    content_dir = Path(content_dir)
    files = {p.relative_to(content_dir).as_posix(): p.read_text(encoding="utf-8")
             for p in sorted(content_dir.rglob("*.yaml")) if "tools" not in p.relative_to(content_dir).parts}
    images_dir = content_dir / "images"
    images = {p.relative_to(images_dir).as_posix(): p.read_bytes()
              for p in sorted(images_dir.rglob("*")) if p.is_file() and p.name.lower().endswith(IMAGE_SUFFIXES)
              } if images_dir.is_dir() else {}
    return files, images


def _read(files: dict[str, str], name: str) -> YamlMap:
    if name not in files:
        return {}
    try:
        data = parsed(files[name]) or {}
    except yaml.YAMLError as exc:
        raise BrokenFile(f"{name}: not valid YAML ({exc.__class__.__name__}, line "
                         f"{getattr(getattr(exc, 'problem_mark', None), 'line', -1) + 1})") from None
    if not isinstance(data, dict):
        raise BrokenFile(f"{name}: expected a mapping at the top")
    return data


def _phrase(text: str) -> str:
    return " ".join(tokens(text))


def load(content_dir: Path = CONTENT_DIR) -> Content:
    """Read every content file of a directory (the seed and exchange format; see load_files)."""
    return load_files(*read_dir(content_dir))


_LOADED: dict[str, Content] = {}     # by a hash of the files: a process loads the same version once
_LOADED_MAX = 4


def load_files(files: dict[str, str], images: dict[str, bytes]) -> Content:
    """Content from its YAML texts and pictures, wherever they are kept (a directory, a published version).
    Problems are collected, not raised, so a check or a publish can list them all. Loaded content is
    never changed afterwards (a change is a new version), so the same files give the same object."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(f"{name}\0{files[name]}\0".encode())
    for name in sorted(images):
        digest.update(f"{name}\0".encode() + hashlib.sha256(images[name]).digest())
    key = digest.hexdigest()
    if key not in _LOADED:
        if len(_LOADED) >= _LOADED_MAX:
            _LOADED.pop(next(iter(_LOADED)))
        _LOADED[key] = _load_checked(files, images)
    return _LOADED[key]


def _load_checked(files: dict[str, str], images: dict[str, bytes]) -> Content:
    try:
        return _load(files, images)
    except BrokenFile as exc:
        problems = [str(exc)]
    except (AttributeError, TypeError, KeyError, ValueError) as exc:
        problems = [f"a file does not follow the schema in content/README.md: {exc!r}"]
    return Content(topics=[], items={}, commands={}, greetings=set(), markers={}, keyword_index=[],
                   areas=[], referrals=[], feedback={}, images=images, problems=problems)


def _load(files: dict[str, str], images: dict[str, bytes]) -> Content:
    problems: list[str] = []
    topics: list[Topic] = []
    items: dict[str, Item] = {}
    referrals_file = _read(files, "referrals.yaml")
    emergency = referrals_file.get("emergency") or {}
    raw_fields: list[tuple[str, Texts]] = []     # before {emergency} is expanded: referrals.problems checks them
    for name in sorted(n for n in files if n.startswith("topics/") and n.endswith(".yaml")):
        data = _read(files, name)
        where = name.split("/")[-1]
        stem = where.rsplit(".", 1)[0]
        if not str(data.get("review", "")).strip():
            problems.append(f"{where}: no `review:` status line")
        topic_items = []
        for raw in data.get("items", []):
            raw_fields += [(f"item {raw.get('id')} {name}", raw.get(name) or {}) for name in ("sms", "text")]
            raw_fields += [(f"item {raw.get('id')} step {n} {name}", s.get(name) or {})
                           for n, s in enumerate(raw.get("steps", []), 1) for name in ("sms", "text")]
            steps = [Step(s.get("image", ""), expand(s.get("text", {}), emergency),
                          expand(s.get("sms", {}), emergency, sms=True)) for s in raw.get("steps", [])]
            item = Item(id=raw.get("id", ""), topic=data.get("topic", stem), title=raw.get("title", {}),
                        sms=expand(raw.get("sms", {}), emergency, sms=True),
                        text=expand(raw.get("text", {}), emergency),
                        keywords=raw.get("keywords", {}), sources=raw.get("sources", []), steps=steps)
            if item.id in items:
                problems.append(f"{where}: item id {item.id!r} used twice")
            items[item.id] = item
            topic_items.append(item)
        topics.append(Topic(data.get("topic", stem), int(data.get("order", 99)), data.get("title", {}), topic_items))
    topics.sort(key=lambda t: t.order)

    commands_file = _read(files, "commands.yaml")
    commands: dict[str, str] = {}
    for name, by_lang in (commands_file.get("commands") or {}).items():
        for lang, words in (by_lang or {}).items():
            for word in words or []:
                phrase = _phrase(str(word))
                if phrase and commands.get(phrase, name) != name:
                    problems.append(f"commands.yaml: {word!r} ({lang}) is both {commands[phrase]} and {name}")
                elif phrase:
                    commands[phrase] = name
    greetings = {_phrase(str(w)) for words in (commands_file.get("greetings") or {}).values() for w in words or []}
    markers = {lang: {_phrase(str(w)) for w in words or []}
               for lang, words in (commands_file.get("language_markers") or {}).items()}
    vocabulary = _vocabulary(items.values())
    problems.extend(_marker_collisions(markers, vocabulary))
    for lang, words in (commands_file.get("greetings") or {}).items():  # a greeting tells its language too ...
        markers.setdefault(lang, set()).update(p for p in map(_phrase, map(str, words or []))
                                               if not _collides(p, lang, vocabulary))   # ... unless shared
    for topic in topics:           # so does a one-word topic name ("تەندروستی" alone is Sorani)
        for lang, title in (topic.title or {}).items():
            phrase = _phrase(str(title))
            if len(phrase.split()) == 1 and not _collides(phrase, lang, vocabulary):
                markers.setdefault(lang, set()).add(phrase)

    language_names: dict[str, str] = {}
    for lang, names in (commands_file.get("language_names") or {}).items():
        for name in names or []:
            if (phrase := _phrase(str(name))):
                if language_names.get(phrase, lang) != lang:
                    problems.append(f"commands.yaml: language name {name!r} is both {language_names[phrase]} and {lang}")
                language_names[phrase] = lang
    language_talk = {t for w in commands_file.get("language_talk") or [] for t in tokens(str(w))}

    index: list[KeywordEntry] = []
    owners: dict[str, str] = {}
    for item in items.values():
        for lang, words in (item.keywords or {}).items():
            for word in words or []:
                phrase = _phrase(str(word))
                if not phrase:
                    continue
                owner = owners.setdefault(phrase, item.id)
                if owner != item.id:
                    problems.append(f"keyword {word!r} ({lang}) points at two items: {owner} and {item.id}")
                index.append((item.id, lang, tuple(phrase.split())))

    content = Content(
        topics=topics, items=items, commands=commands, greetings=greetings, markers=markers,
        keyword_index=index, language_names=language_names, language_talk=language_talk,
        carrier_opt_out={_phrase(str(w)) for w in commands_file.get("carrier_opt_out") or []},
        areas=(_read(files, "areas.yaml").get("governorates") or []),
        referrals=(referrals_file.get("contacts") or []), emergency=emergency,
        feedback=_read(files, "feedback.yaml"),
        images=images, problems=problems,
        answer_templates=(_read(files, "answer_templates.yaml").get("templates") or []),
        reviews=(_read(files, "reviews.yaml").get("reviews") or {}),
        recordings=(_read(files, "recordings.yaml").get("recordings") or {}),
    )
    problems.extend(_check_texts(content))
    problems.extend(referral_problems(emergency, content.referrals, raw_fields))
    problems.extend(area_problems(content.referrals, content.areas))
    problems.extend(fact_problems(_read(files, "facts.yaml").get("facts") or [], items))
    problems.extend(_check_sensitive_examples(content))
    problems.extend(recording_problems(content.recordings, items))
    problems.extend(glossary_problems(_read(files, "glossary.yaml"), _glossary_texts(content)))
    from .search import index_for  # here, not at the top: search imports this module
    index_for(content)              # built once per load, so no request pays for it
    from .langid import model_for
    model_for(content)
    return content


def _check_texts(content: Content) -> list[str]:
    """Every language present, every text within its channel budget, every picture on disk."""
    problems: list[str] = []

    def need(texts: Texts | None, where: str, limit: int | None = None, sms: bool = False,
             parts: dict[str, int] | None = None) -> None:
        for lang in LANGUAGES:
            value = (texts or {}).get(lang)
            if not value or not str(value).strip():
                problems.append(f"{where}: missing {lang}")
            elif limit and len(value) > limit:
                problems.append(f"{where} [{lang}]: {len(value)} characters, over {limit}")
            elif sms and lang in GSM_LANGUAGES and not is_gsm7(fold_latin(value)):
                odd = "".join(sorted({ch for ch in fold_latin(value) if not is_gsm7(ch)}))
                problems.append(f"{where} [{lang}]: {odd!r} is not GSM-7 (write m2, not m²): the SMS would "
                                "cost UCS-2 segments")
            elif sms and segments(value) > (parts or {}).get(lang, 3):
                problems.append(f"{where} [{lang}]: {segments(value)} SMS parts, over {(parts or {}).get(lang, 3)} "
                                f"({len(value)} characters)")

    for where, texts in _all_texts(content):
        for lang in INDIC_DIGIT_LANGUAGES:
            if re.search(r"[0-9]", str((texts or {}).get(lang) or "")):
                problems.append(f"{where} [{lang}]: Latin digits; this language's texts write ٠-٩ (as its interface does)")
    for topic in content.topics:
        need(topic.title, f"topic {topic.id} title", TOPIC_TITLE_MAX)
        if not topic.items:
            problems.append(f"topic {topic.id}: no items")
    for item in content.items.values():
        where = f"item {item.id}"
        need(item.title, f"{where} title", TITLE_MAX)
        need(item.sms, f"{where} sms", SMS_MAX, sms=True, parts=SMS_PARTS)
        need(item.text, f"{where} text", TEXT_MAX)
        if not item.sources:
            problems.append(f"{where}: no sources")
        for lang in LANGUAGES:
            if not (item.keywords or {}).get(lang):
                problems.append(f"{where} keywords: missing {lang}")
        for n, step in enumerate(item.steps, 1):
            need(step.text, f"{where} step {n} text", CAPTION_MAX)
            need(step.sms, f"{where} step {n} sms", SMS_MAX, sms=True, parts=SMS_PARTS)
            if not step.image or step.image not in content.images:
                problems.append(f"{where} step {n}: missing picture {step.image!r}")
    for n, template in enumerate(content.answer_templates, 1):
        need(template.get("text"), f"answer template {template.get('id', n)}", sms=True)
        if not (template.get("title") or {}).get("en"):
            problems.append(f"answer template {template.get('id', n)}: no English title")
    for name in ("stop", "start", "help", "menu", "back"):
        if name not in content.commands.values():
            problems.append(f"commands.yaml: no words for {name}")
    return problems


def _check_sensitive_examples(content: Content) -> list[str]:
    """A sensitive flag must come from words that mean it: feedback.yaml's ordinary sentences must pass
    unflagged and its reports must be flagged (a new word that fires on ordinary text fails here)."""
    from .feedback import is_sensitive  # here: feedback imports this module
    sensitive = content.feedback.get("sensitive") or {}
    found = []
    for expected, section in ((False, "ordinary"), (True, "reports")):
        for lang, sentences in (sensitive.get(section) or {}).items():
            for sentence in sentences or []:
                if is_sensitive(content, str(sentence)) != expected:
                    found.append(f"feedback.yaml sensitive {section} [{lang}]: {sentence!r} is "
                                 f"{'not ' if expected else ''}flagged as sensitive")
    return found


def _vocabulary(items: Iterable[Item]) -> dict[str, set[str]]:
    """Every folded word each language's texts use (titles, SMS, full texts, steps; not keywords, which
    keep the loose forms people type, the other dialect's included)."""
    words: dict[str, set[str]] = {}
    for item in items:
        for _where, texts in _item_texts(item):
            for lang, text in (texts or {}).items():
                words.setdefault(lang, set()).update(tokens(str(text or "")))
    return words


def _collides(phrase: str, lang: str, vocabulary: dict[str, set[str]]) -> str | None:
    """The other language whose texts use this marker once folded (Badini ڤێ is Arabic في), if any."""
    parts = phrase.split()
    return next((other for other, words in vocabulary.items()
                 if other != lang and parts and all(p in words for p in parts)), None)


def _marker_collisions(markers: dict[str, set[str]], vocabulary: dict[str, set[str]]) -> list[str]:
    """A language marker must tell one language: after folding it may occur in no other language's texts."""
    return [f"commands.yaml language_markers [{lang}]: {marker!r} folds to a word the {other} texts use"
            for lang, phrases in markers.items() for marker in sorted(phrases)
            if (other := _collides(marker, lang, vocabulary))]


def _glossary_texts(content: Content) -> list[tuple[str, str, str]]:
    """(where, language, text) for the topic texts, the referral and emergency entries, and each
    language's interface catalog."""
    texts = [(where, lang, str(text)) for where, by_lang in _all_texts(content)
             for lang, text in (by_lang or {}).items() if text]
    entries = list(content.referrals) + list(content.emergency.get("numbers") or [])
    texts += [(f"referrals.yaml {entry.get('id')} {name}", lang, str(text)) for entry in entries
              for name in ("name", "hours") for lang, text in (entry.get(name) or {}).items() if text]
    from .i18n import catalog_strings  # here: i18n is not needed to load content otherwise
    texts += [(f"locales/{lang} {msgid[:40]!r}", lang, text) for lang in LANGUAGES
              for msgid, text in catalog_strings(lang)]
    return texts


def _all_texts(content: Content) -> Iterator[tuple[str, Texts]]:
    """(where, {language: text}) for every title, SMS and full text of the topics."""
    for topic in content.topics:
        yield f"topic {topic.id} title", topic.title
    for item in content.items.values():
        yield from _item_texts(item)


def _item_texts(item: Item) -> Iterator[tuple[str, Texts]]:
    """(where, {language: text}) for an item's title, SMS and full text, and each step's."""
    for name in ("title", "sms", "text"):
        yield f"item {item.id} {name}", getattr(item, name)
    for n, step in enumerate(item.steps, 1):
        yield f"item {item.id} step {n} sms", step.sms
        yield f"item {item.id} step {n} text", step.text
