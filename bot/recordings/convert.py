"""Recordings in: an upload is checked by what PyAV finds in it, then converted once for every channel.

What reaches people is sound PyAV decoded and encoded itself: OGG/Opus (the voice-note format of Telegram
and WhatsApp) and MP3 (what Twilio's <Play> takes on the phone line). The name or type a browser claims is
ignored: the demuxer is chosen by probing the bytes, and only among audio formats phones and recorders
write (no playlist or concat demuxer that could open other files). Decoding stops as soon as the sound
passes the length limit, so a small file that would unpack into hours of audio (a bomb) costs at most
MAX_SECONDS of decoding; a file whose header promises more than it holds (cut short) is refused.
"""
import io
from dataclasses import dataclass

import av
import av.error
from av.audio.fifo import AudioFifo
from av.audio.frame import AudioFrame
from av.audio.stream import AudioStream

from handlers.i18n import N_

MAX_BYTES = 20 * 1024 * 1024      # 90 s of 48 kHz 16-bit stereo WAV is 17.3 MB
MAX_SECONDS = 90.0                # a voice answer is short; a voice note of 90 s is already long
MIN_SECONDS = 0.3
RATE = 48_000                     # Opus works at 48 kHz; we decode everything to it, mono
MP3_RATE = 24_000                 # the phone line is 8 kHz: 24 kHz MP3 is plenty
OPUS_BITRATE, MP3_BITRATE = 32_000, 48_000
# FFmpeg demuxer names PyAV may pick by probing: audio containers only (av_match_list in avformat_open_input)
FORMATS = "wav,w64,mp3,ogg,flac,mov,mp4,m4a,3gp,matroska,webm,amr,aac,caf,aiff"
DECLARED = ("wav", "w64", "flac", "mov,mp4,m4a,3gp,3g2,mj2", "caf", "aiff")   # headers that state the length
CUT_SHORT_SECONDS = 0.25


class RecordingRefused(ValueError):
    """Why a file is not taken; the message is a catalog msgid, shown in the uploader's language."""

    def __init__(self, message: str, status: int = 422, **values: object) -> None:
        super().__init__(message.format(**values) if values else message)
        self.message, self.values = message, values
        self.status = status      # the HTTP answer for an upload: 413 too big, 422 not a usable sound


@dataclass(frozen=True)
class Converted:
    """One recording in the two forms the channels take, and its length."""
    ogg: bytes            # OGG/Opus, mono 48 kHz: Telegram sendVoice, WhatsApp/Messenger/Viber voice notes
    mp3: bytes            # MP3, mono 24 kHz: the phone line (Twilio <Play>)
    seconds: float
    source_format: str    # the demuxer PyAV found: wav, ogg, mov,mp4,m4a,3gp,3g2,mj2 ...


class _Encoder:
    """One output file fed with mono s16 frames at RATE; frames are re-cut to the codec's frame size."""

    def __init__(self, container_format: str, codec: str, rate: int, bit_rate: int, options: dict[str, str]) -> None:
        self.buffer = io.BytesIO()
        self.container = av.open(self.buffer, mode="w", format=container_format)
        stream = self.container.add_stream(codec, rate=rate, options=options)
        assert isinstance(stream, AudioStream)
        self.stream: AudioStream = stream
        self.stream.bit_rate = bit_rate
        self.stream.layout = "mono"
        sample_format = self.stream.codec_context.format
        self.resampler = av.AudioResampler(format=sample_format.name if sample_format else "s16", layout="mono",
                                           rate=rate)
        self.fifo = AudioFifo()
        self.frame_size = 0

    def add(self, frame: AudioFrame | None) -> None:
        for out in self.resampler.resample(frame):
            self.fifo.write(out)
        self.frame_size = self.frame_size or self.stream.codec_context.frame_size or 1024
        while self.fifo.samples >= self.frame_size:
            self._encode(self.fifo.read(self.frame_size))   # never None: as many samples are waiting

    def close(self) -> bytes:
        self.add(None)
        if self.fifo.samples:
            self._encode(self.fifo.read())
        for packet in self.stream.encode(None):
            self.container.mux(packet)
        self.container.close()
        return self.buffer.getvalue()

    def _encode(self, frame: AudioFrame | None) -> None:
        if frame is None:
            return
        frame.pts = None
        for packet in self.stream.encode(frame):
            self.container.mux(packet)


def _open(data: bytes) -> av.container.InputContainer:
    if not data:
        raise RecordingRefused(N_("Choose a sound file first."), 400)
    if len(data) > MAX_BYTES:
        raise RecordingRefused(N_("The recording is over {count} MB."), 413, count=MAX_BYTES // (1024 * 1024))
    try:
        container = av.open(io.BytesIO(data), mode="r",
                            options={"format_whitelist": FORMATS, "protocol_whitelist": "none"})
    except (av.error.FFmpegError, ValueError, OSError):
        raise RecordingRefused(N_("This file is not a sound recording (WAV, MP3, OGG, M4A, FLAC, AMR).")) from None
    if not container.streams.audio:
        container.close()
        raise RecordingRefused(N_("This file is not a sound recording (WAV, MP3, OGG, M4A, FLAC, AMR)."))
    if any(s.type == "video" and not s.disposition & av.stream.Disposition.attached_pic for s in container.streams):
        container.close()
        raise RecordingRefused(N_("This file is a video: upload the sound only."))
    return container


def _riff_cut_short(data: bytes) -> bool:
    """A WAV whose RIFF header counts more bytes than arrived (FFmpeg quietly clamps it to what is there).
    0 and 0xFFFFFFFF mean "unknown" (a recorder that streams) and pass."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE" or len(data) < 12:
        return False
    size = int.from_bytes(data[4:8], "little")
    return size not in (0, 0xFFFFFFFF) and size + 8 > len(data)


def declared_seconds(container: av.container.InputContainer) -> float | None:
    """The length the file's header states, where it states one (not an MP3's estimate from its size)."""
    if container.format.name not in DECLARED:
        return None
    stream = container.streams.audio[0]
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    return container.duration / 1_000_000 if container.duration else None


def convert(data: bytes) -> Converted:
    """OGG/Opus and MP3 of an uploaded recording, or RecordingRefused with the reason (too big, not sound,
    a video, too long, cut short, silent)."""
    container = _open(data)
    if _riff_cut_short(data):
        container.close()
        raise RecordingRefused(N_("This sound file is damaged or cut short."))
    too_long = RecordingRefused(N_("The recording is longer than {seconds} seconds."), seconds=int(MAX_SECONDS))
    try:
        declared = declared_seconds(container)
        if declared is not None and declared > MAX_SECONDS + 0.5 or (
                container.duration and container.duration / 1_000_000 > MAX_SECONDS * 4):
            raise too_long
        source_format = container.format.name
        decoder_out = av.AudioResampler(format="s16", layout="mono", rate=RATE)
        ogg = _Encoder("ogg", "libopus", RATE, OPUS_BITRATE, {"application": "voip"})
        mp3 = _Encoder("mp3", "libmp3lame", MP3_RATE, MP3_BITRATE, {})
        samples = 0
        for frame in container.decode(container.streams.audio[0]):
            for mono in decoder_out.resample(frame):
                samples += mono.samples
                if samples > (MAX_SECONDS + 0.5) * RATE:
                    raise too_long
                ogg.add(mono)
                mp3.add(mono)
    except (av.error.FFmpegError, ValueError, OSError, MemoryError) as exc:
        if isinstance(exc, RecordingRefused):
            raise
        raise RecordingRefused(N_("This sound file is damaged or cut short.")) from None
    finally:
        container.close()
    seconds = samples / RATE
    if declared is not None and declared - seconds > CUT_SHORT_SECONDS:
        raise RecordingRefused(N_("This sound file is damaged or cut short."))
    if seconds < MIN_SECONDS:
        raise RecordingRefused(N_("The recording holds no sound."))
    return Converted(ogg=ogg.close(), mp3=mp3.close(), seconds=round(seconds, 2), source_format=source_format)


def probe_seconds(data: bytes) -> float:
    """The length of a sound as PyAV decodes it (tests and `content check` measure what people hear)."""
    with av.open(io.BytesIO(data), mode="r", options={"format_whitelist": FORMATS}) as container:
        return float(sum(frame.samples / frame.sample_rate for frame in container.decode(audio=0)))
