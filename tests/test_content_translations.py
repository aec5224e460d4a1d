"""Translators' files (PO through Babel, XLSX through openpyxl) round-trip into the draft with a per-field
diff, or are refused whole with the reasons; and REVIEWED_ONLY answers only with reviewed translations."""
import io
import json

import pytest
from babel.messages.pofile import read_po, write_po

from bot import content_exchange, content_versions, create_app

from .conftest import Twilio

BADINI_HELLO = "سلاڤ، چاوانی؟"


def cli(app, *args, input=None):
    return app.test_cli_runner().invoke(args=list(args), input=input)


def _edit_po(path, key, change):
    catalog = read_po(io.BytesIO(path.read_bytes()))
    message = next(m for m in catalog if m.context == key)
    message.string = change(message)
    out = io.BytesIO()
    write_po(out, catalog, width=0)
    path.write_bytes(out.getvalue())


def _badini_cholera_sms(app, sender) -> str:
    twilio = Twilio(app.test_client())
    twilio.say(BADINI_HELLO, sender)
    twilio.say("١", sender)
    return "\n".join(twilio.say("١", sender))


def _draft_files(runtime) -> dict:
    with runtime.transaction() as session:
        return json.loads(content_versions.draft(session).files)


def test_a_badini_po_file_round_trips_with_a_diff_and_reaches_people(app, runtime, tmp_path):
    path = tmp_path / "kmr.po"
    result = cli(app, "content", "translations", "export", str(path), "--lang", "kmr")
    assert result.exit_code == 0, result.output
    catalog = read_po(io.BytesIO(path.read_bytes()))
    entry = next(m for m in catalog if m.context == "cholera.sms")
    assert entry.id.startswith("Diarrhoea?") and any(c.startswith("ar: ") for c in entry.auto_comments)
    old = entry.string
    new = old.replace("ORS", "ORSێ", 1)          # within the two SMS parts (a longer one is refused on publish)
    _edit_po(path, "cholera.sms", lambda m: new)

    shown = cli(app, "content", "translations", "import", str(path), input="n\n")
    assert "cholera.sms [kmr]" in shown.output and f"- {old}" in shown.output and f"+ {new}" in shown.output
    assert "nothing was imported" in shown.output
    with runtime.transaction() as session:
        assert content_versions.draft(session) is None          # declined: nothing applied

    done = cli(app, "content", "translations", "import", str(path), "--yes")
    assert done.exit_code == 0 and "kmr: 1 text(s) in the draft" in done.output, done.output
    files = _draft_files(runtime)
    assert new in files["topics/health.yaml"] and "state: draft" in files["reviews.yaml"]
    assert cli(app, "content", "publish").exit_code == 0
    assert new in _badini_cholera_sms(app, "+9647504440001")


def test_an_xlsx_file_for_sorani_round_trips(app, runtime, tmp_path):
    from openpyxl import load_workbook
    path = tmp_path / "ckb.xlsx"
    assert cli(app, "content", "translations", "export", str(path), "--lang", "ckb", "--format", "xlsx").exit_code == 0
    book = load_workbook(path)
    sheet = book["ckb"]
    row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == "cholera.title")
    assert row[1].value == "Cholera and diarrhoea" and row[2].value == "الكوليرا والإسهال"
    row[3].value = "کۆلێرا و سکچوونی ئاوی"
    book.save(path)
    result = cli(app, "content", "translations", "import", str(path), "--yes")
    assert result.exit_code == 0 and "+ کۆلێرا و سکچوونی ئاوی" in result.output, result.output
    assert 'ckb: "کۆلێرا و سکچوونی ئاوی"' in _draft_files(runtime)["topics/health.yaml"]


def _refused(app, runtime, path, *options):
    result = cli(app, "content", "translations", "import", str(path), "--yes", *options)
    assert result.exit_code == 1, result.output
    with runtime.transaction() as session:
        assert content_versions.draft(session) is None           # nothing half-applied
    return result.output


def test_a_broken_placeholder_is_refused(app, runtime, tmp_path):
    path = tmp_path / "ckb.po"
    cli(app, "content", "translations", "export", str(path), "--lang", "ckb")
    catalog = read_po(io.BytesIO(path.read_bytes()))
    key = next(m.context for m in catalog if "{emergency}" in m.id)
    _edit_po(path, key, lambda m: m.string.replace("{emergency}", "{ئیمێرجنسی}"))
    _edit_po(path, "cholera.title", lambda m: "کۆلێرا و سکچوونی ئاوی")      # a good change beside it
    output = _refused(app, runtime, path)
    assert f"{key}: placeholders {{emergency}} expected" in output and "nothing was imported" in output


def test_a_file_for_another_language_is_refused(app, runtime, tmp_path):
    path = tmp_path / "kmr.po"
    cli(app, "content", "translations", "export", str(path), "--lang", "kmr")
    _edit_po(path, "cholera.title", lambda m: "کۆلێرا و زکچوونا ئاڤی")
    assert "the file is for kmr, not ckb" in _refused(app, runtime, path, "--lang", "ckb")


def test_sorani_texts_in_a_badini_file_are_refused(app, runtime, tmp_path):
    path = tmp_path / "kmr.po"
    cli(app, "content", "translations", "export", str(path), "--lang", "kmr")
    catalog = read_po(io.BytesIO(path.read_bytes()))
    sorani = {e.key: e.texts["ckb"] for e in content_exchange.entries(_published_files(runtime))}
    for message in catalog:
        if message.context in sorani and message.context.endswith(".text"):
            message.string = sorani[message.context]
    out = io.BytesIO()
    write_po(out, catalog, width=0)
    path.write_bytes(out.getvalue())
    assert "read as" in _refused(app, runtime, path) and "(ckb), not kmr" in _refused(app, runtime, path)


def _published_files(runtime) -> dict:
    with runtime.transaction() as session:
        return json.loads(content_versions.published(session).files)


def test_a_translation_of_an_english_text_that_changed_since_is_refused(app, runtime, tmp_path):
    path = tmp_path / "kmr.po"
    cli(app, "content", "translations", "export", str(path), "--lang", "kmr")
    with runtime.transaction() as session:                    # an editor rewrites the English meanwhile
        files, images = content_versions.files_of(session, content_versions.published(session))
        files["topics/health.yaml"] = files["topics/health.yaml"].replace(
            'en: "Cholera and diarrhoea"', 'en: "Cholera and watery diarrhoea"', 1)
        content_versions.import_files(session, files, images, "test")
        content_versions.publish(session, "test")
    _edit_po(path, "cholera.title", lambda m: "کۆلێرا و زکچوونا ئاڤی")
    output = _refused(app, runtime, path)
    assert "cholera.title: the English source changed since this file was exported" in output


def test_a_file_that_is_not_po_nor_xlsx_is_refused(app, runtime, tmp_path):
    path = tmp_path / "x.po"
    path.write_bytes(b'msgid "a"\nmsgstr "b\n\x00\x01')
    output = _refused(app, runtime, path)
    assert "problem:" in output


@pytest.mark.parametrize("reviewed, expected_lang", [(["kmr", "ckb"], "kmr"), (["ckb"], "ckb"), ([], "kmr")])
def test_reviewed_only_answers_with_the_nearest_reviewed_translation(environ, tmp_path, reviewed, expected_lang):
    app = create_app({"INSTANCE_PATH": str(tmp_path / "i"), "TESTING": True,
                      "ENVIRON": {**environ, "REVIEWED_ONLY": "1"}})
    runtime = app.extensions["bot"]
    try:
        with runtime.transaction() as session:
            files, images = content_versions.files_of(session, content_versions.published(session))
            files["reviews.yaml"] = "reviews:\n  cholera:\n" + "".join(
                f"    {lang}: {{state: reviewed, by: 'user:1', at: '2026-12-07T05:00:00Z'}}\n" for lang in reviewed)
            content_versions.import_files(session, files, images, "test")
            content_versions.publish(session, "test")
        runtime.content.reload()
        content = runtime.content.get()
        answer = _badini_cholera_sms(app, "+9647504440009")
        assert content.items["cholera"].sms[expected_lang] in answer, answer
        note = "زمانێ ڤێ بەرسڤێ"
        assert (note in answer) == (expected_lang != "kmr"), answer
    finally:
        runtime.dispose()
