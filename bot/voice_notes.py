"""Voice notes people send, as staff hear them: playable in the browser, and their length kept once.

A voice note stays a reference to the provider's copy (bot/media.py fetches it when staff open it). The
first time it is heard its length is measured with PyAV and kept in the case's encrypted media entry
("seconds"), so the inbox shows it without fetching anything. Chromium plays Ogg/Opus, MP3, WAV and M4A,
but not AMR (old phones, MMS): those are converted with PyAV to Ogg/Opus on the way to the browser.
"""
import io
import json
import logging

import av
import av.error

from .models import Case
from .recordings import RecordingRefused, convert

log = logging.getLogger(__name__)

NOT_PLAYABLE = ("audio/amr", "audio/amr-wb", "video/3gpp")    # what Chromium's <audio> cannot decode
LONGEST = 20 * 60.0          # a person's voice note may be long; past this the length is not counted further


def measure(body: bytes) -> float | None:
    """How long a sound plays, decoded with PyAV (the header's word is not trusted), or None."""
    seconds = 0.0
    try:
        with av.open(io.BytesIO(body)) as container:
            if not container.streams.audio:
                return None
            for frame in container.decode(audio=0):
                seconds += frame.samples / (frame.sample_rate or 1)
                if seconds > LONGEST:
                    break
    except (av.error.FFmpegError, ValueError, OSError):
        return None
    return round(seconds, 1) if seconds > 0 else None


def playable(body: bytes, shown: str) -> tuple[bytes, str]:
    """The bytes and type a browser plays: as they are, or Ogg/Opus converted by PyAV for AMR/3GP."""
    if shown not in NOT_PLAYABLE:
        return body, shown
    try:
        return convert(body).ogg, "audio/ogg"
    except RecordingRefused as exc:           # longer than the converter takes, or damaged: a download
        log.info("voice note not converted for the browser: %s", exc)
        return body, shown


def entries(vault, case: Case) -> list[dict]:
    """The case's attachments as dicts (older rows hold the reference alone)."""
    refs = json.loads(vault.decrypt(case.media_enc) or "[]") if case.media_enc else []
    return [r if isinstance(r, dict) else {"url": str(r), "type": ""} for r in refs]


def remember_seconds(vault, case: Case, n: int, seconds: float) -> None:
    """Keep a voice note's measured length with it (the caller's transaction commits)."""
    refs = entries(vault, case)
    if 0 <= n < len(refs) and refs[n].get("seconds") != seconds:
        refs[n] = {**refs[n], "seconds": seconds, "measured": True}
        case.media_enc = vault.encrypt(json.dumps(refs))


def lengths(vault, cases: list[Case]) -> dict[int, list[float | None]]:
    """Per case: the length of each voice note (None while nobody has heard it yet), for the inbox."""
    found: dict[int, list[float | None]] = {}
    for case in cases:
        if not case.media_enc:
            continue
        sounds = [r.get("seconds") for r in entries(vault, case)
                  if str(r.get("type", "")).startswith("audio/") or r.get("seconds") is not None]
        if sounds:
            found[case.id] = sounds
    return found


def clock(seconds: float | None) -> str:
    """0:42 — how long a voice note plays, as audio players show it."""
    if seconds is None:
        return ""
    whole = int(round(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


__all__ = ["NOT_PLAYABLE", "measure", "playable", "entries", "remember_seconds", "lengths", "clock"]
