"""Viber, through the real webhook and the bot API's loopback fake.

Tables: real callbacks (tests/payloads/viber/) -> the Incoming (or refusal) they make; send_message's
answers -> the queue's outcome. Scenarios: a Sorani speaker opens the chat, asks about cholera, complains
and gets the staff's answer, subscribes and gets a broadcast; forged posts are refused; a repeated
delivery is handled once; unsubscribing stops everything.
"""
import hashlib
import hmac
import json

import pytest
from sqlalchemy import select

from bot.channels import viber
from bot.channels.base import FAILED, RETRY, SENT, STOPPED, BadRequest, Ignored, StatusUpdate
from bot.models import Case, Contact, Message, Outbound

from .conftest import PAYLOADS
from .test_broadcasts import compose, send_now
from .test_feedback import code_in

TOKEN = "4453b6ac12345678-e02c5f12174805f9-daec9cbb5448c51a"
USER = "01234567890A="


@pytest.fixture
def environ(environ, fake, database_url):
    return {**environ, "VIBER_AUTH_TOKEN": TOKEN, "VIBER_API_URL": f"{fake.url}/viber/pa",
            "VIBER_SENDER_NAME": "Info"}


def load(name: str) -> dict:
    return json.loads((PAYLOADS / "viber" / f"{name}.json").read_text(encoding="utf-8"))


def sign(body: bytes, token: str = TOKEN) -> str:
    return hmac.new(token.encode(), body, hashlib.sha256).hexdigest()


class Person:
    """One Viber user: each callback signed as Viber signs it."""

    def __init__(self, client, fake, user: str = USER):
        self.client, self.fake, self.user, self.n = client, fake, user, 0

    def post(self, body, signature=None):
        data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
        return self.client.post("/webhooks/viber", data=data, content_type="application/json",
                                headers={"X-Viber-Content-Signature": signature if signature is not None else sign(data)})

    def say(self, text: str, token: int | None = None) -> str:
        self.n += 1
        body = load("text")
        body["sender"]["id"] = self.user
        body["message"]["text"] = text
        body["message_token"] = token or 6000000000000000000 + hash(self.user) % 1000 * 1000 + self.n
        before = len(self.fake.sent("viber"))
        response = self.post(body)
        assert response.status_code == 200, response.get_data(as_text=True)
        return seen(self.fake.sent("viber")[before:])


def seen(calls) -> str:
    lines = []
    for call in calls:
        p = call["params"]
        lines.append(p.get("text") or "")
        lines += [b["Text"] for b in (p.get("keyboard") or {}).get("Buttons", [])]
    return "\n".join(lines)


# ---- callbacks -> Incoming -----------------------------------------------------------------------
@pytest.mark.parametrize("name, expected", [
    ("text", ("incoming", USER, "سڵاو", 0, True)),
    ("keyboard_reply", ("incoming", USER, "1", 0, True)),
    ("picture", ("incoming", USER, "", 1, True)),
    ("sticker", ("incoming", USER, "", 0, False)),
    ("subscribed", ("incoming", USER, "start", 0, True)),
    ("unsubscribed", ("incoming", USER, "stop", 0, True)),
    ("conversation_started", ("incoming", USER, "", 0, True)),
    ("delivered", ("status", "4912661846655238145", "delivered")),
    ("seen", ("status", "4912661846655238145", "read")),
    ("failed", ("status", "4912661846655238146", "failed")),
    ("webhook", ("ignored",)),
])
def test_each_real_callback_becomes_what_the_dialogue_needs(name, expected):
    event = viber.parse_body(load(name))
    if expected[0] == "incoming":
        assert (event.channel, event.address, event.text, len(event.media), event.supported) == ("viber", *expected[1:])
        assert event.provider_id and len(event.provider_id) <= 80
    elif expected[0] == "status":
        assert isinstance(event, StatusUpdate) and (event.provider_id, event.status) == expected[1:]
    else:
        assert isinstance(event, Ignored)


@pytest.mark.parametrize("body, reason", [
    ({}, "event"), ([], "event"),
    ({"event": "message", "message_token": 1, "sender": {"id": USER}}, "message"),
    ({"event": "message", "message_token": "1", "sender": {"id": USER}, "message": {"type": "text"}}, "message_token"),
    ({"event": "message", "message_token": 1, "sender": {"id": "../../x"}, "message": {"type": "text"}}, "sender.id"),
    ({"event": "message", "message_token": 1, "sender": {"id": USER}, "message": {"type": "text", "text": 5}},
     "message.text"),
    ({"event": "unsubscribed", "message_token": 1}, "user_id"),
])
def test_what_is_not_a_viber_callback_is_refused_with_a_reason(body, reason):
    with pytest.raises(BadRequest) as refused:
        viber.parse_body(body)
    assert reason in refused.value.reason and refused.value.status == 400


# ---- send_message answers -> outcomes ------------------------------------------------------------
@pytest.mark.parametrize("status, body, outcome, reason", [
    (200, {"status": 0, "status_message": "ok", "message_token": 5741311803571721087}, SENT, None),
    (200, {"status": 6, "status_message": "notSubscribed"}, STOPPED, "not_subscribed"),
    (200, {"status": 12, "status_message": "tooManyRequests"}, RETRY, "throttled"),
    (200, {"status": 5, "status_message": "receiverNotRegistered"}, FAILED, "invalid_address"),
    (200, {"status": 2, "status_message": "invalidAuthToken"}, FAILED, "viber_2"),
    (200, {"status": 7, "status_message": "publicAccountBlocked"}, FAILED, "viber_7"),
    (503, {}, RETRY, "http_503"),
    (200, b"<html>", FAILED, "viber_http_200"),
])
def test_each_send_message_answer_becomes_one_outcome(status, body, outcome, reason):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    result = viber.outcome(status, raw)
    assert (result.outcome, result.reason) == (outcome, reason)


# ---- the webhook ---------------------------------------------------------------------------------
@pytest.mark.parametrize("signature", ["", "0" * 64, sign(b"another body"), sign(b"", "wrong-token")])
def test_a_forged_callback_is_refused_before_anything_is_read_or_stored(client, fake, runtime, signature):
    response = Person(client, fake).post(load("text"), signature=signature)
    assert response.status_code == 403 and "X-Viber-Content-Signature" in response.get_json()["error"]
    with runtime.transaction() as session:
        assert session.scalar(select(Message.id)) is None
    assert fake.sent("viber") == []


@pytest.mark.parametrize("body", [b"not json", b"[" * 5000 + b"]" * 5000, b'{"event": 5}'])
def test_bad_input_is_a_4xx_never_a_500(client, fake, body):
    response = Person(client, fake).post(body)
    assert response.status_code == 400 and response.get_json()["error"]


def test_without_its_token_viber_is_off_and_its_webhook_refuses(environ, tmp_path, fake):
    from bot import create_app
    off = {k: v for k, v in environ.items() if k != "VIBER_AUTH_TOKEN"}
    app = create_app({"INSTANCE_PATH": str(tmp_path / "off"), "ENVIRON": off, "TESTING": True})
    try:
        assert app.extensions["bot"].channels["viber"] is False
        assert Person(app.test_client(), fake).post(load("text"), signature=sign(b"x", "")).status_code == 403
    finally:
        app.extensions["bot"].dispose()
    assert viber.api_url({"VIBER_API_URL": "http://chatapi.example.org/pa"}) is None


# ---- scenarios -----------------------------------------------------------------------------------
def test_opening_the_chat_is_answered_with_the_welcome_in_the_response(client, fake, runtime):
    response = Person(client, fake).post(load("conversation_started"))
    body = response.get_json()
    assert response.status_code == 200 and body["type"] == "text" and body["sender"]["name"] == "Info"
    assert body["text"] and fake.sent("viber") == []


def test_a_sorani_speaker_on_viber_asks_about_cholera_complains_and_gets_the_staff_answer(client, fake, runtime, app):
    from handlers.content import load as load_content
    cholera = next(i for i in load_content().topic("health").items if i.id == "cholera")
    person_ = Person(client, fake)
    person_.say("سڵاو")
    assert cholera.title["ckb"] in person_.say("کۆلێرا")
    call = fake.sent("viber")[-1]
    assert call["params"]["receiver"] == USER and call["params"]["sender"] == {"name": "Info"}
    person_.say("سکاڵا")
    code = code_in(person_.say("ئاو لە کەمپەکەمان نییە سێ ڕۆژە"))
    with runtime.transaction() as session:
        assert session.execute(select(Case)).scalar_one().channel == "viber"
    result = app.test_cli_runner().invoke(args=["feedback", "answer", code, "تانکەری ئاو سبەی دێت"])
    assert result.exit_code == 0, result.output
    call = fake.sent("viber")[-1]
    assert call["params"]["receiver"] == USER and "تانکەری ئاو سبەی دێت" in call["params"]["text"]
    with runtime.transaction() as session:
        row = session.scalars(select(Outbound).where(Outbound.purpose == "answer")).one()
    delivered = load("delivered")
    delivered["message_token"] = int(row.provider_id)
    assert person_.post(delivered).status_code == 200
    with runtime.transaction() as session:
        assert session.get(Outbound, row.id).status == "delivered"


def test_a_callback_delivered_twice_is_handled_once(client, fake, runtime):
    person_ = Person(client, fake)
    assert person_.say("سڵاو", token=7000000000000000001)
    assert person_.say("سڵاو", token=7000000000000000001) == ""
    with runtime.transaction() as session:
        assert len(session.scalars(select(Message)).all()) == 1


def test_a_viber_subscriber_gets_the_broadcast_and_unsubscribing_stops_it(client, fake, runtime):
    from bot import broadcast_runner
    person_ = Person(client, fake)
    person_.say("سڵاو")
    for step in ("ئابوونە", "١", "٠", "بەڵێ"):
        person_.say(step)
    broadcast_id = compose(runtime, channels=["viber"])
    send_now(runtime, broadcast_id)
    assert broadcast_runner.run(runtime) == "idle"
    call = fake.sent("viber")[-1]
    assert call["params"]["receiver"] == USER and "کۆلێرا" in call["params"]["text"]
    sent_before = len(fake.sent("viber"))
    assert person_.post(load("unsubscribed")).status_code == 200
    assert len(fake.sent("viber")) == sent_before       # Viber refuses messages to the unsubscribed: none sent
    with runtime.transaction() as session:
        contact = session.execute(select(Contact).where(Contact.channel == "viber")).scalar_one()
        assert (contact.opted_out, contact.subscribed) == (True, False)


def test_set_webhook_registers_the_public_url(app, fake):
    result = app.test_cli_runner().invoke(args=["viber", "set-webhook"])
    assert result.exit_code == 0, result.output
    assert fake.webhook_url == "https://bot.example.org/webhooks/viber"
    assert any(r["path"] == "/viber/pa/set_webhook" for r in fake.requests)
