"""The channel adapters, listed explicitly: a new channel is one module and one line here.

Everything that sends or receives asks this registry for the channel's adapter (bot/channels/base.py
Adapter); no code outside bot/channels/ asks which channel it is.
"""
from handlers.types import PROFILES

from . import messenger, telegram, twilio, twilio_voice, viber
from .base import Adapter, Config, Route

ADAPTERS: dict[str, Adapter] = {a.channel: a for a in (
    telegram.ADAPTER,
    twilio.SMS,
    twilio.WHATSAPP,
    messenger.ADAPTER,
    viber.ADAPTER,
    twilio_voice.ADAPTER,     # calls in, answers out by SMS
)}

for _adapter in ADAPTERS.values():       # the dialogue reads a channel's limits from its profile
    PROFILES.setdefault(_adapter.channel, _adapter.profile)


def adapter(channel: str) -> Adapter:
    """The adapter of a channel; KeyError for one no adapter serves (web, terminal)."""
    return ADAPTERS[channel]


def names() -> tuple[str, ...]:
    """Every channel a person can be reached on, in registry order."""
    return tuple(ADAPTERS)


def find(channel: str) -> Adapter | None:
    return ADAPTERS.get(channel)


def webhooks() -> list[tuple[Adapter, Route]]:
    """(adapter, route) for every webhook, once each (SMS and WhatsApp share Twilio's)."""
    seen: set[str] = set()
    found: list[tuple[Adapter, Route]] = []
    for a in ADAPTERS.values():
        for route in a.routes:
            if route.endpoint not in seen:
                seen.add(route.endpoint)
                found.append((a, route))
    return found


def enabled(config: Config) -> dict[str, bool]:
    """Which channels have their provider settings; a missing one is off."""
    return {name: a.enabled(config) for name, a in ADAPTERS.items()}


def mask(channel: str, address: str | None) -> str:
    """An address as staff see it, as its channel masks it."""
    if not address:
        return "—"
    found = ADAPTERS.get(channel)
    return found.mask(address) if found else "••••" + address[-4:]
