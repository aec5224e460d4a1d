"""What the bot could not answer is listed for editors, grouped, without numbers or sensitive reports; an
editor adds the wording as a keyword of the right item and the same question then gets that item."""
from datetime import timedelta

from sqlalchemy import update

from bot import retention, unanswered, users
from bot.models import Message, utcnow

from .conftest import Twilio
from .test_dashboard import PASSWORD, post_form, sign_in

QUESTION = "ابني عنده حبوب بجسمه وحكة"          # my son has spots on his body and itches: scabies, in Iraqi words


_TWILIO = {}


def _ask(app, sender, text):
    twilio = _TWILIO.get(app) or _TWILIO.setdefault(app, Twilio(app.test_client()))   # one message id sequence
    twilio.say("مرحبا", sender)
    return "\n".join(twilio.say(text, sender))


def _groups(runtime):
    with runtime.transaction() as db:
        return unanswered.groups(db, runtime.vault, runtime.content.get())


def test_questions_without_an_answer_are_grouped_without_numbers_or_sensitive_reports(app, runtime):
    first = _ask(app, "+9647506660001", QUESTION)
    assert "ليس لديّ جواب" in first, first
    _ask(app, "+9647506660002", "ابني عنده حبوب بجسمه وحكة شديدة، رقمي 07501234567")
    _ask(app, "+9647506660003", "موظف التوزيع طلب مني شيئا مقابل المساعدة")        # a sensitive report
    found = _groups(runtime)
    group = next(g for g in found if "حبوب" in g.phrase)
    assert group.count == 2 and group.language == "ar" and group.kinds["no_answer"] == 2
    assert group.answer_now is None
    shown = " ".join(group.examples())
    assert "07501234567" not in shown and "•••" in shown and "+96475066600" not in shown
    assert all("موظف التوزيع" not in t for g in found for t in g.texts)


def test_an_editor_adds_the_wording_as_a_keyword_and_the_question_then_gets_that_item(app, runtime):
    with runtime.transaction() as db:
        users.create(db, "editor@agency.example", "Ed", PASSWORD, "editor")
        users.create(db, "viewer@agency.example", "Vi", PASSWORD, "viewer")
    _ask(app, "+9647506660011", QUESTION)
    assert runtime.content.get().items["scabies-lice"].sms["ar"] not in _ask(app, "+9647506660012", QUESTION)

    viewer = sign_in(app, "viewer@agency.example")
    assert viewer.get("/dashboard/unanswered").status_code == 403

    editor = sign_in(app, "editor@agency.example")
    page = editor.get("/dashboard/unanswered").get_data(as_text=True)
    assert "حبوب" in page and "+96475066600" not in page
    response = post_form(editor, "/dashboard/unanswered", "/dashboard/unanswered/keyword", follow=True,
                         item="scabies-lice", language="ar", phrase=" ".join(QUESTION.split()))
    assert response.status_code == 200
    answer = _ask(app, "+9647506660013", QUESTION)
    assert runtime.content.get().items["scabies-lice"].sms["ar"] in answer, answer
    page = editor.get("/dashboard/unanswered").get_data(as_text=True)
    assert runtime.content.get().items["scabies-lice"].title["en"] in page     # how the bot answers it now


def test_a_keyword_that_belongs_to_another_item_is_refused(app, runtime):
    with runtime.transaction() as db:
        users.create(db, "editor@agency.example", "Ed", PASSWORD, "editor")
    taken = runtime.content.get().items["cholera"].keywords["ar"][0]
    editor = sign_in(app, "editor@agency.example")
    page = post_form(editor, "/dashboard/unanswered", "/dashboard/unanswered/keyword", follow=True,
                     item="heat", language="ar", phrase=taken).get_data(as_text=True)
    assert "points at two items" in page
    assert runtime.content.version_id == 1
    from bot import content_versions
    with runtime.transaction() as db:
        assert content_versions.published_id(db) == 1


def test_the_texts_go_with_the_message_retention(app, runtime):
    _ask(app, "+9647506660021", QUESTION)
    assert any("حبوب" in g.phrase for g in _groups(runtime))
    with runtime.transaction() as db:
        db.execute(update(Message).values(created_at=utcnow() - timedelta(days=400)))
    retention.purge(runtime)
    assert _groups(runtime) == []
