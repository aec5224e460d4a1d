"""Telegram: real update JSON through POST /webhooks/telegram; replies as a method in the response."""

import pytest
from sqlalchemy import func, select

from bot.models import Contact, Message

from .conftest import payload


def test_an_arabic_speaker_says_hello_and_gets_the_menu_in_arabic_with_buttons(telegram):
    body = telegram.say("مرحبا")
    assert body["method"] == "sendMessage"
    assert body["chat_id"] == 555000111
    buttons = [row[0]["text"] for row in body["reply_markup"]["keyboard"]]
    assert buttons[0].startswith("١. ")          # Arabic-Indic digits on Arabic buttons
    assert any("🌐" in b for b in buttons)       # the language switch is always one tap away
    assert "الصحة" in body["text"] or "الصحة" in " ".join(buttons)


def test_a_button_tap_sends_its_label_and_opens_that_topic(telegram):
    first = telegram.say("مرحبا")
    topic_button = [row[0]["text"] for row in first["reply_markup"]["keyboard"]][0]
    topic = telegram.say(topic_button)
    items = [row[0]["text"] for row in topic["reply_markup"]["keyboard"]]
    assert len(items) >= 4 and items[-1].startswith("٠. ")


def test_wrong_secret_is_refused_with_403(telegram):
    response = telegram.post(telegram.update("مرحبا"), secret="wrong")
    assert response.status_code == 403
    assert "Secret-Token" in response.get_json()["error"]
    assert telegram.post(telegram.update("مرحبا"), secret=None).status_code == 403


@pytest.mark.parametrize("body, content_type, status", [
    ("{not json", "application/json", 400),
    ('"a string"', "application/json", 400),
    ("[1, 2]", "application/json", 400),
    ('{"message": {"text": "hi"}}', "application/json", 400),                 # no update_id
    ('{"update_id": 5, "message": "not an object"}', "application/json", 400),
    ('{"update_id": 5}', "text/plain", 415),
])
def test_malformed_updates_get_a_clear_4xx(telegram, body, content_type, status):
    response = telegram.post(body, content_type=content_type)
    assert response.status_code == status
    assert response.get_json()["error"]


def test_the_same_update_delivered_twice_is_handled_once_and_answered_the_same(telegram, runtime):
    update = telegram.update("مرحبا")
    first = telegram.post(update).get_json()
    second = telegram.post(update).get_json()
    assert first == second
    with runtime.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 1
        assert session.scalar(select(func.count()).select_from(Contact)) == 1


@pytest.mark.parametrize("name", ["edited", "blocked", "group"])
def test_updates_without_a_waiting_person_get_200_and_no_reply(telegram, name):
    response = telegram.post(payload("telegram", name))
    assert response.status_code == 200
    assert response.get_json()["ok"] is True
    assert "method" not in response.get_json()


@pytest.mark.parametrize("name", ["sticker", "location"])
def test_stickers_and_locations_get_a_polite_reply(telegram, name):
    telegram.say("مرحبا")
    response = telegram.post(payload("telegram", name))
    assert response.status_code == 200
    body = response.get_json()
    assert body["method"] == "sendMessage"
    assert "text" in body and body["text"]


@pytest.mark.parametrize("text", [
    "ك" * 10_000,
    "😀😀😀",
    "\u202e\u2066مرحبا\u2069\u200f",
    "سڵاو\u200cچۆنی\u200d",
    "\x00\x01\x02",
    "   ",
])
def test_odd_messages_never_crash(telegram, text):
    response = telegram.post(telegram.update(text))
    assert response.status_code == 200
    assert response.get_json()["text"]


def test_personal_data_is_not_stored_in_clear(telegram, runtime):
    telegram.say("كيف أحمي أطفالي من الكوليرا", chat_id=987654321)
    with runtime.transaction() as session:
        contact = session.execute(select(Contact)).scalar_one()
        message = session.execute(select(Message)).scalar_one()
    assert "987654321" not in contact.address_hash and "987654321" not in contact.address_enc
    assert runtime.vault.decrypt(contact.address_enc) == "987654321"
    assert "الكوليرا" not in (message.text_enc or "")
    assert runtime.vault.decrypt(message.text_enc) == "كيف أحمي أطفالي من الكوليرا"


def test_shelter_steps_come_with_a_picture(telegram):
    telegram.say("hello", language_code="en")
    body = telegram.say("3")          # shelter topic
    body = telegram.say("1")          # the step-by-step item
    body = telegram.say("1")          # step 1
    assert body["method"] == "sendPhoto"
    assert body["photo"].startswith("https://bot.example.org/content-images/shelter/")
    assert "1" in body["caption"]
