"""What an SMS answer costs: Latin-script answers stay GSM-7, Latin Kurmanji can go in plain letters
(SMS_FOLD_LATIN), and `content check --sms-report` prints the parts per language."""
import re
import shutil

from bot import create_app
from handlers.content import CONTENT_DIR
from handlers.sms import is_gsm7, segments

from .conftest import Twilio


def test_the_sms_report_prints_parts_per_language(app):
    result = app.test_cli_runner().invoke(args=["content", "check", "--sms-report"])
    assert result.exit_code == 0, result.output
    rows = {}
    for line in result.output.splitlines():
        found = re.match(r"(\w+(?: folded)?)\s+(\d+)\s+([\d.]+)\s+(\d)\s", line)
        if found:
            rows[found.group(1)] = float(found.group(3))
    assert set(rows) == {"ar", "ckb", "kmr", "kmr_latn", "kmr_latn folded", "en"}, result.output
    average = rows.get
    assert average("kmr_latn folded") < average("kmr_latn") and average("en") < 1.5


def test_latin_kurmanji_goes_as_gsm7_when_folding_is_on(environ, tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path / "i"), "TESTING": True,
                      "ENVIRON": {**environ, "SMS_FOLD_LATIN": "1"}})
    twilio = Twilio(app.test_client())
    twilio.say("silav", "+9647508880001")
    bodies = twilio.say("kolêra", "+9647508880001")
    assert bodies and all(is_gsm7(body) for body in bodies), bodies
    app.extensions["bot"].dispose()


def test_without_folding_latin_kurmanji_keeps_its_letters(twilio):
    twilio.say("silav", "+9647508880002")
    assert any("ê" in body or "î" in body or "ş" in body for body in twilio.say("kolêra", "+9647508880002"))


def test_content_check_fails_on_m2_with_a_superscript_in_an_sms_text(app, tmp_path):
    copy = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, copy)
    path = copy / "topics" / "shelter.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("at least 3.5 m2 of covered space", "at least 3.5 m² of covered space", 1),
                    encoding="utf-8")
    app.extensions["bot"].content.content_dir = copy
    result = app.test_cli_runner().invoke(args=["content", "check"])
    assert result.exit_code == 1 and "'²' is not GSM-7" in result.output, result.output
    assert segments("m²") == 1
