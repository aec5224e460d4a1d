"""A poll end to end in a real browser (headless Debian Chromium through Playwright): three people subscribe
through the bot (Arabic on SMS, Sorani on Telegram, Badini on WhatsApp); an officer writes a two-question
poll in the dashboard, watching the SMS parts of a question with its options; an admin approves it; the
officer sends it and opens the results page. Then the people answer through the real webhooks (signed
Twilio posts, Telegram update JSON) while the page stays open: the counts fill in without a reload.
Screenshots of the editor and the results (English and Arabic) go to tests/artifacts/.
"""
from sqlalchemy import select

from bot import users
from bot.broadcasts import FOOTER
from bot.models import Contact, PollAnswer
from handlers.i18n import Translator
from handlers.polls import PollQuestion, render_question
from handlers.sms import segments

from .conftest import Twilio
from .test_broadcast_browser import sign_in, subscribe_three_people, telegram_says
from .test_dashboard_browser import (  # noqa: F401  (fixtures)
    PASSWORD,
    _HttpClient,
    browser,
    database_url,
    only_local,
    server,
    shot,
)

QUESTION = {"ar": "هل استلمت عائلتك حقيبة الشتاء؟", "ckb": "ئایا خێزانەکەت جانتای زستانی وەرگرت؟",
            "kmr": "ئەرێ خێزانا تە جانتایا زڤستانێ وەرگرت؟"}
OPTIONS = {"ar": "نعم\nلا", "ckb": "بەڵێ\nنەخێر", "kmr": "ئەرێ\nنەخێر"}
SECOND = {"ar": "ما الذي ينقص عائلتك هذا الشتاء؟", "ckb": "خێزانەکەت ئەم زستانە پێویستی بە چییە؟",
          "kmr": "خێزانا تە ڤێ زڤستانێ پێدڤی ب چییە؟"}
SMS, WHATSAPP, CHAT = "+9647501110001", "whatsapp:+9647501110003", 8100200


def test_a_poll_written_in_the_browser_fills_its_results_page_as_people_answer(browser, server, runtime, fake):
    subscribe_three_people(server)
    with runtime.transaction() as db:
        assert db.execute(select(Contact).where(Contact.subscribed.is_(True))).scalars().all()
        users.create(db, "writer@agency.example", "Officer Shilan", PASSWORD, "officer")
        users.create(db, "boss@agency.example", "Admin Dilan", PASSWORD, "admin")
    before = len(fake.sent())

    writer_context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    writer = sign_in(writer_context, server, "writer@agency.example")
    seen: list[str] = []
    writer.on("request", lambda request: seen.append(request.url))
    blocked: list[str] = []           # the strict CSP: no inline script or style anywhere on the way
    writer.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    writer.click("header nav >> text=Polls")
    writer.click("text=New poll")
    writer.fill("input[name=title]", "Winter kits")
    for lang in QUESTION:
        writer.fill(f"textarea[name=q1_text_{lang}]", QUESTION[lang])
    counter = writer.locator("#seg-q1-ar")
    alone = counter.inner_text()
    for lang in QUESTION:
        writer.fill(f"textarea[name=q1_options_{lang}]", OPTIONS[lang])
    writer.select_option("select[name=q2_kind]", "free")
    for lang in SECOND:
        writer.fill(f"textarea[name=q2_text_{lang}]", SECOND[lang])
    # the counter counts question 1 as the phone receives it: "(١/٢)", the numbered options, how to
    # answer and how to stop, as the bot renders it (more than one SMS part in Arabic script)
    as_sent = render_question("ar", PollQuestion("choice", QUESTION["ar"], OPTIONS["ar"].split("\n")), 1, 2) \
        + "\n" + Translator("ar")(FOOTER)
    assert counter.inner_text() != alone
    assert counter.inner_text() == f"SMS characters / parts: {len(as_sent)} / {segments(as_sent)}"
    assert segments(as_sent) == 2
    shot(writer, "poll-editor-en")
    writer.click("text=Save draft and preview")
    writer.wait_for_url("**/dashboard/polls/*")
    page_url = writer.url
    body = writer.inner_text("main")
    assert "3 people" in body and "must approve" in body
    assert "١. نعم" in body and SECOND["kmr"] in body
    shot(writer, "poll-page-en")                                 # the previews per channel

    boss_context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    boss = sign_in(boss_context, server, "boss@agency.example")
    boss.goto(page_url)
    boss.click("button:has-text('Approve')")
    boss.wait_for_load_state()
    assert "approved" in boss.inner_text("h1")

    writer.goto(page_url)
    writer.click("button:has-text('Send now')")
    writer.wait_for_load_state()
    writer.click("a.button:has-text('Results')")
    writer.wait_for_url("**/results")
    writer.wait_for_function("() => document.querySelector('[data-count=received]').textContent === '3'")
    assert writer.inner_text("[data-count=answered]") == "0"
    writer.evaluate("() => { window.stayedOnThePage = true; }")     # gone if the page reloads

    sms = Twilio(_HttpClient(server))
    sms.n = 100                                                   # Twilio's message ids go on from the subscriptions
    sms.say("١", SMS)                                             # Arabic on SMS: yes
    telegram_says(server, "بەڵێ", CHAT, 900100)                    # Sorani on Telegram: yes, in words
    sms.say("2", WHATSAPP)                                        # Badini on WhatsApp: no
    writer.wait_for_function("() => document.querySelector('[data-count=answered]').textContent === '3'",
                             timeout=20_000)
    assert writer.inner_text("#q1 [data-option='1']") == "2" and writer.inner_text("#q1 [data-option='2']") == "1"
    sms.say("بطانيات إضافية للأطفال", SMS)                          # question 2: a free answer
    writer.wait_for_function("() => document.querySelector('#q2 [data-count=q-answered]').textContent === '1'",
                             timeout=20_000)
    assert writer.evaluate("() => window.stayedOnThePage === true")  # all of it without a reload
    with runtime.transaction() as db:
        assert db.execute(select(PollAnswer).where(PollAnswer.question == 0)).scalars().all()
    shot(writer, "poll-results-en")
    only_local(seen, server)
    assert any("/results.json?stamp=" in url for url in seen) and blocked == []

    arabic_context = browser.new_context(locale="ar", viewport={"width": 1280, "height": 900})
    arabic = sign_in(arabic_context, server, "writer@agency.example")
    arabic.goto(f"{server}/dashboard/language/ar?next={writer.url.replace(server, '')}")
    assert arabic.get_attribute("html", "dir") == "rtl"
    assert arabic.inner_text("[data-count=received]") == "٣"
    shot(arabic, "poll-results-ar")
    for context in (writer_context, boss_context, arabic_context):
        context.close()
    asked = [call["params"] for call in fake.sent()[before:]]
    assert any(QUESTION["ar"] in (p.get("Body") or "") for p in asked)
    assert any(QUESTION["ckb"] in (p.get("text") or "") for p in asked)
