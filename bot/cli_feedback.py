"""`flask --app bot feedback ...` and `queue ...`: staff work and the outbound queue from the command line."""
import getpass
import sys
from datetime import timezone

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from . import cases, export, intake, outbound, retention
from .models import AuditEvent, Case, DeadLetter, Outbound
from .runtime import Runtime
from .runtime import current as current_runtime

feedback_cli = AppGroup("feedback", help="Feedback cases: list, show, answer, change status, export.")
queue_cli = AppGroup("queue", help="The queue: status, sweep, dead-letter replay, retention purge.")


def _runtime() -> Runtime:
    return current_runtime()


def _actor(name: str | None) -> str:
    return f"cli:{name or getpass.getuser()}"


@feedback_cli.command("list")
@click.option("--status", multiple=True, type=click.Choice(cases.STATUSES))
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 100_000))
def list_cases(status, limit):
    """Latest cases: code, date, kind, status, language, channel (texts: use `show`)."""
    with _runtime().transaction() as session:
        query = select(Case).where(Case.channel != cases.TRYOUT_CHANNEL).order_by(Case.id.desc()).limit(limit)
        if status:
            query = query.where(Case.status.in_(status))
        for case in session.execute(query).scalars():
            flag = " SENSITIVE" if case.sensitive else ""
            click.echo(f"{case.code}  {cases.as_aware(case.created_at):%Y-%m-%d %H:%M}  {case.kind:<12} "
                       f"{case.status:<12} {case.language or '-':<8} {case.channel}{flag}")


@feedback_cli.command("show")
@click.argument("code")
@click.option("--as", "actor", default=None, help="Your name, for the audit log.")
def show_case(code, actor):
    """One case with its history (the view is written to the audit log)."""
    runtime = _runtime()
    try:
        with runtime.transaction() as session:
            case = cases.find_case(session, code)
            session.add(AuditEvent(actor=_actor(actor), action="view_case", target=f"case:{case.code}"))
            events = cases.case_events(runtime, session, case)
            statuses = {row.id: (row.status, row.failure_reason) for row in session.execute(
                select(Outbound).where(Outbound.case_id == case.id)).scalars()}
            text = runtime.vault.decrypt(case.text_enc) if case.text_enc else ""
    except cases.CaseError as exc:
        raise click.ClickException(str(exc))
    click.echo(f"case {case.code}: {case.kind}, {case.status}{', SENSITIVE' if case.sensitive else ''}; "
               f"{case.language} on {case.channel}; area {case.area or '-'}")
    click.echo(f"text: {text}")
    for event in events:
        line = f"  {cases.as_aware(event['at']):%Y-%m-%d %H:%M} {event['actor']}: {event['action']}"
        if event["to"]:
            line += f" {event['from'] or ''}->{event['to']}"
        if event["text"]:
            line += f" «{event['text']}»"
        if event["outbound_id"] in statuses:
            status, reason = statuses[event["outbound_id"]]
            line += f" [delivery: {status}{' ' + reason if reason else ''}]"
        click.echo(line)


@feedback_cli.command("answer")
@click.argument("code")
@click.argument("text")
@click.option("--status", type=click.Choice(cases.STATUSES), default=None, help="Also move the case to this status.")
@click.option("--as", "actor", default=None, help="Your name, for the case history.")
def answer_case(code, text, status, actor):
    """Answer a case: the person gets TEXT on their channel, in their language, with the reference code."""
    try:
        result = cases.answer(_runtime(), code, text, _actor(actor), status)
    except cases.CaseError as exc:
        raise click.ClickException(str(exc))
    if result["outbound_id"]:
        click.echo(f"answer queued as message #{result['outbound_id']} on {result['channel']}; "
                   f"case {result['code']} is {result['status']}")
    else:
        click.echo(f"answer recorded; the person cannot be reached (data erased, STOP, or the try page); "
                   f"case {result['code']} is {result['status']}")


@feedback_cli.command("status")
@click.argument("code")
@click.argument("status", type=click.Choice(cases.STATUSES))
@click.option("--as", "actor", default=None)
def case_status(code, status, actor):
    """Move a case to STATUS (recorded with who and when)."""
    try:
        click.echo(f"case is now {cases.change_status(_runtime(), code, status, _actor(actor))}")
    except cases.CaseError as exc:
        raise click.ClickException(str(exc))


@feedback_cli.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="YYYY-MM-DD")
@click.option("--status", multiple=True, type=click.Choice(cases.STATUSES))
@click.option("--include-sensitive-text", is_flag=True, help="Also the texts of sensitive cases (focal points).")
@click.option("--as", "actor", default=None)
def export_cases(fmt, since, status, include_sensitive_text, actor):
    """Print cases for reporting: no phone numbers, no chat ids; JSON is one object per line."""
    since_utc = since.replace(tzinfo=timezone.utc) if since else None
    records = export.rows(_runtime(), since_utc, tuple(status), include_sensitive_text, _actor(actor))
    sys.stdout.write(export.to_csv(records) if fmt == "csv" else export.to_json_lines(records))


@queue_cli.command("status")
def queue_status():
    """Outbound messages in each state; tasks waiting in the queue; inbound messages kept as dead letters."""
    from .queue import waiting
    with _runtime().transaction() as session:
        counts = session.execute(select(Outbound.status, func.count()).group_by(Outbound.status)).all()
        dead = session.scalar(select(func.count()).select_from(DeadLetter))
    if not counts:
        click.echo("no outbound messages yet")
    for status, count in counts:
        click.echo(f"{status:<14} {count}")
    queued, scheduled = waiting()
    click.echo(f"queue: {queued} task(s) waiting for a worker, {scheduled} scheduled for later "
               "(inbound messages wait here while the database is down)")
    click.echo(f"dead letters: {dead} inbound message(s) that failed; `flask --app bot queue replay`" if dead
               else "dead letters: none")


@queue_cli.command("replay")
@click.option("--limit", type=click.IntRange(1), default=None, help="At most this many, oldest first.")
def queue_replay(limit):
    """Handle again the inbound messages kept as dead letters (after fixing what made them fail)."""
    done = intake.replay_dead_letters(_runtime(), limit)
    click.echo(f"handled {done['handled']}, failed again {done['failed']}")
    if done["failed"]:
        raise SystemExit(1)


@queue_cli.command("sweep")
def queue_sweep():
    """Re-queue messages whose task was lost (the worker also does this every two minutes)."""
    click.echo(f"re-queued {outbound.sweep(_runtime())}")


@queue_cli.command("purge")
def queue_purge():
    """Apply the retention periods now (the worker does this every six hours)."""
    done = retention.purge(_runtime())
    click.echo("emptied: " + ", ".join(f"{count} {what}" for what, count in done.items()))
