"""The phone menu's storage side: which recordings a call may play, and a spoken message becoming a case.

handlers/phone.py decides what a caller hears; this module finds the sounds (the content's reviewed item
recordings by signed link, recorded prompts under PHONE_PROMPTS_DIR) and keeps what a caller leaves after
"9": a feedback case whose attachment is the provider's recording, fetched later for staff exactly like a
voice note (bot/media.py: only from Twilio's own host, with the account's credentials, when staff open it).
A repeated delivery of the same recording (same RecordingSid) opens nothing new and reads the same code.

The database down while a caller records: Twilio does not post a <Record> action twice, so a 503 would lose
the message and play the caller an error. It is sealed into the queue instead (as inline mode does with a
text message), the caller hears that it is received and that its code comes by SMS, and the queue's worker
opens the case when the database is back and sends the code to the caller's number.
"""
import json
import logging
import re
from pathlib import Path
from typing import Any

from flask import Response, abort
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from handlers import codes
from handlers.conversation import MediaRef
from handlers.i18n import Translator
from handlers.phone import PROMPTS, RECORDED, CallTurn, Menu, code_read_out, kept_for_later, not_recorded, turn
from handlers.types import Reply

from . import db, intake, media
from .cases import CaseServices
from .channels.twilio_voice import Call, speech_languages
from .models import Case, Contact, Message, Outbound, utcnow
from .outbound.rows import enqueue, queue_reply
from .recordings import playable
from .recordings import url as recording_url
from .runtime import Runtime
from .statuses import Purpose

log = logging.getLogger(__name__)
PROMPT_DIR = Path(__file__).resolve().parent.parent / "content" / "phone"
PROMPT_TYPES = {".mp3": "audio/mpeg", ".wav": "audio/wav"}      # what Twilio's <Play> takes (not OGG)
_PROMPT_NAME = re.compile(r"[a-z_]+(?:\.[a-z0-9_-]+)?")
Config = dict[str, Any]


def prompt_dir(config: Config) -> Path:
    return Path(config.get("PHONE_PROMPTS_DIR") or PROMPT_DIR)


class Sounds:
    """What one call may play: item recordings from the published content (signed links to the MP3, only
    reviewed ones under REVIEWED_ONLY), prompts recorded as files <dir>/<lang>/<name>.mp3|.wav."""

    def __init__(self, runtime: Runtime, content: object) -> None:
        self.config = runtime.config
        self.recordings: dict[str, Any] = getattr(content, "recordings", None) or {}
        self.items: dict[str, Any] = getattr(content, "items", {})
        self.folder = prompt_dir(self.config)

    def item(self, item_id: str, lang: str) -> list[str]:
        reviewed_only = bool(self.config.get("REVIEWED_ONLY"))
        whole = playable(self.recordings, item_id, None, lang, reviewed_only)
        if whole is not None:
            return [recording_url(self.config, whole.sha256, "mp3")]
        item = self.items.get(item_id)
        steps = [playable(self.recordings, item_id, n, lang, reviewed_only)
                 for n in range(1, len(item.steps) + 1)] if item is not None and item.steps else []
        if steps and all(steps):           # every step, or none: a step left out would mislead
            return [recording_url(self.config, s.sha256, "mp3") for s in steps if s is not None]
        return []

    def prompt(self, name: str, lang: str) -> str | None:
        for suffix in PROMPT_TYPES:
            if (self.folder / lang / f"{name}{suffix}").is_file():
                base = str(self.config.get("PUBLIC_URL") or "").rstrip("/")
                return f"{base}/phone-prompts/{lang}/{name}{suffix}"
        return None


def menu(runtime: Runtime) -> Menu:
    content = runtime.content.get()
    return Menu(content, Sounds(runtime, content), spoken=speech_languages(runtime.config),
                reviewed_only=bool(runtime.config.get("REVIEWED_ONLY")))


def answer(runtime: Runtime, channel: str, call: Call) -> CallTurn:
    """What the caller hears in answer to this webhook of the call."""
    phone_menu = menu(runtime)
    if call.state.get("s") == RECORDED:
        lang = call.state.get("l") or "ar"
        lang = lang if lang in ("ar", "ckb", "kmr") else "ar"
        try:
            code = take_message(runtime, channel, call, lang) if call.recording_url else None
        except Exception as exc:
            if not db.unavailable(exc):
                raise
            return _keep_for_later(runtime, phone_menu, channel, call, lang)
        return code_read_out(phone_menu, lang, code) if code else not_recorded(phone_menu, lang)
    return turn(phone_menu, call.state, call.digits)


def _keep_for_later(runtime: Runtime, phone_menu: Menu, channel: str, call: Call, lang: str) -> CallTurn:
    """The database is down: the recording's reference sealed into the queue for the worker, and into the
    waiting room under its own name (so the periodic rescue queues it again should the worker be killed
    outright while it waits). Where the queue cannot take it either (or tasks run in this request), the
    caller is asked to try again."""
    from .queue import call_message_task, waiting_room
    if not intake.deferrable() or not media.on_twilio_host(runtime.config, call.recording_url or ""):
        return not_recorded(phone_menu, lang)
    sealed = runtime.vault.encrypt(json.dumps({
        "channel": channel, "lang": lang, "call_id": call.call_id, "caller": call.caller,
        "recording_url": call.recording_url, "recording_id": call.recording_id,
        "recording_seconds": call.recording_seconds})) or ""
    room = CALL_ROOM + (call.recording_id or call.call_id)
    try:
        waiting_room().arrive(room, sealed)
        call_message_task(sealed, room)
    except Exception as exc:      # redis ConnectionError, sqlite3.OperationalError: the queue's own errors
        log.error("call message: database and queue both unavailable (%s); the caller is asked to call again",
                  type(exc).__name__)
        return not_recorded(phone_menu, lang)
    log.warning("call message kept in the queue while the database is unavailable")
    return kept_for_later(phone_menu, lang, by_sms=call.caller is not None)


def take_later(runtime: Runtime, sealed: str, room: str | None = None) -> str:
    """The worker's half, as intake's for a text: wait out the outage (no limit on tries), open the case, send
    its code by SMS. A fault of another kind is tried intake.FAULT_TRIES times, then kept sealed in
    dead_letters (kind "call") for `flask --app bot queue replay`: never dropped. Then out of its room."""
    done = _take_later(runtime, sealed)
    if room:
        from .queue import waiting_room
        try:
            waiting_room().leave(room, sealed)
        except Exception as exc:    # the queue's storage gone: the rescue queues it again, a duplicate then
            log.warning("a call message could not leave its waiting room (%s)", type(exc).__name__)
    return done


CALL_ROOM = "call:"        # the waiting room of a call message kept during an outage: call:<RecordingSid>


def _take_later(runtime: Runtime, sealed: str) -> str:
    outages = faults = 0
    while True:
        try:
            done = take_sealed(runtime, sealed)
            if done == "unreadable":        # sealed with another DATA_KEY: kept for whoever holds that key
                return intake.keep_dead_letter(runtime, sealed, LookupError("sealed with another DATA_KEY"), 1,
                                               kind=CALL_LETTER)
            return done
        except Exception as exc:
            if db.unavailable(exc):
                if not intake.deferrable():
                    raise
                outages += 1
                delay = intake.retry_delay(runtime.config, outages)
                log.warning("call message waiting for the database (%s): try %d failed, next in %.1f s",
                            type(exc).__name__, outages, delay)
                intake.wait(delay)
                continue
            faults += 1
            log.exception("a call message failed (try %d of %d)", faults, intake.FAULT_TRIES)
            if faults >= intake.FAULT_TRIES:
                return intake.keep_dead_letter(runtime, sealed, exc, faults, kind=CALL_LETTER)
            intake.wait(1.0)


CALL_LETTER = "call"       # models.DeadLetter.kind of a call message (intake's are "inbound")


def take_sealed(runtime: Runtime, sealed: str) -> str:
    """One try at a sealed call message: "case opened", "refused" (not on Twilio's host) or "unreadable"."""
    kept = json.loads(runtime.vault.decrypt(sealed) or "null")
    if not isinstance(kept, dict):
        return "unreadable"
    call = Call(kept["call_id"], kept.get("caller"), {}, None, kept.get("recording_url"), kept.get("recording_id"),
                kept.get("recording_seconds"))
    code = take_message(runtime, kept["channel"], call, kept.get("lang") or "ar", by_sms=True)
    return "case opened" if code else "refused"


def take_message(runtime: Runtime, channel: str, call: Call, lang: str, by_sms: bool = False) -> str | None:
    """A caller's spoken message as a new feedback case: its reference code (the same code again for a
    repeated delivery), or None when the recording is not on the provider's own host (refused, nothing
    fetched, nothing stored: credentials would go there when staff open it). by_sms: the code also goes to
    the caller as an SMS (the caller did not hear it: it was taken while the database was down)."""
    config = runtime.config
    if not call.recording_url or not media.on_twilio_host(config, call.recording_url):
        log.warning("call recording refused: not on Twilio's media host")
        return None
    entry: MediaRef = {"url": call.recording_url, "type": "audio/wav", "source": "phone"}
    if call.recording_seconds is not None:
        entry["seconds"] = round(call.recording_seconds, 1)        # Twilio's count, refined by PyAV when heard
    vault = runtime.vault
    address = call.caller or f"withheld:{call.call_id}"           # a withheld number: one contact per call
    now = utcnow()
    try:
        with runtime.transaction() as session:
            contact = db.upsert_locked(session, Contact, {
                "channel": channel, "address_hash": vault.address_hash(channel, address),
                "address_enc": vault.encrypt(address), "state": "new", "created_at": now, "opted_out": False,
                "subscribed": False, "topics": ""}, ["channel", "address_hash"], ["channel"])
            message_id = db.insert_ignore(session, Message, {
                "contact_id": contact.id, "channel": channel, "provider_id": call.recording_id,
                "media_enc": vault.encrypt(json.dumps([entry])), "language": lang, "created_at": now},
                ["channel", "provider_id"])
            if message_id is None:
                code = _first_code(runtime, session, channel, call.recording_id, contact.id)
                sms = _code_not_sent_yet(runtime, session, contact, code) if by_sms and call.caller else None
                if sms is None:
                    raise _Duplicate(code)     # nothing to write: the contact's upsert is rolled back with it
            else:
                code, sms = _new_case(runtime, session, contact, message_id, entry, lang,
                                      by_sms and bool(call.caller))
    except _Duplicate as duplicate:
        return duplicate.code
    if sms is not None:
        enqueue([sms])
    return code


class _Duplicate(Exception):
    """A recording delivered again: raised inside the transaction so that nothing of it is kept (a replay
    from another number must not leave a contact behind)."""

    def __init__(self, code: str | None) -> None:
        super().__init__("duplicate")
        self.code = code


def _new_case(runtime: Runtime, session: Session, contact: Contact, message_id: int, entry: MediaRef, lang: str,
              by_sms: bool) -> tuple[str, int | None]:
    """The case, its code kept as the message's reply, and (by_sms) that reply queued as an SMS."""
    contact.language = lang              # answers go in the language the caller chose on this call
    contact.last_seen_at = utcnow()
    code = CaseServices(runtime, session, contact, None, message_id).open_case(
        "complaint", "", [entry], None, False)
    said = _code_said(code, lang)
    session.execute(update(Message).where(Message.id == message_id).values(
        replies_enc=runtime.vault.encrypt(json.dumps([said.to_dict()], ensure_ascii=False))))
    log.info("call message became a case on %s", contact.channel)
    if not by_sms:
        return code, None
    case_id = session.scalar(select(Case.id).where(Case.code == code))
    return code, queue_reply(runtime, session, contact, said, case_id=case_id).id


def _code_said(code: str, lang: str) -> Reply:
    t = Translator(lang)
    return Reply(f"{t(PROMPTS['code'])} {t.digits(codes.display(code))}", language=lang)   # kept as a reply is


def _code_not_sent_yet(runtime: Runtime, session: Session, contact: Contact, code: str | None) -> int | None:
    """A worker's second try of a message the first stored (its ack lost with a restart): the code by SMS
    unless it is on its way already (once per case)."""
    if code is None:
        return None
    case_id = session.scalar(select(Case.id).where(Case.code == code))
    if case_id is None or session.scalar(select(Outbound.id).where(
            Outbound.case_id == case_id, Outbound.purpose == Purpose.REPLY).limit(1)) is not None:
        return None
    return queue_reply(runtime, session, contact, _code_said(code, contact.language or "ar"), case_id=case_id).id


def _first_code(runtime: Runtime, session: Session, channel: str, provider_id: str | None, contact_id: int) -> str | None:
    """The code the first delivery of this recording got, read back from what was said then (the same
    caller only: a recording id replayed from another number learns nothing)."""
    first = session.execute(select(Message.contact_id, Message.replies_enc).where(
        Message.channel == channel, Message.provider_id == provider_id)).one_or_none()
    if first is None or first.contact_id != contact_id or not first.replies_enc:
        return None
    said = json.loads(runtime.vault.decrypt(first.replies_enc) or "[]")
    return codes.find_code(said[0]["text"]) if said else None


def prompt_file(config: Config, lang: str, name: str) -> Response:
    """A recorded menu prompt for Twilio's <Play> (not personal data: served like the content's pictures)."""
    stem, dot, suffix = name.rpartition(".")
    if lang not in ("ar", "ckb", "kmr") or not dot or f".{suffix}" not in PROMPT_TYPES \
            or not _PROMPT_NAME.fullmatch(stem):
        abort(404)
    path = prompt_dir(config) / lang / name
    if not path.is_file():
        abort(404)
    response = Response(path.read_bytes(), mimetype=PROMPT_TYPES[f".{suffix}"])
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response
