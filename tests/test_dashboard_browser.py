"""The staff dashboard in a real browser: headless Chromium (Debian's /usr/bin/chromium) driven by Playwright.

The real app is served on a loopback port; a complaint comes in through the signed Twilio webhook over HTTP;
an officer signs in through the form, filters the inbox, answers from the case page (watching the live SMS
part counter) and the answer reaches the loopback fake Twilio. Then the interface is switched to Arabic and
Sorani and must lay out right to left. Full-page screenshots go to tests/artifacts/ on every run.

No request may leave the local server: the dashboard must work on an office network with no internet.
Without Chromium (or Playwright) these tests skip, except in CI (CI=true), where they fail.
"""
import os
import re
import shutil
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from werkzeug.serving import make_server

from bot import users
from handlers.text import to_arabic_digits

from .conftest import Twilio
from .fakes import serve_in_thread
from .test_feedback import code_in

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).parent / "artifacts"
OFFICER, PASSWORD = "officer@agency.example", "correct horse battery"
SENDER = "+9647701234234"
ANSWER = "سيصل صهريج الماء إلى القطاع ٣ غدا صباحا، ونرجو إبلاغنا إذا لم يصل قبل الظهر. شكرا لصبركم."
PAGE_WEIGHT_BUDGET = 40_000   # bytes of HTML + CSS + JS for the inbox: officers work on slow links


def _unavailable(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}: CI must run the browser tests (.ci/run installs chromium)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    if not (os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright is not installed (pip install -r requirements-dev.txt)")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def database_url(tmp_path, sqlite_template):
    """SQLite only: the browser checks the pages, the database backends are covered elsewhere."""
    path = tmp_path / "bot.sqlite3"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def server(app):
    """The real app on a loopback port, many threads, as a browser and providers would reach it."""
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    serve_in_thread(httpd)
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()


class _HttpClient:
    """What conftest's Twilio helper needs from a client, over real HTTP to the served app."""

    class _Response:
        def __init__(self, response):
            self.status_code = response.status_code
            self._text = response.text

        def get_data(self, as_text=False):
            return self._text if as_text else self._text.encode()

    def __init__(self, base):
        self.base = base

    def post(self, path, data=None, headers=None):
        return self._Response(requests.post(self.base + path, data=data, headers=headers, timeout=30))


@pytest.fixture
def complaint(server, runtime):
    """An officer account and an SMS complaint, sent through the signed Twilio webhook."""
    with runtime.transaction() as db:
        users.create(db, OFFICER, "Officer Amal", PASSWORD, "officer")
    sms = Twilio(_HttpClient(server))
    sms.say("مرحبا", SENDER)
    sms.say("شكوى", SENDER)
    return code_in("\n".join(sms.say("الماء مقطوع في القطاع ٣ منذ ثلاثة أيام", SENDER)))


@pytest.fixture
def page(browser, server):
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 800},
                                  base_url=server)
    tab = context.new_page()
    tab.requests = []
    tab.on("request", lambda request: tab.requests.append(request.url))
    tab.set_default_timeout(10_000)
    yield tab
    context.close()


def only_local(urls: list[str], server: str) -> None:
    host = urlparse(server).hostname
    assert urls, "the browser made no request at all"
    elsewhere = [u for u in urls if urlparse(u).hostname != host]
    assert not elsewhere, f"requests to other hosts than {host}: {elsewhere}"


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page):
    page.goto("/dashboard/login")
    page.fill("input[name=email]", OFFICER)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.narrow button")
    page.wait_for_url("**/dashboard/cases")


def case_link(page, code):
    return page.locator(f'table.cases a[href="/dashboard/cases/{code}"]')


def test_an_officer_answers_a_complaint_in_the_browser(page, server, complaint, fake):
    sign_in(page)
    assert page.locator("h1").inner_text() == "Feedback inbox"
    assert case_link(page, complaint).count() == 1

    # filter by channel and status, as an officer would with the form
    page.select_option("select[name=channel]", "sms")
    page.select_option("select[name=status]", "new")
    page.click("form.filters button")
    page.wait_for_url("**/dashboard/cases?*")
    query = parse_qs(urlparse(page.url).query)
    assert query["channel"] == ["sms"] and query["status"] == ["new"]
    assert case_link(page, complaint).count() == 1
    page.select_option("select[name=channel]", "telegram")
    page.click("form.filters button")
    page.wait_for_url("**channel=telegram**")
    assert case_link(page, complaint).count() == 0
    assert "No cases match." in page.locator("table.cases").inner_text()
    page.select_option("select[name=channel]", "sms")
    page.click("form.filters button")
    page.wait_for_url("**channel=sms**")

    case_link(page, complaint).click()
    page.wait_for_url(f"**/dashboard/cases/{complaint}")
    assert complaint[3:] in page.locator("h1").inner_text()
    assert "الماء مقطوع" in page.locator(".said").first.inner_text()

    # the SMS part counter follows the typing: Arabic is UCS-2, 70 characters in one part, 67 per part after
    counter = page.locator("#answer-segments")
    assert counter.inner_text() == "SMS characters / parts: 0 / 0"
    box = page.locator("#answer-text")
    box.press_sequentially(ANSWER[:10])
    assert counter.inner_text() == "SMS characters / parts: 10 / 1"
    box.press_sequentially(ANSWER[10:])
    assert len(ANSWER) > 70
    assert counter.inner_text() == f"SMS characters / parts: {len(ANSWER)} / 2"
    assert counter.get_attribute("data-segments") == "2"

    page.select_option("form.answer select[name=status]", "in_progress")
    page.click("form.answer button")
    page.wait_for_url(f"**/dashboard/cases/{complaint}")
    assert "Answer queued" in page.locator(".flash").inner_text()

    sent = fake.sent("twilio")
    assert len(sent) == 1
    assert sent[0]["params"]["To"] == SENDER and ANSWER in sent[0]["params"]["Body"]
    answered = page.locator(".history li", has_text=ANSWER[:20])
    assert answered.count() == 1
    assert answered.locator(".delivery").inner_text() == "delivery: sent"
    assert "in progress" in page.locator(".facts").inner_text()
    sides_are_mirrored(page, rtl=False)
    shot(page, "case-en")

    page.goto("/dashboard/cases")
    assert case_link(page, complaint).count() == 1
    shot(page, "inbox-en")
    only_local(page.requests, server)


def sides_are_mirrored(page, rtl: bool) -> None:
    """The person's messages sit on the page's end side, the bot's on its start side, whatever their script;
    the masked number sits next to its label."""
    me, bot = page.locator(".bubble.me").first.bounding_box(), page.locator(".bubble.bot").first.bounding_box()
    if rtl:
        assert me["x"] < bot["x"], (me, bot)
    else:
        assert me["x"] + me["width"] > bot["x"] + bot["width"], (me, bot)
    person = page.locator(".facts dd a[href*='/dashboard/contacts/']")
    cell, link = person.locator("xpath=..").bounding_box(), person.bounding_box()
    if rtl:
        assert abs((cell["x"] + cell["width"]) - (link["x"] + link["width"])) < 2, (cell, link)
    else:
        assert abs(cell["x"] - link["x"]) < 2, (cell, link)
    assert "Project-Id-Version" not in page.locator(".history").inner_text()


@pytest.mark.parametrize("lang, name", [("ar", "العربية"), ("ckb", "کوردی")], ids=["ar", "ckb"])
def test_arabic_and_sorani_lay_out_right_to_left(page, server, complaint, fake, lang, name):
    sign_in(page)
    page.goto(f"/dashboard/cases/{complaint}")
    page.click(f'.langs a[lang="{lang}"]')              # the language switch, as staff use it
    page.wait_for_url(f"**/dashboard/cases/{complaint}")

    def right_to_left():
        html = page.locator("html")
        assert html.get_attribute("lang") == lang and html.get_attribute("dir") == "rtl"
        assert page.eval_on_selector("main", "m => getComputedStyle(m).direction") == "rtl"
        brand, langs = page.locator(".brand").bounding_box(), page.locator(".langs").bounding_box()
        assert brand["x"] > langs["x"], (brand, langs)   # mirrored: the brand on the right, languages on the left
        assert page.locator(".langs a[aria-current]").inner_text() == name

    right_to_left()
    text = "شكرا، سيصل الصهريج غدا"
    page.locator("#answer-text").press_sequentially(text)
    counter = page.locator("#answer-segments").inner_text()
    assert counter.endswith(": " + to_arabic_digits(f"{len(text)} / 1")), counter   # the page's digits
    page.click("form.answer button")
    page.wait_for_url(f"**/dashboard/cases/{complaint}")
    right_to_left()
    assert page.locator(".flash").count() == 1
    sent = fake.sent("twilio")
    assert len(sent) == 1 and text in sent[0]["params"]["Body"] and sent[0]["params"]["To"] == SENDER
    answered = page.locator(".history li", has_text=text)
    assert "d-sent" in answered.locator(".delivery").get_attribute("class")          # delivered to the fake
    assert "sent" not in answered.locator(".delivery").inner_text()                   # and said in the page's language
    sides_are_mirrored(page, rtl=True)
    shot(page, f"case-{lang}")

    page.click(".top nav a >> nth=0")                      # the inbox, from the navigation
    page.wait_for_url("**/dashboard/cases")
    right_to_left()
    assert case_link(page, complaint).count() == 1
    assert re.search("[٠-٩]", page.locator(".counts").inner_text())
    header = page.eval_on_selector("table.cases th", "th => getComputedStyle(th).textAlign")
    assert header in ("start", "right")
    first, last = (page.locator("table.cases th").nth(i).bounding_box() for i in (0, -1))
    assert first["x"] > last["x"]                           # the code column comes first, on the right
    shot(page, f"inbox-{lang}")
    only_local(page.requests, server)


def test_the_inbox_is_light_and_loads_nothing_from_elsewhere(browser, server, complaint):
    """Page weight of the inbox (HTML + CSS + JS), with an empty cache."""
    signed_in = browser.new_context(base_url=server, locale="en-US")
    try:
        sign_in(signed_in.new_page())
        fresh = browser.new_context(base_url=server, locale="en-US", storage_state=signed_in.storage_state())
    finally:
        signed_in.close()
    try:
        page = fresh.new_page()
        requested, responses = [], []
        page.on("request", lambda request: requested.append(request.url))
        page.on("response", lambda response: responses.append(response))
        started = time.monotonic()
        page.goto("/dashboard/cases", wait_until="load")
        took = time.monotonic() - started
        assert case_link(page, complaint).count() == 1
        weight = {}
        for response in responses:
            kind = response.request.resource_type
            weight[kind] = weight.get(kind, 0) + len(response.body())
    finally:
        fresh.close()
    only_local(requested, server)
    assert set(weight) <= {"document", "stylesheet", "script"}, weight   # no fonts, images or other calls
    total = sum(weight.values())
    print(f"\ninbox page weight: {weight}, total {total} bytes, loaded in {took:.2f}s")
    assert weight["document"] and weight["stylesheet"] and weight["script"]
    assert total < PAGE_WEIGHT_BUDGET, weight
