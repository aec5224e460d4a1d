"""Telegram and Twilio as tables, in the style of Messenger's and Viber's: real payloads -> what the dialogue
gets (or the refusal), and provider answers -> one outcome. Pure functions, no app, no network."""
import json
from pathlib import Path

import pytest
from twilio.base.exceptions import TwilioRestException

from bot.channels import telegram, twilio
from bot.channels.base import FAILED, RETRY, SENT, STOPPED, WINDOW, BadRequest, Ignored, StatusUpdate
from handlers.types import Incoming

PAYLOADS = Path(__file__).parent / "payloads"


def load(channel: str, name: str) -> dict:
    return json.loads((PAYLOADS / channel / f"{name}.json").read_text(encoding="utf-8"))


# ---- Telegram: update JSON -> Incoming / Ignored / refusal ------------------------------------------------
@pytest.mark.parametrize("name, expected", [
    ("text", ("incoming", "مرحبا", 0, True)),
    ("callback", ("incoming", None, 0, True)),            # the button's data is the text
    ("photo", ("incoming", None, 1, True)),
    ("voice", ("incoming", "", 1, True)),
    ("sticker", ("incoming", "", 0, False)),              # nothing the dialogue reads: answered politely
    ("location", ("incoming", "", 0, False)),
    ("edited", ("ignored", "edited message")),
    ("group", ("ignored", "not a private chat")),
    ("blocked", ("ignored", "member update")),
])
def test_each_telegram_update_becomes_what_the_dialogue_needs(name, expected):
    body = load("telegram", name)
    event = telegram.parse_body(body)
    if expected[0] == "ignored":
        assert isinstance(event, Ignored) and event.reason == expected[1]
        return
    assert isinstance(event, Incoming) and event.channel == "telegram"
    assert event.provider_id == str(body["update_id"]) and event.address.lstrip("-").isdigit()
    _, text, media, supported = expected
    if text is not None:
        assert event.text == text
    assert (len(event.media), event.supported) == (media, supported)


@pytest.mark.parametrize("body, reason", [
    ([], "an update must be a JSON object"),
    ({"message": {}}, "update_id"),
    ({"update_id": -1}, "update_id"),
    ({"update_id": "7"}, "update_id"),
    ({"update_id": 7, "message": {"message_id": 1, "date": 0, "chat": {"id": "x", "type": "private"}}}, "chat"),
    ({"update_id": 7, "message": {"message_id": 1, "date": 0, "chat": {"id": 5, "type": "private"},
                                  "text": ["a"]}}, "message.text"),
])
def test_what_is_not_a_telegram_update_is_refused_with_a_reason(body, reason):
    with pytest.raises(BadRequest) as refused:
        telegram.parse_body(body)
    assert reason in refused.value.reason and refused.value.status == 400


# ---- Telegram: Bot API answers -> outcomes ----------------------------------------------------------------
def _telegram_outcome(status: int, body) -> tuple:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    try:
        telegram._raise_for(status, raw)
    except Exception as exc:          # python-telegram-bot's own exception for that answer
        result = telegram._failure(exc)
        return result.outcome, result.reason, result.retry_after
    return SENT, None, None


@pytest.mark.parametrize("status, body, expected", [
    (200, {"ok": True, "result": {"message_id": 5}}, (SENT, None, None)),
    (429, {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 7",
           "parameters": {"retry_after": 7}}, (RETRY, "throttled", 7.0)),
    (403, {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"},
     (STOPPED, "blocked", None)),
    (400, {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"},
     (FAILED, "bad_request", None)),
    (502, b"<html>Bad Gateway</html>", (RETRY, "connection", None)),
    (500, {"ok": False, "error_code": 500, "description": "Internal Server Error"}, (RETRY, "connection", None)),
    (401, {"ok": False, "error_code": 401, "description": "Unauthorized"}, (FAILED, "telegram_error", None)),
])
def test_each_telegram_answer_becomes_one_outcome(status, body, expected):
    assert _telegram_outcome(status, body) == expected


# ---- Twilio: form posts -> Incoming / StatusUpdate / refusal ----------------------------------------------
@pytest.mark.parametrize("name, expected", [
    ("sms", ("sms", "+9647501234567", "مرحبا", 0, True)),
    ("whatsapp", ("whatsapp", "+9647701234567", "silav", 0, True)),
    ("whatsapp_voice", ("whatsapp", "+9647701234567", "", 1, True)),
    ("whatsapp_location", ("whatsapp", "+9647701234567", "", 0, False)),
])
def test_each_twilio_form_becomes_what_the_dialogue_needs(name, expected):
    form = load("twilio", name)
    event = twilio.parse_form(form)
    assert (event.channel, event.address, event.text, len(event.media), event.supported) == expected
    assert event.provider_id == form["MessageSid"]


@pytest.mark.parametrize("form, reason", [
    ({"MessageSid": "SM1"}, "From is missing"),
    ({"From": "+9647501234567"}, "MessageSid is missing"),
    ({"From": "+9647501234567", "MessageSid": "SM../x"}, "letters and digits"),
    ({"From": "whatsapp:", "MessageSid": "SM1"}, "no address"),
    ({"From": "+9647501234567", "MessageSid": "SM1", "NumMedia": "many"}, "NumMedia"),
])
def test_what_is_not_a_twilio_message_is_refused_with_a_reason(form, reason):
    with pytest.raises(BadRequest) as refused:
        twilio.parse_form(form)
    assert reason in refused.value.reason


def test_a_twilio_status_callback_says_which_message_and_what_happened():
    update = twilio.parse_status(load("twilio", "status_delivered"))
    assert isinstance(update, StatusUpdate) and update.status == "delivered" and update.provider_id
    stopped = twilio.parse_status({"MessageSid": "SM1", "MessageStatus": "failed", "ErrorCode": "21610"})
    assert stopped.stopped and stopped.reason == "twilio_21610"


# ---- Twilio: REST answers -> outcomes ---------------------------------------------------------------------
@pytest.mark.parametrize("status, code, expected", [
    (400, 21610, (STOPPED, "opted_out")),          # the person sent STOP to the number
    (400, 63016, (WINDOW, "outside_window")),      # WhatsApp free-form outside 24 hours
    (429, 20429, (RETRY, "http_429")),
    (503, None, (RETRY, "http_503")),
    (400, 21211, (FAILED, "invalid_address")),
    (400, 21614, (FAILED, "invalid_address")),     # not a mobile number
    (401, 20003, (FAILED, "twilio_20003")),        # authentication
])
def test_each_twilio_answer_becomes_one_outcome(status, code, expected):
    error = TwilioRestException(status, "https://api.twilio.com/2010-04-01/Accounts/AC/Messages.json",
                                msg="error", code=code)
    result = twilio._failure(error)
    assert (result.outcome, result.reason) == expected


@pytest.mark.parametrize("length", [1599, 1600, 1601, 3500])
def test_a_whatsapp_reply_longer_than_twilio_takes_goes_in_parts_and_loses_nothing(length):
    from handlers.types import Option, Reply
    words = ("كلمة " * length)[:length - 40].strip()
    reply = Reply(words, options=[Option("0", "القائمة الرئيسية")], language="ar")
    parts = twilio.bodies("whatsapp", [reply])
    assert all(len(body) <= twilio.WHATSAPP_LIMIT for body, _ in parts)
    joined = " ".join(body for body, _ in parts)
    assert joined.split() == (words + " ٠. القائمة الرئيسية").split()     # every word, the option whole
    assert parts[-1][0].endswith("٠. القائمة الرئيسية")


def test_a_broadcast_preview_shows_each_chosen_channel_as_its_adapter_renders_it():
    from bot import broadcasts
    from bot.models import Broadcast
    sent = Broadcast(title="t", texts=json.dumps({"ckb": "دابەشکردنی ئاو سبەینێ"}), channels="sms,messenger,viber")
    preview = broadcasts.previews(sent, {})[0]
    labels = [label for label, _ in preview["channels"]]
    assert labels == ["SMS", "Messenger", "Viber"]
    assert all("دابەشکردنی ئاو سبەینێ" in shown for _, shown in preview["channels"])
    everyone = broadcasts.previews(Broadcast(title="t", texts=json.dumps({"ar": "نص"}), channels=""), {})[0]
    assert {"Telegram", "SMS", "WhatsApp", "Messenger", "Viber"} <= {label for label, _ in everyone["channels"]}


# ---- right-to-left: every adapter keeps an Arabic-script reply right to left -------------------------------
MIXED = "WhatsApp: اكتب STOP لإيقاف الرسائل\n911\nالطوارئ 911"


@pytest.mark.parametrize("lang, marked", [("ar", [True, True, False]), ("ckb", [True, True, False]),
                                          ("kmr", [True, True, False]), ("kmr_latn", [False, False, False]),
                                          ("en", [False, False, False])])
def test_lines_that_would_turn_left_to_right_get_a_mark_in_every_adapter(lang, marked):
    from bot.channels import messenger, viber
    from bot.channels.plain import RLM
    from handlers.types import Option, Reply
    reply = Reply(MIXED, options=[Option("1", "نعم")], language=lang)
    rendered = {
        "sms": twilio.bodies("sms", [reply])[0][0],
        "whatsapp": twilio.bodies("whatsapp", [reply])[0][0],
        "telegram": telegram.webhook_response(Incoming("telegram", "42"), [reply], {})["text"],
        "messenger": messenger.messages(reply, {})[0]["text"],
        "viber": viber.messages(reply, {"VIBER_SENDER_NAME": "bot"})[0]["text"],
    }
    for channel, text in rendered.items():
        lines = text.split("\n")[:3]
        assert [line.startswith(RLM) for line in lines] == marked, (channel, lines)
        assert [line.removeprefix(RLM) for line in lines] == MIXED.split("\n"), channel   # nothing else changed
