"""Replies as plain text, for every channel that shows text and numbers (SMS, WhatsApp, terminal, web)."""
import re
import unicodedata

from handlers.i18n import RTL
from handlers.sms import FOLDED_LANGUAGES, MAX_SEGMENTS, budget, segments, split_pages
from handlers.sms import fold_latin as fold
from handlers.text import to_arabic_digits
from handlers.types import Reply

_BOLD = re.compile(r"\*([^*\n]+)\*")


def option_key(key: str, lang: str) -> str:
    """The option number as the person's script writes it (١ in Arabic and Kurdish, 1 in Latin)."""
    return to_arabic_digits(key) if lang in RTL else key


RLM = "\u200f"


def _starts_rtl(line: str) -> bool:
    """Whether a line's first strong letter is right-to-left (a phone then sets it right to left)."""
    for char in line:
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            return True
        if kind == "L":
            return False
    return False


def directed(text: str, lang: str) -> str:
    """In an Arabic-script reply, a line that opens with Latin ("STOP …", "WhatsApp …") or holds only
    digits ("911") would be set left to right, its words shown out of order: a right-to-left mark
    before it keeps the whole reply right to left. Other lines and languages are left as they are."""
    if lang not in RTL or not text:
        return text
    return "\n".join(line if not line.strip() or _starts_rtl(line) or line.startswith(RLM) else RLM + line
                     for line in text.split("\n"))


def as_text(reply: Reply, bold: bool = False) -> str:
    """Text then one line per option: "١. الصحة". bold=True keeps *bold* (WhatsApp), else it is dropped."""
    text = reply.text if bold else _BOLD.sub(r"\1", reply.text)
    lines = [text] if text else []
    lines += [f"{option_key(o.key, reply.language)}. {o.label}" for o in reply.options]
    return directed("\n".join(lines), reply.language)


def sms_messages(replies: list[Reply], fold_latin: bool = False) -> list[str]:
    """SMS bodies, each at most three segments: a reply that does not fit is cut between lines.
    fold_latin: Latin Kurmanji in plain letters (SMS_FOLD_LATIN), so it goes as GSM-7."""
    bodies = []
    for reply in replies:
        body = as_text(reply)
        if fold_latin and reply.language in FOLDED_LANGUAGES:
            body = fold(body)
        if segments(body) <= MAX_SEGMENTS:
            bodies.append(body)
            continue
        room = budget(body)
        current = ""
        for line in body.split("\n"):
            pieces = split_pages(line, room) if len(line) > room else [line]
            for piece in pieces:
                candidate = f"{current}\n{piece}" if current else piece
                if current and segments(candidate) > MAX_SEGMENTS:
                    bodies.append(current)
                    current = piece
                else:
                    current = candidate
        if current:
            bodies.append(current)
    return bodies
