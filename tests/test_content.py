"""Content as data: complete in every language, within SMS budgets, checked by `content check`
(publishing and reloading: test_content_versions.py)."""
import pytest
import yaml

from handlers.content import CONTENT_DIR, load
from handlers.i18n import LANGUAGES
from handlers.sms import segments

from .conftest import edit_yaml

TOPICS = ("health", "safety", "shelter", "migration")


@pytest.fixture(scope="module")
def content():
    return load()


def test_the_shipped_content_has_no_problems(content):
    assert content.problems == []
    assert [t.id for t in content.topics] == list(TOPICS)
    for topic in content.topics:
        assert len(topic.items) >= 4, topic.id
    assert any(item.steps for item in content.topic("shelter").items)


def test_every_item_is_in_every_language_and_cites_its_sources(content):
    for item in content.items.values():
        for lang in LANGUAGES:
            assert item.title.get(lang) and item.sms.get(lang) and item.text.get(lang), (item.id, lang)
            assert item.keywords.get(lang), (item.id, lang)
        assert item.sources, item.id
        assert len(item.text["ar"]) >= 300, item.id      # substantive, not a one-liner


def test_sms_texts_fit_two_parts_in_arabic_script_and_english(content):
    for item in content.items.values():
        for lang in LANGUAGES:
            assert segments(item.sms[lang]) <= (3 if lang == "kmr_latn" else 2), (item.id, lang)


def test_every_file_is_marked_for_translator_review():
    for path in list((CONTENT_DIR / "topics").glob("*.yaml")) + [CONTENT_DIR / n for n in
                                                                  ("commands.yaml", "feedback.yaml", "areas.yaml")]:
        assert "review" in yaml.safe_load(path.read_text(encoding="utf-8")), path.name


def test_referral_placeholders_are_marked_as_samples():
    contacts = yaml.safe_load((CONTENT_DIR / "referrals.yaml").read_text(encoding="utf-8"))["contacts"]
    for contact in contacts:
        phone = str(contact.get("phone") or "")
        if phone and set(phone.replace("+964", "")) <= set("0 "):
            assert contact.get("sample") is True, contact["id"]




@pytest.mark.parametrize("change, message", [
    (lambda d: d["items"][0]["text"].pop("ckb"), "missing ckb"),
    (lambda d: d["items"][0]["sms"].update(ar="م" * 220), "over 150"),
    (lambda d: d["items"][0]["sms"].update(ckb="م" * 140), "item cholera sms [ckb]: 3 SMS parts, over 2 (140 characters)"),
    (lambda d: d["items"][1]["keywords"]["en"].append(d["items"][0]["keywords"]["en"][0]), "points at two items"),
])
def test_content_check_fails_on_broken_content(app, content_copy, change, message):
    edit_yaml(content_copy / "topics" / "health.yaml", change)
    app.extensions["bot"].content.content_dir = content_copy
    result = app.test_cli_runner().invoke(args=["content", "check"])
    assert result.exit_code == 1
    assert message in result.output


def test_content_check_fails_on_a_missing_picture(app, content_copy):
    next(content_copy.glob("images/shelter/*.png")).unlink()
    app.extensions["bot"].content.content_dir = content_copy
    result = app.test_cli_runner().invoke(args=["content", "check"])
    assert result.exit_code == 1 and "missing picture" in result.output


def test_content_check_passes_on_the_shipped_content(app):
    result = app.test_cli_runner().invoke(args=["content", "check"])
    assert result.exit_code == 0, result.output
    assert "0 problem(s)" in result.output
