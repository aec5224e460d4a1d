"""Recordings: checked by what the bytes are, converted once with PyAV, served by signed expiring links."""
import hashlib
import time
from urllib.parse import urlsplit

import pytest

from bot.recordings import RecordingRefused, convert, store, url
from bot.recordings import links as recording_links
from tests.sounds import encoded, seconds_of, tone_wav, zip_bomb


@pytest.mark.parametrize("make, seconds", [
    (lambda: tone_wav(2.5), 2.5),
    (lambda: tone_wav(1.2, rate=44_100, channels=2), 1.2),
    (lambda: encoded("ipod", "aac", 2.0), 2.0),                 # a phone's .m4a voice memo
    (lambda: encoded("flac", "flac", 3.0, rate=16_000), 3.0),
    (lambda: encoded("ogg", "libopus", 1.5), 1.5),              # a WhatsApp voice note
])
def test_a_recording_becomes_ogg_opus_and_mp3_of_the_same_length(make, seconds):
    converted = convert(make())
    assert converted.seconds == pytest.approx(seconds, abs=0.05)
    assert seconds_of(converted.ogg) == pytest.approx(seconds, abs=0.1)
    assert seconds_of(converted.mp3) == pytest.approx(seconds, abs=0.1)
    assert converted.ogg[:4] == b"OggS" and b"OpusHead" in converted.ogg[:200]


def _cut(data: bytes) -> bytes:
    return data[: len(data) // 2]


@pytest.mark.parametrize("make, reason", [
    (lambda: b"", "Choose a sound file first."),
    (lambda: b"just some text, not a sound" * 10, "not a sound recording"),
    (lambda: zip_bomb(), "not a sound recording"),
    (lambda: b"\x89PNG\r\n\x1a\n" + bytes(400), "not a sound recording"),
    (lambda: tone_wav(91), "longer than 90 seconds"),
    (lambda: encoded("flac", "flac", 600, rate=8_000, silent=True), "longer than 90 seconds"),   # 114 KB, 10 min
    (lambda: encoded("ogg", "libopus", 200, silent=True), "longer than 90 seconds"),   # no length in the header
    (lambda: _cut(tone_wav(3)), "damaged or cut short"),
    (lambda: _cut(encoded("ipod", "aac", 3.0)), "not a sound recording"),
    (lambda: tone_wav(0.1), "holds no sound"),
    (lambda: bytes(21 * 1024 * 1024), "over 20 MB"),
])
def test_hostile_or_broken_uploads_are_refused_with_the_reason(make, reason):
    with pytest.raises(RecordingRefused) as refused:
        convert(make())
    assert reason in str(refused.value)


def test_the_same_upload_is_converted_once(runtime):
    wav = tone_wav(1.0)
    with runtime.transaction() as session:
        first = store(session, wav)
        sha, ogg = first.sha256, first.ogg
    with runtime.transaction() as session:
        again = store(session, wav)                     # the same upload
        back = store(session, ogg)                      # our own OGG coming back from an export
        assert again.sha256 == back.sha256 == sha == hashlib.sha256(ogg).hexdigest()
        assert again.milliseconds == 1000


def test_a_signed_link_serves_the_sound_until_it_expires(app, client, runtime):
    with runtime.transaction() as session:
        sha = store(session, tone_wav(1.5)).sha256
    link = urlsplit(url(app.config, sha, "ogg"))
    assert link.scheme == "https" and link.netloc == "bot.example.org"
    response = client.get(f"{link.path}?{link.query}")
    assert response.status_code == 200 and response.mimetype == "audio/ogg"
    assert seconds_of(response.data) == pytest.approx(1.5, abs=0.1)
    mp3 = urlsplit(url(app.config, sha, "mp3"))
    response = client.get(f"{mp3.path}?{mp3.query}")
    assert response.status_code == 200 and response.mimetype == "audio/mpeg"

    forged = link.query.replace("sig=", "sig=0")[:-1]
    assert client.get(f"{link.path}?{forged}").status_code == 403
    other = link.path.replace(".ogg", ".mp3")             # a signature for the OGG does not open the MP3
    assert client.get(f"{other}?{link.query}").status_code == 403
    assert client.get(link.path).status_code == 403
    past = urlsplit(recording_links.path("test-secret", sha, "ogg", seconds=60, now=time.time() - 120))
    assert client.get(f"{past.path}?{past.query}").status_code == 410
    unknown = urlsplit(recording_links.path("test-secret", "0" * 64, "ogg"))
    assert client.get(f"{unknown.path}?{unknown.query}").status_code == 404
