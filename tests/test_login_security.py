"""Staff sign-in through the real login form on the real database: throttling per address (an IPv6 /64
is one), an account slowed rather than locked by a spray, second-factor codes that work once, a wrong
code answered like a wrong password, admins setting up a second factor before any session, and
throttling keys that are HMACs."""
import hashlib
import re
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import func, select

from bot import users
from bot.models import AuditEvent, LoginAttempt, User

from .conftest import csrf_token, totp_code

PASSWORD = "correct horse battery"
OFFICER, ADMIN = "officer@agency.example", "admin@agency.example"
WRONG = "Wrong email or password."


@pytest.fixture
def staff(runtime):
    """An officer (password only) and an admin with a second factor."""
    with runtime.transaction() as db:
        users.create(db, OFFICER, "Officer", PASSWORD, "officer")
        admin = users.create(db, ADMIN, "Admin", PASSWORD, "admin")
        users.enable_totp(db, runtime.vault, admin)


def post_login(app, ip, email, password=PASSWORD, code="", client=None):
    client = client or app.test_client()
    token = csrf_token(client, "/dashboard/login")
    response = client.post("/dashboard/login", data={"email": email, "password": password, "code": code,
                                                     "csrf_token": token}, environ_base={"REMOTE_ADDR": ip})
    return client, response


def signed_in(client) -> bool:
    return client.get("/dashboard/cases").status_code == 200


def time_passes(runtime, seconds):
    """Failed sign-ins recorded earlier move back in time, as if `seconds` had passed."""
    with runtime.transaction() as db:
        for attempt in db.execute(select(LoginAttempt)).scalars():
            attempt.at = attempt.at - timedelta(seconds=seconds)


def failures(runtime) -> int:
    with runtime.transaction() as db:
        return db.scalar(select(func.count()).select_from(LoginAttempt))


# 9. Throttling: an IPv6 /64 is one address; a spray slows the account and locks nobody out

def test_guesses_from_one_ipv6_64_count_as_one_address(app, staff):
    for n in range(1, users.MAX_FAILURES + 1):              # a new /128 for every guess, all in one /64
        _, response = post_login(app, f"2001:db8:1:2::{n:x}", OFFICER, "x" * 12)
        assert response.status_code == 200
    client, response = post_login(app, "2001:db8:1:2:ffff:ffff:ffff:fffe", OFFICER)    # the right password
    assert response.status_code == 429 and not signed_in(client)
    assert "Wait 15 minutes" in response.get_data(as_text=True)
    client, response = post_login(app, "2001:db8:1:3::1", OFFICER)                      # the next /64
    assert response.status_code == 302 and signed_in(client)


def test_one_ipv6_64_guessing_at_many_accounts_is_stopped(app, staff, runtime):
    for n in range(users.MAX_FAILURES * 4):
        post_login(app, f"2001:db8:9:9::{n + 1:x}", f"someone{n}@agency.example", "x" * 12)
    assert failures(runtime) == users.MAX_FAILURES * 4
    _, response = post_login(app, "2001:db8:9:9:abcd::1", OFFICER)
    assert response.status_code == 429
    _, response = post_login(app, "198.51.100.20", OFFICER)
    assert response.status_code == 302


def test_a_spray_from_many_addresses_slows_the_account_but_never_locks_the_person_out(app, staff, runtime):
    """Five guesses from the attacker's /64, then more from other addresses: once the account has had
    ten failures, guessing at it waits (1, 2, 4 ... at most 60 seconds after the last failure). The
    person, from a new address, signs in after that short wait; the attacker's /64 stays blocked."""
    for n in range(users.MAX_FAILURES):
        post_login(app, f"2001:db8:bad:1::{n + 1}", OFFICER, "x" * 12)
    free = users.ACCOUNT_FREE_FAILURES - users.MAX_FAILURES
    answers = [post_login(app, f"192.0.2.{n + 1}", OFFICER, "x" * 12)[1] for n in range(free)]
    assert [r.status_code for r in answers] == [200] * free
    client, now = post_login(app, "198.51.100.7", OFFICER)            # the person, right away: asked to wait
    page = now.get_data(as_text=True)
    assert now.status_code == 429 and "Wait a minute" in page and WRONG not in page and not signed_in(client)
    answers = [post_login(app, f"192.0.2.{n + 100}", OFFICER, "x" * 12)[1] for n in range(50)]
    guesses = sum(r.status_code == 200 for r in answers)
    assert guesses <= 4 and {r.status_code for r in answers} <= {200, 429}   # one each time the wait is over
    assert failures(runtime) == users.ACCOUNT_FREE_FAILURES + guesses    # slowed attempts are not failures

    time_passes(runtime, users.ACCOUNT_DELAY_CAP)                     # at most a minute later
    client, later = post_login(app, "198.51.100.7", OFFICER)
    assert later.status_code == 302 and signed_in(client)
    attacker, response = post_login(app, "2001:db8:bad:1::77", OFFICER)   # even with the right password
    assert response.status_code == 429 and not signed_in(attacker)
    assert "Wait 15 minutes" in response.get_data(as_text=True)


def test_the_accounts_wait_grows_with_failures_and_is_capped():
    waits = [users.account_delay(n) for n in range(0, 200)]
    assert waits[:users.ACCOUNT_FREE_FAILURES] == [0] * users.ACCOUNT_FREE_FAILURES > [0] * users.MAX_FAILURES
    assert waits == sorted(waits) and max(waits) == users.ACCOUNT_DELAY_CAP <= 60


def test_the_wait_also_slows_guesses_at_an_account_that_does_not_exist(app, staff, runtime):
    for n in range(users.ACCOUNT_FREE_FAILURES):
        post_login(app, f"203.0.113.{n + 1}", "nobody@agency.example", "x" * 12)
    _, response = post_login(app, "203.0.113.99", "nobody@agency.example", "x" * 12)
    assert response.status_code == 429          # the same answer as for a real account: nothing to learn


# 10. A second-factor code works once; a wrong code is a wrong sign-in; admins set one up first

def test_a_second_factor_code_works_only_once(app, staff, runtime):
    code = totp_code(runtime, ADMIN)
    first, response = post_login(app, "198.51.100.1", ADMIN, code=code)
    assert response.status_code == 302 and signed_in(first)
    again, response = post_login(app, "198.51.100.2", ADMIN, code=code)      # seen over a shoulder, replayed
    assert response.status_code == 200 and not signed_in(again)
    assert response.get_data(as_text=True).count(WRONG) == 1
    assert failures(runtime) == 1
    with runtime.transaction() as db:
        last = db.execute(select(User.totp_last_step).where(User.email == ADMIN)).scalar_one()
    assert pyotp.TOTP(_secret(runtime)).generate_otp(last) == code              # the step of that code, kept
    fresh, response = post_login(app, "198.51.100.3", ADMIN, code=totp_code(runtime, ADMIN))   # the next step
    assert response.status_code == 302 and signed_in(fresh)


def _secret(runtime) -> str:
    with runtime.transaction() as db:
        return runtime.vault.decrypt(db.execute(select(User.totp_secret_enc).where(User.email == ADMIN)).scalar_one())


def test_a_wrong_code_after_the_right_password_is_answered_like_a_wrong_password(app, staff, runtime):
    client = app.test_client()
    used = totp_code(runtime, ADMIN)
    post_login(app, "198.51.100.1", ADMIN, code=used)                                  # now used up
    _, wrong_password = post_login(app, "198.51.100.9", ADMIN, "x" * 12, client=client)
    answers = [post_login(app, "198.51.100.9", ADMIN, code=code, client=client)[1]
               for code in ("000000", used, "12345x")]                                 # wrong, replayed, junk
    for answer in answers:
        assert answer.status_code == wrong_password.status_code == 200
        assert _page(answer) == _page(wrong_password)                          # the same page (but its CSRF token)
    assert not signed_in(client)
    assert failures(runtime) == 4                                                    # each counts as a failure
    _, throttled = post_login(app, "198.51.100.9", ADMIN, code="111111", client=client)
    _, right = post_login(app, "198.51.100.9", ADMIN, code=totp_code(runtime, ADMIN), client=client)
    assert throttled.status_code == 200 and right.status_code == 429     # the fifth wrong code, then blocked


def _page(response) -> str:
    return re.sub(r'name="csrf_token" value="[^"]+"', "", response.get_data(as_text=True))


def test_an_empty_code_field_asks_for_the_code_without_counting_a_failure(app, staff, runtime):
    _, response = post_login(app, "198.51.100.1", ADMIN)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Enter the 6-digit code" in page and WRONG not in page
    assert failures(runtime) == 0


def test_an_admin_without_a_second_factor_sets_one_up_before_any_session(app, runtime):
    with runtime.transaction() as db:
        users.create(db, "new.admin@agency.example", "New admin", PASSWORD, "admin")
    client, response = post_login(app, "198.51.100.1", "new.admin@agency.example")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Set up a second factor" in page
    assert "no-store" in response.headers["Cache-Control"]
    uri = re.search(r'value="(otpauth://totp/[^"]+)"', page).group(1)
    secret = re.search(r"secret=([A-Z2-7]+)", uri).group(1)
    assert f'value="{secret}"' in page and 'name="csrf_token"' in page
    assert not signed_in(client)                                   # the password alone gives no session
    with runtime.transaction() as db:
        assert db.execute(select(User.totp_secret_enc).where(User.email == "new.admin@agency.example")).scalar_one() is None

    token = csrf_token(client, "/dashboard/login")
    no_token = client.post("/dashboard/login", data={"step": "totp_setup", "code": pyotp.TOTP(secret).now()})
    assert no_token.status_code == 400 and not signed_in(client)
    wrong = client.post("/dashboard/login", data={"step": "totp_setup", "code": "000000", "csrf_token": token})
    assert wrong.status_code == 200 and "That code is not right" in wrong.get_data(as_text=True)
    assert secret in wrong.get_data(as_text=True) and not signed_in(client)
    stranger = app.test_client()                                   # a pending set-up lives in that browser only
    stolen = stranger.post("/dashboard/login", data={"step": "totp_setup", "code": pyotp.TOTP(secret).now(),
                                                     "csrf_token": csrf_token(stranger, "/dashboard/login")})
    assert "Please sign in again" in stolen.get_data(as_text=True) and not signed_in(stranger)

    code = pyotp.TOTP(secret).now()
    done = client.post("/dashboard/login", data={"step": "totp_setup", "code": code, "csrf_token": token})
    assert done.status_code == 302 and signed_in(client)
    with runtime.transaction() as db:
        admin = db.execute(select(User).where(User.email == "new.admin@agency.example")).scalar_one()
        assert runtime.vault.decrypt(admin.totp_secret_enc) == secret and admin.totp_last_step is not None
        assert db.execute(select(AuditEvent).where(AuditEvent.action == "user_totp")).scalars().first()
    _, replay = post_login(app, "198.51.100.1", "new.admin@agency.example", code=code)    # that code is used
    assert replay.status_code == 200 and WRONG in replay.get_data(as_text=True)
    later, response = post_login(app, "198.51.100.1", "new.admin@agency.example",
                                 code=totp_code(runtime, "new.admin@agency.example"))
    assert response.status_code == 302 and signed_in(later)


def test_a_set_up_needs_the_password_again_after_a_password_change(app, runtime):
    with runtime.transaction() as db:
        users.create(db, "new.admin@agency.example", "New admin", PASSWORD, "admin")
    client, response = post_login(app, "198.51.100.1", "new.admin@agency.example")
    secret = re.search(r"secret=([A-Z2-7]+)", response.get_data(as_text=True)).group(1)
    with runtime.transaction() as db:
        users.set_password(users.find(db, "new.admin@agency.example"), "another long password")
    answer = client.post("/dashboard/login", data={"step": "totp_setup", "code": pyotp.TOTP(secret).now(),
                                                   "csrf_token": csrf_token(client, "/dashboard/login")})
    assert "Please sign in again" in answer.get_data(as_text=True) and not signed_in(client)


def test_a_wrong_password_for_an_admin_without_a_second_factor_is_just_wrong(app, runtime):
    with runtime.transaction() as db:
        users.create(db, "new.admin@agency.example", "New admin", PASSWORD, "admin")
    client, response = post_login(app, "198.51.100.1", "new.admin@agency.example", "x" * 12)
    page = response.get_data(as_text=True)
    assert WRONG in page and "otpauth" not in page and not signed_in(client)


def test_other_roles_still_sign_in_with_a_password_alone(app, staff):
    client, response = post_login(app, "198.51.100.1", OFFICER)
    assert response.status_code == 302 and signed_in(client)


@pytest.mark.parametrize("how", ["command line", "dashboard"])
def test_an_officer_made_admin_is_signed_out_until_a_second_factor_is_set_up(app, staff, runtime, how):
    """An officer's open session must not become an admin session without the second factor admins need."""
    officer, _ = post_login(app, "198.51.100.1", OFFICER)
    assert signed_in(officer)
    if how == "command line":
        assert app.test_cli_runner().invoke(args=["users", "set-role", OFFICER, "admin"]).exit_code == 0
    else:
        admin, _ = post_login(app, "198.51.100.2", ADMIN, code=totp_code(runtime, ADMIN))
        with runtime.transaction() as db:
            user_id = db.execute(select(User.id).where(User.email == OFFICER)).scalar_one()
        page = admin.post(f"/dashboard/users/{user_id}/role", data={"role": "admin",
                                                               "csrf_token": csrf_token(admin, "/dashboard/users")})
        assert page.status_code == 302, page.get_data(as_text=True)
    assert not signed_in(officer)
    client, response = post_login(app, "198.51.100.1", OFFICER)
    assert not signed_in(client)                      # the set-up step, no session yet


def test_the_command_line_gives_a_new_second_factor(app, staff, runtime):
    used = totp_code(runtime, ADMIN)
    post_login(app, "198.51.100.1", ADMIN, code=used)
    result = app.test_cli_runner().invoke(args=["users", "totp", ADMIN])
    assert result.exit_code == 0, result.output
    secret = re.search(r"secret=([A-Z2-7]+)", result.output).group(1)
    client, response = post_login(app, "198.51.100.1", ADMIN, code=pyotp.TOTP(secret).now())
    assert response.status_code == 302 and signed_in(client)


# 11. Throttling keys are HMACs with a server key

def test_failed_sign_ins_are_kept_under_keyed_hashes(app, staff, runtime):
    post_login(app, "203.0.113.9", OFFICER, "x" * 12)
    post_login(app, "2001:db8:5:6::1", OFFICER, "x" * 12)
    with runtime.transaction() as db:
        rows = db.execute(select(LoginAttempt.email_hash, LoginAttempt.ip_hash).order_by(LoginAttempt.id)).all()
    sha = lambda value: hashlib.sha256(value.encode()).hexdigest()    # noqa: E731
    assert len(rows) == 2
    for email_hash, ip_hash in rows:
        assert email_hash != sha(OFFICER) and len(email_hash) == 64
        assert ip_hash not in (sha("203.0.113.9"), sha("2001:db8:5:6::1"), sha("2001:db8:5:6::/64"))
    assert rows[0] == (runtime.vault.address_hash("login-email", OFFICER), runtime.vault.address_hash("login-ip", "203.0.113.9"))
    assert rows[1][1] == runtime.vault.address_hash("login-ip", "2001:db8:5:6::/64")


def test_the_migration_signs_out_admins_who_have_no_second_factor_yet(tmp_path):
    """0005: their next sign-in takes them through the set-up; others keep their sessions."""
    from sqlalchemy import create_engine, text

    from bot import db
    url = f"sqlite:///{tmp_path}/old.sqlite3"
    db.upgrade(url, "0004")
    engine = create_engine(url)
    with engine.begin() as conn:
        for email, role, secret in (("a@x.org", "admin", None), ("b@x.org", "admin", "sealed"), ("c@x.org", "officer", None)):
            conn.execute(text("INSERT INTO users (email, name, password_hash, role, active, totp_secret_enc, ui_language,"
                              " created_at, session_epoch) VALUES (:e, 'n', 'h', :r, true, :s, 'en', '2026-01-01', 3)"),
                         {"e": email, "r": role, "s": secret})
    db.upgrade(url)
    with engine.begin() as conn:
        rows = dict(conn.execute(text("SELECT email, session_epoch FROM users")).all())
    engine.dispose()
    assert rows == {"a@x.org": 4, "b@x.org": 3, "c@x.org": 3}
