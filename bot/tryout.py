"""/try: the same dialogue in a browser, drawn as a phone would show it; no provider, no token needed.

On in the embedded default, off in production unless TRY_PAGE=1: anyone on the internet can write here.
Each client address may send TRY_RATE messages a minute (per web process); what it opens is a try-out
case, kept out of the inbox, reports and exports, and deleted after TRY_RETENTION_HOURS (retention.py).
"""
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections import deque

from flask import Blueprint, current_app, make_response, redirect, render_template, request, session, url_for
from sqlalchemy import select

from handlers.i18n import direction
from handlers.types import Incoming, Reply

from . import inbound
from .cases import TRYOUT_CHANNEL
from .models import Contact, Message
from .runtime import current as current_runtime

blueprint = Blueprint("tryout", __name__)
CHANNEL = TRYOUT_CHANNEL
HISTORY = 30


def _address() -> str:
    if "try_id" not in session:
        session["try_id"] = secrets.token_urlsafe(12)
    return f"try:{session['try_id']}"


def _history(runtime, address: str) -> list[dict]:
    """The conversation so far, oldest first: what the person typed and what the bot answered."""
    vault = runtime.vault
    with runtime.transaction() as db:
        contact_id = db.execute(select(Contact.id).where(
            Contact.channel == CHANNEL, Contact.address_hash == vault.address_hash(CHANNEL, address))).scalar()
        if contact_id is None:
            return []
        rows = db.execute(select(Message).where(Message.contact_id == contact_id)
                          .order_by(Message.id.desc()).limit(HISTORY)).scalars().all()
    turns = []
    for row in reversed(rows):
        replies = [Reply.from_dict(r) for r in json.loads(vault.decrypt(row.replies_enc) or "[]")]
        turns.append({"text": vault.decrypt(row.text_enc) or "", "replies": replies})
    return turns


@blueprint.get("/try")
def page():
    runtime = current_runtime()
    turns = _history(runtime, _address())
    last = turns[-1]["replies"][-1] if turns and turns[-1]["replies"] else None
    lang = last.language if last else "ar"
    return render_template("try.html", turns=turns, last=last, dir=direction, page_dir=direction(lang))


class _Window:
    """Messages per client address in the last minute, in this process; the keys are HMACs (no address kept)."""

    def __init__(self):
        self.seen: dict[bytes, deque] = {}
        self.lock = threading.Lock()

    def allow(self, key: bytes, limit: int, now: float) -> bool:
        with self.lock:
            if len(self.seen) > 10_000:       # forget the quiet ones: memory stays bounded under a spray
                self.seen = {k: v for k, v in self.seen.items() if v and v[-1] > now - 60}
            times = self.seen.setdefault(key, deque())
            while times and times[0] <= now - 60:
                times.popleft()
            if len(times) >= limit:
                return False
            times.append(now)
            return True


def _client_key() -> bytes:
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, b"try:" + (request.remote_addr or "").encode(), hashlib.sha256).digest()


@blueprint.post("/try")
def send():
    runtime = current_runtime()
    text = (request.form.get("text") or "")[:2000]
    window = current_app.extensions.setdefault("tryout_window", _Window())
    if text.strip() and not window.allow(_client_key(), int(current_app.config.get("TRY_RATE") or 10),
                                          time.monotonic()):
        response = make_response("Too many messages from here: wait a minute, then try again.", 429)
        response.headers["Retry-After"] = "60"
        response.mimetype = "text/plain"
        return response
    if text.strip():
        inbound.receive(runtime, Incoming(CHANNEL, _address(), text=text,
                                          provider_id=f"try-{secrets.token_hex(8)}"))
    return redirect(url_for("tryout.page") + "#end")


@blueprint.post("/try/reset")
def reset():
    session.pop("try_id", None)
    return redirect(url_for("tryout.page"))
