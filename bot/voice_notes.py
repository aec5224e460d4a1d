"""Voice notes people send, as staff hear them: playable in the browser, and their length kept once.

A voice note stays a reference to the provider's copy (bot/media.py fetches it when staff open it). The
first time it is heard its length is measured with PyAV and kept in the case's encrypted media entry
("seconds"), so the inbox shows it without fetching anything. Chromium plays Ogg/Opus, MP3, WAV and M4A,
but not AMR (old phones, MMS): those are decoded with PyAV and handed to the browser as WAV (16-bit PCM at
the note's own 8 or 16 kHz: 16 KB a second, no encoder to wait for). On a busy 2-core machine a 60 s AMR
note became WAV in 1.9 s, where re-encoding it to Opus and MP3 (recordings.convert) took 19.5 s.
"""
import io
import json
import logging
from collections.abc import Sequence
from typing import Any

import av
import av.error

from .models import Case
from .vault import Vault

log = logging.getLogger(__name__)

NOT_PLAYABLE = ("audio/amr", "audio/amr-wb", "video/3gpp")    # what Chromium's <audio> cannot decode
LONGEST = 20 * 60.0          # a person's voice note may be long; past this it is neither counted nor converted
FORMATS = "ogg,mp3,wav,mov,mp4,m4a,3gp,amr,matroska,webm,aac,flac"   # demuxers PyAV may pick: sound only


def measure(body: bytes) -> float | None:
    """How long a sound plays, as PyAV reads it: the container's stated length where it has one (Ogg,
    MP4, WAV), else decoded and counted (AMR, MP3 without a header); None for what is not sound."""
    try:
        with av.open(io.BytesIO(body), "r", options={"format_whitelist": FORMATS}) as container:
            if not container.streams.audio:
                return None
            if container.duration and container.duration > 0:
                return round(min(container.duration / 1_000_000, LONGEST), 1)
            seconds = 0.0
            for frame in container.decode(audio=0):
                seconds += frame.samples / (frame.sample_rate or 1)
                if seconds > LONGEST:
                    break
    except (av.error.FFmpegError, ValueError, OSError):
        return None
    return round(seconds, 1) if seconds > 0 else None


def playable(body: bytes, shown: str) -> tuple[bytes, str]:
    """The bytes and type a browser plays: as they are, or WAV decoded by PyAV from AMR/3GP."""
    if shown not in NOT_PLAYABLE:
        return body, shown
    try:
        return _wav(body), "audio/wav"
    except (av.error.FFmpegError, ValueError, OSError, IndexError) as exc:   # damaged: a download as it came
        log.info("voice note not converted for the browser: %s", type(exc).__name__)
        return body, shown


def _wav(body: bytes) -> bytes:
    """The first LONGEST seconds of a sound as mono 16-bit PCM WAV at its own sample rate."""
    out = io.BytesIO()
    with av.open(io.BytesIO(body), "r", options={"format_whitelist": FORMATS}) as source, \
            av.open(out, mode="w", format="wav") as target:
        rate = source.streams.audio[0].codec_context.sample_rate or 8000
        stream = target.add_stream("pcm_s16le", rate=rate)
        stream.layout = "mono"
        resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)
        seconds = 0.0
        for frame in source.decode(audio=0):
            for mono in resampler.resample(frame):
                for packet in stream.encode(mono):
                    target.mux(packet)
            seconds += frame.samples / (frame.sample_rate or rate)
            if seconds > LONGEST:
                break
        for packet in stream.encode(None):
            target.mux(packet)
    return out.getvalue()


def entries(vault: Vault, case: Case) -> list[dict[str, Any]]:
    """The case's attachments as dicts (older rows hold the reference alone)."""
    refs = json.loads(vault.decrypt(case.media_enc) or "[]") if case.media_enc else []
    return [r if isinstance(r, dict) else {"url": str(r), "type": ""} for r in refs]


def remember_seconds(vault: Vault, case: Case, n: int, seconds: float) -> None:
    """Keep a voice note's measured length with it (the caller's transaction commits)."""
    refs = entries(vault, case)
    if 0 <= n < len(refs) and refs[n].get("seconds") != seconds:
        refs[n] = {**refs[n], "seconds": seconds, "measured": True}
        case.media_enc = vault.encrypt(json.dumps(refs))


def lengths(vault: Vault, cases: Sequence[Case]) -> dict[int, list[float | None]]:
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
