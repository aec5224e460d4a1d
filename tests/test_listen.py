"""Listening: an editor uploads a Sorani recording for the cholera item on the dashboard; people who read
little hear it on Telegram (sendVoice, the OGG/Opus file uploaded) and WhatsApp (a media message by a
signed, expiring link the app serves); SMS offers nothing it cannot send; "voice on" is remembered.

Everything goes through the real entry points: the dashboard's forms with their CSRF tokens, real Telegram
update JSON with the secret header, Twilio posts signed with RequestValidator; the provider APIs are the
loopback fakes, which keep the uploaded file so the test decodes what Telegram would have received.
"""
import io
import time
from urllib.parse import urlsplit
from xml.etree import ElementTree

import pytest
from sqlalchemy import select

from bot import content_versions, users
from bot.models import Contact
from handlers.recordings import find

from .conftest import PAYLOADS, csrf_token  # noqa: F401  (PAYLOADS: the real update JSON lives there)
from .sounds import seconds_of, tone_wav, zip_bomb
from .test_dashboard import PASSWORD, post_form, sign_in

EDITOR = "editor@agency.example"
ITEM = "/dashboard/content/items/cholera"
SORANI_CHOLERA = "کۆلێرا"
SECONDS = 4.2


@pytest.fixture
def editor(app, runtime):
    with runtime.transaction() as db:
        users.create(db, EDITOR, "Editor", PASSWORD, "editor")
    return sign_in(app, EDITOR)


def revision(client, url: str = ITEM) -> str:
    import re
    page = client.get(url).get_data(as_text=True)
    return re.search(r'name="revision" value="([^"]+)"', page).group(1)


def upload(client, data: bytes, lang: str = "ckb", step: int = 0, filename: str = "cholera-ckb.wav"):
    return client.post(f"{ITEM}/recordings", data={
        "csrf_token": csrf_token(client, ITEM), "revision": revision(client), "lang": lang, "step": str(step),
        "recording": (io.BytesIO(data), filename, "audio/wav")}, content_type="multipart/form-data")


def publish(client) -> None:
    import re
    page = client.get("/dashboard/content/publish").get_data(as_text=True)
    draft = re.search(r'name="draft" value="(\d+)"', page).group(1)
    rev = re.search(r'name="revision" value="(\d+)"', page).group(1)
    done = post_form(client, "/dashboard/content/publish", "/dashboard/content/publish", draft=draft, revision=rev)
    assert done.status_code == 302, done.get_data(as_text=True)


def recorded_and_published(editor, runtime, seconds: float = SECONDS, reviewed: bool = True) -> str:
    """The editor's upload of a Sorani WAV, marked reviewed and published; the recording's sha256."""
    done = upload(editor, tone_wav(seconds))
    assert done.status_code == 303, done.get_data(as_text=True)
    if reviewed:
        marked = editor.post(f"{ITEM}/recordings/reviewed", data={
            "csrf_token": csrf_token(editor, ITEM), "revision": revision(editor), "lang": "ckb", "step": "0"})
        assert marked.status_code == 303
    publish(editor)
    content = runtime.content.reload()
    voice = find(content.recordings, "cholera", None, "ckb")
    assert voice is not None and voice.seconds == pytest.approx(seconds, abs=0.01)
    return voice.sha256


def listen_button(body: dict) -> str:
    buttons = [row[0]["text"] for row in body["reply_markup"]["keyboard"]]
    return next(b for b in buttons if "🔊" in b)


def callback(chat_id: int, data: str, update_id: int) -> dict:
    """A real callback_query update (tests/payloads/telegram/callback.json) for this chat."""
    import json
    body = json.loads((PAYLOADS / "telegram" / "callback.json").read_text(encoding="utf-8"))
    body["update_id"] = update_id
    body["callback_query"]["from"]["id"] = body["callback_query"]["message"]["chat"]["id"] = chat_id
    body["callback_query"]["from"]["language_code"] = "ckb"
    body["callback_query"]["data"] = data
    return body


# ---- Telegram ------------------------------------------------------------------------------------------
def test_a_sorani_telegram_user_taps_listen_and_gets_the_uploaded_recording_as_a_voice_note(
        editor, runtime, telegram, fake):
    recorded_and_published(editor, runtime)
    answer = telegram.say(SORANI_CHOLERA, chat_id=4242, language_code="ckb")
    assert answer["method"] == "sendMessage" and "ORS" in answer["text"]
    button = listen_button(answer)
    assert button.startswith("٨.")                               # the numbered option, in Sorani digits

    tapped = telegram.say(button, chat_id=4242, language_code="ckb")      # what Telegram posts for the tap
    assert tapped == {"ok": True}                                # the voice note goes through the API
    voice = [c for c in fake.sent("telegram") if c["method"] == "sendVoice"]
    assert len(voice) == 1 and str(voice[0]["params"]["chat_id"]) == "4242"
    sent = voice[0]["params"]["voice"]
    assert isinstance(sent, bytes) and sent[:4] == b"OggS" and b"OpusHead" in sent[:100]
    assert seconds_of(sent) == pytest.approx(SECONDS, abs=0.1)
    assert "🔊" in voice[0]["params"]["caption"] and "reply_markup" in voice[0]["params"]

    # A button of an inline keyboard posts a callback query with the option's key: the same voice note.
    again = telegram.post(callback(4242, "8", 990001))
    assert again.status_code == 200 and again.get_json() == {"ok": True}
    voices = [c for c in fake.sent("telegram") if c["method"] == "sendVoice"]
    assert len(voices) == 2 and seconds_of(voices[1]["params"]["voice"]) == pytest.approx(SECONDS, abs=0.1)
    # Telegram delivering the same update again: handled once, nothing sent twice
    assert telegram.post(callback(4242, "8", 990001)).status_code == 200
    assert len([c for c in fake.sent("telegram") if c["method"] == "sendVoice"]) == 2


def test_without_a_recording_in_the_language_no_listen_is_offered(editor, runtime, telegram):
    recorded_and_published(editor, runtime)
    arabic = telegram.say("الكوليرا", chat_id=4343, language_code="ar")
    assert "ORS" in arabic["text"] and not any("🔊" in row[0]["text"] for row in arabic["reply_markup"]["keyboard"])


def test_reviewed_only_offers_a_recording_only_once_it_is_reviewed(editor, runtime, telegram):
    runtime.config["REVIEWED_ONLY"] = True          # the dialogue's settings (REVIEWED_ONLY=1)
    recorded_and_published(editor, runtime, reviewed=False)
    answer = telegram.say(SORANI_CHOLERA, chat_id=4444, language_code="ckb")
    assert not any("🔊" in row[0]["text"] for row in answer["reply_markup"]["keyboard"])
    marked = editor.post(f"{ITEM}/recordings/reviewed", data={
        "csrf_token": csrf_token(editor, ITEM), "revision": revision(editor), "lang": "ckb", "step": "0"})
    assert marked.status_code == 303
    publish(editor)
    runtime.content.reload()
    assert listen_button(telegram.say(SORANI_CHOLERA, chat_id=4444, language_code="ckb"))


# ---- WhatsApp and SMS ----------------------------------------------------------------------------------
def media_urls(xml: str) -> list[str]:
    return [m.text for m in ElementTree.fromstring(xml).iter("Media")]


@pytest.mark.slow       # waits on the clock: a link lives 2 s
def test_a_whatsapp_user_gets_a_media_message_whose_signed_link_expires(app, editor, runtime, twilio, client):
    app.config["RECORDING_LINK_SECONDS"] = 2
    recorded_and_published(editor, runtime)
    sender = "whatsapp:+9647501230001"
    shown = twilio.say(SORANI_CHOLERA, sender)
    assert any("🔊" in body for body in shown)
    response = twilio.post(twilio.form("٨", sender))
    assert response.status_code == 200
    urls = media_urls(response.get_data(as_text=True))
    assert len(urls) == 1
    link = urlsplit(urls[0])
    assert f"{link.scheme}://{link.netloc}" == app.config["PUBLIC_URL"] and link.path.endswith(".ogg")

    served = client.get(f"{link.path}?{link.query}")         # Twilio fetches it
    assert served.status_code == 200 and served.mimetype == "audio/ogg"
    assert seconds_of(served.data) == pytest.approx(SECONDS, abs=0.1)
    forged = client.get(f"{link.path}?{link.query[:-4]}beef")
    assert forged.status_code == 403
    time.sleep(2.2)
    assert client.get(f"{link.path}?{link.query}").status_code == 410


def test_sms_offers_no_listen(editor, runtime, twilio):
    recorded_and_published(editor, runtime)
    bodies = twilio.say(SORANI_CHOLERA, "+9647501230002")
    assert bodies and not any("🔊" in body for body in bodies)


# ---- voice on / off ------------------------------------------------------------------------------------
def voice_of(runtime, channel: str) -> list[bool]:
    with runtime.transaction() as db:
        return list(db.scalars(select(Contact.voice).where(Contact.channel == channel)))


def test_voice_on_is_remembered_and_answers_come_with_the_voice_note_until_voice_off(editor, runtime, telegram,
                                                                                     fake):
    recorded_and_published(editor, runtime)
    telegram.say(SORANI_CHOLERA, chat_id=4545, language_code="ckb")
    on = telegram.say("دەنگ", chat_id=4545, language_code="ckb")                 # "voice" in Sorani
    assert on["method"] == "sendMessage" and voice_of(runtime, "telegram") == [True]

    assert telegram.say(SORANI_CHOLERA, chat_id=4545, language_code="ckb") == {"ok": True}
    calls = [c for c in fake.sent("telegram") if str(c["params"].get("chat_id")) == "4545"]
    assert [c["method"] for c in calls][-2:] == ["sendMessage", "sendVoice"]     # the long text, then the voice
    assert "ORS" in calls[-2]["params"]["text"]
    assert seconds_of(calls[-1]["params"]["voice"]) == pytest.approx(SECONDS, abs=0.1)

    telegram.say("بێ دەنگ", chat_id=4545, language_code="ckb")                   # "voice off"
    assert voice_of(runtime, "telegram") == [False]
    plain = telegram.say(SORANI_CHOLERA, chat_id=4545, language_code="ckb")
    assert plain["method"] == "sendMessage" and "🔊" in listen_button(plain)
    assert len([c for c in fake.sent("telegram") if c["method"] == "sendVoice"]) == 1


def test_voice_on_over_sms_says_it_cannot_and_remembers_nothing(twilio, runtime):
    twilio.say("مرحبا", "+9647501230003")
    bodies = twilio.say("صوت", "+9647501230003")                                 # "voice" in Arabic
    assert any("لا يمكن إرسال رسائل صوتية هنا" in body for body in bodies)
    assert voice_of(runtime, "sms") == [False]


# ---- hostile uploads -----------------------------------------------------------------------------------
@pytest.mark.parametrize("data, status, reason", [
    (b"MZ\x90\x00" + bytes(4000), 422, "This file is not a sound recording"),
    (zip_bomb(), 422, "This file is not a sound recording"),
    (tone_wav(95, rate=8000), 422, "The recording is longer than 90 seconds."),
    (tone_wav(3)[:30_000], 422, "This sound file is damaged or cut short."),
    (b"RIFF" + bytes(20 * 1024 * 1024 + 10), 413, "The recording is over 20 MB."),
    (b"", 400, "Choose a sound file first."),
], ids=["executable", "zip_bomb", "too_long", "cut_short", "too_big", "empty"])   # bytes vary per process (xdist)
def test_hostile_uploads_are_refused_with_a_reason_and_nothing_is_kept(editor, runtime, data, status, reason):
    refused = upload(editor, data)
    assert refused.status_code == status and reason in refused.get_data(as_text=True)
    with runtime.transaction() as db:
        draft = content_versions.draft(db)
        files = content_versions.files_of(db, draft)[0] if draft else {}
    assert "recordings.yaml" not in files


def test_an_upload_too_big_for_the_form_or_without_its_csrf_token_is_refused_before_it_is_read(editor, runtime):
    big = upload(editor, bytes(21 * 1024 * 1024))
    assert big.status_code == 413
    forged = editor.post(f"{ITEM}/recordings", data={"revision": revision(editor), "lang": "ckb", "step": "0",
                                                     "recording": (io.BytesIO(tone_wav(1.0)), "a.wav")},
                         content_type="multipart/form-data")
    assert forged.status_code == 400
    with runtime.transaction() as db:
        assert content_versions.draft(db) is None                  # nothing was started or stored


def test_a_translator_may_record_only_their_languages(app, runtime):
    with runtime.transaction() as db:
        users.create(db, "shilan@agency.example", "Shilan", PASSWORD, "translator").languages = "ckb"
    translator = sign_in(app, "shilan@agency.example")
    assert upload(translator, tone_wav(1.0), lang="ar").status_code == 403
    assert upload(translator, tone_wav(1.0), lang="ckb").status_code == 303


# ---- INBOUND_MODE=queue: every answer goes through the provider's API --------------------------------
@pytest.fixture
def queued_app(environ, tmp_path):
    from bot import create_app
    application = create_app({"INSTANCE_PATH": str(tmp_path / "queued"), "TESTING": True,
                              "ENVIRON": {**environ, "INBOUND_MODE": "queue"}})
    yield application
    application.extensions["bot"].dispose()


def test_in_queue_mode_whatsapp_gets_the_text_then_the_voice_note_by_the_messages_api(queued_app, fake):
    from .conftest import Telegram, Twilio
    runtime = queued_app.extensions["bot"]
    with runtime.transaction() as db:
        users.create(db, EDITOR, "Editor", PASSWORD, "editor")
    recorded_and_published(sign_in(queued_app, EDITOR), runtime)
    whatsapp, sender = Twilio(queued_app.test_client()), "whatsapp:+9647501230009"
    for text in (SORANI_CHOLERA, "٨"):
        assert whatsapp.post(whatsapp.form(text, sender)).get_data(as_text=True).endswith("<Response />")
    sent = [c["params"] for c in fake.sent("twilio")]
    assert "🔊" in sent[-2]["Body"] and "MediaUrl" not in sent[-2]          # the text and its options ...
    link = urlsplit(sent[-1]["MediaUrl"])                                    # ... then the voice note alone
    assert "Body" not in sent[-1] and sent[-1]["To"] == sender
    served = queued_app.test_client().get(f"{link.path}?{link.query}")
    assert served.mimetype == "audio/ogg" and seconds_of(served.data) == pytest.approx(SECONDS, abs=0.1)

    telegram = Telegram(queued_app.test_client())
    for text in (SORANI_CHOLERA, "8"):
        assert telegram.post(telegram.update(text, chat_id=4646, language_code="ckb")).get_json() == {"ok": True}
    voice = [c for c in fake.sent("telegram") if c["method"] == "sendVoice"]
    assert len(voice) == 1 and seconds_of(voice[0]["params"]["voice"]) == pytest.approx(SECONDS, abs=0.1)


# ---- Messenger and Viber: an audio attachment / a file message by a signed MP3 link ------------------
@pytest.fixture
def chat_app(environ, fake, tmp_path):
    from bot import create_app

    from . import test_messenger, test_viber
    settings = {**environ, "MESSENGER_PAGE_ACCESS_TOKEN": "EAAG-page-token",
                "MESSENGER_APP_SECRET": test_messenger.APP_SECRET, "MESSENGER_VERIFY_TOKEN": test_messenger.VERIFY,
                "MESSENGER_API_URL": f"{fake.url}/graph/v21.0", "VIBER_AUTH_TOKEN": test_viber.TOKEN,
                "VIBER_API_URL": f"{fake.url}/viber/pa", "VIBER_SENDER_NAME": "Info"}
    application = create_app({"INSTANCE_PATH": str(tmp_path / "chat"), "TESTING": True, "ENVIRON": settings})
    yield application
    application.extensions["bot"].dispose()


def test_messenger_and_viber_get_the_recording_by_a_signed_mp3_link(chat_app, fake):
    from . import test_messenger, test_viber
    runtime = chat_app.extensions["bot"]
    with runtime.transaction() as db:
        users.create(db, EDITOR, "Editor", PASSWORD, "editor")
    recorded_and_published(sign_in(chat_app, EDITOR), runtime)
    client = chat_app.test_client()

    messenger = test_messenger.Person(client, fake)
    messenger.say("سڵاو")
    assert "🔊" in messenger.say(SORANI_CHOLERA)                    # a quick reply "٨. 🔊 گوێ بگرە"
    messenger.say("8")                                             # the quick reply's payload is its key
    audio = [c["params"]["message"]["attachment"] for c in fake.sent("messenger")
             if c["params"]["message"].get("attachment", {}).get("type") == "audio"]
    assert len(audio) == 1
    link = urlsplit(audio[0]["payload"]["url"])
    served = client.get(f"{link.path}?{link.query}")
    assert served.mimetype == "audio/mpeg" and seconds_of(served.data) == pytest.approx(SECONDS, abs=0.1)

    viber = test_viber.Person(client, fake)
    viber.say("سڵاو")
    assert "🔊" in viber.say(SORANI_CHOLERA)
    viber.say("8")
    files = [c["params"] for c in fake.sent("viber") if c["params"].get("type") == "file"]
    assert len(files) == 1 and files[0]["file_name"].endswith(".mp3")
    link = urlsplit(files[0]["media"])
    served = client.get(f"{link.path}?{link.query}")
    assert served.mimetype == "audio/mpeg" and files[0]["size"] == len(served.data)


def test_a_step_recording_plays_on_the_editor_page_and_is_offered_at_that_step(app, runtime, telegram):
    import re
    with runtime.transaction() as db:
        users.create(db, EDITOR, "Editor", PASSWORD, "editor")
    editor = sign_in(app, EDITOR, lang="ckb")                   # the dashboard in Sorani
    url = "/dashboard/content/items/kit-assembly"
    done = editor.post(f"{url}/recordings", data={
        "csrf_token": csrf_token(editor, url), "revision": revision(editor, url), "lang": "ckb", "step": "2",
        "recording": (io.BytesIO(tone_wav(1.5)), "step2.wav", "audio/wav")}, content_type="multipart/form-data")
    assert done.status_code == 303
    page = editor.get(url).get_data(as_text=True)
    assert "تۆمارە دەنگییەکان" in page                                       # the card, in Sorani
    players = re.findall(r'<audio controls preload="none" src="([^"]+)"', page)
    assert len(players) == 1
    played = editor.get(players[0].replace("&amp;", "&"))
    assert played.status_code == 200 and seconds_of(played.data) == pytest.approx(1.5, abs=0.1)
    publish(editor)
    runtime.content.reload()

    telegram.say("سڵاو", chat_id=4747, language_code="ckb")
    item = telegram.say("کۆکردنەوەی کیتی پەناگە", chat_id=4747, language_code="ckb")
    step1 = telegram.say("١", chat_id=4747, language_code="ckb")              # step 1 has no recording
    assert not any("🔊" in row[0]["text"] for row in step1["reply_markup"]["keyboard"]), item
    step2 = telegram.say("١", chat_id=4747, language_code="ckb")              # next step: step 2 has one
    assert "🔊" in listen_button(step2)
