"""Forged, repeated and malformed requests to the public endpoints.

The first part holds one regression test per bug found by fuzzing (named test_bug_...): each failed
before its fix. Some failed only on PostgreSQL (column lengths and NUL characters, which SQLite
accepts); they are marked so in their docstring. The second part is a compact table of malformed
inputs that already behave: a 4xx with a reason, or a 200 with a polite reply, never a 500.
"""
import copy
import json

import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from bot.models import Contact, Message, Outbound

from .conftest import PUBLIC_URL, SECRET, TWILIO_TOKEN, csrf_token, payload, twiml_bodies

STATUS_PATH = "/webhooks/twilio/status"


@pytest.fixture(autouse=True)
def _errors_as_500(app):
    """An unhandled exception answers 500, as in production, instead of propagating into the test."""
    app.config["PROPAGATE_EXCEPTIONS"] = False


def _update(update_id: int, chat_id=555000111, **message) -> dict:
    body = payload("telegram", "text")
    body["update_id"] = update_id
    body["message"]["chat"]["id"] = body["message"]["from"]["id"] = chat_id
    for key, value in message.items():
        if value is ...:
            body["message"].pop(key, None)
        else:
            body["message"][key] = value
    return body


def _raw_update(update_id: int, text_json: str) -> str:
    """An update whose text is the given raw JSON (lone surrogate escapes, numbers...)."""
    body = _update(update_id, text="@@TEXT@@")
    return json.dumps(body).replace('"@@TEXT@@"', text_json)


def _signed(client, form, path="/webhooks/twilio"):
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(PUBLIC_URL + path, form)
    return client.post(path, data=form, headers={"X-Twilio-Signature": signature})


def _outbound(runtime, provider_id: str, channel="sms", contact_id=None, status="sent") -> None:
    with runtime.transaction() as session:
        session.add(Outbound(channel=channel, status=status, provider_id=provider_id, purpose="reply",
                             contact_id=contact_id))


def _count(runtime, model) -> int:
    with runtime.transaction() as session:
        return session.scalar(select(func.count()).select_from(model))


# ---- bugs ----------------------------------------------------------------------------------------
def test_bug_telegram_message_without_chat_is_a_400_not_a_500(telegram):
    """bot/channels/telegram.py from_update: message.chat.type on a message whose chat is missing."""
    statuses = {str(chat): telegram.post(_update(700001 + i, chat=chat)).status_code
                for i, chat in enumerate([..., None])}
    assert statuses == {"Ellipsis": 400, "None": 400}


def test_bug_telegram_text_that_is_not_a_string_is_a_400_not_a_500(telegram):
    """bot/channels/telegram.py from_update passes message.text through unchecked; clean_for_storage
    (handlers/text.py) then iterates an int or a list."""
    statuses = {text_json: telegram.post(_raw_update(700010 + i, text_json)).status_code
                for i, text_json in enumerate(["5", "true", "1.5", '["ab"]', "[1]", '{"a": 1}'])}
    assert statuses == dict.fromkeys(statuses, 400)


def test_bug_telegram_caption_or_callback_data_that_is_not_a_string_is_a_400_not_a_500(telegram):
    caption = _update(700020, text=..., caption=7)
    callback = {"update_id": 700021, "callback_query": {
        "id": "1", "from": {"id": 1, "is_bot": False, "first_name": "x"}, "chat_instance": "c", "data": 5,
        "message": payload("telegram", "text")["message"]}}
    for body in (caption, callback):
        response = telegram.post(body)
        assert response.status_code == 400, body


def test_bug_telegram_lone_surrogate_is_not_a_500(telegram):
    """JSON "\\ud800" decodes to a lone surrogate; bot/vault.py encrypt (text) and address_hash
    (chat id) call .encode() on it: UnicodeEncodeError."""
    in_text = _update(700030, text="@@")
    in_chat_id = _update(700031, chat_id="@@")
    statuses = {name: telegram.post(json.dumps(body).replace('"@@"', '"abc\\ud800"')).status_code
                for name, body in (("text", in_text), ("chat id", in_chat_id))}
    assert all(status < 500 for status in statuses.values()), statuses


def test_bug_telegram_language_code_that_is_not_a_string_is_not_a_500(telegram):
    """handlers/language.py detect(): (hint or "").split on an int; a new chat's first message."""
    statuses = {}
    for i, language_code in enumerate([5, ["ar"], True]):
        body = _update(700040 + i, chat_id=424240 + i, text="1")
        body["message"]["from"]["language_code"] = language_code
        statuses[str(language_code)] = telegram.post(body).status_code
    assert all(status < 500 for status in statuses.values()), statuses


def test_bug_telegram_chat_id_that_is_not_an_integer_is_refused_before_anything_is_stored(telegram, runtime):
    """bot/channels/telegram.py webhook_response: int(address) when address.lstrip("-").isdigit() ("--5",
    "²" pass isdigit); it raises after inbound.receive committed, so every retry crashes again. Chat ids
    that are not integers at all ("-", "abc", null, 1.5, true) are accepted and stored as addresses."""
    statuses = {str(chat_id): telegram.post(_update(700050 + i, chat_id=chat_id)).status_code
                for i, chat_id in enumerate(["--5", "²", "-", "abc", None, 1.5, True])}
    assert statuses == dict.fromkeys(statuses, 400)
    assert _count(runtime, Message) == 0


def test_bug_telegram_deeply_nested_json_is_a_400_not_a_500(telegram):
    """bot/webhooks.py: request.get_json(silent=True) swallows ValueError only, not RecursionError."""
    body = '{"update_id": 700060, "x": ' + "[" * 5000 + "]" * 5000 + "}"
    response = telegram.post(body)
    assert response.status_code == 400


def test_bug_telegram_callback_from_a_group_is_ignored_like_a_group_message(telegram, runtime):
    """bot/channels/telegram.py from_update: the callback branch skips the private-chat check."""
    message = dict(payload("telegram", "text")["message"], chat={"id": -100123, "type": "supergroup", "title": "g"})
    body = {"update_id": 700070, "callback_query": {
        "id": "1", "from": {"id": 1, "is_bot": False, "first_name": "x"}, "chat_instance": "c", "data": "hi",
        "message": message}}
    response = telegram.post(body)
    assert response.status_code == 200
    assert "method" not in response.get_json()
    assert _count(runtime, Contact) == 0


def test_bug_overlong_or_nul_provider_ids_are_not_a_500(telegram, twilio):
    """PostgreSQL only: messages.provider_id is VARCHAR(80) and PostgreSQL refuses NUL in text
    (bot/inbound.py _INSERT_MESSAGE). SQLite accepts both."""
    results = {}
    for name, sid in (("81 chars", "SM" + "a" * 79), ("NUL", "SM\x00x")):
        form = twilio.form("مرحبا", "+9647501234567", MessageSid=sid, SmsMessageSid=sid, SmsSid=sid)
        results[f"twilio MessageSid {name}"] = twilio.post(form).status_code
    body = json.dumps(_update(1)).replace('"update_id": 1,', '"update_id": 1' + "0" * 100 + ",")
    results["telegram update_id 101 digits"] = telegram.post(body).status_code
    sid_nul = {"MessageSid": "SM\x00", "MessageStatus": "delivered"}
    results["status MessageSid NUL"] = twilio.post(sid_nul, path=STATUS_PATH).status_code
    assert all(status < 500 for status in results.values()), results


def test_bug_status_callback_with_a_non_numeric_error_code_is_not_a_500(twilio, runtime):
    """bot/outbound.py record_status: int(error_code) on whatever ErrorCode holds (ValueError)."""
    statuses = {}
    for i, error_code in enumerate(["abc", "1.5", "9" * 5000]):
        sid = f"SMknown{i:028d}"
        _outbound(runtime, sid)
        form = {"MessageSid": sid, "MessageStatus": "failed", "ErrorCode": error_code}
        statuses[error_code[:8]] = twilio.post(form, path=STATUS_PATH).status_code
    assert statuses == dict.fromkeys(statuses, 200)
    with runtime.transaction() as session:
        assert set(session.execute(select(Outbound.status)).scalars()) == {"failed"}


def test_bug_status_callback_with_a_long_error_code_is_not_a_500(twilio, runtime):
    """PostgreSQL only: failure_reason is VARCHAR(40); "twilio_" + a 60-digit ErrorCode overflows it."""
    _outbound(runtime, "SMknown0000000000000000000000000002")
    form = {"MessageSid": "SMknown0000000000000000000000000002", "MessageStatus": "failed", "ErrorCode": "0" * 60}
    assert twilio.post(form, path=STATUS_PATH).status_code == 200


def test_bug_status_callback_only_touches_twilio_rows(telegram, twilio, runtime):
    """bot/outbound.py record_status selects by provider_id alone. Telegram message ids are small
    per-chat counters, so several Telegram rows share one ("7"): scalar_one_or_none raises
    MultipleResultsFound (500); with one row, a Twilio callback marks a Telegram contact opted out."""
    telegram.say("مرحبا")
    with runtime.transaction() as session:
        contact_id = session.execute(select(Contact.id)).scalar()
    _outbound(runtime, "7", channel="telegram", contact_id=contact_id)
    form = {"MessageSid": "7", "MessageStatus": "failed", "ErrorCode": "21610"}
    response = twilio.post(form, path=STATUS_PATH)
    assert response.status_code == 200
    with runtime.transaction() as session:
        assert session.execute(select(Contact.opted_out)).scalar() is False
    _outbound(runtime, "7", channel="telegram", contact_id=contact_id)
    assert twilio.post(form, path=STATUS_PATH).status_code == 200


def test_bug_repeated_erase_confirmation_keeps_the_data_erased_and_answers_the_same(twilio, runtime):
    """bot/inbound.py receive: the contact is upserted before the (channel, provider_id) dedupe, so a
    redelivered "yes, delete" re-creates the contact (with the encrypted number) the person just erased;
    and the erase path returns before replies_enc is stored, so the repeat is answered with nothing."""
    sender = "+9647501234567"
    twilio.say("hello", sender)
    twilio.say("delete my data", sender)
    yes = twilio.form("1", sender)
    first = twilio.post(yes).get_data(as_text=True)
    assert _count(runtime, Contact) == 0
    second = twilio.post(yes).get_data(as_text=True)
    assert _count(runtime, Contact) == 0
    assert second == first


def test_bug_a_repeated_id_from_another_sender_gets_no_copy_of_the_first_reply(telegram, twilio, runtime):
    """bot/inbound.py receive/_duplicate: a duplicate is matched on (channel, provider_id) only, after the
    sender's contact was created; the first person's replies (reference codes included) go to whoever
    sent the same id."""
    form = twilio.form("hello", "+9640000000001")
    first = twilio.post(form).get_data(as_text=True)
    second = twilio.post(dict(form, From="+9640000000002")).get_data(as_text=True)
    assert twiml_bodies(second) != twiml_bodies(first)
    update = telegram.update("مرحبا", chat_id=111)
    telegram.post(update)
    other = copy.deepcopy(update)
    other["message"]["chat"]["id"] = other["message"]["from"]["id"] = 222
    assert "method" not in telegram.post(other).get_json()
    assert _count(runtime, Contact) == 2


def test_bug_whatsapp_from_without_a_number_is_a_400(twilio, runtime):
    """bot/channels/twilio.py parse_form: From "whatsapp:" gives channel whatsapp, address "" (a contact
    with no number, answered 200)."""
    response = twilio.post(twilio.form("مرحبا", "whatsapp:"))
    assert response.status_code == 400
    assert _count(runtime, Contact) == 0


def test_bug_language_switch_with_a_newline_in_next_is_not_a_500(client):
    """bot/dashboard/auth.py _safe_next lets CR/LF through; the Location header then raises ValueError."""
    response = client.get("/dashboard/language/en?next=/dashboard/%0d%0aSet-Cookie:x=1")
    assert response.status_code in (302, 400)
    assert "\n" not in response.headers.get("Location", "")


def test_bug_dashboard_login_with_an_odd_email_is_not_a_500(client):
    """PostgreSQL only: bot/users.py authenticate writes AuditEvent(actor=f"user:{email}") into a
    VARCHAR(80), and queries with a NUL character, which PostgreSQL refuses."""
    token = csrf_token(client, "/dashboard/login")
    statuses = {email[:12]: client.post("/dashboard/login", data={
        "csrf_token": token, "email": email, "password": "x"}).status_code
        for email in ("a" * 100 + "@example.org", "a\x00@example.org")}
    assert statuses == {"a" * 12: 200, "a\x00@example.o": 400}    # NUL: "a field holds a NUL character"


# ---- malformed inputs that already behave --------------------------------------------------------
_MESSAGE = payload("telegram", "text")["message"]
TELEGRAM_CASES = [
    # (name, body, content type, expected status, expected key in the JSON answer)
    ("empty body", "", "application/json", 400, "error"),
    ("null", "null", "application/json", 400, "error"),
    ("number", "5", "application/json", 400, "error"),
    ("invalid utf-8", b'{"update_id": 1, "message": {"text": "\xff"}}', "application/json", 400, "error"),
    ("form content type", "a=b", "application/x-www-form-urlencoded", 415, "error"),
    ("update_id string", {"update_id": "5", "message": _MESSAGE}, "application/json", 400, "error"),
    ("update_id float", {"update_id": 5.0}, "application/json", 400, "error"),
    ("update_id 5000 digits", '{"update_id": 1' + "0" * 5000 + "}", "application/json", 400, "error"),
    ("update_id only", {"update_id": 7}, "application/json", 200, "ignored"),
    ("message null", {"update_id": 8, "message": None}, "application/json", 200, "ignored"),
    ("message list", {"update_id": 9, "message": []}, "application/json", 400, "error"),
    ("message empty", {"update_id": 10, "message": {}}, "application/json", 400, "error"),
    ("chat without type", _update(11, chat={"id": 1}), "application/json", 400, "error"),
    ("channel chat", _update(12, chat={"id": 1, "type": "channel"}), "application/json", 200, "ignored"),
    ("date not a number", _update(13, date="x"), "application/json", 400, "error"),
    ("date huge", _update(14, date=10 ** 20), "application/json", 400, "error"),
    ("photo not a list", _update(15, text=..., photo={"file_id": "p"}), "application/json", 400, "error"),
    ("voice without file_id", _update(16, text=..., voice={"duration": 1}), "application/json", 400, "error"),
    ("entities junk", _update(17, entities="junk"), "application/json", 400, "error"),
    ("edited_message", {"update_id": 18, "edited_message": _MESSAGE}, "application/json", 200, "ignored"),
    ("channel_post", {"update_id": 19, "channel_post": dict(_MESSAGE, chat={"id": -100, "type": "channel"})},
     "application/json", 200, "ignored"),
    ("callback without message", {"update_id": 20, "callback_query": {
        "id": "1", "from": {"id": 1, "is_bot": False, "first_name": "x"}, "chat_instance": "c"}},
     "application/json", 200, "ignored"),
    ("callback not an object", {"update_id": 21, "callback_query": "x"}, "application/json", 400, "error"),
    ("contact only", _update(22, text=..., contact={"phone_number": "+1", "first_name": "x"}),
     "application/json", 200, "method"),
    ("photo only", _update(23, text=..., photo=[{"file_id": "p", "file_unique_id": "u", "width": 1, "height": 1}]),
     "application/json", 200, "method"),
    ("document only", _update(24, text=..., document={"file_id": "d", "file_unique_id": "u"}),
     "application/json", 200, "method"),
    ("text null", _update(25, text=None), "application/json", 200, "method"),
    ("no from", _update(26, **{"from": ...}), "application/json", 200, "method"),
    ("negative update_id", _update(-27), "application/json", 400, "error"),
    ("text of 5000 characters", _update(28, text="x" * 5000), "application/json", 200, "method"),
    ("only RTL marks", _update(29, text="\u200f\u200e\u202b"), "application/json", 200, "method"),
    ("nesting 500 deep", '{"update_id": 30, "x": ' + "[" * 500 + "]" * 500 + "}", "application/json", 200, "ignored"),
    ("body over 1 MB", _update(31, text="a" * (1024 * 1024)), "application/json", 413, None),
]


def test_malformed_telegram_updates_get_a_4xx_with_a_reason_or_a_polite_200(telegram):
    wrong = []
    for name, body, content_type, status, key in TELEGRAM_CASES:
        response = telegram.post(body, content_type=content_type)
        answer = response.get_json(silent=True) or {}
        if response.status_code != status or (key and key not in answer):
            wrong.append((name, response.status_code, response.get_data()[:120]))
    assert not wrong


def test_telegram_requests_without_the_right_secret_or_method_are_refused(telegram, client):
    assert telegram.post(_update(40), secret="é").status_code == 403
    assert telegram.post(_update(41), secret="").status_code == 403
    for method in (client.get, client.put, client.delete):
        assert method("/webhooks/telegram").status_code == 405
    assert client.head("/webhooks/telegram").status_code == 405
    query = client.post("/webhooks/telegram?update_id=1&x=%ff", data=json.dumps(_update(42)),
                        content_type="application/json", headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
    assert query.status_code == 200 and query.get_json()["method"] == "sendMessage"


def test_malformed_twilio_forms_get_a_4xx_with_a_reason_or_a_polite_200(twilio):
    sender = "+9647501234567"
    cases = [  # (name, extra form fields, expected status)
        ("From spaces", {"From": "   "}, 400),
        ("MessageSid spaces", {"MessageSid": "  ", "SmsMessageSid": "  "}, 400),
        ("NumMedia letters", {"NumMedia": "abc"}, 400),
        ("NumMedia 1.5", {"NumMedia": "1.5"}, 400),
        ("NumMedia 5000 digits", {"NumMedia": "9" * 5000}, 400),
        ("NumMedia negative", {"NumMedia": "-5", "MediaUrl0": "https://example.org/x"}, 200),
        ("NumMedia huge", {"NumMedia": "9" * 400, "MediaUrl0": "https://example.org/x"}, 200),
        ("NumMedia Arabic digit", {"NumMedia": "١", "MediaUrl0": "https://example.org/x"}, 200),
        ("MediaUrl without NumMedia", {"NumMedia": "", "MediaUrl0": "https://example.org/x", "Body": ""}, 200),
        ("Body with NUL", {"Body": "a\x00b"}, 200),
        ("Body of 5000 characters", {"Body": "ب" * 5000}, 200),
        ("Body only emoji", {"Body": "😀" * 30}, 200),
        ("Body only RTL marks", {"Body": "\u200f\u200e\u202b"}, 200),
        ("Body missing", {"Body": ""}, 200),
        ("From letters", {"From": "hello"}, 200),
        ("only SmsMessageSid", {"MessageSid": ""}, 200),
    ]
    wrong = []
    for name, extra, status in cases:
        response = twilio.post(twilio.form("مرحبا", sender, **extra))
        body = response.get_data(as_text=True)
        ok = response.status_code == status and (
            response.get_json()["error"] if status == 400 else twiml_bodies(body)[0])
        if not ok:
            wrong.append((name, response.status_code, body[:120]))
    assert not wrong


def test_twilio_transport_oddities_are_refused_or_read_as_twilio_would(twilio, client):
    form = twilio.form("مرحبا", "+9647501234567")
    assert client.post("/webhooks/twilio", data=b"", content_type="application/x-www-form-urlencoded").status_code == 403
    assert client.post("/webhooks/twilio", data="x", content_type="text/plain").status_code == 415
    assert client.post("/webhooks/twilio", json=form).status_code == 415
    assert client.post("/webhooks/twilio", data=form, headers={"X-Twilio-Signature": "\u00e9"}).status_code == 403
    for method in (client.get, client.put, client.head):
        assert method("/webhooks/twilio").status_code == 405
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(PUBLIC_URL + "/webhooks/twilio?x=1", form)
    assert client.post("/webhooks/twilio?x=1", data=form, headers={"X-Twilio-Signature": signature}).status_code == 200
    assert client.post("/webhooks/twilio?y=2", data=form, headers={"X-Twilio-Signature": signature}).status_code == 403
    multipart = twilio.form("مرحبا", "+9647501234568")
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(PUBLIC_URL + "/webhooks/twilio", multipart)
    assert client.post("/webhooks/twilio", data=multipart, content_type="multipart/form-data",
                       headers={"X-Twilio-Signature": signature}).status_code == 200
    from werkzeug.datastructures import MultiDict
    duplicated = MultiDict(list(twilio.form("hi", "+9647501234569").items()) + [("Body", "second"), ("From", "+1")])
    assert _signed(client, duplicated).status_code == 200
    big = twilio.form("a" * (1024 * 1024), "+9647501234567")
    assert twilio.post(big).status_code == 413


def test_invalid_utf8_in_a_signed_form_is_read_without_a_500(twilio, app, client):
    body = b"From=%2B9647501234567&MessageSid=SMbadutf8&Body=%ff%fe%ED%A0%80"
    with app.test_request_context("/webhooks/twilio", method="POST", data=body,
                                  content_type="application/x-www-form-urlencoded"):
        from flask import request
        form = request.form.copy()
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(PUBLIC_URL + "/webhooks/twilio", form)
    response = client.post("/webhooks/twilio", data=body, content_type="application/x-www-form-urlencoded",
                           headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200 and twiml_bodies(response.get_data(as_text=True))[0]


def test_repeated_deliveries_are_handled_once_and_answered_the_same(telegram, twilio, runtime):
    form = twilio.form("مرحبا", "whatsapp:+9647701234567", NumMedia="1", MediaUrl0="https://example.org/a")
    answers = {twilio.post(form).get_data(as_text=True) for _ in range(3)}
    update = telegram.update("مرحبا")
    answers_tg = {json.dumps(telegram.post(update).get_json(), sort_keys=True) for _ in range(3)}
    assert len(answers) == 1 and len(answers_tg) == 1
    assert _count(runtime, Message) == 2


def test_status_callbacks_for_unknown_sids_and_statuses_are_answered_without_change(twilio, runtime):
    _outbound(runtime, "SMknown0000000000000000000000000003")
    cases = [({"MessageSid": "SMunknown", "MessageStatus": "delivered"}, 200, False),
             ({"MessageSid": "SMunknown", "MessageStatus": "failed", "ErrorCode": "abc"}, 200, False),
             ({"MessageSid": "S" * 500, "MessageStatus": "delivered"}, 400, False),
             ({"MessageSid": "SMknown0000000000000000000000000003", "MessageStatus": "exploded"}, 200, True),
             ({"MessageSid": "SMknown0000000000000000000000000003", "MessageStatus": "DELIVERED"}, 200, True),
             ({"SmsSid": "SMknown0000000000000000000000000003", "SmsStatus": "read"}, 200, True),
             ({"MessageSid": "SMknown0000000000000000000000000003"}, 400, None),
             ({"MessageStatus": "delivered"}, 400, None)]
    for form, status, known in cases:
        response = twilio.post(form, path=STATUS_PATH)
        assert response.status_code == status, form
        if status == 200:
            assert response.get_json() == {"ok": True, "known": known}, form
        else:
            assert response.get_json()["error"]
    with runtime.transaction() as session:
        assert session.execute(select(Outbound.status)).scalar() == "read"
    assert twilio.client.post(STATUS_PATH, json={}).status_code == 415
    assert twilio.client.get(STATUS_PATH).status_code == 405


def test_content_images_never_leave_their_folder(client):
    paths = ["/content-images/../../README.md", "/content-images/..%2f..%2fbot%2fconfig.py",
             "/content-images/%2e%2e/%2e%2e/README.md", "/content-images/shelter/%2e%2e%2f%2e%2e%2fcommands.yaml",
             "/content-images/..", "/content-images/a%00b.png", "/content-images/%ff.png",
             "/content-images/" + "a" * 5000, "/content-images/\\..\\..\\README.md", "/content-images/x.png"]
    assert {path[:60]: client.get(path).status_code for path in paths} == {path[:60]: 404 for path in paths}
    assert client.get("/content-images/shelter", headers={"Range": "junk"}).status_code == 404


def test_ops_and_pages_answer_junk_without_a_500(client, app):
    app.config["METRICS_TOKEN"] = "metrics-token"
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/readyz").status_code == 200
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", headers={"Authorization": "Bearer é"}).status_code == 403
    assert client.get("/metrics", headers={"Authorization": "Bearer metrics-token"}).status_code == 200
    for path in ("/healthz", "/readyz", "/metrics", "/", "/content-images/x.png"):
        assert client.post(path, data="x").status_code == 405
    assert client.get("/", headers={"Accept": ";;;q=abc"}).status_code == 200
    assert client.post("/dashboard/login", data={"email": "x", "password": "y"}).status_code == 400   # no CSRF
    assert client.post("/try", data={"text": "hi"}).status_code == 400                               # no CSRF
    assert client.get("/try", headers={"Cookie": "session=garbage"}).status_code == 200
    token = csrf_token(client, "/try")
    for text in ("hi", "a\x00b", "😀" * 10, "\u200f", "x" * 100_000):
        assert client.post("/try", data={"csrf_token": token, "text": text}).status_code == 302
    assert client.get("/try").status_code == 200
    token = csrf_token(client, "/dashboard/login")
    response = client.post("/dashboard/login?next=//evil.example", data={
        "csrf_token": token, "email": ["a", "b"], "password": "\x00", "code": "\x00"})
    assert response.status_code == 400                      # NUL characters: refused with a reason
