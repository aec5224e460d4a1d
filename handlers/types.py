"""The channel-neutral messages at the boundary between channel adapters and the dialogue."""
from dataclasses import dataclass, field
from typing import Any

CHANNELS = ("telegram", "sms", "whatsapp", "web", "terminal")


@dataclass(frozen=True)
class Media:
    """A file a person sent: where the provider keeps it, never the bytes."""
    url: str
    content_type: str = ""


@dataclass
class Incoming:
    """One message from a person, as every channel adapter hands it over."""
    channel: str
    address: str
    text: str = ""
    provider_id: str | None = None
    media: list[Media] = field(default_factory=list)
    language_hint: str | None = None
    supported: bool = True  # False for stickers, locations, contacts...: the person gets a polite reply
    reachable: bool = True  # False when the message says the person left the channel (Viber unsubscribed):
    #                        the turn is handled (STOP is recorded), but nothing is sent that would be refused


@dataclass(frozen=True)
class Option:
    """A numbered choice: the person types `key` (in any digit system) or taps the button."""
    key: str
    label: str


@dataclass
class Reply:
    """What the bot says: text, numbered options, maybe a picture (a path under content/images) and a
    voice note (a recording's sha256: the channel adapter sends it as its channel takes voice)."""
    text: str
    options: list[Option] = field(default_factory=list)
    image: str | None = None
    language: str = "en"
    voice: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"text": self.text, "options": [[o.key, o.label] for o in self.options],
                "image": self.image, "language": self.language}
        if self.voice:
            data["voice"] = self.voice
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Reply":
        return cls(text=data["text"], options=[Option(key, label) for key, label in data.get("options", [])],
                   image=data.get("image"), language=data.get("language", "en"), voice=data.get("voice"))


@dataclass(frozen=True)
class Profile:
    """What a channel can show, as far as the dialogue must know it (limits, not providers)."""
    name: str
    compact: bool          # SMS: short texts, pages of at most three segments
    max_chars: int
    pictures: bool
    carrier_opt_out: bool = False   # the carrier treats STOP, CANCEL, END ... as opting out (SMS)
    voice: bool = False             # plays voice notes: answers with a recording offer "🔊 listen"


PROFILES = {
    "sms": Profile("sms", compact=True, max_chars=201, pictures=False, carrier_opt_out=True),
    "whatsapp": Profile("whatsapp", compact=False, max_chars=4096, pictures=True, voice=True),
    "telegram": Profile("telegram", compact=False, max_chars=4096, pictures=True, voice=True),
    "web": Profile("web", compact=False, max_chars=4096, pictures=True),
    "terminal": Profile("terminal", compact=False, max_chars=4096, pictures=False),
}
