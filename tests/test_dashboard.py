"""The staff dashboard through Flask's test client: every route, every role, CSRF, escaping.

Cases come in through the real webhooks; staff sign in through the real login form.
"""
import re

import pyotp
import pytest
from sqlalchemy import select

from bot import users
from bot.models import AuditEvent, Case, Contact, Outbound, User

from .conftest import Telegram, Twilio, csrf_token, totp_code
from .test_feedback import code_in

PASSWORD = "correct horse battery"
ROLES = ("admin", "officer", "focal_point", "viewer")


@pytest.fixture
def staff(runtime):
    """One account per role; the admin with a second factor (admins must have one)."""
    with runtime.transaction() as db:
        for role in ROLES:
            user = users.create(db, f"{role}@agency.example", role.title(), PASSWORD, role)
            if role == "admin":
                users.enable_totp(db, runtime.vault, user)
    return {role: f"{role}@agency.example" for role in ROLES}


def sign_in(app, email, password=PASSWORD, lang="en"):
    client = app.test_client()
    client.get(f"/dashboard/language/{lang}")
    token = csrf_token(client, "/dashboard/login")
    response = client.post("/dashboard/login", data={"email": email, "password": password, "csrf_token": token,
                                                     "code": totp_code(app.extensions["bot"], email)})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def post_form(client, page, url, follow=False, **data):
    return client.post(url, data={**data, "csrf_token": csrf_token(client, page)}, follow_redirects=follow)


# nine digits: no seven-digit case code or six-digit microsecond can hold it, so "not in an export" is exact
CHAT_ID = 918273645


@pytest.fixture
def cases(app):
    """An ordinary complaint on SMS and a sensitive report on Telegram, through the webhooks."""
    sms, tg = Twilio(app.test_client()), Telegram(app.test_client())
    sender = "+9647701234234"
    sms.say("مرحبا", sender)
    sms.say("شكوى", sender)
    ordinary = code_in("\n".join(sms.say("الماء مقطوع في القطاع ٣ <script>alert(1)</script><img src=x onerror=alert(2)>",
                                         sender)))
    tg.say("مرحبا", chat_id=CHAT_ID)
    tg.say("5", chat_id=CHAT_ID)
    tg.say("6", chat_id=CHAT_ID)
    sensitive = code_in(tg.say("موظف التوزيع طلب مني شيئا مقابل المساعدة", chat_id=CHAT_ID)["text"])
    return {"ordinary": ordinary, "sensitive": sensitive, "sender": sender}


def test_every_page_needs_a_signed_in_account(client):
    for path in ("/dashboard/cases", "/dashboard/contacts", "/dashboard/reports", "/dashboard/audit",
                 "/dashboard/export.csv", "/dashboard/cases/1234567"):
        response = client.get(path)
        assert response.status_code == 302 and "/dashboard/login" in response.headers["Location"]


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(app, staff):
    client = app.test_client()
    token = csrf_token(client, "/dashboard/login")
    wrong = client.post("/dashboard/login", data={"email": staff["officer"], "password": "nope-nope-nope",
                                                  "csrf_token": token})
    unknown = client.post("/dashboard/login", data={"email": "nobody@agency.example", "password": PASSWORD,
                                                    "csrf_token": token})
    assert wrong.status_code == unknown.status_code == 200
    assert wrong.get_data(as_text=True).count("Wrong email or password") == 1
    assert client.get("/dashboard/cases").status_code == 302


def test_login_attempts_are_throttled(app, staff):
    client = app.test_client()
    token = csrf_token(client, "/dashboard/login")
    for _ in range(users.MAX_FAILURES):
        client.post("/dashboard/login", data={"email": staff["officer"], "password": "x" * 12, "csrf_token": token})
    blocked = client.post("/dashboard/login", data={"email": staff["officer"], "password": PASSWORD,
                                                    "csrf_token": token})
    assert blocked.status_code == 429
    assert client.get("/dashboard/cases").status_code == 302


def test_a_form_without_its_csrf_token_gets_400(app, staff, cases):
    client = sign_in(app, staff["officer"])
    response = client.post(f"/dashboard/cases/{cases['ordinary']}/note", data={"text": "no token"})
    assert response.status_code == 400
    login = app.test_client().post("/dashboard/login", data={"email": staff["officer"], "password": PASSWORD})
    assert login.status_code == 400


def test_the_session_cookie_is_http_only_and_same_site(app, staff):
    client = app.test_client()
    token = csrf_token(client, "/dashboard/login")
    response = client.post("/dashboard/login", data={"email": staff["admin"], "password": PASSWORD, "csrf_token": token,
                                                     "code": totp_code(app.extensions["bot"], staff["admin"])})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie   # PUBLIC_URL is https


def test_admins_can_add_a_second_factor(app, staff, runtime):
    result = app.test_cli_runner().invoke(args=["users", "totp", staff["admin"]])
    assert result.exit_code == 0, result.output
    secret = re.search(r"secret=([A-Z2-7]+)", result.output).group(1)
    client = app.test_client()
    token = csrf_token(client, "/dashboard/login")
    asks = client.post("/dashboard/login", data={"email": staff["admin"], "password": PASSWORD, "csrf_token": token})
    assert asks.status_code == 200 and 'name="code"' in asks.get_data(as_text=True)
    ok = client.post("/dashboard/login", data={"email": staff["admin"], "password": PASSWORD, "csrf_token": token,
                                               "code": pyotp.TOTP(secret).now()})
    assert ok.status_code == 302


def test_the_inbox_lists_cases_with_counts_and_filters(app, staff, cases):
    client = sign_in(app, staff["officer"])
    page = client.get("/dashboard/cases").get_data(as_text=True)
    assert cases["ordinary"][:3] in page
    for query, present in (("status=new", True), ("status=closed", False), ("channel=sms", True),
                           ("channel=telegram", False), ("language=ar", True), ("kind=complaint", True),
                           ("kind=thanks", False), ("overdue=yes", False), ("mine=yes", False),
                           ("from=2000-01-01&to=2100-01-01", True), ("from=2100-01-01", False),
                           ("q=مقطوع", True), ("q=nothing-like-this", False), ("from=garbage", True),
                           ("page=abc", True), ("page=99", False)):
        listed = client.get(f"/dashboard/cases?{query}")
        assert listed.status_code == 200, query
        shown = f'href="/dashboard/cases/{cases["ordinary"]}"' in listed.get_data(as_text=True)
        assert shown is present, query


def test_overdue_cases_are_flagged_against_the_response_time(app, staff, cases, runtime):
    from datetime import timedelta
    with runtime.transaction() as db:
        case = db.execute(select(Case).where(Case.code == cases["ordinary"])).scalar_one()
        case.created_at = case.created_at - timedelta(days=30)
    client = sign_in(app, staff["officer"])
    page = client.get("/dashboard/cases?overdue=yes").get_data(as_text=True)
    assert f'href="/dashboard/cases/{cases["ordinary"]}"' in page and "overdue" in page


@pytest.mark.parametrize("role", ["officer", "viewer"])
def test_sensitive_cases_do_not_exist_for_officers_and_viewers(app, staff, cases, role):
    client = sign_in(app, staff[role])
    inbox = client.get("/dashboard/cases").get_data(as_text=True)
    assert cases["sensitive"] not in inbox
    assert client.get("/dashboard/cases?sensitive=yes").get_data(as_text=True).count('href="/dashboard/cases/') == 0
    assert client.get(f"/dashboard/cases/{cases['sensitive']}").status_code == 404
    reports = client.get("/dashboard/reports")
    assert reports.status_code == 200
    assert "sensitive" not in reports.get_data(as_text=True).lower()
    if role == "officer":
        token = csrf_token(client, f"/dashboard/cases/{cases['ordinary']}")
        for action, data in (("answer", {"text": "hi"}), ("status", {"status": "closed"}), ("note", {"text": "x"})):
            response = client.post(f"/dashboard/cases/{cases['sensitive']}/{action}", data={**data, "csrf_token": token})
            assert response.status_code == 404
        export = client.get("/dashboard/export.json").get_data(as_text=True)
        assert cases["sensitive"] not in export and cases["ordinary"] in export


@pytest.mark.parametrize("role", ["focal_point", "admin"])
def test_focal_points_and_admins_see_sensitive_cases(app, staff, cases, role):
    client = sign_in(app, staff[role])
    assert cases["sensitive"] in client.get("/dashboard/cases?sensitive=yes").get_data(as_text=True)
    page = client.get(f"/dashboard/cases/{cases['sensitive']}")
    assert page.status_code == 200 and "موظف التوزيع" in page.get_data(as_text=True)


def test_a_viewer_reads_without_personal_data_and_cannot_change_anything(app, staff, cases):
    client = sign_in(app, staff["viewer"])
    page = client.get(f"/dashboard/cases/{cases['ordinary']}").get_data(as_text=True)
    assert "مقطوع" not in page and "234" not in page.split("<main", 1)[1].split("Reference", 1)[0]
    assert 'name="text"' not in page                          # no answer box
    token = csrf_token(client, "/dashboard/cases")
    for action, data in (("answer", {"text": "hi"}), ("status", {"status": "closed"}), ("note", {"text": "x"}),
                         ("assign", {"user_id": "me"})):
        response = client.post(f"/dashboard/cases/{cases['ordinary']}/{action}", data={**data, "csrf_token": token})
        assert response.status_code == 403, action
    assert client.get("/dashboard/export.csv").status_code == 403
    assert client.get("/dashboard/audit").status_code == 403
    assert client.get("/dashboard/cases?q=مقطوع").get_data(as_text=True).count('href="/dashboard/cases/') == 0


def test_what_a_person_wrote_is_shown_as_text_never_as_markup(app, staff, cases):
    client = sign_in(app, staff["officer"])
    page = client.get(f"/dashboard/cases/{cases['ordinary']}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "<img src=x onerror" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;img src=x onerror=alert(2)&gt;" in page


def test_the_case_page_shows_a_masked_address_and_the_conversation(app, staff, cases):
    client = sign_in(app, staff["officer"])
    page = client.get(f"/dashboard/cases/{cases['ordinary']}").get_data(as_text=True)
    assert "+9647701234234" not in page
    assert "+964 77• ••• •234" in page
    assert "مرحبا" in page                                   # the person's earlier messages
    assert "Send" in page and 'data-segments="answer-segments"' in page   # the answer box with its SMS counter
    assert "We received it, we are checking" in page and "شكراً لتواصلك معنا" in page   # saved answer, in Arabic


def test_the_sms_counter_works_without_javascript_too(app, staff):
    client = sign_in(app, staff["officer"])
    assert client.get("/dashboard/answer-segments?text=hello").get_json() == {"segments": 1, "characters": 5}
    assert client.get("/dashboard/answer-segments?text=" + "س" * 71).get_json()["segments"] == 2


def test_an_answer_from_the_case_page_reaches_the_person_and_is_recorded(app, staff, cases, fake, runtime):
    client = sign_in(app, staff["officer"])
    page = f"/dashboard/cases/{cases['ordinary']}"
    response = post_form(client, page, f"{page}/answer", text="سيصل صهريج الماء غدا", status="in_progress")
    assert response.status_code == 302
    sent = fake.sent("twilio")
    assert len(sent) == 1 and sent[0]["params"]["To"] == cases["sender"]
    assert "سيصل صهريج الماء غدا" in sent[0]["params"]["Body"]
    shown = client.get(page).get_data(as_text=True)
    assert "سيصل صهريج الماء غدا" in shown and "sent" in shown
    with runtime.transaction() as db:
        case = db.execute(select(Case).where(Case.code == cases["ordinary"])).scalar_one()
        assert case.status == "in_progress" and case.first_answer_at is not None
        assert db.execute(select(Outbound)).scalar_one().status == "sent"


def test_status_notes_and_assignment_are_recorded_with_who(app, staff, cases, runtime):
    client = sign_in(app, staff["officer"])
    page = f"/dashboard/cases/{cases['ordinary']}"
    assert post_form(client, page, f"{page}/status", status="referred").status_code == 302
    assert post_form(client, page, f"{page}/note", text="called the WASH partner").status_code == 302
    assert post_form(client, page, f"{page}/assign", user_id="me").status_code == 302
    assert post_form(client, page, f"{page}/status", status="no-such-status").status_code == 400
    assert post_form(client, page, f"{page}/assign", user_id="99999").status_code == 400
    shown = client.get(page).get_data(as_text=True)
    assert "called the WASH partner" in shown and "Officer" in shown
    assert client.get("/dashboard/cases?mine=yes").get_data(as_text=True).count(cases["ordinary"]) >= 1
    with runtime.transaction() as db:
        assert db.execute(select(Case.status).where(Case.code == cases["ordinary"])).scalar() == "referred"
        actions = set(db.execute(select(AuditEvent.action)).scalars())
    assert {"view_case", "case_status", "case_note", "case_assign", "login"} <= actions


def test_an_unknown_case_is_404(app, staff):
    client = sign_in(app, staff["admin"])
    assert client.get("/dashboard/cases/0000000").status_code == 404
    assert client.get("/dashboard/cases/<script>").status_code == 404


def test_contacts_are_listed_masked_and_only_admins_reveal_with_a_reason(app, staff, cases, runtime):
    officer = sign_in(app, staff["officer"])
    listing = officer.get("/dashboard/contacts").get_data(as_text=True)
    assert "+9647701234234" not in listing and "•234" in listing
    with runtime.transaction() as db:
        contact_id = db.execute(select(Contact.id).where(Contact.channel == "sms")).scalar()
    page = f"/dashboard/contacts/{contact_id}"
    assert officer.get(page).status_code == 200
    assert post_form(officer, page, f"{page}/reveal", reason="call back").status_code == 403
    admin = sign_in(app, staff["admin"])
    no_reason = post_form(admin, page, f"{page}/reveal", follow=True, reason="")
    assert "+9647701234234" not in no_reason.get_data(as_text=True)
    assert "+9647701234234" not in officer.get(f"{page}?revealed=1").get_data(as_text=True)
    revealed = post_form(admin, page, f"{page}/reveal", follow=True, reason="person asked for a call back")
    assert "+9647701234234" in revealed.get_data(as_text=True)
    assert "+9647701234234" not in admin.get(f"{page}?revealed=1").get_data(as_text=True)   # once, not forever
    with runtime.transaction() as db:
        event = db.execute(select(AuditEvent).where(AuditEvent.action == "reveal_address")).scalar_one()
        assert "call back" in (event.detail or "")
    viewer = sign_in(app, staff["viewer"])
    assert viewer.get("/dashboard/contacts").status_code == 403


def test_an_admin_erases_a_contact_on_request(app, staff, cases, runtime):
    with runtime.transaction() as db:
        contact_id = db.execute(select(Contact.id).where(Contact.channel == "sms")).scalar()
    officer = sign_in(app, staff["officer"])
    page = f"/dashboard/contacts/{contact_id}"
    assert post_form(officer, page, f"{page}/erase", confirm="yes").status_code == 403
    admin = sign_in(app, staff["admin"])
    assert post_form(admin, page, f"{page}/erase", confirm="yes").status_code == 400   # must type the word
    assert post_form(admin, page, f"{page}/erase", confirm="erase").status_code == 302
    with runtime.transaction() as db:
        case = db.execute(select(Case).where(Case.code == cases["ordinary"])).scalar_one()
        assert case.text_enc is None
        contact = db.get(Contact, contact_id)
        assert contact is None or contact.address_enc is None


def test_reports_draw_their_own_charts(app, staff, cases):
    client = sign_in(app, staff["officer"])
    page = client.get("/dashboard/reports").get_data(as_text=True)
    assert "<svg" in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "cdn" not in page.lower()


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_exports_hold_no_address_and_are_audited(app, staff, cases, runtime, fmt):
    client = sign_in(app, staff["admin"])
    response = client.get(f"/dashboard/export.{fmt}")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeffcode,") or fmt == "json"        # a BOM, so Excel reads the CSV as UTF-8
    assert cases["ordinary"] in body and "9647701234234" not in body and str(CHAT_ID) not in body
    with runtime.transaction() as db:
        assert db.execute(select(AuditEvent).where(AuditEvent.action == "export")).scalars().first() is not None


def test_the_audit_log_is_for_admins(app, staff, cases):
    officer = sign_in(app, staff["officer"])
    officer.get(f"/dashboard/cases/{cases['ordinary']}")
    assert officer.get("/dashboard/audit").status_code == 403
    admin = sign_in(app, staff["admin"])
    page = admin.get("/dashboard/audit").get_data(as_text=True)
    assert "view_case" in page or "Viewed" in page


@pytest.mark.parametrize("lang", ["ar", "ckb"])
def test_the_dashboard_speaks_arabic_and_sorani_right_to_left(app, staff, cases, lang):
    client = sign_in(app, staff["officer"], lang=lang)
    for path in ("/dashboard/cases", f"/dashboard/cases/{cases['ordinary']}", "/dashboard/contacts",
                 "/dashboard/reports", "/dashboard/login"):
        page = client.get(path).get_data(as_text=True)
        assert f'lang="{lang}"' in page and 'dir="rtl"' in page, path
    inbox = client.get("/dashboard/cases").get_data(as_text=True)
    assert "Inbox" not in inbox and "Sign out" not in inbox     # translated, not English
    assert re.search("[٠-٩]", inbox)                          # numbers in the locale's digits


def test_a_disabled_account_is_signed_out_at_once(app, staff, runtime):
    client = sign_in(app, staff["officer"])
    assert client.get("/dashboard/cases").status_code == 200
    result = app.test_cli_runner().invoke(args=["users", "disable", staff["officer"]])
    assert result.exit_code == 0, result.output
    assert client.get("/dashboard/cases").status_code == 302


def test_a_password_reset_signs_out_old_sessions(app, staff):
    client = sign_in(app, staff["officer"])
    result = app.test_cli_runner().invoke(args=["users", "reset-password", staff["officer"]],
                                          input="a brand new password\na brand new password\n")
    assert result.exit_code == 0, result.output
    assert client.get("/dashboard/cases").status_code == 302


def test_users_cli_manages_accounts(app, runtime):
    runner = app.test_cli_runner()
    made = runner.invoke(args=["users", "create", "amal@agency.example", "--name", "Amal", "--role", "officer"],
                         input=f"{PASSWORD}\n{PASSWORD}\n")
    assert made.exit_code == 0, made.output
    assert runner.invoke(args=["users", "create", "amal@agency.example", "--role", "officer"],
                         input=f"{PASSWORD}\n{PASSWORD}\n").exit_code != 0
    assert runner.invoke(args=["users", "set-role", "amal@agency.example", "focal_point"]).exit_code == 0
    assert runner.invoke(args=["users", "set-role", "amal@agency.example", "king"]).exit_code != 0
    listed = runner.invoke(args=["users", "list"]).output
    assert "amal@agency.example" in listed and "focal_point" in listed
    short = runner.invoke(args=["users", "create", "b@agency.example", "--role", "viewer"], input="short\nshort\n")
    assert short.exit_code != 0 and "10 characters" in short.output
    with runtime.transaction() as db:
        assert db.execute(select(User.role).where(User.email == "amal@agency.example")).scalar() == "focal_point"


def test_the_first_run_says_how_to_make_the_first_admin(environ, tmp_path, caplog):
    import logging

    from bot import create_app

    def start():
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            app = create_app({"INSTANCE_PATH": str(tmp_path / "i"), "ENVIRON": environ, "TESTING": True})
        return app
    app = start()
    assert "flask --app bot users create" in caplog.text
    app.test_cli_runner().invoke(args=["users", "create", "a@agency.example", "--role", "admin"],
                                 input=f"{PASSWORD}\n{PASSWORD}\n")
    app.extensions["bot"].dispose()
    start().extensions["bot"].dispose()
    assert "users create" not in caplog.text


def test_voice_notes_play_and_photos_show_on_the_case_page(app, staff, runtime, fake):
    from .conftest import payload
    from .fakes import PHOTO, VOICE
    tg = Telegram(app.test_client())
    tg.say("مرحبا", chat_id=555000111)
    assert tg.post(payload("telegram", "voice")).status_code == 200
    voice_code = code_in(tg.say("1", chat_id=555000111)["text"])
    sms = Twilio(app.test_client())
    sender = "whatsapp:+9647701234567"
    sms.say("hello", sender)
    sms.say("complaint", sender)
    form = payload("twilio", "whatsapp_voice")
    form.update({"MediaContentType0": "image/jpeg", "From": sender})
    photo_code = code_in("\n".join(__import__("tests.conftest", fromlist=["twiml_bodies"]).twiml_bodies(
        sms.post(form).get_data(as_text=True))))
    officer = sign_in(app, staff["officer"])
    voice_page = officer.get(f"/dashboard/cases/{voice_code}").get_data(as_text=True)
    assert f'<audio controls preload="none" src="/dashboard/cases/{voice_code}/media/0">' in voice_page
    photo_page = officer.get(f"/dashboard/cases/{photo_code}").get_data(as_text=True)
    assert f'<img src="/dashboard/cases/{photo_code}/media/0"' in photo_page
    voice = officer.get(f"/dashboard/cases/{voice_code}/media/0")
    assert voice.status_code == 200 and voice.data == VOICE and voice.mimetype == "audio/ogg"
    assert "no-store" in voice.headers["Cache-Control"]
    photo = officer.get(f"/dashboard/cases/{photo_code}/media/0")
    assert photo.status_code == 200 and photo.data == PHOTO and photo.mimetype == "image/jpeg"
    assert officer.get(f"/dashboard/cases/{photo_code}/media/5").status_code == 404
    viewer = sign_in(app, staff["viewer"])
    assert viewer.get(f"/dashboard/cases/{photo_code}/media/0").status_code == 403
    with runtime.transaction() as db:
        assert db.execute(select(AuditEvent).where(AuditEvent.action == "view_media")).scalars().first()


def test_admins_manage_staff_accounts_in_the_dashboard(app, staff, runtime):
    officer = sign_in(app, staff["officer"])
    assert officer.get("/dashboard/users").status_code == 403
    admin = sign_in(app, staff["admin"])
    page = admin.get("/dashboard/users").get_data(as_text=True)
    assert staff["viewer"] in page
    made = post_form(admin, "/dashboard/users", "/dashboard/users", email="shilan@agency.example", name="Shilan",
                     role="focal_point").get_data(as_text=True)
    password = re.search(r"shown once: ([\w-]+)", made).group(1)
    newcomer = sign_in(app, "shilan@agency.example", password=password)
    assert newcomer.get("/dashboard/cases").status_code == 200
    with runtime.transaction() as db:
        shilan = db.execute(select(User).where(User.email == "shilan@agency.example")).scalar_one()
        me = db.execute(select(User).where(User.email == staff["admin"])).scalar_one()
    assert post_form(admin, "/dashboard/users", f"/dashboard/users/{shilan.id}/role", role="viewer").status_code == 302
    assert post_form(admin, "/dashboard/users", f"/dashboard/users/{shilan.id}/disable").status_code == 302
    assert newcomer.get("/dashboard/cases").status_code == 302                  # signed out at once
    post_form(admin, "/dashboard/users", f"/dashboard/users/{me.id}/disable")    # not oneself
    with runtime.transaction() as db:
        assert db.get(User, me.id).active is True
        assert db.get(User, shilan.id).role == "viewer" and db.get(User, shilan.id).active is False
        actions = set(db.execute(select(AuditEvent.action)).scalars())
    assert {"user_create", "user_role", "user_disable"} <= actions


def test_a_strangers_wrong_passwords_do_not_lock_the_staff_member_out(app, staff):
    """Five wrong passwords from one address stop that address, not the person signing in from another."""
    stranger = app.test_client()
    token = csrf_token(stranger, "/dashboard/login")
    for _ in range(users.MAX_FAILURES):
        stranger.post("/dashboard/login", data={"email": staff["officer"], "password": "x" * 12, "csrf_token": token},
                      environ_base={"REMOTE_ADDR": "203.0.113.9"})
    again = stranger.post("/dashboard/login", data={"email": staff["officer"], "password": PASSWORD,
                                                    "csrf_token": token}, environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert again.status_code == 429
    officer = app.test_client()
    token = csrf_token(officer, "/dashboard/login")
    signed_in = officer.post("/dashboard/login", data={"email": staff["officer"], "password": PASSWORD,
                                                       "csrf_token": token}, environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert signed_in.status_code == 302


def test_behind_a_trusted_proxy_the_client_address_comes_from_x_forwarded_for(tmp_path):
    from flask import request

    from bot import create_app
    app = create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/p.db",
                      "TRUSTED_PROXIES": 1, "HUEY_IMMEDIATE": "1", "TESTING": True})

    @app.get("/_whoami")
    def whoami():
        return request.remote_addr or ""
    seen = app.test_client().get("/_whoami", headers={"X-Forwarded-For": "198.51.100.7"},
                                 environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert seen.get_data(as_text=True) == "198.51.100.7"
