"""What the bot could not answer well, grouped so editors can teach it: questions that got "no answer",
a "did you mean" choice, or a switch of language (messages.missed, set when the message was handled).

The texts are the people's own words: they are read from the message log (so MESSAGE_RETENTION_DAYS
removes them like any other text), shown without phone numbers or any address, digits runs masked,
and a text the sensitive-report rules flag is never listed. Try-out messages are left out.
"""
import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from handlers.content import Content
from handlers.feedback import is_sensitive
from handlers.search import best
from handlers.text import tokens

from . import content_edit, content_versions, content_yaml
from .cases import TRYOUT_CHANNEL
from .models import Message

KINDS = ("no_answer", "did_you_mean", "language_switch")
SIMILAR = 0.5            # Jaccard of the words: "khema maku" and "maku khema 3la" are one group
_LONG_NUMBER = re.compile(r"[0-9٠-٩۰-۹][0-9٠-٩۰-۹ \-]{4,}[0-9٠-٩۰-۹]")
_EMAIL = re.compile(r"\S+@\S+")


@dataclass
class Group:
    language: str
    words: set
    texts: list = field(default_factory=list)
    kinds: Counter = field(default_factory=Counter)
    first: datetime | None = None
    last: datetime | None = None
    answer_now: str | None = None        # the item the published content gives the phrase now

    @property
    def count(self) -> int:
        return len(self.texts)

    @property
    def phrase(self) -> str:
        """The commonest wording, as the keyword to add."""
        return Counter(" ".join(tokens(t)) for t in self.texts).most_common(1)[0][0]

    @property
    def key(self) -> str:
        return hashlib.sha256(f"{self.language}|{' '.join(sorted(self.words))}".encode()).hexdigest()[:12]

    def examples(self, limit: int = 5) -> list[str]:
        return [masked(t) for t, _ in Counter(self.texts).most_common(limit)]


def masked(text: str) -> str:
    """No phone number or e-mail a person typed in their question."""
    return _EMAIL.sub("•••@•••", _LONG_NUMBER.sub("•••", text))


def groups(session, vault, content: Content, language: str | None = None, limit: int = 2000) -> list[Group]:
    """The latest `limit` missed messages, grouped by language and similar words, biggest group first."""
    query = (select(Message.text_enc, Message.language, Message.missed, Message.created_at)
             .where(Message.missed.is_not(None), Message.text_enc.is_not(None), Message.channel != TRYOUT_CHANNEL)
             .order_by(Message.created_at.desc()).limit(limit))
    if language:
        query = query.where(Message.language == language)
    found: list[Group] = []
    for text_enc, lang, kind, at in session.execute(query):
        text = (vault.decrypt(text_enc) or "").strip()
        words = set(tokens(text))
        if not words or is_sensitive(content, text):
            continue
        lang = lang or "?"
        group = next((g for g in found if g.language == lang
                      and len(g.words & words) / len(g.words | words) >= SIMILAR), None)
        if group is None:
            group = Group(lang, words)
            found.append(group)
        group.texts.append(text)
        group.kinds[kind] += 1
        group.first = min(filter(None, (group.first, at)))
        group.last = max(filter(None, (group.last, at)))
    for group in found:
        group.answer_now = answer_now(content, group.phrase, group.language)
    return sorted(found, key=lambda g: (-g.count, g.language))


def answer_now(content: Content, phrase: str, language: str) -> str | None:
    item_id, _candidates = best(content, phrase, language)
    return item_id


class Clash(ValueError):
    pass


def add_keyword(session, actor: str, item_id: str, language: str, phrase: str, publish: bool) -> tuple[int, bool]:
    """The phrase as a keyword of the item, in the draft (made from the published version if none). With
    publish and no other draft pending, it is published at once. Returns (version id, published).
    Clash when the phrase already belongs to another item (the content check's keyword rule)."""
    phrase = " ".join(phrase.split())[:120]
    pending = content_versions.draft(session)
    draft = pending or content_versions.start_draft(session, actor)
    files, images = content_versions.files_of(session, draft)
    name, data, index = content_edit.open_item(files, item_id)
    item = data["items"][index]
    keywords = item.setdefault("keywords", {})
    words = keywords.get(language)
    if words is None:
        keywords[language] = words = []
    if phrase not in [str(w) for w in words]:
        words.append(content_yaml.scalar(phrase))
    changed = {**files, name: content_yaml.dump(data)}
    from handlers.content import load_files
    clashes = [p for p in load_files(changed, images).problems if "points at two items" in p and phrase in p]
    if clashes:
        raise Clash(clashes[0])
    content_versions.save_draft(session, draft, changed, actor)
    content_versions.audit(session, actor, "content_keyword", f"item:{item_id}", f"{language}: {len(phrase)} characters")
    if publish and pending is None:
        content_versions.publish(session, actor)
        return draft.id, True
    return draft.id, False
