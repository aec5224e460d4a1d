"""/try: the same dialogue in a browser, drawn as a phone would show it; no provider, no token needed."""
import json
import secrets

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from sqlalchemy import select

from handlers.i18n import direction
from handlers.types import Incoming, Reply

from . import inbound
from .models import Contact, Message

blueprint = Blueprint("tryout", __name__)
CHANNEL = "web"
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
    runtime = current_app.extensions["bot"]
    turns = _history(runtime, _address())
    last = turns[-1]["replies"][-1] if turns and turns[-1]["replies"] else None
    lang = last.language if last else "ar"
    return render_template("try.html", turns=turns, last=last, dir=direction, page_dir=direction(lang))


@blueprint.post("/try")
def send():
    runtime = current_app.extensions["bot"]
    text = (request.form.get("text") or "")[:2000]
    if text.strip():
        inbound.receive(runtime, Incoming(CHANNEL, _address(), text=text,
                                          provider_id=f"try-{secrets.token_hex(8)}"))
    return redirect(url_for("tryout.page") + "#end")


@blueprint.post("/try/reset")
def reset():
    session.pop("try_id", None)
    return redirect(url_for("tryout.page"))
