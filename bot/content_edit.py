"""Dashboard edits of the draft's topic files: one item changed, every other byte of the file kept.

content_yaml's round trip keeps key order, quoting, comments, blank lines and the one-line keyword lists,
so a changed Sorani sentence is a one-line change on the publish page, as the same edit made by hand in
git would be. A changed text is written double-quoted, or as a `|-` block when it has several lines.
Every result is read back with PyYAML (what the bot loads) and must give exactly the data intended.
"""
import re

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from handlers.i18n import LANGUAGES, N_
from handlers.yaml_texts import parsed

from . import content_yaml

TEXT_FIELDS = ("title", "sms", "text")
STEP_FIELDS = ("text", "sms")
ITEM_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
ITEM_ID_MAX = 40


class EditError(ValueError):
    """An edit that cannot be made (an unknown item, an id already used); the message is a catalog msgid."""

    def __init__(self, message: str, **values):
        super().__init__(message)
        self.message, self.values = message, values


def load(text: str) -> CommentedMap:
    return content_yaml.load(text)


def plain(value):
    """ruamel's annotated data as plain dicts, lists and strings (what PyYAML gives for the same file)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


def dump(data: CommentedMap) -> str:
    text = content_yaml.dump(data)
    if parsed(text) != plain(data):
        raise EditError(N_("The change could not be written as YAML that reads back the same."))
    return text


def clean(value: str) -> str:
    """A text as typed in a form: Windows line ends, spaces at line ends and around the text dropped."""
    lines = str(value or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip()


def set_text(texts: CommentedMap, lang: str, value: str) -> bool:
    """One language of one text field; False (and the file untouched) when it did not change."""
    if str(texts.get(lang) or "") == value:
        return False
    texts[lang] = content_yaml.scalar(value)
    return True


def flow_list(words) -> CommentedSeq:
    seq = CommentedSeq(DoubleQuotedScalarString(w) for w in words)
    seq.fa.set_flow_style()
    return seq


def set_keywords(keywords: CommentedMap, lang: str, words: list[str]) -> bool:
    if [str(w) for w in keywords.get(lang) or []] == words:
        return False
    keywords[lang] = flow_list(words)
    return True


def keyword_lines(value: str) -> list[str]:
    """Keywords typed one per line (commas inside a line stay: a keyword may hold one)."""
    seen, words = set(), []
    for line in clean(value).split("\n"):
        word = line.strip()
        if word and word not in seen:
            seen.add(word)
            words.append(word)
    return words


def topic_names(files: dict[str, str]) -> list[str]:
    return sorted(name for name in files if name.startswith("topics/") and name.endswith(".yaml"))


def find(files: dict[str, str]) -> dict[str, tuple[str, int]]:
    """Every item id -> (topic file, position), read with the fast loader."""
    where = {}
    for name in topic_names(files):
        data = parsed(files[name]) or {}
        for n, item in enumerate(data.get("items") or []):
            where[str(item.get("id"))] = (name, n)
    return where


def topic_file(files: dict[str, str], topic_id: str) -> str | None:
    for name in topic_names(files):
        data = parsed(files[name]) or {}
        if str(data.get("topic") or name.rsplit("/", 1)[-1][:-5]) == topic_id:
            return name
    return None


def open_item(files: dict[str, str], item_id: str) -> tuple[str, CommentedMap, int]:
    """(topic file, its data for a round trip, the item's position) or EditError."""
    where = find(files).get(item_id)
    if where is None:
        raise EditError(N_("There is no item {item} in the draft."), item=item_id)
    name, _ = where
    data = load(files[name])
    index = next(n for n, item in enumerate(data["items"]) if str(item.get("id")) == item_id)
    return name, data, index


def _texts(item: CommentedMap, field: str) -> CommentedMap:
    if not isinstance(item.get(field), dict):
        item[field] = CommentedMap()
    return item[field]


def apply(item: CommentedMap, changes: dict) -> bool:
    """changes: {(field, lang): text} for title/sms/text/keywords, {("steps", n, field, lang): text},
    {("sources",): text}. Only what differs is written; True when anything did."""
    changed = False
    for key, value in changes.items():
        if key[0] in TEXT_FIELDS:
            changed |= set_text(_texts(item, key[0]), key[1], clean(value))
        elif key[0] == "keywords":
            changed |= set_keywords(_texts(item, "keywords"), key[1], keyword_lines(value))
        elif key[0] == "steps":
            _, n, field, lang = key
            changed |= set_text(_texts(item["steps"][n], field), lang, clean(value))
        elif key[0] == "sources":
            sources = [line for line in clean(value).split("\n") if line.strip()]
            if [str(s) for s in item.get("sources") or []] != sources:
                item["sources"] = CommentedSeq(DoubleQuotedScalarString(s.strip()) for s in sources)
                changed = True
    return changed


def empty_texts() -> CommentedMap:
    return CommentedMap((lang, DoubleQuotedScalarString("")) for lang in LANGUAGES)


def new_item(files: dict[str, str], topic_id: str, item_id: str) -> tuple[str, str]:
    """A new, empty item at the end of a topic: (topic file, its new text). Its empty texts are what
    `content check` lists until someone writes them, so it cannot be published half done."""
    item_id = (item_id or "").strip()
    if len(item_id) > ITEM_ID_MAX or not ITEM_ID.fullmatch(item_id):
        raise EditError(N_("An item id is lowercase letters, digits and dashes (at most {count}): cholera, "
                           "kit-assembly."), count=ITEM_ID_MAX)
    if item_id in find(files):
        raise EditError(N_("There is already an item {item}."), item=item_id)
    name = topic_file(files, topic_id)
    if name is None:
        raise EditError(N_("There is no topic {topic}."), topic=topic_id)
    data = load(files[name])
    item = CommentedMap([("id", item_id), ("title", empty_texts()), ("sms", empty_texts()),
                         ("text", empty_texts()),
                         ("keywords", CommentedMap((lang, flow_list([])) for lang in LANGUAGES)),
                         ("sources", CommentedSeq())])
    if not isinstance(data.get("items"), list):
        data["items"] = CommentedSeq()
    data["items"].append(item)
    return name, dump(data)


def move(files: dict[str, str], item_id: str, step: int) -> tuple[str, str] | None:
    """The item one place up (step -1) or down (+1) within its topic; None at either end."""
    name, data, index = open_item(files, item_id)
    items = data["items"]
    other = index + step
    if not 0 <= other < len(items):
        return None
    items[index], items[other] = items[other], items[index]
    return name, dump(data)


def retire(files: dict[str, str], item_id: str) -> tuple[str, str]:
    name, data, index = open_item(files, item_id)
    del data["items"][index]
    return name, dump(data)


def add_step(item: CommentedMap) -> None:
    if not isinstance(item.get("steps"), list):
        steps = CommentedSeq()
        keys = list(item.keys())                 # steps go before the keywords, as in content/README.md
        position = keys.index("keywords") if "keywords" in keys else len(keys)
        item.insert(position, "steps", steps)
    item["steps"].append(CommentedMap([("image", ""), ("text", empty_texts()), ("sms", empty_texts())]))


def remove_step(item: CommentedMap, n: int) -> None:
    steps = item.get("steps") or []
    if not 0 <= n < len(steps):
        raise EditError(N_("There is no step {step}."), step=n + 1)
    del steps[n]
    if not steps:
        del item["steps"]
