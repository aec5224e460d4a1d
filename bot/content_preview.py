"""An item of the draft as people would get it: the dialogue's own answer, rendered by each channel's code.

The answer comes from handlers.topics (the same function that answers a person), on the draft's content;
SMS bodies and their parts from bot/channels/plain.py, WhatsApp from twilio.bodies (*bold* kept), Telegram
from its HTML rendering, which escapes every text. The page shows the Telegram HTML as text and the bold
parts as <b> elements it builds itself, so no content is ever inserted as markup.
"""
import re

from handlers.conversation import BROWSING, ContactState, Conversation
from handlers.sms import segments
from handlers.topics import show_item, show_step
from handlers.types import Incoming

from .channels.base import merge
from .channels.plain import sms_messages
from .channels.telegram import CAPTION_LIMIT, TEXT_LIMIT, _html, keyboard
from .channels.twilio import bodies

_BOLD = re.compile(r"\*([^*\n]+)\*")
WHATSAPP_BODY_LIMIT = 1600        # Twilio refuses a longer Body (error 21617)


def _replies(content, channel: str, lang: str, item_id: str, step: int | None, config: dict):
    ctx = Conversation(content, Incoming(channel, "preview"), ContactState(language=lang, state=BROWSING),
                       config=config)
    if step is None:
        show_item(ctx, item_id)
    else:
        show_step(ctx, item_id, step)
    return ctx.replies


def bold_parts(text: str) -> list[tuple[str, bool]]:
    """("plain", False), ("bold", True) ... as Telegram and WhatsApp show *bold*; the page escapes each."""
    parts, last = [], 0
    for match in _BOLD.finditer(text):
        parts += [(text[last:match.start()], False), (match.group(1), True)]
        last = match.end()
    return [p for p in parts + [(text[last:], False)] if p[0]]


def screen(content, lang: str, item_id: str, config: dict, step: int | None = None) -> dict:
    """One screen (the item, or one of its steps) on SMS, WhatsApp and Telegram, under the app's settings
    (SMS_FOLD_LATIN and whatever else changes an answer)."""
    fold_latin = bool(config.get("SMS_FOLD_LATIN"))
    sms = [{"text": body, "parts": segments(body), "characters": len(body)}
           for body in sms_messages(_replies(content, "sms", lang, item_id, step, config), fold_latin)]
    whatsapp = [body for body, _ in bodies("whatsapp", _replies(content, "whatsapp", lang, item_id, step, config))]
    telegram = merge(_replies(content, "telegram", lang, item_id, step, config))
    html = _html(telegram.text) if telegram else ""
    buttons = [row[0]["text"] for row in (keyboard(telegram) or {}).get("keyboard", [])] if telegram else []
    limit = CAPTION_LIMIT if telegram and telegram.image else TEXT_LIMIT
    return {"sms": sms, "whatsapp": [{"text": w, "characters": len(w), "over": len(w) > WHATSAPP_BODY_LIMIT}
                                     for w in whatsapp],
            "telegram": {"parts": bold_parts(telegram.text) if telegram else [], "html": html,
                         "buttons": buttons, "characters": len(html), "limit": limit,
                         "over": len(html) > limit, "image": telegram.image if telegram else None}}


def item(content, lang: str, item_id: str, config: dict | None = None) -> dict | None:
    """The item's first screen and each of its steps in one language; None if the draft has no such item."""
    found = content.items.get(item_id)
    if found is None:
        return None
    config = dict(config or {})
    return {"language": lang, "item": screen(content, lang, item_id, config),
            "steps": [screen(content, lang, item_id, config, n) for n in range(len(found.steps))]}
