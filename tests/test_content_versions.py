"""Content lives in the database as published versions: seeded from content/, changed through a draft,
published only when every rule passes, noticed by every process within seconds, restorable, exported
back as the same files. Driven through the CLI and answered through the real webhooks."""
import json
import os
import subprocess
import sys
import time

import pytest
from sqlalchemy import func, select

from bot import content_versions, create_app, db
from bot.models import AuditEvent, ContentVersion
from handlers.content import CONTENT_DIR, read_dir

from .conftest import edit_yaml
from .test_intake import ROOT, _free_port, _telegram, _twilio, _wait_for, production  # noqa: F401 (fixture)

OLD = "چاوی قووڵبوو"
NEW = "چاوی چاڵبوو"          # a translator's word for sunken eyes: the SMS stays within two parts


def ors(bodies: list[str]) -> str:
    """The cholera answer among the messages (a first message also gets the welcome)."""
    return next((b for b in bodies if "ORS" in b), f"no cholera answer in {bodies}")


def cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def _sorani_fix(content_dir):
    """What a Sorani translator would change: one sentence of the cholera answer, in the SMS and full text."""
    def change(data):
        item = next(i for i in data["items"] if i["id"] == "cholera")
        assert OLD in item["sms"]["ckb"] and OLD in item["text"]["ckb"]
        item["sms"]["ckb"] = item["sms"]["ckb"].replace(OLD, NEW)
        item["text"]["ckb"] = item["text"]["ckb"].replace(OLD, NEW)
    edit_yaml(content_dir / "topics" / "health.yaml", change)


def _exported(app, tmp_path):
    target = tmp_path / "exported"
    result = cli(app, "content", "export", str(target))
    assert result.exit_code == 0, result.output
    return target


def test_an_empty_database_takes_content_as_its_first_published_version(runtime):
    with runtime.transaction() as session:
        version = content_versions.published(session)
        assert version.id == 1 and version.created_by == "seed"
        files, images = content_versions.files_of(session, version)
    assert (files, images) == read_dir(CONTENT_DIR)
    assert runtime.content.version_id == 1


def test_import_diff_publish_changes_the_answer_on_sms_and_telegram_and_restore_brings_it_back(
        app, runtime, tmp_path, telegram, twilio):
    before_sms = ors(twilio.say("کۆلێرا", "+9647501110001"))
    assert OLD in before_sms and NEW not in before_sms
    exported = _exported(app, tmp_path)
    _sorani_fix(exported)

    result = cli(app, "content", "import", str(exported))
    assert result.exit_code == 0 and "draft version 2" in result.output, result.output
    diff = cli(app, "content", "diff").output
    assert f"-      ckb: \"{before_sms[:20]}" in diff and NEW in diff and "+++ v2/topics/health.yaml" in diff
    assert ors(twilio.say("کۆلێرا", "+9647501110002")) == before_sms     # a draft changes nothing yet

    result = cli(app, "content", "publish")
    assert result.exit_code == 0 and "published version 2" in result.output, result.output
    assert NEW in ors(twilio.say("کۆلێرا", "+9647501110003"))
    reply = telegram.say("کۆلێرا", chat_id=8801, language_code="ckb")
    assert any(NEW in m["text"] for m in reply.get("messages", [reply]) if isinstance(m, dict) and "text" in m) \
        or NEW in json.dumps(reply, ensure_ascii=False)

    versions = cli(app, "content", "versions").output
    assert "published" in versions and "archived" in versions
    result = cli(app, "content", "restore", "1")
    assert result.exit_code == 0 and "restored as version 3" in result.output, result.output
    after = ors(twilio.say("کۆلێرا", "+9647501110004"))
    assert OLD in after and NEW not in after
    with runtime.transaction() as session:
        actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert [a for a in actions if a.startswith("content_")] == [
        "content_seed", "content_import", "content_publish", "content_restore"]


@pytest.mark.parametrize("change, reason", [
    (lambda d: d["items"][0]["sms"].update(ckb="س" * 200), "item cholera sms [ckb]: 200 characters, over 150"),
    (lambda d: d["items"][1]["keywords"]["ckb"].append(d["items"][0]["keywords"]["ckb"][0]), "points at two items"),
    (lambda d: d["items"][0]["text"].pop("kmr"), "item cholera text: missing kmr"),
])
def test_a_publish_that_breaks_a_rule_is_refused_with_its_reasons_and_nothing_changes(
        app, runtime, tmp_path, twilio, change, reason):
    exported = _exported(app, tmp_path)
    edit_yaml(exported / "topics" / "health.yaml", change)
    assert cli(app, "content", "import", str(exported)).exit_code == 0
    result = cli(app, "content", "publish")
    assert result.exit_code == 1, result.output
    assert reason in result.output and "nothing was published" in result.output
    with runtime.transaction() as session:
        assert content_versions.published_id(session) == 1
        assert session.scalar(select(func.count()).select_from(ContentVersion)
                              .where(ContentVersion.state == "published")) == 1


def test_export_writes_the_published_files_back_unchanged(app, tmp_path):
    exported = _exported(app, tmp_path)
    assert read_dir(exported) == read_dir(CONTENT_DIR)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "notes.txt").write_text("mine")
    result = cli(app, "content", "export", str(tmp_path / "elsewhere"))
    assert result.exit_code != 0 and "not empty" in result.output
    assert (tmp_path / "elsewhere" / "notes.txt").read_text() == "mine"


def test_publish_as_a_staff_account_must_be_an_editor(app, runtime, tmp_path):
    from bot import users
    with runtime.transaction() as session:
        translator = users.create(session, "tr@example.org", "Tr", "long-password-1", "translator")
        editor = users.create(session, "ed@example.org", "Ed", "long-password-2", "editor")
        editor_id = editor.id
        del translator
    exported = _exported(app, tmp_path)
    _sorani_fix(exported)
    assert cli(app, "content", "import", str(exported)).exit_code == 0
    refused = cli(app, "content", "publish", "--as", "tr@example.org")
    assert refused.exit_code != 0 and "only an editor or an admin may publish" in refused.output
    done = cli(app, "content", "publish", "--as", "ed@example.org")
    assert done.exit_code == 0, done.output
    with runtime.transaction() as session:
        assert content_versions.published(session).published_by == f"user:{editor_id}"


def test_another_process_on_the_same_database_switches_within_its_check_interval(environ, tmp_path, app, runtime):
    """A second app (another gunicorn worker, another machine) on the same database."""
    other = create_app({"INSTANCE_PATH": str(tmp_path / "other"), "TESTING": True,
                        "ENVIRON": {**environ, "CONTENT_CHECK_SECONDS": "0.5"}})
    try:
        assert other.extensions["bot"].content.version_id == 1
        exported = _exported(app, tmp_path)
        _sorani_fix(exported)
        cli(app, "content", "import", str(exported))
        assert cli(app, "content", "publish").exit_code == 0
        started = time.monotonic()
        assert _wait_for(lambda: other.extensions["bot"].content.get().items["cholera"].sms["ckb"].count(NEW), 5)
        assert time.monotonic() - started < 5
        assert other.extensions["bot"].content.version_id == 2
    finally:
        other.extensions["bot"].dispose()


def test_a_broken_version_written_past_the_checks_keeps_the_last_good_content_serving(runtime):
    with runtime.transaction() as session:
        files, _ = content_versions.files_of(session, content_versions.published(session))
        files["topics/health.yaml"] = "items: ["
        version = content_versions.import_files(session, files, {}, "test")
        content_versions._make_published(session, version, "test")      # as a hand-edited row would
    content = runtime.content.reload()
    assert "cholera" in content.items and runtime.content.version_id == 2


def test_unsafe_file_names_are_refused(runtime):
    with runtime.transaction() as session:
        with pytest.raises(ValueError, match="not a content file name"):
            content_versions.import_files(session, {"../../etc/cron.d/x.yaml": "a: 1"}, {}, "test")


@pytest.mark.slow
def test_gunicorn_workers_and_the_queue_worker_answer_from_a_new_publish_within_seconds(production, fake, runtime, app,
                                                                                     tmp_path):
    """Production shape: two gunicorn workers and a separate Huey consumer (PostgreSQL + Redis where they
    run); the CLI publishes; the worker's answers on SMS and Telegram carry the new sentence."""
    if not production.env["DATABASE_URL"].startswith("postgresql"):
        pytest.skip("the production shape runs on PostgreSQL (the SQLite variant is the in-process test above)")
    status, _ = _twilio(production.port, "+9647502220001", "کۆلێرا", "SM" + "1" * 32)
    assert status == 200
    assert _wait_for(lambda: "ORS" in str(fake.sent("twilio")), 30), production.worker_log()
    assert OLD in ors([s["params"]["Body"] for s in fake.sent("twilio")])
    exported = _exported(app, tmp_path)
    _sorani_fix(exported)
    assert cli(app, "content", "import", str(exported)).exit_code == 0
    assert cli(app, "content", "publish").exit_code == 0
    published_at = time.monotonic()
    asked = {}                        # address -> seconds after the publish when the question was sent
    for n in range(16):               # a question every half second, from a new person each time
        asked[f"+96475033{n:05d}"] = asked[str(8900 + n)] = time.monotonic() - published_at
        _twilio(production.port, f"+96475033{n:05d}", "کۆلێرا", f"SM{n:032d}")
        _telegram(production.port, 8900 + n, "کۆلێرا", 990100 + n)
        time.sleep(0.5)
    def answered() -> set:
        return {str(s["params"].get("To") or s["params"].get("chat_id")) for s in fake.sent()}
    assert _wait_for(lambda: answered() >= set(asked), 60), (len(fake.sent()), sorted(set(asked) - answered()))
    first_new = {}
    for sent in fake.sent():
        address = str(sent["params"].get("To") or sent["params"].get("chat_id"))
        if address in asked and NEW in json.dumps(sent, ensure_ascii=False):
            first_new[sent["service"]] = min(first_new.get(sent["service"], 99), asked[address])
    print(f"\nfirst question answered with the new text, seconds after the publish: {first_new}")
    assert first_new.get("twilio", 99) <= 5 and first_new.get("telegram", 99) <= 5, (first_new, asked)
    late = [a for a, t in asked.items() if t > 5 and NEW not in json.dumps(
        [s for s in fake.sent() if str(s["params"].get("To") or s["params"].get("chat_id")) == a], ensure_ascii=False)]
    assert late == []                 # and every question asked after that got the new sentence


def test_a_translators_languages_are_set_from_the_command_line(app, runtime):
    from bot import users
    from bot.models import User
    with runtime.transaction() as session:
        users.create(session, "tr@example.org", "Tr", "long-password-1", "officer")
    result = cli(app, "users", "set-role", "tr@example.org", "translator", "--languages", "ckb,kmr")
    assert result.exit_code == 0 and "(ckb, kmr)" in result.output, result.output
    assert cli(app, "users", "set-role", "tr@example.org", "translator", "--languages", "xx").exit_code != 0
    with runtime.transaction() as session:
        user = session.scalars(select(User).where(User.email == "tr@example.org")).one()
        assert users.content_languages(user) == ("ckb", "kmr") and not users.can(user, "see_cases")


@pytest.mark.slow
def test_processes_starting_together_on_an_empty_database_seed_one_version(environ, tmp_path, database_url):
    """gunicorn's workers and the queue worker start at once on a new deployment."""
    code = ("import sys; from bot import create_app; "
            "create_app({'INSTANCE_PATH': sys.argv[1], 'TESTING': True}).extensions['bot'].dispose()")
    if database_url.startswith("sqlite"):     # the suite's SQLite copies hold the seed already: an empty one
        database_url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        db.upgrade(database_url)
    env = {**os.environ, **environ, "DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)}
    starts = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "instance")], env=env, cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for _ in range(4)]
    for process in starts:
        assert process.wait(timeout=120) == 0, process.stderr.read().decode()[-2000:]
    from sqlalchemy import create_engine
    engine = create_engine(database_url)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ContentVersion)).scalar() == 1
    engine.dispose()
