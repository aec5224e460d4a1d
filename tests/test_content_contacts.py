"""Referral contacts and emergency numbers are edited in the dashboard, per governorate or camp, each with
its source and check date; an unverified or sample entry never reaches people."""
from sqlalchemy import update

from bot import content_versions, users
from bot.models import Contact

from .conftest import Twilio
from .test_dashboard import PASSWORD, post_form, sign_in

FICTIONAL = "+964 750 555 0199"        # a test number, never shown outside the tests


def _editor(app, runtime):
    with runtime.transaction() as db:
        users.create(db, "editor@agency.example", "Ed", PASSWORD, "editor")
        users.create(db, "tr@agency.example", "Tr", PASSWORD, "translator")
    return sign_in(app, "editor@agency.example")


def _form(**values):
    base = {f"name_{lang}": f"Camp help desk {lang}" for lang in ("ar", "ckb", "kmr", "kmr_latn", "en")}
    base.update({"phone": FICTIONAL, "use": ["general"], "source": "Camp management notice board, Khanke",
                 "verified_on": "2026-12-01", "verified_by": "called by the CwC officer"})
    base.update(values)
    return base


def _help(app, sender, area=None, runtime=None):
    twilio = Twilio(app.test_client())
    twilio.n = int(sender[-4:]) * 10
    twilio.say("مرحبا", sender)
    if area:
        with runtime.transaction() as db:
            db.execute(update(Contact).values(area=area))
    return "\n".join(twilio.say("مساعدة", sender))


def test_a_new_verified_contact_for_duhok_reaches_people_there_after_publish(app, runtime):
    editor = _editor(app, runtime)
    page = editor.get("/dashboard/content/contacts").get_data(as_text=True)
    assert "no: marked sample" in page and "911" in page
    response = post_form(editor, "/dashboard/content/contacts/contact/new", "/dashboard/content/contacts/contact/new",
                         **_form(id="khanke-help-desk", areas=["duhok"]))
    assert response.status_code == 302, response.get_data(as_text=True)
    with runtime.transaction() as db:
        files, _ = content_versions.files_of(db, content_versions.draft(db))
    assert "khanke-help-desk" in files["referrals.yaml"] and "verified_on: 2026-12-01" in files["referrals.yaml"]
    assert app.test_cli_runner().invoke(args=["content", "publish"]).exit_code == 0
    assert FICTIONAL in _help(app, "+9647507770001", "duhok-khanke", runtime)
    with runtime.transaction() as db:
        db.execute(update(Contact).values(area="erbil-baharka"))
    assert FICTIONAL not in "\n".join(Twilio(app.test_client()).say("مساعدة", "+9647507770001"))


def test_a_contact_without_source_and_date_is_refused_at_publish_and_never_shown(app, runtime):
    editor = _editor(app, runtime)
    post_form(editor, "/dashboard/content/contacts/contact/new", "/dashboard/content/contacts/contact/new",
              **_form(id="unchecked-line", source="", verified_on=""))
    result = app.test_cli_runner().invoke(args=["content", "publish"])
    assert result.exit_code == 1 and "unchecked-line: a phone without source and verified_on is never shown" \
        in result.output
    assert FICTIONAL not in _help(app, "+9647507770002")


def test_a_sample_entry_is_never_shown_whatever_its_number(app, runtime):
    editor = _editor(app, runtime)
    response = post_form(editor, "/dashboard/content/contacts/contact/iom-migration",
                         "/dashboard/content/contacts/contact/iom-migration",
                         **_form(use=["general", "migration"], sample="1"))
    assert response.status_code == 302
    assert app.test_cli_runner().invoke(args=["content", "publish"]).exit_code == 0
    assert FICTIONAL not in _help(app, "+9647507770003")


def test_bad_values_are_refused_with_a_reason_and_translators_may_not_edit_numbers(app, runtime):
    editor = _editor(app, runtime)
    for values, reason in (({"phone": "call 0750<script>"}, "is not a number people can dial"),
                           ({"verified_on": "2999-01-01"}, "a date in the future"),
                           ({"areas": ["atlantis"]}, "not in areas.yaml")):
        page = post_form(editor, "/dashboard/content/contacts/contact/new", "/dashboard/content/contacts/contact/new",
                         **_form(id="x-desk", **values)).get_data(as_text=True)
        assert reason in page and "<script>" not in page
    with runtime.transaction() as db:
        assert content_versions.draft(db) is None
    translator = sign_in(app, "tr@agency.example")
    assert translator.get("/dashboard/content/contacts").status_code == 403


def test_a_staff_member_in_arabic_reads_the_reason_in_arabic(app, runtime):
    _editor(app, runtime)
    editor = sign_in(app, "editor@agency.example", lang="ar")
    page = post_form(editor, "/dashboard/content/contacts/contact/new", "/dashboard/content/contacts/contact/new",
                     **_form(id="x-desk", verified_on="2999-01-01")).get_data(as_text=True)
    assert "تاريخ التحقق: تاريخ في المستقبل." in page
