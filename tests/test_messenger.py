"""Facebook Messenger, through the real webhook and the Graph API's loopback fake.

Tables: real payloads (tests/payloads/messenger/) -> the Incoming (or refusal) they make; the Send API's
answers -> the queue's outcome. Scenarios: a Sorani speaker asks about cholera, complains and gets the
staff's answer, subscribes and gets a broadcast; forged posts are refused; a repeated delivery is handled once.
"""
import hashlib
import hmac
import json

import pytest
from sqlalchemy import select

from bot.channels import messenger
from bot.channels.base import FAILED, RETRY, SENT, STOPPED, WINDOW, BadRequest, Ignored, StatusUpdate
from bot.models import Case, Contact, Message, Outbound
from handlers.types import Incoming, Option, Reply

from .conftest import PAYLOADS
from .fakes import messenger_error
from .test_broadcasts import compose, person, send_now
from .test_feedback import code_in

APP_SECRET = "messenger-app-secret-for-tests"
VERIFY = "messenger-verify-token"
PSID = "6789012345678901"


@pytest.fixture
def environ(environ, fake, database_url):
    return {**environ, "MESSENGER_PAGE_ACCESS_TOKEN": "EAAG-page-token", "MESSENGER_APP_SECRET": APP_SECRET,
            "MESSENGER_VERIFY_TOKEN": VERIFY, "MESSENGER_API_URL": f"{fake.url}/graph/v21.0"}


def load(name: str) -> dict:
    return json.loads((PAYLOADS / "messenger" / f"{name}.json").read_text(encoding="utf-8"))


def sign(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Person:
    """One person writing to the page: each message a signed webhook post, as Meta sends it."""

    def __init__(self, client, fake, psid: str = PSID):
        self.client, self.fake, self.psid, self.n = client, fake, psid, 0

    def post(self, body, signature=None, content_type="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
        return self.client.post("/webhooks/messenger", data=data, content_type=content_type,
                                headers={"X-Hub-Signature-256": signature if signature is not None else sign(data)})

    def say(self, text: str, mid: str | None = None) -> str:
        """What the bot answers, as the fake Send API received it (text and quick-reply titles)."""
        self.n += 1
        body = load("text")
        event = body["entry"][0]["messaging"][0]
        event["sender"]["id"] = self.psid
        event["message"] = {"mid": mid or f"m_{self.psid}_{self.n:06d}", "text": text}
        before = len(self.fake.sent("messenger"))
        response = self.post(body)
        assert response.status_code == 200 and response.get_data(as_text=True) == "EVENT_RECEIVED"
        return seen(self.fake.sent("messenger")[before:])


def seen(calls) -> str:
    lines = []
    for call in calls:
        message = call["params"]["message"]
        lines.append(message.get("text") or "[picture]")
        lines += [q["title"] for q in message.get("quick_replies", [])]
    return "\n".join(lines)


# ---- payloads -> Incoming ------------------------------------------------------------------------
@pytest.mark.parametrize("name, expected", [
    ("text", ("incoming", PSID, "سڵاو", 0, True)),
    ("quick_reply", ("incoming", PSID, "1", 0, True)),               # the payload, not the title
    ("image", ("incoming", PSID, "", 1, True)),
    ("sticker", ("incoming", PSID, "", 0, False)),                    # answered politely
    ("postback", ("incoming", PSID, "start", 0, True)),
    ("delivery", ("status", "m_sent000000000000000000000000000001", "delivered")),
    ("read", ("ignored",)),
    ("echo", ("ignored",)),
])
def test_each_real_payload_becomes_what_the_dialogue_needs(name, expected):
    events = messenger.parse_body(load(name))
    assert len(events) == 1
    event = events[0]
    if expected[0] == "incoming":
        assert (event.channel, event.address, event.text, len(event.media), event.supported) == \
            ("messenger", *expected[1:])
        assert event.provider_id and len(event.provider_id) <= 80
    elif expected[0] == "status":
        assert isinstance(event, StatusUpdate) and (event.provider_id, event.status) == expected[1:]
    else:
        assert isinstance(event, Ignored)


def test_a_long_mid_is_kept_as_its_hash_the_same_each_time():
    mid = load("text")["entry"][0]["messaging"][0]["message"]["mid"]
    assert len(mid) > 80
    first, again = (messenger.parse_body(load("text"))[0].provider_id for _ in range(2))
    assert first == again == messenger.message_id(mid) and first.startswith("sha256:") and len(first) <= 80


def test_one_post_may_carry_several_people():
    events = messenger.parse_body(load("batch"))
    assert [(e.address, e.text) for e in events] == [(PSID, "1"), ("6789012345678902", "hello")]


def test_one_bad_event_in_a_batch_is_ignored_with_its_reason_and_the_others_are_handled():
    """Refusing the whole post would have Facebook deliver the good events again, and again."""
    body = load("batch")
    body["entry"][0]["messaging"].append({"sender": {"id": "bad"}, "message": {"mid": "m_9", "text": "x"}})
    body["entry"].append("not an entry")
    events = messenger.parse_body(body)
    assert [(e.address, e.text) for e in events if isinstance(e, Incoming)] == [(PSID, "1"), ("6789012345678902", "hello")]
    assert sorted(e.reason for e in events if isinstance(e, Ignored)) == [
        "an event refused: an entry must be an object", "an event refused: sender.id (a page-scoped id, digits) is missing"]


@pytest.mark.parametrize("body, reason", [
    (load("instagram"), "object"),
    ([], "object"),
    ({"object": "page"}, "entry"),
    ({"object": "page", "entry": [{"messaging": [{"message": {"mid": "m_1", "text": "x"}}]}]}, "sender.id"),
    ({"object": "page", "entry": [{"messaging": [{"sender": {"id": "12"}, "message": {"text": "x"}}]}]}, "mid"),
    ({"object": "page", "entry": [{"messaging": [{"sender": {"id": "../x"}, "message": {"mid": "m"}}]}]}, "sender.id"),
    ({"object": "page", "entry": [{"messaging": [{"sender": {"id": "12"},
                                                  "message": {"mid": "m", "text": 5}}]}]}, "message.text"),
    ({"object": "page", "entry": [{"messaging": [{"delivery": {"mids": "m_1"}}]}]}, "mids"),
])
def test_what_is_not_a_page_webhook_is_refused_with_a_reason(body, reason):
    with pytest.raises(BadRequest) as refused:
        messenger.parse_body(body)
    assert reason in refused.value.reason and refused.value.status == 400


# ---- Send API answers -> outcomes ----------------------------------------------------------------
@pytest.mark.parametrize("status, body, outcome, reason", [
    (200, {"recipient_id": PSID, "message_id": "m_ok1"}, SENT, None),
    (400, messenger_error(10, 2018278, "This message is sent outside of allowed window."), WINDOW, "outside_window"),
    (400, messenger_error(551, None, "This person isn't available right now."), STOPPED, "blocked"),
    (400, messenger_error(200, 1545041, "This person isn't available right now."), STOPPED, "blocked"),
    (400, messenger_error(613, None, "Calls to this api have exceeded the rate limit."), RETRY, "throttled"),
    (429, {}, RETRY, "throttled"),
    (500, messenger_error(2, None, "An unexpected error has occurred."), RETRY, "http_500"),
    (400, messenger_error(1200, None, "Temporary send message failure."), RETRY, "http_400"),
    (400, messenger_error(100, 2018001, "No matching user found"), FAILED, "invalid_address"),
    (401, messenger_error(190, None, "Error validating access token"), FAILED, "invalid_token"),
    (400, messenger_error(100, None, "Invalid parameter"), FAILED, "messenger_100"),
    (502, b"<html>Bad Gateway</html>", RETRY, "http_502"),
])
def test_each_send_api_answer_becomes_one_outcome(status, body, outcome, reason):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    result = messenger.outcome(status, raw)
    assert (result.outcome, result.reason) == (outcome, reason)


def test_options_become_quick_replies_titles_that_fit_else_numbers():
    short = Reply("اختر", options=[Option("1", "الصحة"), Option("2", "السلامة")], language="ar")
    message = messenger.messages(short, {})[-1]
    assert message["text"] == "اختر"
    assert [(q["title"], q["payload"]) for q in message["quick_replies"]] == [("١. الصحة", "1"), ("٢. السلامة", "2")]
    long = Reply("Choose", options=[Option("1", "Assembling the shelter kit, step by step")], language="en")
    message = messenger.messages(long, {})[-1]
    assert "1. Assembling the shelter kit" in message["text"] and message["quick_replies"][0]["title"] == "1"
    many = Reply("x" * 4500, options=[Option(str(n), f"o{n}") for n in range(14)], language="en")
    parts = messenger.messages(many, {})
    assert all(len(p["text"]) <= 2000 for p in parts) and not any("quick_replies" in p for p in parts)


# ---- the webhook ---------------------------------------------------------------------------------
def test_the_subscription_handshake_echoes_the_challenge_only_with_our_token(client):
    ok = client.get("/webhooks/messenger", query_string={"hub.mode": "subscribe", "hub.verify_token": VERIFY,
                                                         "hub.challenge": "1158201444"})
    assert ok.status_code == 200 and ok.get_data(as_text=True) == "1158201444"
    wrong = client.get("/webhooks/messenger", query_string={"hub.mode": "subscribe", "hub.verify_token": "guess",
                                                            "hub.challenge": "1158201444"})
    assert wrong.status_code == 403 and "1158201444" not in wrong.get_data(as_text=True)


@pytest.mark.parametrize("signature", ["", "sha256=" + "0" * 64, "sha1=abc", sign(b"another body"),
                                       "sha256=" + hmac.new(b"wrong secret", b"", hashlib.sha256).hexdigest()])
def test_a_forged_post_is_refused_before_anything_is_read_or_stored(client, fake, runtime, signature):
    response = Person(client, fake).post(load("text"), signature=signature)
    assert response.status_code == 403 and "X-Hub-Signature-256" in response.get_json()["error"]
    with runtime.transaction() as session:
        assert session.scalar(select(Message.id)) is None and session.scalar(select(Contact.id)) is None
    assert fake.sent("messenger") == []


@pytest.mark.parametrize("body, content_type, status", [
    (b"not json", "application/json", 400),
    (b'{"object": "page", "entry": "x"}', "application/json", 400),
    (b'{"object": "page"}', "text/plain", 415),
    (b"[" * 5000 + b"]" * 5000, "application/json", 400),
])
def test_bad_input_is_a_4xx_with_a_reason_never_a_500(client, fake, body, content_type, status):
    response = Person(client, fake).post(body, content_type=content_type)
    assert response.status_code == status and response.get_json()["error"]


def test_without_its_settings_messenger_is_off_and_its_webhook_refuses(environ, tmp_path, fake):
    from bot import create_app
    off = {k: v for k, v in environ.items() if k != "MESSENGER_APP_SECRET"}
    app = create_app({"INSTANCE_PATH": str(tmp_path / "off"), "ENVIRON": off, "TESTING": True})
    try:
        assert app.extensions["bot"].channels["messenger"] is False
        client = app.test_client()
        assert Person(client, fake).post(load("text"), signature=sign(b"x", "")).status_code == 403
        assert client.get("/webhooks/messenger", query_string={"hub.mode": "subscribe", "hub.verify_token": VERIFY,
                                                               "hub.challenge": "1"}).status_code == 403
    finally:
        app.extensions["bot"].dispose()


def test_credentials_go_only_to_the_graph_api(runtime, fake):
    assert messenger.api_url({"MESSENGER_API_URL": "http://graph.example.org/v21.0"}) is None
    assert messenger.api_url({}) == "https://graph.facebook.com/v21.0"
    assert not messenger.ADAPTER.enabled({**runtime.config, "MESSENGER_API_URL": "http://evil.example/v1"})


# ---- scenarios -----------------------------------------------------------------------------------
def test_a_sorani_speaker_on_messenger_asks_about_cholera_and_gets_the_sorani_answer(client, fake, runtime):
    from handlers.content import load as load_content
    cholera = next(i for i in load_content().topic("health").items if i.id == "cholera")
    person_ = Person(client, fake)
    person_.say("سڵاو")
    answer = person_.say("کۆلێرا")
    assert cholera.title["ckb"] in answer, answer
    call = fake.sent("messenger")[-1]
    assert call["params"]["recipient"] == {"id": PSID} and call["params"]["messaging_type"] == "RESPONSE"
    assert all(r["authorization"] == "Bearer EAAG-page-token" for r in fake.requests if r["path"].startswith("/graph/"))


def test_a_delivery_sent_twice_is_handled_once(client, fake, runtime):
    person_ = Person(client, fake)
    first = person_.say("سڵاو", mid="m_twice")
    again = person_.say("سڵاو", mid="m_twice")
    assert first and again == ""
    with runtime.transaction() as session:
        assert len(session.scalars(select(Message)).all()) == 1


def test_a_sorani_complaint_on_messenger_gets_the_staff_answer_on_messenger(client, fake, runtime, app):
    person_ = Person(client, fake)
    person_.say("سڵاو")
    person_.say("سکاڵا")
    reply = person_.say("ئاو لە کەمپەکەمان نییە سێ ڕۆژە")
    code = code_in(reply)
    with runtime.transaction() as session:
        case = session.execute(select(Case)).scalar_one()
        assert (case.code, case.channel, case.language) == (code, "messenger", "ckb")
    result = app.test_cli_runner().invoke(args=["feedback", "answer", code, "تانکەری ئاو سبەی دێت"])
    assert result.exit_code == 0, result.output
    call = fake.sent("messenger")[-1]
    assert call["params"]["recipient"] == {"id": PSID} and "تانکەری ئاو سبەی دێت" in call["params"]["message"]["text"]
    # Meta's delivery receipt moves the answer's row to delivered
    with runtime.transaction() as session:
        row = session.scalars(select(Outbound).where(Outbound.purpose == "answer")).one()
    receipt = load("delivery")
    receipt["entry"][0]["messaging"][0]["delivery"]["mids"] = [row.provider_id]
    assert person_.post(receipt).status_code == 200
    with runtime.transaction() as session:
        assert session.get(Outbound, row.id).status == "delivered"


def test_a_messenger_subscriber_gets_the_broadcast_and_one_silent_for_days_is_counted_unreachable(
        client, fake, runtime):
    from datetime import timedelta

    from bot import broadcast_runner
    from bot.models import utcnow
    person_ = Person(client, fake)
    person_.say("سڵاو")
    person_.say("ئابوونە")                    # announcements
    person_.say("١")                          # all of them
    person_.say("٠")                          # no area
    person_.say("بەڵێ")                       # yes
    with runtime.transaction() as session:
        row = session.execute(select(Contact).where(Contact.channel == "messenger")).scalar_one()
        assert row.subscribed is True
    silent = person(runtime, "messenger", "6789012345600000", "ckb", last_seen=utcnow() - timedelta(days=3))
    broadcast_id = compose(runtime, channels=["messenger"])
    send_now(runtime, broadcast_id)
    assert broadcast_runner.run(runtime) == "idle"
    call = fake.sent("messenger")[-1]
    assert call["params"]["recipient"] == {"id": PSID} and call["params"]["messaging_type"] == "UPDATE"
    assert "کۆلێرا" in call["params"]["message"]["text"]
    with runtime.transaction() as session:
        rows = {r.contact_id: (r.status, r.failure_reason) for r in
                session.scalars(select(Outbound).where(Outbound.broadcast_id == broadcast_id))}
    assert rows[silent] == ("undeliverable", "outside_window")


def test_outside_the_window_a_configured_tag_carries_the_broadcast(environ, tmp_path, fake):
    from datetime import timedelta

    from bot import broadcast_runner, create_app
    from bot.models import utcnow
    app = create_app({"INSTANCE_PATH": str(tmp_path / "tag"), "TESTING": True,
                      "ENVIRON": {**environ, "MESSENGER_BROADCAST_TAG": "ACCOUNT_UPDATE"}})
    runtime = app.extensions["bot"]
    try:
        person(runtime, "messenger", "6789012345600001", "ckb", last_seen=utcnow() - timedelta(days=3))
        broadcast_id = compose(runtime, channels=["messenger"])
        send_now(runtime, broadcast_id)
        assert broadcast_runner.run(runtime) == "idle"
        params = fake.sent("messenger")[-1]["params"]
        assert (params["messaging_type"], params["tag"]) == ("MESSAGE_TAG", "ACCOUNT_UPDATE")
    finally:
        runtime.dispose()


def test_a_person_who_blocked_the_page_is_marked_stopped(client, fake, runtime, app):
    person_ = Person(client, fake)
    person_.say("سڵاو")
    person_.say("سکاڵا")
    code = code_in(person_.say("ئاو نییە"))
    fake.fail_next("messenger", 400, messenger_error(551, None, "This person isn't available right now."), to=PSID)
    app.test_cli_runner().invoke(args=["feedback", "answer", code, "وەڵام"])
    with runtime.transaction() as session:
        contact = session.execute(select(Contact).where(Contact.channel == "messenger")).scalar_one()
        assert contact.opted_out is True


def test_set_webhook_prints_what_to_paste_in_the_meta_app(app):
    output = app.test_cli_runner().invoke(args=["messenger", "set-webhook"]).output
    assert "https://bot.example.org/webhooks/messenger" in output and VERIFY in output


def test_doctor_says_messenger_is_configured(app):
    output = app.test_cli_runner().invoke(args=["doctor"]).output
    line = next(line for line in output.splitlines() if " messenger " in f" {line} ")
    assert line.startswith("PASS"), output
