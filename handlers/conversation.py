"""One turn of a conversation: the person's stored state, their language, and what the bot says back.

States are a StrEnum (State, used by short names); screens store the meaning of their numbered options
in the state, so "3" always means what the person last saw as 3. All
transitions are in ACTIONS (actions.py) and in the state table of router.py;
conversation.mmd draws them.
"""
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NotRequired, Protocol, TypedDict, TypeVar

from .content import Content, Texts, pick
from .i18n import DEFAULT_LANGUAGE, Translator
from .types import PROFILES, Incoming, Option, Profile, Reply

if TYPE_CHECKING:
    from .polls import PollTurn

class State(StrEnum):
    """Conversation states, stored as their strings (contacts.state)."""
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


# The states by their short names, as the handlers use them.
NEW = State.NEW
CHOOSING_LANGUAGE = State.CHOOSING_LANGUAGE
BROWSING = State.BROWSING
FEEDBACK_KIND = State.FEEDBACK_KIND
FEEDBACK_SENSITIVE = State.FEEDBACK_SENSITIVE
FEEDBACK_TEXT = State.FEEDBACK_TEXT
FEEDBACK_AREA = State.FEEDBACK_AREA
ERASE_CONFIRM = State.ERASE_CONFIRM
SUBSCRIBE_TOPICS = State.SUBSCRIBE_TOPICS
SUBSCRIBE_AREA = State.SUBSCRIBE_AREA
SUBSCRIBE_CONFIRM = State.SUBSCRIBE_CONFIRM
STOP_CONFIRM = State.STOP_CONFIRM


class CaseStatus(StrEnum):
    """Where a feedback case is (cases.status); the person reads it in words (feedback.STATUS_LABELS)."""
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    REFERRED = "referred"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"


class CaseKind(StrEnum):
    """What a person's feedback is (cases.kind)."""
    COMPLAINT = "complaint"
    QUESTION = "question"
    HELP_REQUEST = "help_request"
    SUGGESTION = "suggestion"
    THANKS = "thanks"


# ["topic", "health"], ["step", "shelter-kit", 2]: an action's name and its arguments, as the stored state
# keeps them (JSON), so what a number meant survives until the person's next message.
StoredAction = list[Any]
# One numbered choice on a screen: (key, label, the action it runs; [] for none).
ScreenOption = tuple[str, str, StoredAction]


class MediaRef(TypedDict):
    """A file a person sent, as a case and the stored state keep it (the provider's URL, never the bytes)."""
    url: str
    type: str
    source: NotRequired[str]         # "phone": a message left on the phone menu
    seconds: NotRequired[float]      # a voice note's length, once known
    measured: NotRequired[bool]      # the length was read from the file (not the provider's count)


class CaseSummary(TypedDict):
    """A feedback case as the dialogue may tell its author about it (Services.case_status)."""
    status: str
    kind: str
    answer: str | None      # the staff's latest answer, if any


class OwnCase(CaseSummary):
    """One of the person's latest cases (Services.my_cases)."""
    code: str


@dataclass
class ContactState:
    """What the dialogue knows and may change about a person; the service stores it."""
    language: str | None = None
    state: str = NEW
    data: dict[str, Any] = field(default_factory=dict)    # the state's own values (JSON): options, back, ...
    opted_out: bool = False
    subscribed: bool = False
    topics: list[str] = field(default_factory=list)   # announcement topics; empty = all
    area: str | None = None
    idle_seconds: float | None = None    # since the person's previous message (None: unknown or first)
    voice: bool = False                  # "voice on": answers with a recording come with the voice note
    poll: "PollTurn | None" = None       # a poll this person was asked (handlers/polls.py), loaded by the service


class Services(Protocol):
    """What the dialogue may ask of storage, without knowing there is a database."""

    def open_case(self, kind: str, text: str, media: list[MediaRef], area: str | None, sensitive: bool) -> str: ...
    def add_to_case(self, code: str, text: str, media: list[MediaRef]) -> bool: ...
    def set_case_area(self, code: str, area: str) -> None: ...
    def case_status(self, code: str) -> CaseSummary | None: ...
    def my_cases(self, limit: int = 3) -> list[OwnCase]: ...
    def erase_contact(self) -> None: ...


class Conversation:
    """The context of one turn: handlers read the message and state here and add replies."""

    def __init__(self, content: Content, incoming: Incoming, state: ContactState,
                 services: Services | None = None, config: dict[str, Any] | None = None):
        self.content = content
        self.incoming = incoming
        self.state = state
        self.services = services
        self.config = config or {}
        self.profile: Profile = PROFILES.get(incoming.channel, PROFILES["web"])
        self.replies: list[Reply] = []
        self.events: list[tuple[str | int, ...]] = []    # what happened, for metrics and logs: ("topic_hit", id), ...
        self.rule = ""                   # the name of the router's rule that answered (router.respond)
        self.set_language(state.language or DEFAULT_LANGUAGE)

    @property
    def store(self) -> Services:
        """The storage, for the steps that cannot go on without it (a case to open or erase)."""
        if self.services is None:
            raise RuntimeError("this step keeps data: respond() needs services")
        return self.services

    @property
    def lang(self) -> str:
        return self.t.lang

    def set_language(self, lang: str) -> None:
        self.t = Translator(lang)

    def pick(self, texts: Texts) -> str:
        return pick(texts, self.lang)

    def go(self, state: str, **data: Any) -> None:
        self.state.state = state
        self.state.data = data

    def say(self, text: str, options: Sequence[ScreenOption] | None = None,
            image: str | None = None, back: StoredAction | None = None,
            unshown: Sequence[ScreenOption] | None = None, voice: str | None = None) -> Reply:
        """Add a reply; each option is (key, label, action) and its action is remembered for the next turn.

        unshown: options that still work but are not printed again (the places of earlier SMS pages:
        someone on page 2 may type the number they read on page 1)."""
        options = options or []
        reply = Reply(text=text.strip(), options=[Option(k, label) for k, label, _ in options],
                      image=image if self.profile.pictures else None, language=self.lang,
                      voice=voice if self.profile.voice else None)
        self.replies.append(reply)
        if options or back:
            remembered = {k: [label, act] for k, label, act in (unshown or []) if act}
            remembered.update({k: [label, act] for k, label, act in options})
            self.state.data = {**self.state.data, "options": remembered}
            if back:
                self.state.data["back"] = back
        return reply

    def note(self, *event: str | int) -> None:
        self.events.append(event)


Action = Callable[..., None]
# What a state waiting for words does with them: (turn, the message's text, the command it is or None).
TextHandler = Callable[[Conversation, str, str | None], None]
ACTIONS: dict[str, Action] = {}
A = TypeVar("A", bound=Action)


def action(name: str) -> Callable[[A], A]:
    """Register a function as what a stored option of this name does."""
    def register(fn: A) -> A:
        ACTIONS[name] = fn
        return fn
    return register


def run(ctx: Conversation, stored: StoredAction) -> None:
    """Carry out a stored option: ["topic", "health"] calls the "topic" action with "health"."""
    name, *args = stored
    ACTIONS[name](ctx, *args)
