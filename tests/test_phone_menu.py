"""The phone menu on the Twilio Voice number, driven as Twilio drives it: signed form posts to the webhook
and to every follow-up URL its TwiML names, the recording served by the loopback Twilio fake behind basic
auth, the answer leaving through the fake Messages API. SQLite and PostgreSQL."""
import json
import re
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from bot import content_versions
from bot.models import Case, Contact, Message
from bot.recordings import store
from handlers.recordings import write as write_recordings
from handlers.text import to_arabic_digits
from tests.fakes import FakeProviders
from tests.sounds import seconds_of, tone_wav

from .conftest import PUBLIC_URL, TWILIO_TOKEN, payload
from .test_dashboard import post_form, sign_in
from .test_dashboard import staff as staff  # noqa: F401  (the fixture)

ACCOUNT = "AC00000000000000000000000000000000"
CALLER = "+9647501234567"
RECORDING_SID = "RE0123456789abcdef0123456789abcdef"
RECORDING_PATH = f"/2010-04-01/Accounts/{ACCOUNT}/Recordings/{RECORDING_SID}"
SORANI_PROMPTS = ["language", "topic.health", "item.cholera", "message", "navigate", "record", "code",
                  "answer_by_sms", "not_available", *(f"digit.{d}" for d in range(10))]


@pytest.fixture
def environ(environ, tmp_path, database_url):
    """The phone menu on, with Sorani prompts recorded (tones here: each file its own pitch)."""
    prompts = tmp_path / "phone-prompts"
    (prompts / "ckb").mkdir(parents=True)
    for n, name in enumerate(SORANI_PROMPTS):
        (prompts / "ckb" / f"{name}.wav").write_bytes(tone_wav(0.4, hz=300 + 20 * n))
    return {**environ, "TWILIO_VOICE": "1", "PHONE_PROMPTS_DIR": str(prompts)}


def publish_recording(runtime, item_id: str, lang: str, sound: bytes) -> str:
    """An editor's upload: the sound kept once (PyAV), named in the content's recordings.yaml, published."""
    with runtime.transaction() as session:
        recording = store(session, sound)
        draft = content_versions.start_draft(session, "editor@agency.example")
        files, _ = content_versions.files_of(session, draft)
        named = dict(runtime.content.get().recordings)
        named[f"{item_id}.{lang}"] = {"sha256": recording.sha256, "seconds": recording.milliseconds / 1000,
                                      "state": "reviewed"}
        files["recordings.yaml"] = write_recordings(named)
        content_versions.save_draft(session, draft, files, "editor@agency.example")
        content_versions.publish(session, "editor@agency.example")
        sha = recording.sha256
    runtime.content.reload()
    return sha


class Caller:
    """One phone call: posts what Twilio posts (signed over the full URL, query included) and follows the
    TwiML: the key pressed goes to <Gather action>, a recording to <Record action>."""

    def __init__(self, client, number: str | None = CALLER, call_sid: str = "CA0123456789abcdef0123456789abcdef"):
        self.client = client
        self.form = dict(payload("twilio_voice", "call"), CallSid=call_sid)
        self.form["From"] = self.form["Caller"] = number or "anonymous"
        self.xml: ElementTree.Element | None = None

    def post(self, url: str, token: str = TWILIO_TOKEN, signature: str | None = None, **fields: str):
        form = {**self.form, **fields}
        full = url if url.startswith("http") else PUBLIC_URL + url
        sig = signature if signature is not None else RequestValidator(token).compute_signature(full, form)
        split = urlsplit(full)
        response = self.client.post(split.path + (f"?{split.query}" if split.query else ""), data=form,
                                    headers={"X-Twilio-Signature": sig})
        if response.status_code == 200:
            self.xml = ElementTree.fromstring(response.get_data(as_text=True))
        return response

    def call(self):
        response = self.post("/webhooks/twilio/voice")
        assert response.status_code == 200, response.get_data(as_text=True)
        return self

    def press(self, key: str):
        gather = self.xml.find("Gather")
        assert gather is not None, ElementTree.tostring(self.xml)
        response = self.post(gather.get("action"), Digits=key)
        assert response.status_code == 200, response.get_data(as_text=True)
        return self

    def leave_message(self, url: str = "https://api.twilio.com" + RECORDING_PATH, seconds: str = "4",
                      action: str | None = None):
        record = self.xml.find("Record")
        assert action or record is not None, ElementTree.tostring(self.xml)
        response = self.post(action or record.get("action"), RecordingUrl=url, RecordingSid=RECORDING_SID,
                             RecordingDuration=seconds, Digits="#")
        assert response.status_code == 200, response.get_data(as_text=True)
        return self

    def plays(self) -> list[str]:
        return [p.text for p in self.xml.iter("Play")]

    def says(self) -> list[ElementTree.Element]:
        return list(self.xml.iter("Say"))

    def state(self) -> dict[str, str]:
        gather = self.xml.find("Gather")
        return {k: v[0] for k, v in parse_qs(urlsplit(gather.get("action")).query).items()}


def prompt(name: str) -> str:
    return f"{PUBLIC_URL}/phone-prompts/ckb/{name}.wav"


@pytest.fixture
def cholera_in_sorani(runtime):
    return publish_recording(runtime, "cholera", "ckb", tone_wav(3.0, hz=523))


def test_a_sorani_caller_hears_cholera_leaves_a_message_and_gets_the_answer_by_sms(
        app, client, runtime, fake, staff, cholera_in_sorani):  # noqa: F811
    fake.account = (ACCOUNT, TWILIO_TOKEN)
    fake.recordings[RECORDING_PATH] = tone_wav(4.0, rate=8000)          # what Twilio recorded on the line
    caller = Caller(client).call()
    assert prompt("language") in caller.plays()                        # "for Sorani press 2", recorded
    caller.press("2")
    assert caller.state() == {"s": "topics", "l": "ckb"}
    assert caller.plays()[0] == prompt("topic.health")
    caller.press("1")
    assert caller.state() == {"s": "items", "l": "ckb", "t": "health"}
    caller.press("1")
    played = caller.plays()[0]
    assert f"/media/recordings/{cholera_in_sorani}.mp3?" in played
    heard = client.get(played.removeprefix(PUBLIC_URL))                  # what Twilio's <Play> fetches
    assert heard.status_code == 200 and heard.mimetype == "audio/mpeg"
    assert seconds_of(heard.data) == pytest.approx(3.0, abs=0.1)
    assert caller.says() == []                                          # Sorani is never read by a TTS voice

    caller.press("9")
    record = caller.xml.find("Record")
    assert record.get("maxLength") == "90" and "s=recorded" in record.get("action")
    caller.leave_message()
    with runtime.transaction() as session:
        case = session.execute(select(Case)).scalar_one()
        code, contact = case.code, session.get(Contact, case.contact_id)
        assert (case.channel, case.language, contact.channel) == ("voice", "ckb", "voice")
        assert json.loads(runtime.vault.decrypt(case.media_enc))[0]["url"].endswith(RECORDING_SID)
    digits = [prompt(f"digit.{d}") for d in code]
    plays = caller.plays()
    start = plays.index(prompt("code")) + 1
    assert plays[start:start + 2 * len(code)] == digits + digits        # the code, digit by digit, twice

    officer = sign_in(app, staff["officer"])
    inbox = officer.get("/dashboard/cases").get_data(as_text=True)
    assert re.search(r"0:04", inbox)                                    # the message's length in the list
    heard = officer.get(f"/dashboard/cases/{code}/media/0")
    assert heard.status_code == 200 and heard.mimetype == "audio/wav"
    fetched = [r for r in fake.requests if r["path"] == RECORDING_PATH]
    assert fetched and fetched[-1]["authorization"].startswith("Basic ")

    page = f"/dashboard/cases/{code}"
    post_form(officer, page, f"{page}/answer", text="سەردانی بنکەی تەندروستی بکە")
    sms = fake.sent("twilio")
    assert len(sms) == 1 and sms[0]["params"]["To"] == CALLER and "From" in sms[0]["params"]
    assert "سەردانی بنکەی تەندروستی بکە" in sms[0]["params"]["Body"]


def test_the_same_recording_delivered_twice_is_one_case_with_one_code(client, runtime, fake):
    caller = Caller(client).call().press("1").press("9")
    record_action = caller.xml.find("Record").get("action")
    caller.leave_message()
    first = caller.xml
    caller.leave_message(action=record_action)              # Twilio delivers the same callback again
    assert ElementTree.tostring(first) == ElementTree.tostring(caller.xml)
    with runtime.transaction() as session:
        contacts = session.scalar(select(func.count()).select_from(Contact))
    other = Caller(client, number="+9647509999999").call()
    other.leave_message(action=record_action)                # the same recording replayed from another number
    assert other.xml.find("Gather") is not None               # told it was not received, learns no code
    with runtime.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 1
        assert session.scalar(select(func.count()).select_from(Message)) == 1
        assert session.scalar(select(func.count()).select_from(Contact)) == contacts     # and leaves no one behind


def test_an_arabic_caller_hears_the_arabic_voice_where_no_recording_exists(client, runtime):
    caller = Caller(client).call()
    spoken = caller.says()
    assert spoken and all(s.get("voice") == "Polly.Zeina" and s.get("language") == "arb" for s in spoken)
    assert "للغة العربية، اضغط ١." in [s.text for s in spoken]           # Arabic words, never English ones
    assert not any(re.search("[A-Za-z]{3}", s.text) for s in spoken)
    caller.press("1")
    assert "لموضوع الصحة، اضغط ١." in [s.text for s in caller.says()]
    caller.press("0")
    caller.press("1").press("1").press("1")                             # Arabic, health, cholera
    text = " ".join(s.text for s in caller.says())
    assert "الكوليرا" in text and "ORS" in text
    caller.press("9").leave_message()
    with runtime.transaction() as session:
        code = session.execute(select(Case.code)).scalar_one()
    digits = [s.text for s in caller.says() if re.fullmatch("[٠-٩]", s.text)]
    assert digits == [to_arabic_digits(d) for d in code] * 2            # digit by digit, twice


def test_kurdish_items_without_a_recording_are_not_in_the_phone_menu(client, cholera_in_sorani):
    caller = Caller(client).call().press("2")
    assert caller.plays().count(prompt("topic.health")) == 1
    assert not any("topic.safety" in p or "topic.shelter" in p for p in caller.plays())
    caller.press("2")                                   # camp safety: no Sorani recording at all
    assert caller.state() == {"s": "topics", "l": "ckb"} and caller.plays()[0] == prompt("not_available")
    caller.press("1").press("2")                        # health, handwashing: not recorded in Sorani
    assert caller.state() == {"s": "items", "l": "ckb", "t": "health"}
    assert caller.plays()[0] == prompt("not_available") and caller.says() == []
    assert [p for p in caller.plays() if "/media/recordings/" in p] == []


def test_with_reviewed_only_the_arabic_voice_reads_no_unreviewed_text(environ, tmp_path, cholera_in_sorani):
    from .test_doctor import build
    strict = build(environ, tmp_path, REVIEWED_ONLY="1")          # the shipped texts await review
    try:
        caller = Caller(strict.test_client()).call()
        assert prompt("language") in caller.plays() and caller.says() == []   # Arabic has nothing reviewed
        assert caller.press("1").state() == {"s": "language"}
        caller.press("2").press("1").press("1")                           # the reviewed Sorani recording
        assert f"/media/recordings/{cholera_in_sorani}.mp3?" in caller.plays()[0]
    finally:
        strict.extensions["bot"].dispose()


def test_badini_is_not_offered_without_a_single_recording(client, cholera_in_sorani):
    caller = Caller(client).call().press("3")            # Badini: nothing recorded
    assert caller.state() == {"s": "language"} and caller.says()[0].text   # the language menu again


def test_sorani_is_not_offered_while_its_menu_prompts_are_not_recorded(environ, tmp_path):
    """Sorani recordings of items but no Sorani prompts: choosing Sorani would lead to silence (a dead end),
    so only Arabic (the provider's Arabic voice) is offered until the prompts are recorded."""
    from bot import create_app
    empty = tmp_path / "no-prompts"
    empty.mkdir()
    app = create_app({"INSTANCE_PATH": str(tmp_path / "unrecorded"), "TESTING": True,
                      "ENVIRON": {**environ, "PHONE_PROMPTS_DIR": str(empty)}})
    runtime = app.extensions["bot"]
    try:
        publish_recording(runtime, "cholera", "ckb", tone_wav(3.0, hz=523))
        caller = Caller(app.test_client()).call()
        assert caller.plays() == [] and caller.says()                 # only the Arabic voice speaks
        caller.press("2")                                              # Sorani: not offered
        assert caller.state() == {"s": "language"}
    finally:
        runtime.dispose()


def test_a_key_press_delivered_twice_is_answered_alike_and_stores_nothing(client, runtime, cholera_in_sorani):
    caller = Caller(client).call().press("2")
    action = caller.xml.find("Gather").get("action")
    def said(response) -> str:             # a signed link's expiry moves with the clock; the rest may not
        return re.sub(r"expires=\d+&amp;sig=[0-9a-f]+", "expires=…", response.get_data(as_text=True))
    first = said(caller.post(action, Digits="1"))
    again = said(caller.post(action, Digits="1"))
    assert first == again and prompt("item.cholera") in first
    with runtime.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 0
        assert session.scalar(select(func.count()).select_from(Contact)) == 0


def test_zero_goes_back_and_star_repeats(client, cholera_in_sorani):
    caller = Caller(client).call().press("2").press("1")
    items = caller.plays()
    assert caller.press("*").plays() == items
    assert caller.press("0").state() == {"s": "topics", "l": "ckb"}
    assert caller.press("0").state() == {"s": "language"}


def test_silence_repeats_the_menu_then_says_goodbye(client):
    caller = Caller(client).call()
    menu = caller.says()
    for _ in range(2):                                   # the menu said twice more to someone who waits
        caller.post(caller.xml.find("Redirect").text)
        assert [s.text for s in caller.says()] == [s.text for s in menu]
    caller.post(caller.xml.find("Redirect").text)
    assert caller.xml.find("Hangup") is not None and caller.xml.find("Gather") is None
    assert caller.xml.find("Redirect") is None


def test_forged_or_unsigned_voice_webhooks_get_403(client, runtime):
    caller = Caller(client)
    assert caller.post("/webhooks/twilio/voice", token="another-accounts-token").status_code == 403
    assert caller.post("/webhooks/twilio/voice", signature="").status_code == 403
    good = RequestValidator(TWILIO_TOKEN).compute_signature(PUBLIC_URL + "/webhooks/twilio/voice?s=topics&l=ar",
                                                            caller.form)
    # the state in the query is covered by the signature: another state with the same signature is refused
    assert caller.post("/webhooks/twilio/voice?s=topics&l=ckb", signature=good).status_code == 403
    forged = caller.post("/webhooks/twilio/voice?s=recorded&l=ar", signature=good, RecordingUrl="https://api.twilio.com"
                         + RECORDING_PATH, RecordingSid=RECORDING_SID, RecordingDuration="3")
    assert forged.status_code == 403
    with runtime.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 0


def test_the_phone_menu_is_off_without_twilio_voice(app, environ, tmp_path):
    from bot import create_app
    off = create_app({"INSTANCE_PATH": str(tmp_path / "off"), "TESTING": True,
                      "ENVIRON": {k: v for k, v in environ.items() if k != "TWILIO_VOICE"}})
    try:
        assert Caller(off.test_client()).post("/webhooks/twilio/voice").status_code == 403
    finally:
        off.extensions["bot"].dispose()


def test_a_recording_on_another_host_is_refused_and_no_credentials_go_there(client, runtime, fake):
    foreign = FakeProviders().start()
    try:
        caller = Caller(client).call().press("1").press("9")
        caller.leave_message(url=f"{foreign.url}{RECORDING_PATH}")
        assert foreign.requests == []
        assert caller.xml.find("Gather") is not None                     # told, and back in the menu
        with runtime.transaction() as session:
            assert session.scalar(select(func.count()).select_from(Case)) == 0
    finally:
        foreign.stop()


@pytest.mark.slow                                  # waits on the clock: db.LOCK_WAIT, 10 s
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)     # SQLite's lock, held elsewhere
def test_a_message_the_database_cannot_take_where_nothing_can_wait_asks_the_caller_to_try_again(client, runtime,
                                                                                                 fake):
    """Tasks run in the request here (as where no queue could keep the message): the caller hears, politely,
    that the message was not received, in a 200 (a 503 would make Twilio play its own error), and nothing
    is half-kept. With a queue, tests/test_outages.py: kept, and the code comes by SMS."""
    import sqlite3
    caller = Caller(client).call().press("1").press("9")
    holder = sqlite3.connect(runtime.config["DATABASE_URL"].split("///", 1)[1], isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        caller.leave_message()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert [s.text for s in caller.says()][0] == "لم نتمكن من استلام رسالتك. يرجى المحاولة مرة أخرى."
    assert caller.xml.find("Gather") is not None and fake.sent() == []
    with runtime.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 0
        assert session.scalar(select(func.count()).select_from(Message)) == 0


@pytest.mark.slow                                   # starts a process of its own
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)     # replaced by a closed port below
def test_with_the_database_and_the_queue_both_down_the_caller_is_asked_to_try_again(environ, tmp_path):
    """Nothing can keep the message: the caller hears so, politely, in a 200 (a 503 would make Twilio play
    its own error), and the web process neither crashes nor hangs. A process of its own: the queue is Redis
    at a closed port and the database PostgreSQL at another (tasks not run in the request, as deployed)."""
    import os
    import subprocess
    import sys

    from .test_intake import ROOT, _free_port
    env = {k: v for k, v in os.environ.items() if k != "HUEY_IMMEDIATE"}
    env.update(environ)
    env.update({"INSTANCE_PATH": str(tmp_path / "down-instance"), "HUEY_IMMEDIATE": "0", "EMBEDDED_WORKER": "0",
                "REDIS_URL": f"redis://127.0.0.1:{_free_port()}/0", "PYTHONPATH": str(ROOT),
                "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{_free_port()}/closed", "AUTO_MIGRATE": "0"})
    script = """
import json
from tests.test_phone_menu import Caller
from bot import create_app
caller = Caller(create_app().test_client())
response = caller.post("/webhooks/twilio/voice?s=recorded&l=ar", RecordingSid="RE0123456789abcdef0123456789abcdef",
                       RecordingUrl="https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE0", RecordingDuration="5")
print(json.dumps([response.status_code, [s.text for s in caller.says()]], ensure_ascii=False))
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    status, said = json.loads(done.stdout.strip().splitlines()[-1])
    assert status == 200 and said[0] == "لم نتمكن من استلام رسالتك. يرجى المحاولة مرة أخرى.", (status, said)
    assert "database and queue both unavailable" in done.stderr, done.stderr[-2000:]


def test_a_call_message_whose_worker_was_killed_is_taken_by_the_rescue(runtime, fake, monkeypatch):
    """Kept during an outage, its task died with a worker killed outright (no signal handler runs): it is
    still in its waiting room, and the periodic rescue queues it again as a call: one case, its code by SMS."""
    from bot import intake, phone, queue
    from handlers import codes
    room = queue.MemoryWaitingRoom()          # HUEY_IMMEDIATE keeps no room: one of its own, as deployed
    monkeypatch.setattr(queue, "waiting_room", lambda: room)
    sealed = runtime.vault.encrypt(json.dumps({
        "channel": "voice", "lang": "ckb", "call_id": "CA" + "2" * 32, "caller": CALLER, "recording_seconds": 8.0,
        "recording_url": "https://api.twilio.com" + RECORDING_PATH, "recording_id": RECORDING_SID}))
    room.arrive(phone.CALL_ROOM + RECORDING_SID, sealed)      # as phone._keep_for_later left it
    assert intake.rescue_waiting(runtime, older_than=3600) == 0      # not waiting long enough yet
    assert intake.rescue_waiting(runtime, older_than=0) == 1
    sms = [s["params"] for s in fake.sent("twilio")]
    with runtime.transaction() as session:
        case = session.execute(select(Case)).scalar_one()
        assert case.language == "ckb" and [s["To"] for s in sms] == [CALLER]
        assert codes.find_code(sms[0]["Body"]) == case.code
    assert not room.anyone()
    assert intake.rescue_waiting(runtime, older_than=0) == 0          # nothing left, nothing sent twice
    assert len(fake.sent("twilio")) == 1


def test_a_call_message_the_worker_cannot_read_is_kept_and_a_kept_one_replays_into_a_case(app, runtime, fake):
    """The worker's half (phone.take_later) never drops a message: one sealed with another DATA_KEY is kept
    in dead_letters as a "call" letter, and `queue replay` runs a call letter as a call (case, code by SMS)."""
    from bot import phone
    from bot.models import DeadLetter
    from handlers import codes
    assert phone.take_later(runtime, "sealed-with-another-key") == "dead_letter"
    good = runtime.vault.encrypt(json.dumps({
        "channel": "voice", "lang": "ar", "call_id": "CA" + "1" * 32, "caller": CALLER, "recording_seconds": 5.0,
        "recording_url": "https://api.twilio.com" + RECORDING_PATH, "recording_id": RECORDING_SID}))
    with runtime.transaction() as session:
        session.add(DeadLetter(kind="call", sealed=good, error="RuntimeError: a bug since fixed"))
    replay = app.test_cli_runner().invoke(args=["queue", "replay"])
    assert replay.exit_code == 1 and "handled 1, failed again 1" in replay.output, replay.output
    sms = [s["params"] for s in fake.sent("twilio")]
    with runtime.transaction() as session:
        case = session.execute(select(Case)).scalar_one()
        assert [s["To"] for s in sms] == [CALLER] and codes.find_code(sms[0]["Body"]) == case.code
        left = session.execute(select(DeadLetter)).scalar_one()
        assert left.kind == "call" and left.sealed == "sealed-with-another-key" and left.attempts == 2
    assert phone.take_later(runtime, good) == "case opened"            # once more: nothing new, no SMS
    assert len(fake.sent("twilio")) == 1


@pytest.mark.parametrize("expires, sig", [
    ("9999999999", "%C3%A9"),          # a signature that is not ASCII
    ("%C2%B2", "x"),                   # "²": a digit to str.isdigit, not to int()
    ("%D9%A1%D9%A2", "x"),             # Arabic-Indic digits
    ("1" * 13, "x"),
    ("", ""),
])
def test_a_recording_link_that_is_not_ours_is_403_whatever_it_holds(client, cholera_in_sorani, expires, sig):
    response = client.get(f"/media/recordings/{cholera_in_sorani}.mp3?expires={expires}&sig={sig}")
    assert response.status_code == 403


def test_bad_call_posts_get_400_with_a_reason(client):
    caller = Caller(client)
    caller.form.pop("CallSid")
    response = caller.post("/webhooks/twilio/voice")
    assert response.status_code == 400 and "CallSid" in response.get_json()["error"]
    caller = Caller(client)
    response = caller.post("/webhooks/twilio/voice?s=recorded&l=ar", RecordingUrl="https://api.twilio.com/x",
                           RecordingSid="not-a-sid")
    assert response.status_code == 400 and "RecordingSid" in response.get_json()["error"]


# "anonymous", and the numbers Twilio puts in From for a withheld one (ANONYMOUS, RESTRICTED spelt on a keypad)
@pytest.mark.parametrize("number", [None, "+266696687", "+7378742833"])
def test_a_withheld_number_still_leaves_a_message_and_staff_are_told_it_cannot_be_answered(
        app, client, runtime, fake, staff, number):  # noqa: F811
    caller = Caller(client, number=number).call().press("1").press("9").leave_message()
    assert caller.xml.find("Gather") is not None
    with runtime.transaction() as session:
        code = session.execute(select(Case.code)).scalar_one()
    officer = sign_in(app, staff["officer"])
    page = f"/dashboard/cases/{code}"
    post_form(officer, page, f"{page}/answer", text="شكرا")
    assert fake.sent("twilio") == []


@pytest.mark.parametrize("changes, status, words", [
    ({}, "PASS", "/webhooks/twilio/voice"),
    ({"TWILIO_SMS_FROM": None}, "WARN", "answers cannot reach them"),
    ({"TWILIO_AUTH_TOKEN": None}, "FAIL", "refused (403)"),
    ({"TWILIO_VOICE": None}, "WARN", "off"),
])
def test_doctor_says_whether_the_phone_menu_can_work(environ, tmp_path, changes, status, words):
    from .test_doctor import build, run_doctor
    app = build(environ, tmp_path, **changes)
    try:
        _, lines = run_doctor(app)
        assert lines["twilio_voice"][0] == status and words in lines["twilio_voice"][1]
    finally:
        app.extensions["bot"].dispose()
