"""One turn of a conversation: the person's stored state, their language, and what the bot says back.

States are named constants; screens store the meaning of their numbered options
in the state, so "3" always means what the person last saw as 3. All
transitions are in ACTIONS (actions.py) and in the state table of router.py;
conversation.mmd draws them.
"""
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Protocol

from .content import Content, pick
from .i18n import DEFAULT_LANGUAGE, Translator
from .types import PROFILES, Incoming, Option, Profile, Reply

if TYPE_CHECKING:
    from .polls import PollTurn

# Conversation states.
NEW = "new"                          # never written before
CHOOSING_LANGUAGE = "choosing_language"
BROWSING = "browsing"                # menus, topics, items: numbers map to stored options
FEEDBACK_KIND = "feedback_kind"      # which kind of feedback
FEEDBACK_SENSITIVE = "feedback_sensitive"  # a sensitive report: confirm before saving
FEEDBACK_TEXT = "feedback_text"      # waiting for the feedback itself
FEEDBACK_AREA = "feedback_area"      # optional: where the person is
ERASE_CONFIRM = "erase_confirm"      # "delete my data": yes or no
SUBSCRIBE_TOPICS = "subscribe_topics"  # announcements: all, or one topic
SUBSCRIBE_AREA = "subscribe_area"      # announcements: optional governorate, then camp or district
SUBSCRIBE_CONFIRM = "subscribe_confirm"  # what is kept and why: yes subscribes, anything else does not
STOP_CONFIRM = "stop_confirm"        # "بس", "cancel" outside a step: stop all messages? yes stops, anything else not


@dataclass
class ContactState:
    """What the dialogue knows and may change about a person; the service stores it."""
    language: str | None = None
    state: str = NEW
    data: dict = field(default_factory=dict)
    opted_out: bool = False
    subscribed: bool = False
    topics: list[str] = field(default_factory=list)   # announcement topics; empty = all
    area: str | None = None
    idle_seconds: float | None = None    # since the person's previous message (None: unknown or first)
    poll: "PollTurn | None" = None       # a poll this person was asked (handlers/polls.py), loaded by the service


class Services(Protocol):
    """What the dialogue may ask of storage, without knowing there is a database."""

    def open_case(self, kind: str, text: str, media: list, area: str | None, sensitive: bool) -> str: ...
    def add_to_case(self, code: str, text: str, media: list) -> bool: ...
    def set_case_area(self, code: str, area: str) -> None: ...
    def case_status(self, code: str) -> dict | None: ...
    def my_cases(self, limit: int = 3) -> list[dict]: ...
    def erase_contact(self) -> None: ...


class Conversation:
    """The context of one turn: handlers read the message and state here and add replies."""

    def __init__(self, content: Content, incoming: Incoming, state: ContactState,
                 services: Services | None = None, config: dict | None = None):
        self.content = content
        self.incoming = incoming
        self.state = state
        self.services = services
        self.config = config or {}
        self.profile: Profile = PROFILES.get(incoming.channel, PROFILES["web"])
        self.replies: list[Reply] = []
        self.events: list[tuple] = []    # what happened, for metrics and logs: ("topic_hit", id), ...
        self.set_language(state.language or DEFAULT_LANGUAGE)

    @property
    def lang(self) -> str:
        return self.t.lang

    def set_language(self, lang: str) -> None:
        self.t = Translator(lang)

    def pick(self, texts: dict) -> str:
        return pick(texts, self.lang)

    def go(self, state: str, **data) -> None:
        self.state.state = state
        self.state.data = data

    def say(self, text: str, options: list[tuple[str, str, list]] | None = None,
            image: str | None = None, back: list | None = None, unshown: list | None = None) -> Reply:
        """Add a reply; each option is (key, label, action) and its action is remembered for the next turn.

        unshown: options that still work but are not printed again (the places of earlier SMS pages:
        someone on page 2 may type the number they read on page 1)."""
        options = options or []
        reply = Reply(text=text.strip(), options=[Option(k, label) for k, label, _ in options],
                      image=image if self.profile.pictures else None, language=self.lang)
        self.replies.append(reply)
        if options or back:
            remembered = {k: [label, act] for k, label, act in (unshown or []) if act}
            remembered.update({k: [label, act] for k, label, act in options})
            self.state.data = {**self.state.data, "options": remembered}
            if back:
                self.state.data["back"] = back
        return reply

    def note(self, *event) -> None:
        self.events.append(event)


Action = Callable[..., None]
ACTIONS: dict[str, Action] = {}


def action(name: str):
    """Register a function as what a stored option of this name does."""
    def register(fn: Action) -> Action:
        ACTIONS[name] = fn
        return fn
    return register


def run(ctx: Conversation, stored: list) -> None:
    """Carry out a stored option: ["topic", "health"] calls the "topic" action with "health"."""
    name, *args = stored
    ACTIONS[name](ctx, *args)
