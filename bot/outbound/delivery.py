"""One provider call for one row: the text it carries (its own, or its broadcast's in its language)
handed to the adapter of its channel (bot/channels/)."""
import json
from typing import Protocol, cast

from handlers.types import Reply

from .. import channels
from ..channels.base import FAILED, Json, SendResult, VoiceNote
from ..models import Broadcast
from ..runtime import Runtime


class Row(Protocol):
    """An outbound row as sending reads it: an Outbound, the row a claim returned, or a prepared
    broadcast row (prepared.Prepared)."""
    @property
    def channel(self) -> str: ...
    @property
    def broadcast_id(self) -> int | None: ...
    @property
    def language(self) -> str | None: ...


class Stored(Row, Protocol):
    """A row whose reply is stored on it (all but prepared broadcast rows)."""
    @property
    def reply_enc(self) -> str | None: ...


class Addressed(Protocol):
    """The person a row goes to, when its address is not given already decrypted."""
    @property
    def address_enc(self) -> str: ...


def reply_of(runtime: Runtime, row: Stored, broadcast: Broadcast | None = None) -> Reply | None:
    """A broadcast row holds no text of its own: the broadcast's text in the row's language."""
    if row.broadcast_id is not None:
        from ..broadcasts import rendered
        if broadcast is None or broadcast.id != row.broadcast_id:
            with runtime.transaction() as session:
                broadcast = session.get(Broadcast, row.broadcast_id)
        if broadcast is None or row.language is None:
            return None
        return Reply(rendered(broadcast, row.language), language=row.language)
    if row.reply_enc is None:
        return None
    return Reply.from_dict(json.loads(runtime.vault.decrypt(row.reply_enc) or "{}"))


def deliver(runtime: Runtime, row: Row, contact: Addressed | None, window_args: Json | None = None,
            broadcast: Broadcast | None = None, reply: Reply | None = None, address: str | None = None) -> SendResult:
    """reply and address: already rendered and decrypted (a prepared broadcast row, see prepared, or
    a reply sent by the task that wrote it, see sending.send_now). window_args: how it may pass outside
    the channel's session window (a WhatsApp template, a Messenger tag)."""
    prepared = reply is not None and address is not None and row.broadcast_id is not None
    if reply is None:     # only prepared rows come without a stored reply, and they bring theirs rendered
        reply = reply_of(runtime, cast(Stored, row), broadcast)
    if address is None and contact is not None:
        address = runtime.vault.decrypt(contact.address_enc)
    adapter = channels.find(row.channel)
    if adapter is None:
        return SendResult(FAILED, reason="channel_off", detail=f"no adapter sends on {row.channel}")
    if reply is None:
        return SendResult(FAILED, reason="no_text", detail="nothing to send: no stored reply or broadcast text")
    if address is None:
        return SendResult(FAILED, reason="no_address", detail="the address is gone or does not open with DATA_KEY")
    extra: dict[str, VoiceNote] = {}
    if reply.voice and adapter.limits.voice:    # a channel without voice sends the text
        note = voice_note(runtime, reply.voice)
        if note is None:
            return SendResult(FAILED, reason="no_recording", detail=f"recording {reply.voice[:12]} is not stored")
        extra["voice"] = note
    return adapter.send(runtime.config, address, reply, runtime.content.get().images,
                        window_args=window_args, fast=prepared, **extra)


def voice_note(runtime, sha256: str) -> VoiceNote | None:
    """What an adapter needs to send a recording: the OGG/Opus bytes to upload, links are made from the hash."""
    from ..recordings.store import voice_parts
    with runtime.transaction() as session:
        parts = voice_parts(session, sha256)
    if parts is None:
        return None
    ogg, milliseconds, mp3_size = parts
    return VoiceNote(sha256, ogg, milliseconds / 1000, mp3_size)
