"""A broadcast end to end, as staff and people meet it: three people subscribe through the bot in three
languages on three channels; an officer writes the announcement in the dashboard, an admin approves it,
the officer sends it and watches the progress bar; each person receives the text in their own language.
Screenshots of the broadcast page (English and Arabic) go to tests/artifacts/.
"""
import json

import pyotp
import requests
from sqlalchemy import select

from bot import users
from bot.models import Contact

from .conftest import SECRET, Twilio, payload
from .test_dashboard_browser import (  # noqa: F401
    ARTIFACTS,
    PASSWORD,
    _HttpClient,
    browser,
    database_url,
    only_local,
    server,
    shot,
)

TEXTS = {"ar": "توزيع البطانيات يوم الخميس الساعة ٩ صباحا عند بوابة المخيم.",
         "ckb": "دابەشکردنی بەتانی ڕۆژی پێنجشەممە کاتژمێر ٩ی بەیانی لە دەروازەی کەمپ.",
         "kmr": "دابەشکرنا بەتانیان ڕۆژا پێنجشەمبێ دەمژمێر ٩ێ سپێدێ ل دەرگەهێ کەمپێ."}


def telegram_says(server, text, chat_id, update_id, language_code="ckb"):
    body = payload("telegram", "text")
    body["update_id"] = update_id
    body["message"]["text"] = text
    body["message"]["chat"]["id"] = body["message"]["from"]["id"] = chat_id
    body["message"]["from"]["language_code"] = language_code
    response = requests.post(f"{server}/webhooks/telegram", data=json.dumps(body, ensure_ascii=False).encode(),
                             headers={"X-Telegram-Bot-Api-Secret-Token": SECRET,
                                      "Content-Type": "application/json"}, timeout=30)
    assert response.status_code == 200
    return response.json()


def subscribe_three_people(server):
    sms = Twilio(_HttpClient(server))
    for text in ("مرحبا", "٦", "١", "٠", "١"):                       # Arabic on SMS: all news, no area, yes
        sms.say(text, "+9647501110001")
    for n, text in enumerate(("سڵاو", "6", "1", "0", "1")):           # Sorani on Telegram
        telegram_says(server, text, 8100200, 900000 + n)
    for text in ("سلاڤ، چاوانی؟", "6", "1", "0", "1"):                # Badini on WhatsApp
        sms.say(text, "whatsapp:+9647501110003")


def sign_in(context, server, email):
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    tab.goto(f"{server}/dashboard/login")
    tab.fill("input[name=email]", email)
    tab.fill("input[name=password]", PASSWORD)
    tab.click("form.narrow button")
    tab.wait_for_selector("input[name=step], header nav", state="attached")
    if tab.locator("input[name=step]").count():        # an admin's first sign-in: set up the second factor
        secret = tab.locator("input[readonly]").first.input_value()
        tab.fill("input[name=code]", pyotp.TOTP(secret).now())
        tab.click("form.narrow button")
    tab.wait_for_url("**/dashboard/cases")
    return tab


def test_three_people_in_three_languages_receive_an_announcement_sent_from_the_dashboard(
        browser, server, runtime, fake):
    subscribe_three_people(server)
    with runtime.transaction() as db:
        rows = db.execute(select(Contact.channel, Contact.language, Contact.subscribed)).all()
        assert sorted(rows) == [("sms", "ar", True), ("telegram", "ckb", True), ("whatsapp", "kmr", True)]
        users.create(db, "writer@agency.example", "Officer Shilan", PASSWORD, "officer")
        users.create(db, "boss@agency.example", "Admin Dilan", PASSWORD, "admin")
    before = len(fake.sent())

    writer_context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    writer = sign_in(writer_context, server, "writer@agency.example")
    requests_seen = []
    writer.on("request", lambda request: requests_seen.append(request.url))
    writer.click("text=Broadcasts")
    writer.click("text=New broadcast")
    writer.fill("input[name=title]", "Blanket distribution")
    for lang, text in TEXTS.items():
        writer.fill(f"textarea[name=text_{lang}]", text)
    assert "/ 2" in writer.inner_text("#seg-ar") or "/ 1" in writer.inner_text("#seg-ar")   # live SMS parts
    writer.click("text=Save draft and preview")
    writer.wait_for_url("**/dashboard/broadcasts/*")
    page_url = writer.url
    body = writer.inner_text("main")
    assert "3 people" in body and "must approve" in body
    for text in TEXTS.values():
        assert text in body                                            # the previews, one per language

    boss_context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    boss = sign_in(boss_context, server, "boss@agency.example")
    boss.goto(page_url)
    boss.click("button:has-text('Approve')")
    boss.wait_for_load_state()
    assert "approved" in boss.inner_text("h1")

    writer.goto(page_url)
    writer.click("button:has-text('Send now')")
    writer.wait_for_load_state()
    writer.wait_for_function("() => document.querySelector('.progress').getAttribute('aria-valuenow') === '100'")
    assert writer.inner_text("[data-count=sent]") == "3"
    shot(writer, "broadcast-en")
    only_local(requests_seen, server)

    arabic_context = browser.new_context(locale="ar", viewport={"width": 1280, "height": 900})
    arabic = sign_in(arabic_context, server, "writer@agency.example")
    arabic.goto(f"{server}/dashboard/language/ar?next={page_url.replace(server, '')}")
    assert arabic.get_attribute("html", "dir") == "rtl"
    assert arabic.inner_text("[data-count=sent]") == "٣"
    shot(arabic, "broadcast-ar")
    for context in (writer_context, boss_context, arabic_context):
        context.close()

    got = {}
    for call in fake.sent()[before:]:
        p = call["params"]
        key = str(p.get("chat_id") or p.get("To"))
        got[key] = p.get("text") or p.get("Body")
    assert TEXTS["ar"] in got["+9647501110001"] and "توقف" in got["+9647501110001"]
    assert TEXTS["ckb"] in got["8100200"]
    assert TEXTS["kmr"] in got["whatsapp:+9647501110003"]
    assert len(got) == 3
