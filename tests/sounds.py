"""Sounds the tests make themselves (nothing to install or download): tones as WAV with the standard
library, other containers and hostile files with PyAV."""
import io
import math
import struct
import sys
import wave
import zipfile
from array import array

import av


def tone_wav(seconds: float, rate: int = 16_000, channels: int = 1, hz: float = 440.0) -> bytes:
    """A sine tone as 16-bit PCM WAV, as a phone's recorder app would save a voice memo."""
    mono = array("h", (int(9000 * math.sin(2 * math.pi * hz * i / rate)) for i in range(int(seconds * rate))))
    frames = array("h", bytes(2 * len(mono) * channels))
    for channel in range(channels):
        frames[channel::channels] = mono
    if sys.byteorder == "big":
        frames.byteswap()                # WAV samples are little-endian
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames.tobytes())
    return out.getvalue()


def encoded(container_format: str, codec: str, seconds: float, rate: int = 48_000, silent: bool = False) -> bytes:
    """A tone (or silence) encoded by PyAV into another container: m4a/AAC, FLAC, OGG/Opus."""
    out = io.BytesIO()
    container = av.open(out, mode="w", format=container_format)
    stream = container.add_stream(codec, rate=rate)
    stream.layout = "mono"
    resampler = av.AudioResampler(format=stream.codec_context.format.name, layout="mono", rate=rate)
    total, done, size = int(seconds * rate), 0, 960
    while done < total:
        count = min(size, total - done)
        frame = av.AudioFrame(format="s16", layout="mono", samples=count)
        frame.sample_rate = rate
        frame.planes[0].update(bytes(2 * count) if silent else b"".join(
            struct.pack("<h", int(9000 * math.sin(2 * math.pi * 440 * (done + i) / rate))) for i in range(count)))
        frame.pts = done
        done += count
        for piece in resampler.resample(frame):
            for packet in stream.encode(piece):
                container.mux(packet)
    for packet in stream.encode(None):
        container.mux(packet)
    container.close()
    return out.getvalue()


def zip_bomb() -> bytes:
    """A zip of 50 MB of zeros (about 50 KB): not sound, whatever it unpacks to."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("voice.wav", bytes(50 * 1024 * 1024))
    return out.getvalue()


def seconds_of(data: bytes) -> float:
    """How long a sound plays, as PyAV decodes it."""
    with av.open(io.BytesIO(data)) as container:
        return sum(frame.samples / frame.sample_rate for frame in container.decode(audio=0))
