"""Recordings: checked by what the bytes are, converted once with PyAV, served by signed expiring links."""
import hashlib
import time
from urllib.parse import urlsplit

import pytest
from sqlalchemy import text

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
    pytest.param(lambda: encoded("ogg", "libopus", 200, silent=True), "longer than 90 seconds",  # no length in the header
                 marks=pytest.mark.slow),           # encodes 200 s, then decodes 90 s of it: 3 s
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


# ---- content/audio/ and content versions -----------------------------------------------------------------
def cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_content_audio_files_are_checked_imported_once_published_exported_and_restored(app, runtime, content_copy,
                                                                                        tmp_path):
    """A translator drops recordings into content/audio/; `content check` reads them as the upload would,
    `import` converts each once, publish carries them, `export` writes the OGG back, and a restore of an
    earlier version brings a removed recording back."""
    from bot import content_versions
    audio = content_copy / "audio"
    audio.mkdir()
    (audio / "cholera.ckb.wav").write_bytes(tone_wav(2.0))
    (audio / "kit-assembly.step2.kmr.wav").write_bytes(tone_wav(1.0))
    (audio / "README.txt").write_text("not a recording name: left alone")
    (audio / "cholera.xx.wav").write_bytes(b"no language xx: not ours either")
    (audio / "nothing.ar.wav").write_bytes(tone_wav(1.0))
    (audio / "heat.ar.mp3").write_bytes(b"ID3" + bytes(200))

    checked = cli(app, "content", "check", str(content_copy))
    assert checked.exit_code == 1
    assert "problem: audio/nothing.ar: no item 'nothing'" in checked.output
    assert "problem: audio/heat.ar: This file is not a sound recording" in checked.output
    refused = cli(app, "content", "import", str(content_copy))
    assert refused.exit_code == 1 and "not imported: audio/heat.ar:" in refused.output
    (audio / "heat.ar.mp3").unlink()
    (audio / "nothing.ar.wav").unlink()
    assert cli(app, "content", "check", str(content_copy)).exit_code == 0

    imported = cli(app, "content", "import", str(content_copy))
    assert imported.exit_code == 0, imported.output
    published = cli(app, "content", "publish")
    assert published.exit_code == 0, published.output
    content = runtime.content.reload()
    assert set(content.recordings) == {"cholera.ckb", "kit-assembly.step2.kmr"}
    assert content.recordings["cholera.ckb"]["seconds"] == pytest.approx(2.0, abs=0.01)
    assert "PASS  recordings        ckb 1 (0 reviewed), kmr 1 (0 reviewed)" in cli(app, "doctor").output
    with runtime.transaction() as db:
        stored = db.execute(text("SELECT count(*) FROM recordings")).scalar()
        version_with = content_versions.published_id(db)
    assert stored == 2

    exported = tmp_path / "exported"
    assert cli(app, "content", "export", str(exported)).exit_code == 0
    ogg = exported / "audio" / "cholera.ckb.ogg"
    assert seconds_of(ogg.read_bytes()) == pytest.approx(2.0, abs=0.1)
    assert cli(app, "content", "import", str(exported)).exit_code == 0          # the OGG back: nothing converts
    with runtime.transaction() as db:
        assert db.execute(text("SELECT count(*) FROM recordings")).scalar() == 2

    (exported / "audio" / "cholera.ckb.ogg").unlink()              # a version without the Sorani recording
    (exported / "recordings.yaml").write_text("recordings: {}\n")
    assert cli(app, "content", "import", str(exported)).exit_code == 0
    assert cli(app, "content", "publish").exit_code == 0
    assert "cholera.ckb" not in runtime.content.reload().recordings
    assert cli(app, "content", "restore", str(version_with)).exit_code == 0
    assert runtime.content.reload().recordings["cholera.ckb"]["seconds"] == pytest.approx(2.0, abs=0.01)


def test_a_version_naming_a_sound_the_database_lacks_is_not_published(app, runtime, content_copy):
    (content_copy / "recordings.yaml").write_text(
        "recordings:\n  cholera.ckb: {sha256: " + "ab" * 32 + ", seconds: 3, state: reviewed}\n")
    assert cli(app, "content", "import", str(content_copy)).exit_code == 0
    refused = cli(app, "content", "publish")
    assert refused.exit_code == 1 and "recordings.yaml: no stored recording abababababab" in refused.output


def test_removing_a_step_drops_its_recordings_and_moves_the_later_ones_up():
    from bot.recordings.content import after_text_change, step_removed
    from handlers.recordings import read, write
    entry = {"sha256": "a" * 64, "seconds": 3.0, "state": "reviewed"}
    files = {"recordings.yaml": write({"kit-assembly.step1.ckb": entry, "kit-assembly.step2.ckb": {**entry, "sha256": "b" * 64},
                                       "kit-assembly.step3.ar": {**entry, "sha256": "c" * 64}, "cholera.ckb": entry})}
    after = read(step_removed(files, "kit-assembly", 2))
    assert after == {"kit-assembly.step1.ckb": entry, "kit-assembly.step2.ar": {**entry, "sha256": "c" * 64},
                     "cholera.ckb": entry}
    stale = read(after_text_change(files, "cholera", ["ckb"], "user:1"))
    assert stale["cholera.ckb"]["state"] == "needs_update" and stale["kit-assembly.step1.ckb"]["state"] == "reviewed"
