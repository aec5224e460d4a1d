"""The channel adapters, listed explicitly: a new channel is one module and one line here."""
from . import telegram, twilio

ADAPTERS = {
    "telegram": telegram,
    "sms": twilio,
    "whatsapp": twilio,
}


def adapter(channel: str):
    return ADAPTERS[channel]
