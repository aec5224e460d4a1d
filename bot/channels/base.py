"""What every channel adapter shares: the interface, the small vocabulary of send outcomes and of inbound verdicts.

Like courier's handlers, a send maps every provider error onto a few outcomes
that drive the queue: sent, retry (throttled, connection, 5xx), stopped (the
person blocked us or opted out), window (outside the channel's session window:
WhatsApp's and Messenger's 24 hours), failed (with reason).

An adapter (class Adapter below) is the only code that knows its provider. It declares its
webhook routes and limits, checks that a request is the provider's, parses it into
channel-neutral events (Incoming, StatusUpdate, Ignored) or refuses it with a BadRequest,
renders one neutral Reply for its channel, and sends one stored message outside a request.
Nothing outside bot/channels/ asks which channel it is talking to.
"""
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any, TypeVar

import click
from flask import Request

from handlers.types import Incoming, Profile, Reply


class Outcome(StrEnum):
    """What one send came to, the vocabulary that drives the queue (module docstring)."""
    SENT = "sent"
    RETRY = "retry"
    STOPPED = "stopped"
    WINDOW = "window"
    FAILED = "failed"


SENT, RETRY, STOPPED, WINDOW, FAILED = Outcome.SENT, Outcome.RETRY, Outcome.STOPPED, Outcome.WINDOW, Outcome.FAILED

Config = Mapping[str, Any]      # the app's settings (bot/config.py): Flask's config, or a dict in the tests
Json = dict[str, Any]           # a JSON object as a provider sends or takes it


@dataclass
class SendResult:
    outcome: Outcome
    provider_id: str | None = None
    reason: str | None = None       # a short code: blocked, opted_out, outside_window, http_429, ...
    detail: str | None = None       # the provider's words, for staff (never personal data)
    retry_after: float | None = None


class BadRequest(Exception):
    """An inbound request we cannot read: answered with 400 (or the given 4xx) and this reason."""

    def __init__(self, reason: str, status: int = 400):
        super().__init__(reason)
        self.reason = reason
        self.status = status


def json_object(value: object) -> Json:
    """A provider's optional sub-object, or {} when the JSON holds something else there (or nothing)."""
    return value if isinstance(value, dict) else {}


def text_field(value: object, name: str) -> str:
    """A text field of a provider's JSON as a string we can store: JSON may carry numbers, lists or lone
    surrogates, each refused with a reason (400), never a 500."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadRequest(f"{name} must be a string")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BadRequest(f"{name} is not valid Unicode (a lone surrogate)") from None
    return value


@dataclass
class Ignored:
    """An inbound request that is valid but carries nothing for the dialogue (a member update, a poll...)."""
    reason: str


@dataclass
class StatusUpdate:
    """A delivery-status callback: which message, what happened, and why if it failed.

    reason: the failure as stored on the row (e.g. twilio_30003); stopped: the provider says the person
    opted out or blocked us, so our record must say so too."""
    provider_id: str
    status: str
    error_code: str | None = None
    reason: str | None = None
    stopped: bool = False


Event = Incoming | StatusUpdate | Ignored    # what a webhook request carries, once parsed


@dataclass(frozen=True)
class Route:
    """A webhook an adapter serves: `kind` is receive (messages and events), status (delivery callbacks
    on their own URL) or verify (a subscription handshake by GET)."""
    rule: str
    endpoint: str
    kind: str = "receive"
    methods: tuple[str, ...] = ("POST",)


@dataclass
class Answer:
    """What the webhook says back to the provider: a JSON object, or text of a given type."""
    body: Json | str | None = None
    mimetype: str = "application/json"
    status: int = 200


@dataclass(frozen=True)
class WindowArgs:
    """How a message may still go outside the session window (a WhatsApp template, a Messenger message
    tag): `args` for send(), or None with `why` it cannot (said to staff on the row)."""
    args: Json | None
    why: str = ""


@dataclass
class Limits:
    """What a channel takes: characters per message, messages a second (a setting with a default),
    picture types, and the session window outside which free-form messages are refused."""
    text: int
    rate_setting: str
    rate_default: float
    pictures: tuple[str, ...] = ()
    window: timedelta | None = None
    options: int | None = None          # buttons at most; more are shown as numbered text
    option_label: int | None = None     # characters per button title
    voice: tuple[str, ...] = ()         # voice-note types it plays (audio/ogg ...); () = no voice (SMS)


@dataclass(frozen=True)
class VoiceNote:
    """A recording to send with a reply: its hash (signed links are made from it) and its OGG/Opus bytes
    (for an upload), its length and its MP3's size (a file message must state it)."""
    sha256: str
    ogg: bytes
    seconds: float
    mp3_size: int


class Adapter(ABC):
    """One channel. Subclasses set the class attributes and implement the abstract methods."""
    channel: str = ""                   # stored with contacts, messages and outbound rows
    label: str = ""                     # what staff read
    profile: Profile                    # what the dialogue must know (handlers/types.py)
    limits: Limits
    routes: tuple[Route, ...] = ()
    fallback_channel: str | None = None  # an answer outside the window may go there (WhatsApp -> SMS)
    status_group: tuple[str, ...] = ()  # channels whose rows its status callbacks may name (default: its own)
    cli: click.Group | None = None      # a click group of operator commands, or None
    # a voice note can ride on the webhook response (TwiML <Media> by link); else a turn whose reply
    # carries one is sent through the provider's API from the queue (Telegram's upload)
    voice_in_response: bool = False

    # ---- settings --------------------------------------------------------------------------------
    @abstractmethod
    def enabled(self, config: Config) -> bool:
        """Are its provider settings there? A channel that is off sends nothing and its webhook says 403."""

    def rate(self, config: Config) -> float:
        return float(config.get(self.limits.rate_setting) or self.limits.rate_default)

    def doctor(self, config: Config) -> list[tuple[str, str, str]]:
        """(name, PASS|WARN|FAIL, reason) lines for `flask --app bot doctor`."""
        return []

    # ---- inbound ---------------------------------------------------------------------------------
    def authenticate(self, request: Request, config: Config) -> None:
        """Raise BadRequest(reason, 403) unless the request is the provider's (and the channel is on).
        Nothing is parsed, deduplicated or answered before this."""
        raise BadRequest(f"{self.channel} has no webhook", 404)

    def parse(self, request: Request, config: Config) -> list[Event]:
        """The request's events: Incoming, StatusUpdate or Ignored; BadRequest when it is not the
        provider's shape."""
        raise BadRequest(f"{self.channel} has no webhook", 404)

    def parse_status(self, request: Request, config: Config) -> list[StatusUpdate]:
        """Delivery callbacks on a status route of their own."""
        raise BadRequest(f"{self.channel} has no status webhook", 404)

    def status_channels(self) -> tuple[str, ...]:
        return self.status_group or (self.channel,)

    def verify(self, request: Request, config: Config) -> str:
        """A subscription handshake (GET): the challenge to echo, or BadRequest."""
        raise BadRequest(f"{self.channel} has no subscription handshake", 404)

    def parse_call(self, request: Any, config: dict[str, Any]) -> Any:
        """A phone call's webhook (route kind "call"): a channel-neutral call event, or BadRequest."""
        raise BadRequest(f"{self.channel} takes no calls", 404)

    def render_call(self, turn: Any, config: dict[str, Any], base_url: str) -> "Answer":
        """What the caller hears next (handlers.phone.CallTurn), in the provider's words."""
        raise BadRequest(f"{self.channel} takes no calls", 404)

    def answers_in_response(self, incoming: Incoming) -> bool:
        """True when the reply rides on the webhook response; else the worker sends it through the API."""
        return False

    def respond(self, events: list[Event], answered: list[tuple[Incoming, list[Reply]]], config: Config) -> Answer:
        """The webhook's answer once its events are handled; `answered`: the turns answered inline."""
        return Answer({"ok": True})

    # ---- rendering -------------------------------------------------------------------------------
    @abstractmethod
    def preview(self, incoming: Incoming, replies: list[Reply], config: Config) -> str:
        """The replies as a person on this channel would see them, as text (terminal chat, previews)."""

    def mask(self, address: str) -> str:
        """The address as staff see it: enough to tell people apart, not enough to misuse."""
        return "••••" + address[-4:]

    # ---- sending outside a request ---------------------------------------------------------------
    @abstractmethod
    def send(self, config: Config, address: str, reply: Reply, images: dict[str, bytes],
             window_args: Json | None = None, fast: bool = False) -> SendResult:
        """Send one stored message; every provider answer becomes one of the outcomes above.
        images: the content's pictures by name; window_args: from window_args(); fast: a text-only
        broadcast row (an adapter may take a cheaper path, with the same outcomes)."""

    def window_args(self, config: Config, purpose: str, text: str, case_code: str | None) -> WindowArgs:
        """How a message of this purpose (answer, broadcast, reply) may go outside the session window."""
        return WindowArgs(None, f"{self.label} session window closed")

    def media_hosts(self, config: Config) -> tuple[str, ...]:
        """Where this provider keeps what people send, fetched without credentials ("<channel>:url:<URL>"
        references): hosts or ".suffixes" (https only), or a loopback fake's origin."""
        return ()

    def warm_up(self, config: Config) -> None:
        """Make this thread's client before its first paced send."""


M = TypeVar("M")


def send_each(messages: Iterable[M], post_one: Callable[[M], tuple[int, Any]],
              outcome: Callable[[int, Any], SendResult]) -> SendResult:
    """A reply that goes as several API calls: each in turn, and the first that does not go is the outcome.
    post_one(message) -> (HTTP status, body); outcome(status, body) -> SendResult."""
    import urllib3
    result = SendResult(FAILED, reason="empty", detail="nothing to send")
    for message in messages:
        try:
            status, body = post_one(message)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            return SendResult(RETRY, reason="connection", detail=type(exc).__name__)
        result = outcome(status, body)
        if result.outcome != SENT:
            return result
    return result


def merge(replies: list[Reply]) -> Reply | None:
    """Several replies of one turn as one message: one Telegram method fits in a webhook response, and a
    turn answered from the queue goes out as one row, so its parts cannot overtake each other."""
    if not replies:
        return None
    last = replies[-1]
    image = next((r.image for r in replies if r.image), None)
    voice = next((r.voice for r in replies if r.voice), None)
    return Reply(text="\n\n".join(r.text for r in replies if r.text), options=last.options,
                 image=image, language=last.language, voice=voice)


__all__ = ["SENT", "RETRY", "STOPPED", "WINDOW", "FAILED", "Outcome", "SendResult", "BadRequest", "Ignored", "StatusUpdate",
           "Route", "Answer", "WindowArgs", "Limits", "VoiceNote", "Adapter", "merge", "Config", "Json", "Event", "json_object"]
