"""Odd inputs and sequences on the staff dashboard and the operator commands, as every role and signed out.

The first part holds one regression test per bug found by fuzzing (named test_bug_...); each failed
before its fix. A few failed only on PostgreSQL (NUL characters, column lengths, bigint offsets), which
SQLite accepts; their docstring says so. The second part is a compact table of odd inputs that already
behave: a 4xx, a redirect or a polite page, never a 500, and no sensitive case shown to officers or viewers.
"""
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.models import AuditEvent, Broadcast, Case, CaseEvent, User, utcnow
from handlers.text import to_arabic_digits

from .conftest import csrf_token
from .test_broadcasts import delivered, person
from .test_dashboard import PASSWORD, cases, post_form, sign_in, staff  # noqa: F401  (fixtures)

HUGE = "9" * 30                       # fits no database integer
SENSITIVE_TEXT = "موظف التوزيع"       # what the sensitive report in the `cases` fixture says


@pytest.fixture(autouse=True)
def _errors_as_500(app):
    """An unhandled exception answers 500, as in production, instead of propagating into the test."""
    app.config["PROPAGATE_EXCEPTIONS"] = False


def _contact_of(runtime, code: str) -> int:
    with runtime.transaction() as db:
        return db.execute(select(Case.contact_id).where(Case.code == code)).scalar_one()


def _no_traceback(result) -> bool:
    return result.exception is None or isinstance(result.exception, SystemExit)


# ---------------------------------------------------------------------------------------------------------
# Bugs: one test each
# ---------------------------------------------------------------------------------------------------------

def test_bug_officers_read_a_sensitive_report_in_the_conversation_log(app, staff, cases, runtime):
    """The contact page (bot/dashboard/contacts.py:54-59) and the case page of any other case of the same
    person (bot/dashboard/cases.py:127-133) list the person's last messages and the bot's replies, unfiltered:
    an officer reads the sensitive report (and the bot's 'what happened is not your fault') that the inbox,
    search, exports and the case's own page hide from them."""
    contact_id = _contact_of(runtime, cases["sensitive"])
    with runtime.transaction() as db:       # the same person later asks an ordinary question
        db.add(Case(code="1112223", contact_id=contact_id, kind="question", sensitive=False, status="new",
                    language="ar", channel="telegram", text_enc=runtime.vault.encrypt("متى التوزيع؟")))
    officer = sign_in(app, staff["officer"])
    contact_page = officer.get(f"/dashboard/contacts/{contact_id}")
    assert contact_page.status_code in (200, 404)
    assert SENSITIVE_TEXT not in contact_page.get_data(as_text=True), "contact page"
    case_page = officer.get("/dashboard/cases/1112223")
    assert case_page.status_code == 200
    assert SENSITIVE_TEXT not in case_page.get_data(as_text=True), "another case of the same person"


def test_bug_resuming_a_paused_scheduled_broadcast_sends_it_before_its_time(app, runtime, fake, staff):
    """bot/broadcasts.py:204-208: resume() sets every paused broadcast to 'sending', also one paused while it
    was only scheduled (for next month here): it went out at once."""
    person(runtime, "sms", "+9647500000071", "ar")
    officer, admin = sign_in(app, staff["officer"]), sign_in(app, staff["admin"])
    made = post_form(officer, "/dashboard/broadcasts/new", "/dashboard/broadcasts/new", title="later",
                     text_ar="توزيع بعد شهر", at=(datetime.now() + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M"))
    page = made.headers["Location"]
    post_form(admin, page, f"{page}/approve")
    post_form(officer, page, f"{page}/send")
    assert officer.get(f"{page}/progress.json").get_json()["status"] == "scheduled"
    post_form(officer, page, f"{page}/pause")
    post_form(officer, page, f"{page}/resume")
    assert delivered(fake) == []
    assert officer.get(f"{page}/progress.json").get_json()["status"] == "scheduled"


def test_bug_a_broadcast_scheduled_late_on_9999_12_31_breaks_the_broadcast_pages(app, staff):
    """`broadcast create --at '9999-12-31 23:00'` (UTC) is accepted; when() (bot/dashboard/__init__.py:64)
    moves it to Baghdad time, past year 9999: OverflowError, and the Broadcasts list answers 500 for good."""
    made = app.test_cli_runner().invoke(args=["broadcast", "create", "--title", "far", "--text", "ar=نص",
                                              "--at", "9999-12-31 23:00"])
    officer = sign_in(app, staff["officer"])
    pages = {url: officer.get(url).status_code for url in ("/dashboard/broadcasts", "/dashboard/broadcasts/1")}
    assert made.exit_code != 0 or pages == {"/dashboard/broadcasts": 200, "/dashboard/broadcasts/1": 200}, pages
    assert all(code < 500 for code in pages.values()), pages


def test_bug_composing_a_broadcast_for_year_one_is_500(app, staff):
    """bot/dashboard/broadcasts.py:55 catches ValueError only; 0001-01-01T00:00 in Baghdad is before year 1
    in UTC: OverflowError."""
    officer = sign_in(app, staff["officer"])
    response = post_form(officer, "/dashboard/broadcasts/new", "/dashboard/broadcasts/new", title="t",
                         text_ar="نص", at="0001-01-01T00:00")
    assert response.status_code == 400 and "not valid" in response.get_data(as_text=True)


def test_bug_numbers_too_big_for_the_database_are_500(app, staff):
    """int() of a URL part or ?page= goes to the database unchecked: SQLite raises OverflowError past 2**63,
    PostgreSQL 'bigint out of range' for the offset. (cases.py:79, contacts.py:21, reports.py:98 pages;
    <int:...> ids in contacts.py, broadcasts.py, accounts.py.)"""
    admin = sign_in(app, staff["admin"])
    token = csrf_token(admin, "/dashboard/cases")
    got = {}
    for url in (f"/dashboard/cases?page={HUGE}", f"/dashboard/contacts?page={HUGE}", f"/dashboard/audit?page={HUGE}",
                f"/dashboard/contacts/{HUGE}", f"/dashboard/broadcasts/{HUGE}",
                f"/dashboard/broadcasts/{HUGE}/progress.json"):
        got[url] = admin.get(url).status_code
    for url in (f"/dashboard/users/{HUGE}/disable", f"/dashboard/contacts/{HUGE}/reveal",
                f"/dashboard/contacts/{HUGE}/erase", f"/dashboard/broadcasts/{HUGE}/approve"):
        got[url] = admin.post(url, data={"csrf_token": token, "reason": "why", "confirm": "erase"}).status_code
    assert {url: code for url, code in got.items() if code >= 500} == {}


def test_bug_assigning_an_odd_user_id_is_500_or_silently_unassigns(app, staff, cases, runtime):
    """bot/dashboard/cases.py:206: '²'.isdigit() is True but int('²') raises (500); a number too big for the
    database is 500 too; '-1', '1.5' or ' 2' are not digits and unassign the case without a word."""
    officer = sign_in(app, staff["officer"])
    page = f"/dashboard/cases/{cases['ordinary']}"
    assert post_form(officer, page, f"{page}/assign", user_id="me").status_code == 302
    got = {raw: post_form(officer, page, f"{page}/assign", user_id=raw).status_code
           for raw in ("²", HUGE, "-1", "1.5", " 2")}
    with runtime.transaction() as db:
        assigned = db.execute(select(Case.assigned_to).where(Case.code == cases["ordinary"])).scalar()
        me = db.execute(select(User.id).where(User.email == staff["officer"])).scalar()
    assert got == {raw: 400 for raw in got} and assigned == me, (got, assigned)


def test_bug_the_inbox_until_9999_12_31_is_500(app, staff):
    """bot/dashboard/cases.py:57 adds a day to the 'to' date: datetime overflows past 9999-12-31."""
    officer = sign_in(app, staff["officer"])
    assert officer.get("/dashboard/cases?to=9999-12-31").status_code == 200


def test_bug_nul_characters_are_500_with_psycopg(app, staff, cases, runtime):
    """Fails on PostgreSQL only (psycopg2 refuses NUL in a string): inbox filters, the case code in the URL,
    the audit filter, contact filters, a reveal reason, a broadcast title and an account's email reach the
    database as they are; so do the codes and emails of `feedback show` and `users disable`."""
    admin = sign_in(app, staff["admin"])
    got = {url: admin.get(url).status_code for url in (
        "/dashboard/cases?status=%00", "/dashboard/cases?area=%00", "/dashboard/cases/%00", "/dashboard/audit?action=%00",
        "/dashboard/contacts?channel=%00")}
    contact_id = _contact_of(runtime, cases["ordinary"])
    for page, url, data in (
            (f"/dashboard/contacts/{contact_id}", f"/dashboard/contacts/{contact_id}/reveal", {"reason": "why\x00"}),
            ("/dashboard/broadcasts/new", "/dashboard/broadcasts/new", {"title": "T\x00", "text_ar": "نص"}),
            ("/dashboard/users", "/dashboard/users", {"email": "a@b\x00c", "name": "n", "role": "viewer"})):
        got[url] = post_form(admin, page, url, **data).status_code
    runner = app.test_cli_runner()
    for args in (["feedback", "show", "a\x00b"], ["users", "disable", "a\x00b"]):
        result = runner.invoke(args=args)
        got[" ".join(args)] = 1 if _no_traceback(result) and result.exit_code else 500
    assert {k: v for k, v in got.items() if v >= 500} == {}


def test_bug_an_over_long_account_email_is_taken(app, staff, runtime):
    """bot/users.py:55-57 checks no length: an email over 200 characters (users.email is String(200)) makes an
    account on SQLite that can never sign in (users.authenticate turns such an email into 'invalid'), and a
    500 / a traceback on PostgreSQL; a name over 120 characters is a 500 there too."""
    long_email = "x" * 250 + "@agency.example"
    admin = sign_in(app, staff["admin"])
    response = post_form(admin, "/dashboard/users", "/dashboard/users", email=long_email, name="N", role="viewer")
    named = post_form(admin, "/dashboard/users", "/dashboard/users", email="n@agency.example", name="n" * 300,
                      role="viewer")
    cli = app.test_cli_runner().invoke(args=["users", "create", "y" * 250 + "@agency.example",
                                             "--password", "long enough password"])
    assert response.status_code < 500 and named.status_code < 500 and _no_traceback(cli)
    with runtime.transaction() as db:
        emails = list(db.execute(select(User.email)).scalars())
    assert all(len(email) <= 200 for email in emails) and cli.exit_code != 0


def test_bug_the_command_line_gives_a_traceback_for_odd_numbers(app):
    """`feedback list --limit` and broadcast ids are plain ints: one too big for the database is a
    traceback (OverflowError on SQLite); `--limit -1` lists everything on SQLite and is a traceback on
    PostgreSQL ('LIMIT must not be negative'). bot/cli_feedback.py:28, bot/cli_broadcast.py:27-31."""
    runner = app.test_cli_runner()
    failures = {}
    for args in (["feedback", "list", "--limit", HUGE], ["feedback", "list", "--limit", "-1"],
                 ["broadcast", "show", HUGE], ["broadcast", "status", HUGE], ["broadcast", "approve", HUGE],
                 ["broadcast", "cancel", HUGE]):
        result = runner.invoke(args=args)
        if not _no_traceback(result) or result.exit_code == 0 or "Error" not in result.output:
            failures[" ".join(args)] = repr(result.exception) if not _no_traceback(result) else result.exit_code
    assert failures == {}


def test_bug_searching_a_code_as_it_is_shown_finds_nothing(app, staff, cases):
    """bot/dashboard/cases.py:91 looks for the raw text in the 7 ASCII digits; the inbox and the case page
    show the code as '123 4567', and people quote it in Arabic-Indic digits as their SMS showed it
    (the command line finds both, through codes.find_code)."""
    officer = sign_in(app, staff["officer"])
    code = cases["ordinary"]
    link = f'href="/dashboard/cases/{code}"'
    for query in (f"{code[:3]} {code[3:]}", to_arabic_digits(code), to_arabic_digits(f"{code[:3]} {code[3:]}")):
        assert link in officer.get("/dashboard/cases", query_string={"q": query}).get_data(as_text=True), query


def test_bug_a_failed_sign_in_is_shown_as_a_staff_members_action(app, staff, runtime):
    """bot/users.py:118 writes actor 'user:<typed email>'; who() (bot/dashboard/__init__.py:76) names
    'user:<digits>' as that staff member: typing '1' as email puts 'Admin: failed sign-in' in the audit log."""
    with runtime.transaction() as db:
        admin_id = db.execute(select(User.id).where(User.email == staff["admin"])).scalar()
    stranger = app.test_client()
    stranger.post("/dashboard/login", data={"email": str(admin_id), "password": "x" * 12,
                                            "csrf_token": csrf_token(stranger, "/dashboard/login")})
    page = sign_in(app, staff["admin"]).get("/dashboard/audit?action=login_failed").get_data(as_text=True)
    assert "<td>Admin</td><td>failed sign-in</td>" not in page


def test_bug_the_command_line_disables_or_demotes_the_last_admin(app, staff, runtime):
    """bot/cli_users.py:57-79: `users disable` and `users set-role` accept the only active admin; then nobody
    can manage accounts in the dashboard (the dashboard itself keeps one admin: no one changes their own)."""
    runner = app.test_cli_runner()
    demoted = runner.invoke(args=["users", "set-role", staff["admin"], "viewer"])
    disabled = runner.invoke(args=["users", "disable", staff["admin"]])
    with runtime.transaction() as db:
        admins = db.execute(select(User).where(User.role == "admin", User.active.is_(True))).scalars().all()
    assert len(admins) == 1, (demoted.output, disabled.output)
    assert demoted.exit_code != 0 and disabled.exit_code != 0


def test_bug_a_long_note_is_cut_without_a_word(app, staff, cases, runtime):
    """bot/dashboard/cases.py:191 keeps the first 4000 characters of a note and says nothing; the note box
    has no maxlength, so the end of a long note is lost. (The reveal reason is cut at 200 the same way,
    contacts.py:77.)"""
    officer = sign_in(app, staff["officer"])
    page = f"/dashboard/cases/{cases['ordinary']}"
    note = "ملاحظة " * 700 + "THE END"
    response = post_form(officer, page, f"{page}/note", follow=True, text=note)
    with runtime.transaction() as db:
        stored = [runtime.vault.decrypt(e.text_enc) for e in db.execute(
            select(CaseEvent).where(CaseEvent.action == "note")).scalars()]
    refused = response.status_code == 400 or not stored
    assert refused or stored == [note.strip()], [len(s) for s in stored]


def test_bug_signing_out_leaves_the_session_cookie_valid(app, staff):
    """bot/dashboard/auth.py:41-46 only clears the browser's cookie: a copy taken before (shared computer,
    stolen cookie) still opens the dashboard for the rest of its twelve hours."""
    client = sign_in(app, staff["officer"])
    cookie = client.get_cookie("session").value
    assert post_form(client, "/dashboard/cases", "/dashboard/logout").status_code == 302
    replay = app.test_client()
    replay.set_cookie("session", cookie)
    assert replay.get("/dashboard/cases").status_code == 302


# ---------------------------------------------------------------------------------------------------------
# Odd inputs that behave: 4xx, a redirect or a polite page, never a 500, nothing sensitive for the others
# ---------------------------------------------------------------------------------------------------------

ODD_GETS = (
    # inbox filters, search and paging
    "/dashboard/cases?page=-5", "/dashboard/cases?page=0", "/dashboard/cases?page=1e3", "/dashboard/cases?page=99999",
    "/dashboard/cases?page=%D9%A3", "/dashboard/cases?status=%3Cscript%3E&status=closed", "/dashboard/cases?kind=",
    "/dashboard/cases?from=9999-12-31", "/dashboard/cases?from=0001-01-01&to=0001-01-01", "/dashboard/cases?from=2025-02-30",
    "/dashboard/cases?from=2030-01-01&to=2000-01-01", "/dashboard/cases?to=99999-01-01", "/dashboard/cases?sensitive=yes",
    "/dashboard/cases?overdue=yes&mine=yes&sensitive=maybe", "/dashboard/cases?language=" + "x" * 300,
    "/dashboard/cases?q=" + "x" * 3000, "/dashboard/cases?q=%ED%A0%80", "/dashboard/cases?q=%F0%9F%98%80",
    "/dashboard/cases?q=%D9%85%D9%88%D8%B8%D9%81&page=7", "/dashboard/cases?q=a&page=-1",
    # case pages
    "/dashboard/cases/0", "/dashboard/cases/-1", f"/dashboard/cases/{HUGE}", "/dashboard/cases/" + "1" * 3000,
    "/dashboard/cases/%3Cscript%3E", "/dashboard/cases/x/media/0", "/dashboard/cases/0/media/99",
    "/dashboard/answer-segments?text=" + "%F0%9F%98%80" * 400, "/dashboard/answer-segments?text=%ED%A0%80",
    "/dashboard/answer-segments",
    # contacts, reports, exports, audit
    "/dashboard/contacts?page=-3&subscribed=maybe&channel=web", "/dashboard/contacts/0", "/dashboard/contacts/1?revealed=1",
    "/dashboard/reports?from=9999-99-99&to=0000-00-00", "/dashboard/export.xml", "/dashboard/export.csv?since=9999-12-31",
    "/dashboard/export.csv?since=0001-01-01", "/dashboard/export.csv?since=junk",
        "/dashboard/export.json?status=bogus&status=new",
    "/dashboard/export.json?since=2025-02-30", "/dashboard/audit?page=-1&action=" + "x" * 500,
    # accounts, broadcasts, language
    "/dashboard/users", "/dashboard/broadcasts/0", "/dashboard/broadcasts/404/progress.json",
    "/dashboard/language/xx", "/dashboard/language/ar?next=//evil.example", "/dashboard/language/en?next=/dashboard%0d%0aX:1",
    "/dashboard/nonexistent",
)


def _odd_posts(cases):
    ordinary, sensitive = cases["ordinary"], cases["sensitive"]
    page = f"/dashboard/cases/{ordinary}"
    return (
        (f"{page}/answer", {"text": ""}), (f"{page}/answer", {"text": "   "}),
        (f"{page}/answer", {"text": "مرحبا ‏RTL‏ \u202e عكس", "status": "bogus"}), (f"{page}/answer", {"text": "😀" * 500}),
        (f"{page}/answer", {"text": "<script>alert(1)</script>" * 100}), (f"{page}/answer", {"text": "x" * 20000}),
        (f"{page}/status", {"status": ""}), (f"{page}/status", {"status": "CLOSED"}), (f"{page}/status",
            {"status": "in progress"}),
        (f"{page}/note", {"text": ""}), (f"{page}/note", {"text": "<b>x</b>"}), (f"{page}/assign", {"user_id": "0"}),
        (f"{page}/assign", {"user_id": "٣"}), (f"{page}/assign", {"user_id": "me"}),
        (f"/dashboard/cases/{sensitive}/answer", {"text": "hi"}), (f"/dashboard/cases/{sensitive}/status", {"status": "closed"}),
        (f"/dashboard/cases/{sensitive}/assign", {"user_id": "me"}), ("/dashboard/cases/0000000/note", {"text": "x"}),
        ("/dashboard/contacts/1/reveal", {"reason": ""}), ("/dashboard/contacts/1/reveal", {"reason": "r" * 500}),
        ("/dashboard/contacts/999/reveal", {"reason": "why"}), ("/dashboard/contacts/999/erase", {"confirm": "erase"}),
        ("/dashboard/contacts/1/erase", {"confirm": "yes"}),
        ("/dashboard/users", {"email": "", "name": "n", "role": "viewer"}), ("/dashboard/users", {"email": "plain",
            "role": "viewer"}),
        ("/dashboard/users", {"email": "ADMIN@agency.example", "name": "dup", "role": "viewer"}),
        ("/dashboard/users", {"email": "r@agency.example", "role": "superuser"}),
        ("/dashboard/users", {"email": "<script>@agency.example", "name": "<b>n</b>", "role": "viewer"}),
        ("/dashboard/users/1/role", {"role": "king"}), ("/dashboard/users/1/delete", {}), ("/dashboard/users/0/disable", {}),
        ("/dashboard/broadcasts/new", {"title": "t", "text_ar": ""}), ("/dashboard/broadcasts/new", {"title": "t",
            "text_ar": "x" * 5000}),
        ("/dashboard/broadcasts/new", {"title": "t", "text_ar": "نص", "fallback": "ckb"}),
        ("/dashboard/broadcasts/new", {"title": "t", "text_ar": "نص", "language": "zz", "channel": "fax"}),
        ("/dashboard/broadcasts/new", {"title": "t", "text_ar": "نص", "area": "nowhere"}),
        ("/dashboard/broadcasts/new", {"title": "t", "text_ar": "نص", "topic": "nothing"}),
        ("/dashboard/broadcasts/new", {"title": "t", "text_ar": "نص", "at": "junk"}),
        ("/dashboard/broadcasts/new", {"title": "t", "text_ar": "نص", "at": "2025-02-30T10:00"}),
        ("/dashboard/broadcasts/new", {"title": "t", "text_ar": "نص", "at": "9999-12-31T23:59"}),
        ("/dashboard/broadcasts/new", {"title": "t" * 500, "text_en": "only English", "at": "2000-01-01T10:00"}),
        ("/dashboard/broadcasts/404/approve", {}), ("/dashboard/broadcasts/1/frobnicate", {}),
    )


def test_odd_inputs_on_every_route_never_give_500_and_hide_sensitive_cases(app, staff, cases, runtime):
    people = {role: sign_in(app, email) for role, email in staff.items()}
    people["signed out"] = app.test_client()
    sms_contact = _contact_of(runtime, cases["ordinary"])
    assert sms_contact == 1                                  # the table's /contacts/1 is the ordinary person
    failures, leaks = [], []
    for role, client in people.items():
        token = csrf_token(client, "/dashboard/login")
        requests = [("GET", url, None) for url in ODD_GETS] + [("POST", url, data) for url, data in _odd_posts(cases)]
        for method, url, data in requests:
            if method == "GET":
                response = client.get(url)
            else:
                response = client.post(url, data={**data, "csrf_token": token})
            body = response.get_data(as_text=True)
            if response.status_code >= 500:
                failures.append((role, method, url[:80], response.status_code))
            if role == "signed out" and not url.startswith("/dashboard/language") and response.status_code != 404 \
                    and "/dashboard/login" not in response.headers.get("Location", ""):
                failures.append((role, method, url[:80], "not sent to sign in"))
            if role in ("officer", "viewer") and (cases["sensitive"] in body or SENSITIVE_TEXT in body):
                leaks.append((role, url[:80]))
        client.get("/dashboard/language/en")
    assert failures == [] and leaks == []


@pytest.mark.parametrize("role", ["officer", "viewer"])
def test_sensitive_cases_stay_out_of_counts_search_exports_and_reports(app, staff, cases, role):
    client = sign_in(app, staff[role])
    inbox = client.get("/dashboard/cases").get_data(as_text=True)
    assert re.search(r"new: 1<", inbox)                      # the status counts leave the sensitive case out
    for url in ("/dashboard/cases?sensitive=yes", "/dashboard/cases?q=%D9%85%D9%88%D8%B8%D9%81",
                f"/dashboard/cases?q={cases['sensitive'][:4]}", "/dashboard/reports"):
        body = client.get(url).get_data(as_text=True)
        assert f'href="/dashboard/cases/{cases["sensitive"]}"' not in body and SENSITIVE_TEXT not in body, url
    if role == "officer":
        for fmt in ("csv", "json"):
            body = client.get(f"/dashboard/export.{fmt}?since=2000-01-01").get_data(as_text=True)
            assert cases["sensitive"] not in body and cases["ordinary"] in body


def test_broadcast_actions_in_the_wrong_state_are_refused_politely(app, runtime, staff):
    person(runtime, "telegram", "7072", "ckb")
    officer, admin = sign_in(app, staff["officer"]), sign_in(app, staff["admin"])
    focal = sign_in(app, staff["focal_point"])
    made = post_form(officer, "/dashboard/broadcasts/new", "/dashboard/broadcasts/new", title="one language",
                     text_ckb="تەنها کوردی")
    page = made.headers["Location"]
    broadcast_id = int(page.rsplit("/", 1)[1])

    def act(client, action):
        return post_form(client, page, f"{page}/{action}").status_code

    assert [act(officer, a) for a in ("approve", "send", "pause", "resume", "frobnicate")] == [303, 303, 303, 303, 404]
    assert act(admin, "approve") == 302 and act(focal, "approve") == 303          # approve twice: refused
    assert act(officer, "resume") == 303 and act(officer, "send") == 302
    with runtime.transaction() as db:
        assert db.get(Broadcast, broadcast_id).status == "done"
    assert [act(officer, a) for a in ("send", "pause", "resume", "cancel")] == [303] * 4
    refused = officer.get(page).get_data(as_text=True)      # the last refusal (cancel after done), said plainly
    assert 'class="flash"' in refused and "already sent, cancelled or started" in refused
    assert officer.get(f"{page}/progress.json").get_json()["percent"] == 100
    viewer = sign_in(app, staff["viewer"])
    assert viewer.get(f"{page}/progress.json").status_code == 403
    assert viewer.post(f"{page}/approve", data={"csrf_token": csrf_token(viewer, "/dashboard/cases")}).status_code == 403


def test_admins_cannot_disable_or_demote_themselves_and_other_changes_are_recorded(app, staff, runtime):
    admin = sign_in(app, staff["admin"])
    with runtime.transaction() as db:
        ids = {u.email: u.id for u in db.execute(select(User)).scalars()}
    me = ids[staff["admin"]]
    for action, data in (("disable", {}), ("role", {"role": "viewer"})):
        shown = post_form(admin, "/dashboard/users", f"/dashboard/users/{me}/{action}", follow=True, **data)
        assert "cannot disable or change your own account" in shown.get_data(as_text=True)
    assert post_form(admin, "/dashboard/users", f"/dashboard/users/{ids[staff['viewer']]}/role", role="admin").status_code == 302
    duplicate = post_form(admin, "/dashboard/users", "/dashboard/users", follow=True, email=" Officer@Agency.Example ",
                          name="x", role="viewer")
    assert "already has an account" in duplicate.get_data(as_text=True)
    with runtime.transaction() as db:
        me_now = db.get(User, me)
        assert me_now.active and me_now.role == "admin"
        assert {"user_role"} <= set(db.execute(select(AuditEvent.action)).scalars())


def test_odd_second_factor_codes_are_refused_without_500(app, staff):
    app.test_cli_runner().invoke(args=["users", "totp", staff["admin"]])
    for code in ("", "000000", "abc", "１２３４５６", "9" * 5000, "\x00"):     # five failures: not yet throttled
        client = app.test_client()
        response = client.post("/dashboard/login", data={"email": staff["admin"], "password": PASSWORD, "code": code,
                                                         "csrf_token": csrf_token(client, "/dashboard/login")})
        assert response.status_code in (200, 400) and client.get("/dashboard/cases").status_code == 302, \
            repr(code[:8])                                       # NUL: 400 "a field holds a NUL character"


def test_odd_sign_in_inputs_are_refused_without_500(app, staff):
    for email, password, next_ in (("", "", None), ("a" * 300, PASSWORD, None), ("admin@agency.example\x00", PASSWORD, None),
                                   ("\u202eadmin@agency.example", PASSWORD, None), ("😀@x", "x" * 100000, None),
                                   (staff["viewer"], PASSWORD, "//evil.example"),
                                   (staff["viewer"], PASSWORD, "https://evil.example/dashboard")):
        client = app.test_client()
        response = client.post("/dashboard/login" + (f"?next={next_}" if next_ else ""),
                               data={"email": email, "password": password,
                                     "csrf_token": csrf_token(client, "/dashboard/login")})
        assert response.status_code in (200, 302, 400, 413, 429), email[:20]
        assert "evil" not in response.headers.get("Location", "")


ODD_COMMANDS = (
    ["feedback", "list", "--limit", "abc"], ["feedback", "list", "--status", "bogus"], ["feedback", "show", "0000000"],
    ["feedback", "show", "<script>"], ["feedback", "answer", "0000000", "hi"], ["feedback", "status", "0000000", "closed"],
    ["feedback", "status", "1234567", "bogus"], ["feedback", "export", "--format", "xml"],
    ["feedback", "export", "--since", "2025-02-30"], ["feedback", "export", "--status", "bogus"],
    ["broadcast", "create", "--title", "t"], ["broadcast", "create", "--title", "t", "--text", "ar"],
    ["broadcast", "create", "--title", "t", "--text", "=x"], ["broadcast", "create", "--title", "t", "--text", "ar="],
    ["broadcast", "create", "--title", "t", "--text", "xx=hi"], ["broadcast", "create", "--title", "t", "--text",
        "ar=hi", "--at", "junk"],
    ["broadcast", "create", "--title", "t", "--text", "ar=hi", "--area", "nowhere"],
    ["broadcast", "create", "--title", "t", "--text", "ar=hi", "--topic", "nothing"],
    ["broadcast", "create", "--title", "t", "--text", "ar=hi", "--fallback", "ckb"],
    ["broadcast", "create", "--title", "t", "--text", "ar=" + "x" * 5000], ["broadcast", "show", "404"],
    ["broadcast", "show", "-1"], ["broadcast", "show", "abc"], ["broadcast", "approve", "404"], ["broadcast", "send", "404"],
    ["broadcast", "pause", "404"], ["broadcast", "resume", "404"], ["broadcast", "cancel", "404"], ["broadcast", "status", "404"],
    ["users", "create", "plain", "--password", "long enough password"], ["users", "create", "a@b", "--password", "short"],
    ["users", "create", "a@b", "--role", "king", "--password", "long enough password"], ["users", "disable", ""],
    ["users", "enable", "nobody@x"], ["users", "set-role", "nobody@x", "admin"], ["users", "totp", "nobody@x"],
    ["users", "reset-password", "nobody@x", "--password", "long enough password"],
)


def test_odd_command_arguments_print_an_error_and_exit_non_zero(app, staff):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["broadcast", "create", "--title", "t", "--text", "ar=hi", "--as", "amal"]).exit_code == 0
    for args in (["broadcast", "approve", "1", "--as", "amal"], ["broadcast", "pause", "1"], ["broadcast", "resume", "1"]):
        refused = runner.invoke(args=args)
        assert refused.exit_code == 1 and "Error:" in refused.output and _no_traceback(refused), args
    assert runner.invoke(args=["users", "create", staff["admin"].upper(), "--password", "long enough password"]).exit_code == 1
    bad = {}
    for args in ODD_COMMANDS:
        result = runner.invoke(args=args)
        if result.exit_code == 0 or not _no_traceback(result) or "Error" not in result.output:
            bad[" ".join(args)[:60]] = repr(result.exception) if not _no_traceback(result) else result.output[-80:]
    assert bad == {}


def test_old_and_future_dates_behave_in_exports_and_the_inbox(app, staff, cases, runtime):
    with runtime.transaction() as db:      # a case from long ago still shows and exports
        case = db.execute(select(Case).where(Case.code == cases["ordinary"])).scalar_one()
        case.created_at = utcnow() - timedelta(days=400)
    admin = sign_in(app, staff["admin"])
    assert cases["ordinary"] in admin.get("/dashboard/export.csv?since=0001-01-01").get_data(as_text=True)
    assert cases["ordinary"] not in admin.get("/dashboard/export.csv?since=9999-12-31").get_data(as_text=True)
    assert admin.get("/dashboard/export.csv?since=junk").status_code == 400
    assert f'href="/dashboard/cases/{cases["ordinary"]}"' in admin.get("/dashboard/cases?overdue=yes").get_data(as_text=True)
    assert admin.get("/dashboard/reports").status_code == 200


def test_an_answer_to_someone_who_sent_stop_says_it_cannot_be_sent(app, staff, runtime, fake):
    """The dashboard used to say 'Answer queued' for a person who had sent STOP: nothing went out."""
    from .conftest import Twilio
    from .test_feedback import code_in
    sms = Twilio(app.test_client())
    sms.say("مرحبا", "+9647701239999")
    sms.say("شكوى", "+9647701239999")
    code = code_in("\n".join(sms.say("المي مقطوع من يومين", "+9647701239999")))
    sms.say("توقف", "+9647701239999")
    officer = sign_in(app, staff["officer"])
    page = post_form(officer, f"/dashboard/cases/{code}", f"/dashboard/cases/{code}/answer", follow=True,
                     text="سيصل الماء غدا").get_data(as_text=True)
    assert "cannot be sent" in page and "Answer queued" not in page
    assert fake.sent("twilio") == []
