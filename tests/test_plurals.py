"""Numbers in Arabic take the grammar's six forms (catalog plural forms), never one fixed word after a number."""
import pytest

from bot import create_app

from .conftest import Twilio


@pytest.mark.parametrize("days, expected", [("2", "خلال يومين"), ("7", "خلال ٧ أيام"), ("14", "خلال ١٤ يومًا"),
                                            ("1", "خلال يوم واحد")])
def test_the_promised_answer_time_reads_right_in_arabic(environ, tmp_path, days, expected):
    app = create_app({"INSTANCE_PATH": str(tmp_path / "i"), "TESTING": True,
                      "ENVIRON": {**environ, "RESPONSE_DAYS": days}})
    twilio = Twilio(app.test_client())
    twilio.say("مرحبا", "+9647509990101")
    twilio.say("شكوى", "+9647509990101")
    reply = "\n".join(twilio.say("لم نستلم السلة الغذائية منذ شهرين في مخيم شاريا", "+9647509990101"))
    assert expected in reply, reply
    app.extensions["bot"].dispose()


def test_the_welcome_says_ninety_days_with_the_right_noun(twilio):
    assert any("٩٠ يومًا" in body for body in twilio.say("مرحبا", "+9647509990102"))
