"""Twilio SMS and WhatsApp: signed form posts through POST /webhooks/twilio; replies as TwiML."""
import pytest
from sqlalchemy import func, select

from bot.models import Contact, Message
from handlers.sms import segments

from .conftest import PUBLIC_URL, payload, twiml_bodies


def test_an_sms_in_arabic_gets_an_arabic_menu_within_three_segments_each(twilio):
    bodies = twilio.say("مرحبا")
    assert len(bodies) >= 2
    assert all(segments(b) <= 3 for b in bodies)
    assert "١." in bodies[-1] or "١." in "\n".join(bodies)


def test_whatsapp_is_told_apart_by_its_from_prefix(twilio, runtime):
    twilio.say("silav", sender="whatsapp:+9647701234567")
    with runtime.transaction() as session:
        contact = session.execute(select(Contact)).scalar_one()
    assert contact.channel == "whatsapp"
    assert contact.language == "kmr_latn"
    assert runtime.vault.decrypt(contact.address_enc) == "+9647701234567"


def test_a_forged_signature_is_refused(twilio):
    form = twilio.form("مرحبا", "+9647501234567")
    assert twilio.post(form, signature="bm90IGEgc2lnbmF0dXJl").status_code == 403
    assert twilio.post(form, token="another-accounts-token").status_code == 403
    response = twilio.client.post("/webhooks/twilio", data=form)          # no header at all
    assert response.status_code == 403
    tampered = dict(form, Body="something else")
    from twilio.request_validator import RequestValidator
    good = RequestValidator("twilio-auth-token-for-tests").compute_signature(PUBLIC_URL + "/webhooks/twilio", form)
    assert twilio.post(tampered, signature=good).status_code == 403


def test_the_signature_is_checked_against_the_public_url_not_the_proxy_address(twilio):
    form = twilio.form("مرحبا", "+9647501234567")
    from twilio.request_validator import RequestValidator
    internal = RequestValidator("twilio-auth-token-for-tests").compute_signature(
        "http://localhost/webhooks/twilio", form)
    assert twilio.post(form, signature=internal).status_code == 403


@pytest.mark.parametrize("drop, status", [("From", 400), ("MessageSid", 400)])
def test_missing_fields_get_400_with_a_reason(twilio, drop, status):
    form = twilio.form("مرحبا", "+9647501234567")
    form.pop(drop)
    if drop == "MessageSid":
        form.pop("SmsMessageSid")
    response = twilio.post(form)
    assert response.status_code == status
    assert drop in response.get_json()["error"]


def test_json_instead_of_a_form_gets_415(client):
    response = client.post("/webhooks/twilio", json={"From": "+964"})
    assert response.status_code == 415


def test_the_same_message_sid_twice_changes_nothing(twilio, runtime):
    form = twilio.form("مرحبا", "+9647501234567")
    first = twilio.post(form).get_data(as_text=True)
    second = twilio.post(form).get_data(as_text=True)
    assert first == second
    with runtime.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 1


def test_a_whatsapp_location_gets_a_polite_reply(twilio):
    twilio.say("مرحبا", sender="whatsapp:+9647701234567")
    response = twilio.post(payload("twilio", "whatsapp_location"))
    assert response.status_code == 200
    assert twiml_bodies(response.get_data(as_text=True))[0]


def test_whatsapp_shows_the_shelter_step_picture_by_public_url(twilio):
    sender = "whatsapp:+9647701234567"
    twilio.say("hello", sender=sender)
    twilio.say("3", sender=sender)
    twilio.say("1", sender=sender)
    response = twilio.post(twilio.form("1", sender))
    xml = response.get_data(as_text=True)
    assert f"<Media>{PUBLIC_URL}/content-images/shelter/" in xml


def test_status_callbacks_are_signed_too(twilio):
    form = payload("twilio", "status_delivered")
    assert twilio.post(form, path="/webhooks/twilio/status").status_code == 200
    assert twilio.post(form, path="/webhooks/twilio/status", signature="x").status_code == 403
    form.pop("MessageStatus"), form.pop("SmsStatus")
    assert twilio.post(form, path="/webhooks/twilio/status").status_code == 400
