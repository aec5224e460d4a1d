"""What every channel adapter shares: the small vocabulary of send outcomes and of inbound verdicts.

Like courier's handlers, a send maps every provider error onto a few outcomes
that drive the queue: sent, retry (throttled, connection, 5xx), stopped (the
person blocked us or opted out), window (WhatsApp 24-hour rule), failed (with reason).
"""
from dataclasses import dataclass

from handlers.types import Reply

SENT, RETRY, STOPPED, WINDOW, FAILED = "sent", "retry", "stopped", "window", "failed"


@dataclass
class SendResult:
    outcome: str
    provider_id: str | None = None
    reason: str | None = None       # a short code: blocked, opted_out, outside_window, http_429, ...
    detail: str | None = None       # the provider's words, for staff (never personal data)
    retry_after: float | None = None


class BadRequest(Exception):
    """An inbound request we cannot read: answered with 400 and this reason."""

    def __init__(self, reason: str, status: int = 400):
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass
class Ignored:
    """An inbound request that is valid but carries nothing for the dialogue (a member update, a poll...)."""
    reason: str


@dataclass
class StatusUpdate:
    """A delivery-status callback: which message, what happened, and why if it failed."""
    provider_id: str
    status: str
    error_code: str | None = None


def merge(replies: list[Reply]) -> Reply | None:
    """Several replies of one turn as one message: one Telegram method fits in a webhook response, and a
    turn answered from the queue goes out as one row, so its parts cannot overtake each other."""
    if not replies:
        return None
    last = replies[-1]
    image = next((r.image for r in replies if r.image), None)
    return Reply(text="\n\n".join(r.text for r in replies if r.text), options=last.options,
                 image=image, language=last.language)
