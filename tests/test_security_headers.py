"""Security headers on every response: the dashboard, the login page, /try, the webhooks, static files.

Pages are fetched through Flask's test client, anonymously and as a signed-in focal point; the webhook
posts are real signed Twilio form posts and real Telegram update JSON. The CSP allows no inline script
or style, so every template and every rendered page is checked for them too, and headless Chromium signs
in, opens a case with a photo, types an answer, sees the charts and uses /try with no CSP violation.
"""
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from bot import create_app, users

from .conftest import Telegram, Twilio
from .fakes import serve_in_thread
from .test_dashboard import PASSWORD, sign_in
from .test_dashboard_browser import browser  # noqa: F401  (headless Chromium, or a skip without it)
from .test_feedback import code_in

TEMPLATES = Path(__file__).parent.parent / "bot" / "templates"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
EXPECTED = {"Content-Security-Policy": CSP, "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin"}


@pytest.fixture
def secured(environ, tmp_path):
    """The app as deployed, with the /try page on (bot/app.py calls security_headers.init_app in build_app)."""
    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"), "TESTING": True,
                      "ENVIRON": {**environ, "TRY_PAGE": "1"}})
    assert "security_headers" in app.extensions     # wired by bot/app.py, not by the test
    yield app
    app.extensions["bot"].dispose()


@pytest.fixture
def focal_point(secured):
    """A focal point (sees sensitive cases and personal data), signed in through the login form."""
    with secured.extensions["bot"].transaction() as db:
        users.create(db, "focal@agency.example", "Focal", PASSWORD, "focal_point")
    return sign_in(secured, "focal@agency.example")


def assert_secured(response, where: str, hsts: bool = True):
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (where, response.status_code, name, response.headers.get(name))
    assert ("Strict-Transport-Security" in response.headers) is hsts, where
    if hsts:
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def get_routes(app) -> list[str]:
    """Every GET route without arguments, as the app registers it."""
    return sorted(r.rule for r in app.url_map.iter_rules() if "GET" in r.methods and not r.arguments)


class Inline(HTMLParser):
    """Collects what a CSP without 'unsafe-inline' would block: inline scripts, styles, event handlers."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        if tag == "script" and not names.get("src"):
            self.found.append("inline <script>")
        if tag == "style":
            self.found.append("<style> element")
        for name, value in attrs:
            if name == "style" or name.startswith("on"):
                self.found.append(f"<{tag} {name}=…>")
            if name in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith(
                    "javascript:"):
                self.found.append(f"<{tag} {name}=javascript:…>")


def inline_in(html: str) -> list[str]:
    parser = Inline()
    parser.feed(html)
    return parser.found


def test_every_page_carries_the_headers_signed_in_or_not(secured, focal_point):
    twilio = Twilio(secured.test_client())
    sender = "+9647701234299"
    twilio.say("مرحبا", sender)
    twilio.say("شكوى", sender)
    code = code_in("\n".join(twilio.say("الماء مقطوع", sender)))
    routes = get_routes(secured)
    assert {"/dashboard/login", "/dashboard/cases", "/try", "/", "/healthz"} <= set(routes)
    pages = routes + [f"/dashboard/cases/{code}", "/dashboard/export.csv", "/dashboard/language/ar",
                      "/static/dashboard.css", "/static/dashboard.js", "/static/try.css", "/no-such-page"]
    anonymous = secured.test_client()
    for client, who in ((anonymous, "anonymous"), (focal_point, "focal point")):
        for path in pages:
            response = client.get(path)
            assert_secured(response, f"{who} GET {path}")
            if response.mimetype == "text/html":
                assert inline_in(response.get_data(as_text=True)) == [], f"{who} GET {path}"


def test_the_webhooks_answer_with_the_headers(secured):
    twilio, telegram = Twilio(secured.test_client()), Telegram(secured.test_client())
    assert_secured(twilio.post(twilio.form("مرحبا", "+9647701234298")), "POST /webhooks/twilio")
    assert_secured(telegram.post(telegram.update("مرحبا")), "POST /webhooks/telegram")
    assert_secured(telegram.post(telegram.update("مرحبا"), secret="wrong"), "POST /webhooks/telegram (refused)")
    status = twilio.form("", "+9647701234298", MessageStatus="delivered")
    assert_secured(twilio.post(status, path="/webhooks/twilio/status"), "POST /webhooks/twilio/status")


def test_strict_transport_security_only_over_https(environ, tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"), "TESTING": True,
                      "ENVIRON": {**environ, "PUBLIC_URL": "http://localhost:5000"}})
    try:
        assert "security_headers" in app.extensions     # wired by bot/app.py, not by the test
        client = app.test_client()
        assert_secured(client.get("/dashboard/login"), "plain http", hsts=False)
        assert_secured(client.get("/dashboard/login", base_url="https://localhost"), "https")
    finally:
        app.extensions["bot"].dispose()


def test_no_template_needs_unsafe_inline():
    """The same check on the sources: pages not rendered above (a broadcast, a contact) are covered too."""
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for pattern in (r"<script(?![^>]*\ssrc=)[^>]*>", r"<style\b", r"<[^>]*\sstyle\s*=",
                        r"<[^>]*\son[a-z]+\s*=", r"javascript:"):
            found += [f"{path.relative_to(TEMPLATES)}: {m.group(0)[:60]}" for m in re.finditer(pattern, text)]
    assert found == []


def test_the_charts_are_drawn_without_style_attributes(secured, focal_point):
    twilio = Twilio(secured.test_client())
    for n, sender in enumerate(("+9647701234201", "+9647701234202")):
        twilio.say("مرحبا", sender)
        twilio.say("شكوى", sender)
        twilio.say(f"الماء مقطوع {n}", sender)
    page = focal_point.get("/dashboard/reports")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<svg" in html and "<rect" in html
    assert inline_in(html) == []


# ---- In a real browser: the pages work under the policy, and it reports no violation ----------------

def _png() -> bytes:
    """A real 1x1 PNG, so the browser has something to draw."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


@pytest.fixture
def served(fake, tmp_path, sqlite_template):
    """The secured app on a loopback port (SQLite only: the backends are covered above)."""
    import shutil

    from werkzeug.serving import make_server

    from .conftest import DATA_KEY, PUBLIC_URL, SECRET, TWILIO_TOKEN
    shutil.copy(sqlite_template, tmp_path / "bot.sqlite3")
    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"), "TESTING": True, "ENVIRON": {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}", "DATA_KEY": DATA_KEY, "SECRET_KEY": "test-secret",
        "PUBLIC_URL": PUBLIC_URL, "TELEGRAM_BOT_TOKEN": "123456:TEST-token", "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "TELEGRAM_API_URL": fake.url, "TWILIO_ACCOUNT_SID": "AC00000000000000000000000000000000",
        "TWILIO_AUTH_TOKEN": TWILIO_TOKEN, "TWILIO_SMS_FROM": "+9647000000000", "TWILIO_API_URL": fake.url,
        "AUTO_MIGRATE": "1", "TRY_PAGE": "1"}})
    assert "security_headers" in app.extensions     # wired by bot/app.py, not by the test
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    serve_in_thread(httpd)
    yield app, f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()
    app.extensions["bot"].dispose()


def test_the_dashboard_and_try_page_work_in_a_browser_under_the_policy(browser, served, fake):
    from .test_dashboard_browser import _HttpClient
    from .test_media_safety import MEDIA, sms_case_with
    app, base = served
    with app.extensions["bot"].transaction() as db:
        users.create(db, "officer@agency.example", "Officer", PASSWORD, "officer")
    fake.files[MEDIA] = (_png(), "image/png")
    code = sms_case_with(Twilio(_HttpClient(base)), "https://api.twilio.com" + MEDIA, kind="image/png")

    context = browser.new_context(locale="en-US", base_url=base)
    page = context.new_page()
    page.set_default_timeout(10_000)
    blocked = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto("/dashboard/login")
    page.fill("input[name=email]", "officer@agency.example")
    page.fill("input[name=password]", PASSWORD)
    page.click("form.narrow button")
    page.wait_for_url("**/dashboard/cases")
    assert page.evaluate("getComputedStyle(document.body).margin") == "0px"     # dashboard.css applies
    page.goto(f"/dashboard/cases/{code}")
    page.wait_for_function("() => document.querySelector('p.media img').naturalWidth === 1")   # the photo shows
    page.locator("#answer-text").press_sequentially("hello")                  # dashboard.js runs
    assert page.locator("#answer-segments").inner_text() == "SMS characters / parts: 5 / 1"
    page.goto("/dashboard/reports")
    page.goto(f"/dashboard/cases/{code}/media/0")                              # the attachment on its own
    page.goto("/try")
    page.fill("input[name=text]", "hello")
    page.click("form.compose button")
    page.wait_for_selector(".bubble.bot")
    assert page.evaluate("getComputedStyle(document.querySelector('.bubble.bot')).borderTopLeftRadius") != "0px"
    context.close()
    assert blocked == []
