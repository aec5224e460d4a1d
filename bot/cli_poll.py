"""`flask --app bot poll ...`: create a poll from a YAML or JSON file, approve, send, follow, close, export.

The same functions as the dashboard (bot/polls.py, bot/poll_results.py); the conventions of
`broadcast ...` (bot/cli_broadcast.py): --as EMAIL names a staff account, approval needs one that may.
"""
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

import click
import yaml
from flask import current_app
from flask.cli import AppGroup

from . import broadcasts, poll_results, polls, users
from .cli_broadcast import _actor, _duration
from .models import Poll
from .runtime import Runtime

POLL_ID = click.IntRange(1, 2 ** 63 - 1)
FILE_HELP = """A poll file (YAML or JSON):

\b
title: winter kit
window_hours: 72              # how long a question waits for its answer
languages: [ar, ckb]          # targets, as broadcasts: languages, channels, areas, topic, fallback
areas: [duhok]
at: 2026-12-08 09:00          # optional: send then (UTC)
questions:
  - kind: choice              # or free (a short answer in words)
    text: {ar: هل استلمت عائلتك حقيبة الشتاء؟, ckb: ئایا خێزانەکەت کیتی زستانەی وەرگرت؟}
    options:
      - {ar: نعم, ckb: بەڵێ}
      - {ar: لا, ckb: نەخێر}
"""

poll_cli = AppGroup("poll", help="Polls and short surveys to the people who opted in.")


def _runtime() -> Runtime:
    return current_app.extensions["bot"]


def _get(session: object, poll_id: int) -> Poll:
    try:
        return polls.find(session, poll_id)     # type: ignore[arg-type]
    except polls.PollError as exc:
        raise click.ClickException(str(exc)) from None


def _approver(name: str | None, session: object) -> str:
    """Approval is the second person's check: a staff account that may approve polls, not any name."""
    if not name or "@" not in name:
        raise click.ClickException("approve needs --as EMAIL: the staff account of the second person "
                                   "(admin, officer or focal point)")
    try:
        user = users.find(session, name)
    except users.UserError as exc:
        raise click.ClickException(str(exc)) from None
    if not users.can(user, "approve_poll"):
        raise click.ClickException(f"{user.email} may not approve polls (role {user.role}, "
                                   f"{'active' if user.active else 'disabled'})")
    return f"user:{user.id}"


def _describe(runtime: Runtime, session: object, poll: Poll) -> None:
    carrier = polls.carrier(session, poll)        # type: ignore[arg-type]
    reach = polls.audience(runtime, session, poll)   # type: ignore[arg-type]
    click.echo(f"poll {poll.id} \"{poll.title}\": {polls.refresh(session, poll)}"   # type: ignore[arg-type]
               f"{', approved by ' + carrier.approved_by if carrier.approved_by else ''}; "
               f"a question waits {poll.window_hours} h for its answer")
    for preview in polls.previews(poll):
        click.echo(f"--- question {preview['question']}, {preview['language']}: {preview['sms_segments']} SMS part(s), "
                   f"{preview['characters']} characters")
        click.echo(preview["text"])
    click.echo("recipients: " + ", ".join(f"{c} {n}" for c, n in reach["by_channel"].items()) +
               f" (total {reach['total']})")
    if reach["skipped"]:
        click.echo(f"skipped for lack of a text in their language: {reach['skipped']}")
    for channel, count in reach["channels_off"].items():
        click.echo(f"WARNING: {channel} is off: {count} people there would not receive it")
    click.echo(f"expected time to send question 1 at the configured rates: {_duration(reach['seconds'])}")


@poll_cli.command("create", help="Write a poll (a draft) from FILE.\n\n" + FILE_HELP)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as", "actor", default=None, help="your staff account's email (or a name)")
def create(file: Path, actor: str | None) -> None:
    try:
        spec = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{file}: not readable YAML or JSON ({type(exc).__name__})") from None
    if not isinstance(spec, dict):
        raise click.ClickException(f"{file}: a poll file is a mapping (title, questions, ...)")
    when = spec.get("at")
    if isinstance(when, str):
        try:
            when = datetime.strptime(when, "%Y-%m-%d %H:%M")
        except ValueError:
            raise click.ClickException("at: use YYYY-MM-DD HH:MM (UTC)") from None
    runtime = _runtime()
    try:
        with runtime.transaction() as session:
            poll = polls.create(runtime, session, title=str(spec.get("title") or ""),
                                questions=spec.get("questions") or [], actor=_actor(actor, session),
                                languages=spec.get("languages") or (), channels=spec.get("channels") or (),
                                areas=spec.get("areas") or (), topic=spec.get("topic"),
                                fallback=spec.get("fallback"), window_hours=spec.get("window_hours", 72),
                                scheduled_at=when)
            _describe(runtime, session, poll)
            click.echo(f"created poll {poll.id} (draft)")
    except (polls.PollError, broadcasts.BroadcastError) as exc:
        raise click.ClickException(str(exc)) from None


@poll_cli.command("show")
@click.argument("poll_id", type=POLL_ID)
def show(poll_id: int) -> None:
    """Each question as sent, SMS parts, audience, expected time."""
    runtime = _runtime()
    with runtime.transaction() as session:
        _describe(runtime, session, _get(session, poll_id))


@poll_cli.command("list")
def list_polls() -> None:
    with _runtime().transaction() as session:
        for p in polls.listing(session)[:50]:
            click.echo(f"{p['id']:>5}  {p['status']:<10} {p['questions']} question(s)  {p['title']}")


def _change(poll_id: int, actor: str | None, change: object, who: object = _actor) -> tuple[str, object]:
    runtime = _runtime()
    try:
        with runtime.transaction() as session:
            poll = _get(session, poll_id)
            result = change(session, poll, who(actor, session), runtime.config)   # type: ignore[operator]
            status = poll.status
    except (polls.PollError, broadcasts.BroadcastError) as exc:
        raise click.ClickException(str(exc)) from None
    return status, result


@poll_cli.command("approve")
@click.argument("poll_id", type=POLL_ID)
@click.option("--as", "actor", default=None, metavar="EMAIL", help="your staff account")
def approve(poll_id: int, actor: str | None) -> None:
    """Approve a draft written by someone else (the broadcast approval rule)."""
    status, _ = _change(poll_id, actor, polls.approve, who=_approver)
    click.echo(f"poll {poll_id}: {status}")


@poll_cli.command("send")
@click.argument("poll_id", type=POLL_ID)
@click.option("--at", "at", default=None, help="send later: YYYY-MM-DD HH:MM (UTC)")
@click.option("--as", "actor", default=None)
def send(poll_id: int, at: str | None, actor: str | None) -> None:
    """Send question 1 now (or at its time); the queue worker sends it, the next questions go as replies."""
    when = None
    if at:
        try:
            when = datetime.strptime(at, "%Y-%m-%d %H:%M")
        except ValueError:
            raise click.BadParameter("use YYYY-MM-DD HH:MM", param_hint="--at") from None
    status, now = _change(poll_id, actor, lambda s, p, a, c: polls.send(s, p, a, c, at=when))
    if now:
        broadcasts.wake()
    click.echo(f"poll {poll_id}: {status}")


@poll_cli.command("close")
@click.argument("poll_id", type=POLL_ID)
@click.option("--as", "actor", default=None)
def close(poll_id: int, actor: str | None) -> None:
    """No more answers or changes; whoever was not asked yet is not asked."""
    status, _ = _change(poll_id, actor, lambda s, p, a, c: polls.close(s, p, a))
    click.echo(f"poll {poll_id}: {status}")


@poll_cli.command("cancel")
@click.argument("poll_id", type=POLL_ID)
@click.option("--as", "actor", default=None)
def cancel(poll_id: int, actor: str | None) -> None:
    status, dropped = _change(poll_id, actor, lambda s, p, a, c: polls.cancel(s, p, a))
    click.echo(f"poll {poll_id}: {status}; {dropped} person(s) will not be asked")


@poll_cli.command("status")
@click.argument("poll_id", type=POLL_ID)
@click.option("--by", type=click.Choice(poll_results.BREAKDOWNS), default=None,
              help="also a breakdown (cells under POLL_MIN_CELL shown as <N)")
def status(poll_id: int, by: str | None) -> None:
    """Received, answered, skipped, and per option count and percent."""
    runtime = _runtime()
    with runtime.transaction() as session:
        poll = _get(session, poll_id)
        result = poll_results.results(runtime, session, poll)
        table = poll_results.breakdown(runtime, session, poll, by) if by else None
    click.echo(f"poll {poll_id} \"{result['title']}\": {result['status']}, received {result['received']}, "
               f"answered {result['answered_any']}")
    for question in result["questions"]:
        text = question["text"].get("en") or next(iter(question["text"].values()))
        click.echo(f"Q{question['number']} {text}: answered {question['answered']}, skipped {question['skipped']}")
        for option in question["options"]:
            label = option["label"].get("en") or next(iter(option["label"].values()))
            click.echo(f"  {option['number']}. {label}: {option['count']} ({option['percent']}%)")
    if table:
        for question in table["questions"]:
            click.echo(f"Q{question['number']} by {by}:")
            for row in question["rows"]:
                cells = "  ".join(f"{n}: {v}" for n, v in row["options"].items())
                click.echo(f"  {row['key']}: total {row['total']}  {cells}")


@poll_cli.command("export")
@click.argument("poll_id", type=POLL_ID)
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@click.option("--aggregate", is_flag=True, help="counts per group and option instead of one row per answer")
@click.option("--by", type=click.Choice(poll_results.BREAKDOWNS), default="area", show_default=True,
              help="the groups of --aggregate")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="write to this file (default: the terminal)")
@click.option("--as", "actor", default=None)
def export(poll_id: int, fmt: str, aggregate: bool, by: str, output: Path | None, actor: str | None) -> None:
    """Answers for HDX, Kobo or ActivityInfo: an HXL hashtag row under the headers, a pseudonymous id per
    person (never a number or address), free answers with numbers masked."""
    runtime = _runtime()
    with runtime.transaction() as session:
        poll = _get(session, poll_id)
        who = _actor(actor, session)
        if aggregate:
            _write([poll_results.export_aggregate(runtime, session, poll, fmt, by=by, actor=who)], output)
            return
        poll_results.audit_respondent_export(session, poll, who)
    with poll_results.reading(runtime) as session:     # per respondent: written as it is read
        _write(poll_results.stream_respondents(runtime, session, _get(session, poll_id), fmt), output)


def _write(chunks: Iterable[str], output: Path | None) -> None:
    if output is None:
        for chunk in chunks:
            click.echo(chunk, nl=False)
        return
    with output.open("w", encoding="utf-8") as file:
        for chunk in chunks:
            file.write(chunk)
    click.echo(f"wrote {output}", err=True)
