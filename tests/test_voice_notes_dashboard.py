"""Voice notes in the dashboard: what people send plays in the browser (AMR decoded to WAV with PyAV),
its length is measured once and shown in the inbox, opening it is audited and kept from roles without
personal data; staff answer with a recorded voice note, which goes out through the channel's media call.

Cases come in through the real webhooks (signed Twilio MMS, Telegram update JSON) with attachments the
loopback fake serves; staff use the real forms. SQLite and PostgreSQL.
"""
import io
import re

import pytest
from sqlalchemy import func, select

from bot import users
from bot.models import AuditEvent, Case, Outbound
from tests.sounds import encoded, seconds_of, tone_wav

from .conftest import PUBLIC_URL, payload
from .test_dashboard import PASSWORD, post_form, sign_in
from .test_feedback import code_in
from .test_media_safety import MEDIA, mms_case

TOKEN = "123456:TEST-token"


@pytest.fixture
def officer(app, runtime):
    with runtime.transaction() as db:
        users.create(db, "officer@agency.example", "Officer", PASSWORD, "officer")
        users.create(db, "viewer@agency.example", "Viewer", PASSWORD, "viewer")
    return sign_in(app, "officer@agency.example")


def telegram_voice_case(telegram, fake, sound: bytes, file_id: str = "AwACAgIAAxkBAAIBVoice0002",
                        chat_id: int = 555000333) -> str:
    """A Telegram user sends a voice note (real update JSON) and makes it a complaint."""
    fake.file_paths[file_id] = f"voice/{file_id}.oga"
    fake.files[f"/file/bot{TOKEN}/voice/{file_id}.oga"] = (sound, "audio/ogg")
    telegram.say("مرحبا", chat_id=chat_id)
    voice = payload("telegram", "voice")
    voice["message"]["voice"]["file_id"] = file_id
    voice["message"]["chat"]["id"] = voice["message"]["from"]["id"] = chat_id
    assert telegram.post(voice).status_code == 200
    return code_in(telegram.say("1", chat_id=chat_id)["text"])


def voice_tags(inbox_html: str) -> list[str]:
    return re.findall(r'class="tag voice"[^>]*>🔊 <span dir="ltr">([^<]*)</span>', inbox_html)


def test_an_amr_voice_note_plays_in_the_browser_as_wav_and_the_inbox_shows_its_length(
        app, officer, twilio, fake, runtime):
    amr = encoded("amr", "libopencore_amrnb", 3.2, rate=8000)           # an old phone's voice note (MMS)
    fake.files[MEDIA] = (amr, "audio/amr")
    code = mms_case(twilio, [("https://api.twilio.com" + MEDIA, "audio/amr")])
    assert voice_tags(officer.get("/dashboard/cases").get_data(as_text=True)) == ["…"]   # not heard yet
    page = officer.get(f"/dashboard/cases/{code}").get_data(as_text=True)
    assert f'<audio controls preload="none" src="/dashboard/cases/{code}/media/0">' in page

    heard = officer.get(f"/dashboard/cases/{code}/media/0")
    assert heard.status_code == 200 and heard.mimetype == "audio/wav"   # Chromium plays no AMR
    assert heard.data[:4] == b"RIFF" and seconds_of(heard.data) == pytest.approx(3.2, abs=0.1)
    assert heard.headers["X-Content-Type-Options"] == "nosniff" and "no-store" in heard.headers["Cache-Control"]
    assert voice_tags(officer.get("/dashboard/cases").get_data(as_text=True)) == ["0:03"]
    assert "0:03" in officer.get(f"/dashboard/cases/{code}").get_data(as_text=True)
    with runtime.transaction() as db:
        assert db.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "view_media", AuditEvent.target == f"case:{code}")) == 1


def test_a_telegram_ogg_voice_note_is_served_as_it_came(app, officer, telegram, fake):
    ogg = encoded("ogg", "libopus", 1.6)
    code = telegram_voice_case(telegram, fake, ogg)
    heard = officer.get(f"/dashboard/cases/{code}/media/0")
    assert heard.status_code == 200 and heard.mimetype == "audio/ogg" and heard.data == ogg
    assert voice_tags(officer.get("/dashboard/cases").get_data(as_text=True)) == ["0:02"]


def test_a_viewer_cannot_open_a_voice_note_and_nothing_is_fetched(app, officer, telegram, fake):
    code = telegram_voice_case(telegram, fake, encoded("ogg", "libopus", 1.0))
    viewer = sign_in(app, "viewer@agency.example")
    assert viewer.get(f"/dashboard/cases/{code}/media/0").status_code == 403
    assert not any(r["path"].startswith("/file/") for r in fake.requests)


def answer_with_voice(client, code: str, sound: bytes, text: str = ""):
    page = f"/dashboard/cases/{code}"
    return post_form(client, page, f"{page}/answer", text=text, voice=(io.BytesIO(sound), "answer.wav"))


def test_a_voice_answer_reaches_a_telegram_user_as_send_voice(app, officer, telegram, fake, runtime):
    code = telegram_voice_case(telegram, fake, encoded("ogg", "libopus", 1.0))
    response = answer_with_voice(officer, code, tone_wav(2.4), text="زرنا غدا")
    assert response.status_code == 302
    [sent] = [c for c in fake.calls if c["method"] == "sendVoice" and c["ok"]]
    note = sent["params"]["voice"]
    assert note[:4] == b"OggS" and seconds_of(note) == pytest.approx(2.4, abs=0.1)
    assert "زرنا غدا" in (sent["params"].get("caption") or "")
    with runtime.transaction() as db:
        assert db.execute(select(Outbound.status)).scalar_one() == "sent"


def test_a_voice_answer_reaches_a_whatsapp_user_as_a_media_message_by_a_signed_link(app, officer, twilio, fake):
    fake.files[MEDIA] = (encoded("ogg", "libopus", 1.0), "audio/ogg")
    code = mms_case(twilio, [("https://api.twilio.com" + MEDIA, "audio/ogg")], sender="whatsapp:+9647701112244")
    answer_with_voice(officer, code, tone_wav(1.8), text="سيصل الصهريج غدا")
    text, media = fake.sent("twilio")
    assert "سيصل الصهريج غدا" in text["params"]["Body"] and media["params"]["To"] == "whatsapp:+9647701112244"
    link = media["params"]["MediaUrl"]
    assert "/media/recordings/" in link and ".ogg?" in link
    fetched = app.test_client().get(link.removeprefix(PUBLIC_URL))          # as Twilio fetches it
    assert fetched.status_code == 200 and fetched.mimetype == "audio/ogg"
    assert seconds_of(fetched.data) == pytest.approx(1.8, abs=0.1)


def test_a_voice_answer_to_an_sms_sender_goes_as_its_text(app, officer, twilio, fake):
    fake.files[MEDIA] = (encoded("amr", "libopencore_amrnb", 1.0, rate=8000), "audio/amr")
    code = mms_case(twilio, [("https://api.twilio.com" + MEDIA, "audio/amr")])
    answer_with_voice(officer, code, tone_wav(1.5), text="سيصل الصهريج غدا")
    [sms] = fake.sent("twilio")
    assert "سيصل الصهريج غدا" in sms["params"]["Body"] and "MediaUrl" not in sms["params"]


@pytest.mark.parametrize("sound, reason", [
    (b"this is not a sound at all" * 20, "not a sound recording"),
    (tone_wav(91), "longer than 90 seconds"),
])
def test_a_voice_answer_that_is_not_a_short_sound_is_refused_with_the_reason(
        app, officer, telegram, fake, runtime, sound, reason):
    code = telegram_voice_case(telegram, fake, encoded("ogg", "libopus", 1.0))
    shown = answer_with_voice(officer, code, sound, text="")
    assert shown.status_code == 302
    assert reason in officer.get(f"/dashboard/cases/{code}").get_data(as_text=True)
    with runtime.transaction() as db:
        assert db.scalar(select(func.count()).select_from(Outbound)) == 0
        assert db.execute(select(Case.first_answer_at)).scalar_one() is None
