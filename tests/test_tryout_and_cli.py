"""The try-outs without a provider (terminal chat, /try) and the Telegram operator commands."""
import re

from sqlalchemy import select

from bot.models import Contact

from .conftest import csrf_token


def say(client, text):
    return client.post("/try", data={"text": text, "csrf_token": csrf_token(client, "/try")})


def test_terminal_chat_answers_in_sms_rendering_with_segment_counts(app):
    result = app.test_cli_runner().invoke(args=["chat", "--channel", "sms"], input="مرحبا\n1\n")
    assert result.exit_code == 0, result.output
    assert "segment(s)]" in result.output
    counts = [int(n) for n in re.findall(r"(\d+) segment", result.output)]
    assert counts and max(counts) <= 3
    assert "١." in result.output


def test_terminal_chat_shows_telegram_buttons(app):
    result = app.test_cli_runner().invoke(args=["chat", "--channel", "telegram"], input="hello\n")
    assert "[1. " in result.output and "🌐" in result.output


def test_the_try_page_holds_a_conversation_as_a_phone_shows_it(client):
    page = client.get("/try")
    assert page.status_code == 200 and b"<form" in page.data
    assert b"http://" not in page.data.replace(b"http://localhost", b"")      # nothing fetched from elsewhere
    say(client, "سڵاو")
    page = client.get("/try").get_data(as_text=True)
    assert "سڵاو" in page and 'dir="rtl"' in page
    say(client, "3")
    say(client, "1")
    page = client.get("/try").get_data(as_text=True)
    assert "<button" in page


def test_the_try_page_escapes_what_people_type(client):
    say(client, "<script>alert(1)</script>")
    page = client.get("/try").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_telegram_set_webhook_registers_the_public_url_with_the_secret(app, fake):
    result = app.test_cli_runner().invoke(args=["telegram", "set-webhook"])
    assert result.exit_code == 0, result.output
    call = next(c for c in fake.calls if c["method"] == "setWebhook")
    assert call["params"]["url"] == "https://bot.example.org/webhooks/telegram"
    assert call["params"]["secret_token"] == "s3cret-telegram"


def test_telegram_poll_answers_updates_through_the_same_dialogue(app, fake, runtime):
    from .conftest import payload
    update = payload("telegram", "text")
    update["message"]["text"] = "silav"
    fake.updates.append(update)
    result = app.test_cli_runner().invoke(args=["telegram", "poll", "--once", "--timeout", "0"])
    assert result.exit_code == 0, result.output
    sent = fake.sent("telegram")
    assert len(sent) == 1 and sent[0]["params"]["chat_id"] == "555000111"
    with runtime.transaction() as session:
        assert session.execute(select(Contact.language)).scalar() == "kmr_latn"


def test_a_try_post_without_its_csrf_token_is_refused(client):
    response = client.post("/try", data={"text": "hello"})
    assert response.status_code == 400
