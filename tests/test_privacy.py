"""Personal data: nothing in clear on disk, retention purges, and a person's own erasure."""
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update

from bot import retention
from bot.models import Case, CaseEvent, Contact, Message, utcnow

from .test_feedback import code_in


def test_the_database_files_hold_no_phone_number_and_no_feedback_text_in_clear(twilio, telegram, runtime, app):
    if not runtime.config["DATABASE_URL"].startswith("sqlite"):
        return  # the files on disk are SQLite's; PostgreSQL stores the same encrypted columns
    sender = "+9647508881234"
    twilio.say("مرحبا", sender)
    twilio.say("شكوى", sender)
    twilio.say("المسؤول أبو زيدون عن التوزيع يطلب رشوة", sender)
    telegram.say("سڵاو", chat_id=31337999)
    runtime.dispose()  # checkpoint the WAL into the file
    path = Path(runtime.config["DATABASE_URL"].removeprefix("sqlite:///"))
    raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    # The content (published versions) is in the database too and has words like رشوة in its examples:
    # what must not be in clear is what this person wrote, so a name and the sentence are looked for.
    for secret in ("9647508881234", "31337999", "أبو زيدون", "المسؤول أبو زيدون عن التوزيع يطلب رشوة"):
        assert secret.encode("utf-8") not in raw, secret


def test_retention_empties_old_message_texts_and_old_closed_cases(twilio, runtime):
    sender = "+9647508882222"
    twilio.say("مرحبا", sender)
    twilio.say("شكوى", sender)
    code = code_in("\n".join(twilio.say("no water for three days", sender)))
    long_ago = utcnow() - timedelta(days=400)
    with runtime.transaction() as session:
        session.execute(update(Message).values(created_at=long_ago))
        session.execute(update(Case).values(status="closed", closed_at=long_ago))
    result = retention.purge(runtime)
    assert result["messages"] >= 3 and result["cases"] == 1
    with runtime.transaction() as session:
        assert all(m.text_enc is None and m.replies_enc is None
                   for m in session.execute(select(Message)).scalars())
        case = session.execute(select(Case)).scalar_one()
        assert case.text_enc is None and case.purged_at is not None and case.code == code   # counts stay


def test_recent_data_is_kept(twilio, runtime):
    twilio.say("مرحبا", "+9647508883333")
    assert retention.purge(runtime)["messages"] == 0


def test_a_person_can_erase_their_data_after_a_confirmation_in_their_language(twilio, runtime):
    sender = "+9647508884444"
    twilio.say("سڵاو", sender)
    twilio.say("سکاڵا", sender)
    twilio.say("ئاو نییە", sender)
    ask = "\n".join(twilio.say("زانیارییەکانم بسڕەوە", sender))
    assert "١." in ask and "٢." in ask                        # yes / no, in Sorani digits
    with runtime.transaction() as session:
        assert session.execute(select(Contact)).first() is not None
    done = "\n".join(twilio.say("1", sender))
    assert done
    with runtime.transaction() as session:
        assert session.execute(select(Contact)).first() is None
        assert all(m.text_enc is None for m in session.execute(select(Message)).scalars())
        case = session.execute(select(Case)).scalar_one()
        assert case.text_enc is None and case.contact_id is None
        assert not session.execute(select(CaseEvent).where(CaseEvent.text_enc.is_not(None))).first()


def test_saying_no_to_erasure_keeps_everything(twilio, runtime):
    sender = "+9647508885555"
    twilio.say("hello", sender)
    twilio.say("delete my data", sender)
    twilio.say("2", sender)
    with runtime.transaction() as session:
        assert session.execute(select(Contact)).first() is not None


def test_stop_takes_effect_at_once_in_every_language(twilio):
    for n, (hello, stop, start) in enumerate([("مرحبا", "توقف", "ابدأ"), ("سڵاو", "ڕاوەستە", "دەستپێبکە"),
                                              ("silav", "raweste", "destpêk"), ("hello", "STOP", "start")]):
        sender = f"+96475088860{n:02d}"
        twilio.say(hello, sender)
        confirmed = "\n".join(twilio.say(stop, sender))
        assert confirmed
        after = "\n".join(twilio.say("1", sender))
        assert after and after != confirmed                # reminded how to come back, nothing else
        back = "\n".join(twilio.say(start, sender))
        assert "1." in back or "١." in back                # the menu again
