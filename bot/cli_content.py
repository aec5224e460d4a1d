"""`flask --app bot content ...`: what the dashboard's Content section does, for operators and scripts.

import makes a draft, diff shows it against the published version, publish checks and publishes it
(exit status 1 with the reasons when a rule refuses), versions lists the history, restore publishes an
earlier version again, export writes the published version as the content/ files.
"""
import getpass
import json
import sys
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from handlers.content import load as load_content
from handlers.content import load_files

from . import content_exchange as exchange
from . import content_versions as versions_module
from .models import User
from .runtime import Runtime
from .runtime import current as current_runtime
from .users import can

content_cli = AppGroup("content", help="What the bot says: check, import, diff, publish, restore, export.")


def _runtime() -> Runtime:
    return current_runtime()


def _actor(session, email: str | None, needs: str | None = None) -> str:
    """cli:<login> by default; --as EMAIL acts as that staff account, which must be allowed to."""
    if not email:
        return f"cli:{getpass.getuser()}"
    user = session.scalars(select(User).where(User.email == email.strip().lower())).first()
    if user is None or not user.active:
        raise click.ClickException(f"no active account {email}")
    if needs and not can(user, needs):
        raise click.ClickException(f"{email} is a {user.role}: only an editor or an admin may publish")
    return f"user:{user.id}"


def _refused(problems: list[str], what: str = "nothing was published") -> None:
    for problem in problems:
        click.echo(f"problem: {problem}")
    click.echo(f"refused: {len(problems)} problem(s); {what}", err=True)
    sys.exit(1)


@content_cli.command("check")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--draft", is_flag=True, help="Check the draft in the database instead of files.")
@click.option("--sms-report", is_flag=True, help="Also print, per language, the SMS parts of the SMS answers.")
def content_check(directory, draft, sms_report):
    """Check files (DIRECTORY, default the content/ the database was seeded from) or the draft: a missing
    language, an SMS text over budget, a missing picture, an ambiguous keyword, an unverified number, a lost
    safety fact, a sensitive word that fires on ordinary text. The same rules run on every publish."""
    runtime = _runtime()
    if draft:
        with runtime.transaction() as session:
            version = versions_module.draft(session)
            if version is None:
                raise click.ClickException("there is no draft")
            content = load_files(*versions_module.files_of(session, version))
    else:
        content = load_content(directory or runtime.content.content_dir)
    from .recordings.content import check_audio
    problems = content.problems + ([] if draft else check_audio(directory or runtime.content.content_dir,
                                                                 content.items))
    for problem in problems:
        click.echo(f"problem: {problem}")
    if sms_report:
        for line in sms_parts_report(content):
            click.echo(line)
    click.echo(f"{len(content.topics)} topics, {len(content.items)} items, {len(content.keyword_index)} keywords, "
               f"{len(content.recordings)} recordings, {len(problems)} problem(s)")
    if problems:
        sys.exit(1)


def sms_parts_report(content) -> list[str]:
    """What the SMS answers (item and step SMS texts, as sent) cost per language, in parts as the
    provider bills them; Latin Kurmanji also folded to plain letters (SMS_FOLD_LATIN)."""
    from statistics import mean

    from handlers.i18n import LANGUAGES
    from handlers.sms import FOLDED_LANGUAGES, fold_latin, segments
    lines = ["language          answers  average parts  max  at 1 / 2 / 3 parts"]
    for lang in LANGUAGES:
        texts = [t for item in content.items.values()
                 for t in [item.sms.get(lang)] + [step.sms.get(lang) for step in item.steps] if t]
        if not texts:
            continue
        variants = [(lang, texts)] + ([(f"{lang} folded", [fold_latin(t) for t in texts])]
                                      if lang in FOLDED_LANGUAGES else [])
        for name, values in variants:
            parts = [segments(t) for t in values]
            counts = " / ".join(str(sum(p == n for p in parts)) for n in (1, 2, 3))
            lines.append(f"{name:<16} {len(parts):>8}  {mean(parts):>13.2f}  {max(parts):>3}  {counts}")
    return lines


@content_cli.command("import")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--as", "email", help="Record the import as this staff account.")
def content_import(directory, email):
    """Load DIRECTORY (the content/ layout) as the new draft; nothing changes for people until publish."""
    from .recordings import RecordingRefused
    with _runtime().transaction() as session:
        try:
            version = versions_module.import_dir(session, directory, _actor(session, email))
        except RecordingRefused as refused:
            raise click.ClickException(f"not imported: {refused}") from None
        problems = versions_module.problems_of(session, version)
        changed = versions_module.diff(session, version)
    click.echo(f"draft version {version.id}: {sum(1 for line in changed if line.startswith('+++'))} file(s) "
               f"changed against the published version; {len(problems)} problem(s) (see `content diff`, "
               "`content check --draft`)")


@content_cli.command("diff")
def content_diff():
    """The draft against the published version, file by file."""
    with _runtime().transaction() as session:
        lines = versions_module.diff(session)
        has_draft = versions_module.draft(session) is not None
    if not has_draft:
        click.echo("there is no draft")
        return
    for line in lines or ["the draft is the same as the published version"]:
        click.echo(line)


@content_cli.command("publish")
@click.option("--as", "email", help="Publish as this staff account (an editor or an admin).")
def content_publish(email):
    """Check the draft with every content rule and publish it; exit status 1 with the reasons if refused."""
    runtime = _runtime()
    try:
        with runtime.transaction() as session:
            version = versions_module.publish(session, _actor(session, email, "publish_content"))
            version_id = version.id
    except versions_module.Refused as refused:
        _refused(refused.problems)
    except LookupError as exc:
        raise click.ClickException(str(exc))
    runtime.content.reload()
    click.echo(f"published version {version_id}; every process answers from it within "
               f"{runtime.content.check_every:g} seconds")


@content_cli.command("versions")
@click.option("--limit", default=20, show_default=True)
def content_versions(limit):
    """The history: id, state, who made and who published each version, and when."""
    with _runtime().transaction() as session:
        rows = versions_module.versions(session, limit)
        for v in rows:
            when = (v.published_at or v.created_at).strftime("%Y-%m-%d %H:%M")
            click.echo(f"{v.id:>5}  {v.state:<10} {when}  by {v.published_by or v.created_by}  {v.note or ''}")


@content_cli.command("restore")
@click.argument("version_id", type=int)
@click.option("--as", "email", help="Restore as this staff account (an editor or an admin).")
def content_restore(version_id, email):
    """Publish an earlier version again (as a new version, so the history keeps both)."""
    runtime = _runtime()
    try:
        with runtime.transaction() as session:
            version = versions_module.restore(session, version_id, _actor(session, email, "publish_content"))
            new_id = version.id
    except versions_module.Refused as refused:
        _refused(refused.problems)
    except LookupError as exc:
        raise click.ClickException(str(exc))
    runtime.content.reload()
    click.echo(f"version {version_id} restored as version {new_id}")


@content_cli.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--version", "version_id", type=int, help="An earlier version instead of the published one.")
def content_export(directory, version_id):
    """Write the published version (or --version) as the content/ files into DIRECTORY."""
    with _runtime().transaction() as session:
        version = versions_module.get(session, version_id) if version_id else None
        if version_id and version is None:
            raise click.ClickException(f"no version {version_id}")
        try:
            written = versions_module.export(session, directory, version)
        except LookupError as exc:
            raise click.ClickException(str(exc))
    click.echo(f"wrote {len(written)} file(s) to {directory}")


@content_cli.command("reload")
def content_reload():
    """Check now for a newly published version in this process (running processes check by themselves)."""
    content = _runtime().content.reload()
    click.echo(f"version {_runtime().content.version_id}: {len(content.items)} items")


translations_cli = AppGroup("translations", help="Files for offline translators: PO (Poedit, Weblate) or XLSX.")
content_cli.add_command(translations_cli)


@translations_cli.command("export")
@click.argument("target", type=click.Path(path_type=Path))
@click.option("--lang", "languages", multiple=True, type=click.Choice(exchange.TARGETS),
              help="A language (repeat for several; default all but English, the source).")
@click.option("--format", "fmt", type=click.Choice(["po", "xlsx"]), default="po", show_default=True)
def translations_export(target, languages, fmt):
    """Write the draft's texts (or the published ones) per language, English source beside each: TARGET is a
    file for one language, else a directory that gets content-<lang>.<format> per language."""
    languages = languages or exchange.TARGETS
    with _runtime().transaction() as session:
        version = versions_module.working(session)
        files, version_id = json.loads(version.files), version.id
    write = exchange.export_po if fmt == "po" else exchange.export_xlsx
    if len(languages) == 1 and target.suffix:
        paths = {languages[0]: target}
    else:
        target.mkdir(parents=True, exist_ok=True)
        paths = {lang: target / f"content-{lang}.{fmt}" for lang in languages}
    for lang, path in paths.items():
        path.write_bytes(write(files, lang, version_id))
        click.echo(f"{lang}: {path}")


@translations_cli.command("import")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--lang", type=click.Choice(exchange.TARGETS), help="Refuse the file unless it is this language.")
@click.option("--yes", is_flag=True, help="Apply without asking, after showing the changes.")
@click.option("--as", "email", help="Record the import as this staff account.")
def translations_import(source, lang, yes, email):
    """Show what the file changes, field by field, then put it in the draft (nothing is published). A file for
    another language, with a broken {placeholder} or made from an English text that changed since, is refused
    whole."""
    from handlers.langid import model_for
    runtime = _runtime()
    data = source.read_bytes()
    model = model_for(runtime.content.get())
    try:
        with runtime.transaction() as session:
            found_lang, changes = exchange.import_into_draft(session, data, source.name, _actor(session, email),
                                                             lang, model, dry_run=True)
    except exchange.Refused as refused:
        _refused(refused.problems, what="nothing was imported")
    if not changes:
        click.echo(f"{found_lang}: nothing changed")
        return
    for change in changes:
        click.echo(f"{change.key} [{found_lang}]\n  - {change.old}\n  + {change.new}")
    if not yes and not click.confirm(f"Put these {len(changes)} change(s) in the draft?"):
        click.echo("nothing was imported")
        return
    with runtime.transaction() as session:
        exchange.import_into_draft(session, data, source.name, _actor(session, email), lang, model)
    click.echo(f"{found_lang}: {len(changes)} text(s) in the draft, marked for review; `content publish` to publish")
