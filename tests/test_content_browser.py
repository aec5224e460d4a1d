"""The Content editor in a real browser: headless Chromium (Debian's /usr/bin/chromium) driven by Playwright.

An editor works in the Arabic interface, right to left, with each language's fields in their own direction,
and watches the SMS counter switch from GSM-7 to UCS-2 parts as Arabic is typed; a publish the content
check refuses shows its reasons; a Sorani translator sees the other languages read-only and no publish
button. Screenshots go to tests/artifacts/. No request may leave the local server; without Chromium (or
Playwright) these tests skip, except in CI (CI=true), where they fail.
"""
import pytest

from bot import content_versions, users
from handlers.text import to_arabic_digits

from .test_dashboard_browser import browser, database_url, only_local, page, server, shot  # noqa: F401 (fixtures)

pytestmark = pytest.mark.slow

PASSWORD = "correct horse battery"
EDITOR, TRANSLATOR = "editor@agency.example", "shilan@agency.example"
ITEM = "/dashboard/content/items/cholera"


@pytest.fixture
def accounts(runtime, server):
    with runtime.transaction() as db:
        users.create(db, EDITOR, "Editor Lana", PASSWORD, "editor")
        users.create(db, TRANSLATOR, "Shilan", PASSWORD, "translator").languages = "ckb"


def sign_in(page, email):
    page.goto("/dashboard/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.narrow button")
    page.wait_for_url("**/dashboard/content")          # editors and translators start at Content


def direction(page, selector: str) -> str:
    return page.eval_on_selector(selector, "e => getComputedStyle(e).direction")


def test_the_editor_in_arabic_is_right_to_left_and_counts_sms_parts_as_arabic_is_typed(page, server, accounts):
    sign_in(page, EDITOR)
    page.click('.langs a[lang="ar"]')
    page.wait_for_url("**/dashboard/content")
    page.goto(ITEM)
    html = page.locator("html")
    assert html.get_attribute("lang") == "ar" and html.get_attribute("dir") == "rtl"
    assert direction(page, "main") == "rtl"
    assert page.locator("button.save").inner_text() == "حفظ في المسودة"          # the Arabic catalog
    for lang, expected in (("ar", "rtl"), ("ckb", "rtl"), ("kmr", "rtl"), ("kmr_latn", "ltr"), ("en", "ltr")):
        field = page.locator(f"#f-sms-{lang}")
        assert field.get_attribute("lang") == lang and field.get_attribute("dir") == expected
        assert direction(page, f"#f-sms-{lang}") == expected, lang
    first, last = page.locator("#f-sms-ar").bounding_box(), page.locator("#f-sms-en").bounding_box()
    assert first["x"] > last["x"]                                   # Arabic first, on the right

    counter = page.locator("#f-sms-en-n")
    box = page.locator("#f-sms-en")
    box.fill("")
    box.press_sequentially("Boil water")
    assert counter.get_attribute("data-encoding") == "GSM-7" and counter.get_attribute("data-parts") == "1"
    assert to_arabic_digits("10 / 150") in counter.inner_text()     # the page's digits
    box.press_sequentially(" اغلِ الماء")                          # one Arabic letter makes it all UCS-2
    assert counter.get_attribute("data-encoding") == "UCS-2"
    assert to_arabic_digits(f"{len('Boil water اغلِ الماء')} / 150") in counter.inner_text()
    box.fill("ماء " * 20)                                           # 80 UCS-2 characters: two parts
    assert counter.get_attribute("data-parts") == "2" and "over" not in counter.get_attribute("class")
    box.fill("ماء " * 40)                                           # 160: over the 150 budget, three parts
    assert counter.get_attribute("data-parts") == "3" and "over" in counter.get_attribute("class")
    ar = page.locator("#f-sms-ar-n")
    assert ar.get_attribute("data-encoding") == "UCS-2" and ar.get_attribute("data-parts") == "2"
    shot(page, "content-editor-ar")
    only_local(page.requests, server)


def test_a_refused_publish_shows_its_reasons_and_publishes_nothing(page, server, accounts, runtime):
    sign_in(page, EDITOR)
    page.goto(ITEM)
    page.fill("#f-sms-ckb", "س" * 160)
    page.click("form#item-form button.save")
    page.wait_for_url(f"**{ITEM}")
    assert "Saved in the draft" in page.locator(".flash").inner_text()
    assert "over" in page.locator("#f-sms-ckb-n").get_attribute("class")
    page.click(".subnav a[href='/dashboard/content/publish']")
    page.wait_for_url("**/dashboard/content/publish")
    assert "160 characters, over 150" in page.locator("#problems").inner_text()
    assert page.locator("pre.diff .d-add").count() >= 1
    page.click("button.publish")
    page.wait_for_load_state()
    assert "Not published" in page.locator(".flash.error").inner_text()
    assert "item cholera sms [ckb]: 160 characters, over 150" in page.locator("#problems").inner_text()
    with runtime.transaction() as db:
        assert content_versions.published_id(db) == 1
    shot(page, "content-publish-refused")
    only_local(page.requests, server)


def test_a_translator_edits_only_their_language_and_has_no_publish_button(page, server, accounts, runtime):
    sign_in(page, TRANSLATOR)
    page.goto(ITEM)
    kmr = page.locator("#f-sms-kmr")
    assert kmr.get_attribute("readonly") is not None and kmr.get_attribute("name") is None
    before = kmr.input_value()
    kmr.press_sequentially("x", timeout=2000)                        # a read-only field takes no typing
    assert kmr.input_value() == before
    assert page.locator("#f-sms-ckb").get_attribute("readonly") is None
    assert page.locator("textarea[name^='sources']").count() == 0
    page.locator("#f-title-ckb").fill("کۆلێرا و سکچوون")
    page.check("input[name=reviewed][value=ckb]")
    assert page.locator("input[name=reviewed]").count() == 1         # only Sorani can be ticked
    page.click("form#item-form button.save")
    page.wait_for_url(f"**{ITEM}")
    row = page.locator(".review-states tr", has=page.locator('th[lang="ckb"]'))
    assert "reviewed" in row.locator(".review").get_attribute("class")
    shot(page, "content-translator")
    page.click(".subnav a[href='/dashboard/content/publish']")
    page.wait_for_url("**/dashboard/content/publish")
    assert page.locator("button.publish").count() == 0
    assert "An editor or an admin publishes." in page.locator("main").inner_text()
    page.goto("/dashboard/content/topics/health")
    assert page.locator("details.retire").count() == 0 and page.locator("form[action$='/move']").count() == 0
    only_local(page.requests, server)
