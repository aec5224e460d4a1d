"""The phone menu: what a caller hears and which key leads where, as plain data (no Twilio, no HTTP).

People who read little call the Voice number and move with keys: a language, a topic, an item, then the
item's recording. Keys are the item's place in the content (1 = the topic's first item), the same in every
language, so a poster in a camp can print them; 0 goes back, * repeats, 9 leaves a spoken message.

A language is heard only in its own voice: recordings made by people (content recordings and recorded
prompts) wherever they exist; the provider's speech only where it speaks the language (Arabic). A Kurdish
item without a recording is left out of the menu and its key answers "not available" — never read by an
Arabic or English voice. State travels in the follow-up URL (`State`), never in this process's memory.
The diagram: handlers/phone.mmd.
"""
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from .content import Content, Item, Topic, pick
from .i18n import N_, Translator

LANGUAGE_KEYS: dict[str, str] = {"1": "ar", "2": "ckb", "3": "kmr"}   # Badini callers: kmr, one voice for both scripts
BACK, REPEAT, MESSAGE = "0", "*", "9"
MAX_CHOICES = 8                      # keys 1-8: 9 is the message, 0 back
SILENT_REPEATS = 2                   # a menu nobody answers is said this many times more, then goodbye

# States: where the next key press goes (the `s` of the follow-up URL).
LANGUAGE, TOPICS, ITEMS, AFTER_ITEM, RECORDED = "language", "topics", "items", "item", "recorded"

# What the provider's speech says where no recorded prompt exists (Arabic only); the names are the recorded
# prompts' names (phone.<name> in every language), so voice talent records exactly these.
PROMPTS: dict[str, str] = {
    "language": N_("For Arabic, press 1."),
    "topic": N_("For {title}, press {key}."),
    "item": N_("To listen to {title}, press {key}."),
    "message": N_("To leave a complaint or a question, press 9."),
    "navigate": N_("To go back, press 0. To hear this again, press the star key."),
    "record": N_("After the tone, say your complaint or question. Press the hash key when you have finished."),
    "code": N_("Thank you. Your message is received. Its reference number is:"),
    "answer_by_sms": N_("We will answer you by SMS on this phone number."),
    "not_available": N_("This choice is not available."),
    "not_recorded": N_("We could not receive your message. Please try again."),
    "kept": N_("Thank you. Your message is received."),
    "code_by_sms": N_("Its reference number will come to you by SMS on this phone number."),
    "goodbye": N_("Goodbye."),
}


@dataclass(frozen=True)
class Play:
    """A recording: an address the provider fetches (signed and expiring)."""
    url: str


@dataclass(frozen=True)
class Speak:
    """The provider's speech, only ever in a language it speaks (SPOKEN)."""
    text: str
    lang: str


Prompt = Play | Speak


@dataclass
class CallTurn:
    """What the caller hears now and what happens next: wait for one key (`gather`, the state it goes to),
    record a message (`record`), or neither (hang up). `silence`: where to go when no key is pressed."""
    prompts: list[Prompt] = field(default_factory=list)
    gather: dict[str, str] | None = None
    record: dict[str, str] | None = None
    silence: dict[str, str] | None = None


class Sounds(Protocol):
    """Recordings the menu may play; the bot side finds them (reviewed content recordings, prompt files)."""

    def item(self, item_id: str, lang: str) -> list[str]:
        """Playable addresses of an item's recording (or its steps' in order); [] when there is none."""

    def prompt(self, name: str, lang: str) -> str | None:
        """A recorded prompt (phone.<name>, phone.digit.<d>, phone.topic.<id>, phone.item.<id>) or None."""


@dataclass
class Menu:
    """One call's view of the content: what exists in which language."""
    content: Content
    sounds: Sounds
    spoken: tuple[str, ...] = ("ar",)     # languages the provider's speech may read (TWILIO_VOICE_ARABIC)
    reviewed_only: bool = False           # REVIEWED_ONLY: the speech reads only texts a reviewer marked reviewed

    def say(self, lang: str, name: str, **values: str) -> list[Prompt]:
        """A prompt in the caller's language: its recording, else the provider's speech where it speaks
        the language, else nothing at all (never another language's voice)."""
        key = values.get("id", "")
        recorded = self.sounds.prompt(f"{name}.{key}" if key else name, lang)
        if recorded:
            return [Play(recorded)]
        if lang not in self.spoken:
            return []
        t = Translator(lang)
        shown = {k: (t.digits(v) if k == "key" else v) for k, v in values.items() if k != "id"}
        return [Speak(t(PROMPTS[name], **shown), lang)]

    def item_prompts(self, item: Item, lang: str) -> list[Prompt]:
        recorded = self.sounds.item(item.id, lang)
        if recorded:
            return [Play(url) for url in recorded]
        if lang not in self.spoken or (
                self.reviewed_only and self.content.review_state(item.id, lang) != "reviewed"):
            return []
        texts = [item.text.get(lang)] if item.text.get(lang) else [s.text.get(lang) for s in item.steps]
        return [Speak(text, lang) for text in texts if text]

    def available(self, item: Item, lang: str) -> bool:
        return bool(self.item_prompts(item, lang))

    def topics(self, lang: str) -> list[tuple[str, Topic]]:
        """(key, topic) of the topics with at least one item the caller can hear and a name the caller can
        hear (its recorded prompt, or the provider's speech): a choice nobody announces is a dead end."""
        return [(str(n), topic) for n, topic in enumerate(self.content.topics[:MAX_CHOICES], start=1)
                if self.items(topic, lang) and self._heard(lang, "topic", topic.id, pick(topic.title, lang))]

    def items(self, topic: Topic, lang: str) -> list[tuple[str, Item]]:
        return [(str(n), item) for n, item in enumerate(topic.items[:MAX_CHOICES], start=1)
                if self.available(item, lang) and self._heard(lang, "item", item.id, pick(item.title, lang))]

    def languages(self) -> list[tuple[str, str]]:
        """The languages a caller can use from end to end: the language's own prompts can be heard (a
        Kurdish menu whose prompts are not recorded yet is not offered: the caller would hear silence)."""
        return [(key, lang) for key, lang in LANGUAGE_KEYS.items()
                if all(self.say(lang, name) for name in ("language", "message", "navigate")) and self.topics(lang)]

    def _heard(self, lang: str, name: str, key: str, title: str) -> bool:
        return bool(self.say(lang, name, id=key, title=title, key="1"))


# ---- what each state says ----------------------------------------------------------------------------
def _language_menu(menu: Menu, state: dict[str, str]) -> CallTurn:
    prompts: list[Prompt] = []
    for _key, lang in menu.languages():
        prompts += menu.say(lang, "language")
    return CallTurn(prompts, gather={"s": LANGUAGE})


def _topics_menu(menu: Menu, state: dict[str, str]) -> CallTurn:
    lang = state["l"]
    prompts: list[Prompt] = []
    for key, topic in menu.topics(lang):
        prompts += menu.say(lang, "topic", id=topic.id, title=pick(topic.title, lang), key=key)
    prompts += menu.say(lang, "message") + menu.say(lang, "navigate")
    return CallTurn(prompts, gather={"s": TOPICS, "l": lang})


def _items_menu(menu: Menu, state: dict[str, str]) -> CallTurn:
    lang, topic = state["l"], menu.content.topic(state.get("t", ""))
    if topic is None:
        return _topics_menu(menu, state)
    prompts: list[Prompt] = []
    for key, item in menu.items(topic, lang):
        prompts += menu.say(lang, "item", id=item.id, title=pick(item.title, lang), key=key)
    prompts += menu.say(lang, "message") + menu.say(lang, "navigate")
    return CallTurn(prompts, gather={"s": ITEMS, "l": lang, "t": topic.id})


def _item(menu: Menu, state: dict[str, str]) -> CallTurn:
    lang, item = state["l"], menu.content.items.get(state.get("i", ""))
    if item is None or not menu.available(item, lang):
        return _items_menu(menu, state)
    prompts = menu.item_prompts(item, lang) + menu.say(lang, "message") + menu.say(lang, "navigate")
    return CallTurn(prompts, gather={"s": AFTER_ITEM, "l": lang, "t": item.topic, "i": item.id})


def _record(menu: Menu, state: dict[str, str]) -> CallTurn:
    lang = state["l"]
    return CallTurn(menu.say(lang, "record"), record={"s": RECORDED, "l": lang},
                    silence={"s": TOPICS, "l": lang})


SHOW: dict[str, Callable[[Menu, dict[str, str]], CallTurn]] = {
    LANGUAGE: _language_menu, TOPICS: _topics_menu, ITEMS: _items_menu, AFTER_ITEM: _item,
}
UP: dict[str, str] = {TOPICS: LANGUAGE, ITEMS: TOPICS, AFTER_ITEM: ITEMS}   # where 0 goes


# ---- what a key does in each state -------------------------------------------------------------------
def _choose_language(menu: Menu, state: dict[str, str], key: str) -> CallTurn | None:
    lang = dict(menu.languages()).get(key)
    return _topics_menu(menu, {"l": lang}) if lang else None


def _choose_topic(menu: Menu, state: dict[str, str], key: str) -> CallTurn | None:
    topic = dict(menu.topics(state["l"])).get(key)
    return _items_menu(menu, {"l": state["l"], "t": topic.id}) if topic else None


def _choose_item(menu: Menu, state: dict[str, str], key: str) -> CallTurn | None:
    topic = menu.content.topic(state.get("t", ""))
    item = dict(menu.items(topic, state["l"])).get(key) if topic else None
    return _item(menu, {"l": state["l"], "i": item.id}) if item else None


PRESS: dict[str, Callable[[Menu, dict[str, str], str], CallTurn | None]] = {
    LANGUAGE: _choose_language, TOPICS: _choose_topic, ITEMS: _choose_item, AFTER_ITEM: _choose_item,
}


def clean_state(menu: Menu, raw: dict[str, str]) -> dict[str, str]:
    """The state from the follow-up URL, kept only where it names what exists (the language menu else)."""
    state = {k: v for k, v in raw.items() if k in ("s", "l", "t", "i", "r") and v}
    if state.get("s") not in (*SHOW, RECORDED) or (state["s"] != LANGUAGE and state.get("l") not in LANGUAGE_KEYS.values()):
        return {"s": LANGUAGE}
    return state


def turn(menu: Menu, raw_state: dict[str, str], digits: str | None) -> CallTurn:
    """The answer to one request of the call: a menu (no key: first call, or silence), or the key's effect.
    The same state and key always give the same turn, so a repeated delivery changes nothing."""
    state = clean_state(menu, raw_state)
    name = state["s"]
    if name == RECORDED:
        name = state["s"] = TOPICS
    if not digits:
        repeats = int(state.get("r", "0")) if state.get("r", "0").isdigit() else 0
        if repeats > SILENT_REPEATS:
            return CallTurn(menu.say(state.get("l", "ar"), "goodbye"))
        shown = SHOW[name](menu, state)
        shown.silence = {**(shown.gather or {}), "r": str(repeats + 1)}
        return shown
    key = digits[:1]
    if key == REPEAT:
        return _with_silence(SHOW[name](menu, state))
    if key == BACK and name in UP:
        return _with_silence(SHOW[UP[name]](menu, state))
    if key == MESSAGE and name != LANGUAGE:
        return _record(menu, state)
    chosen = PRESS[name](menu, state, key)
    if chosen is None:
        shown = SHOW[name](menu, state)
        shown.prompts = menu.say(state.get("l", "ar"), "not_available") + shown.prompts
        return _with_silence(shown)
    return _with_silence(chosen)


def _with_silence(shown: CallTurn) -> CallTurn:
    if shown.gather is not None and shown.silence is None:
        shown.silence = {**shown.gather, "r": "1"}
    return shown


def code_read_out(menu: Menu, lang: str, code: str) -> CallTurn:
    """The reference code, digit by digit (recorded digits, or the provider's speech in Arabic), twice,
    then the topics again: the caller may go on listening or hang up."""
    t = Translator(lang)
    digits: list[Prompt] = []
    for digit in code:
        recorded = menu.sounds.prompt(f"digit.{digit}", lang)
        if recorded:
            digits.append(Play(recorded))
        elif lang in menu.spoken:
            digits.append(Speak(t.digits(digit), lang))
    prompts = menu.say(lang, "code") + digits + digits + menu.say(lang, "answer_by_sms")
    following = _topics_menu(menu, {"l": lang})
    return CallTurn(prompts + following.prompts, gather=following.gather, silence={**(following.gather or {}), "r": "1"})


def kept_for_later(menu: Menu, lang: str, by_sms: bool) -> CallTurn:
    """The message is kept, its code not known yet (the database was down): it comes by SMS, unless the
    number was withheld. Then the topics again. A language whose two prompts for this are not recorded yet
    says the one it has: "We will answer you by SMS"."""
    following = _topics_menu(menu, {"l": lang})
    said = menu.say(lang, "kept") + (menu.say(lang, "code_by_sms") if by_sms else [])
    if len(said) < 1 + by_sms:
        said = menu.say(lang, "answer_by_sms") if by_sms else said
    return CallTurn(said + following.prompts, gather=following.gather, silence={**(following.gather or {}), "r": "1"})


def not_recorded(menu: Menu, lang: str) -> CallTurn:
    """No usable recording came (silence, a refused address): say so, and the topics again."""
    following = _topics_menu(menu, {"l": lang})
    return CallTurn(menu.say(lang, "not_recorded") + following.prompts, gather=following.gather,
                    silence={**(following.gather or {}), "r": "1"})
