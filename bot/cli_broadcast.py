"""`flask --app bot broadcast ...`: compose, approve, send and follow announcements from the command line."""
import getpass
import time
from datetime import datetime
from typing import Any

import click
from flask.cli import AppGroup
from sqlalchemy import select

from handlers.i18n import LANGUAGES

from . import broadcast_runner, broadcasts, channels, users
from .models import Broadcast
from .runtime import Runtime
from .runtime import current as current_runtime
from .statuses import BroadcastStatus

BROADCAST_ID = click.IntRange(1, 2 ** 63 - 1)   # a number the database can hold

broadcast_cli = AppGroup("broadcast", help="Announcements to the people who opted in.")


def _runtime() -> Runtime:
    return current_runtime()


def _actor(name: str | None, session=None) -> str:
    """A staff account's email names that account (user:<id>, as the dashboard records it); any other
    name is recorded as typed, as a command-line user."""
    if session is not None and name and "@" in name:
        try:
            return f"user:{users.find(session, name).id}"
        except users.UserError as exc:
            raise click.ClickException(str(exc))
    return name if name and name.startswith("user:") else f"cli:{name or getpass.getuser()}"


def _approver(name: str | None, session) -> str:
    """Approval is the second person's check, so it names a staff account that may approve, not any name."""
    if not name or "@" not in name:
        raise click.ClickException("approve needs --as EMAIL: the staff account of the second person "
                                   "(admin, officer or focal point)")
    try:
        user = users.find(session, name)
    except users.UserError as exc:
        raise click.ClickException(str(exc))
    if not users.can(user, "approve_broadcast"):
        raise click.ClickException(f"{user.email} may not approve broadcasts (role {user.role}, "
                                   f"{'active' if user.active else 'disabled'})")
    return f"user:{user.id}"


def _get(session, broadcast_id: int) -> Broadcast:
    broadcast = session.get(Broadcast, broadcast_id)
    if broadcast is None:
        raise click.ClickException(f"no broadcast {broadcast_id}")
    return broadcast


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours} h {rest // 60} min" if hours else f"{rest // 60} min {rest % 60} s"


def _describe(runtime, session, broadcast: Broadcast) -> None:
    reach = broadcasts.audience(runtime, session, broadcast)
    click.echo(f"broadcast {broadcast.id} \"{broadcast.title}\": {broadcast.status}"
               f"{', approved by ' + broadcast.approved_by if broadcast.approved_by else ''}")
    for preview in broadcasts.previews(broadcast):
        click.echo(f"--- {preview['language']}: {preview['sms_segments']} SMS part(s), {preview['characters']} characters")
        click.echo(preview["text"])
    click.echo("recipients: " + ", ".join(f"{c} {n}" for c, n in reach["by_channel"].items()) +
               f" (total {reach['total']})")
    for lang, entry in sorted(reach["by_language"].items()):
        gets = entry["text"] or "nothing (no text, no fallback)"
        click.echo(f"  {lang}: {entry['count']} people get {gets}")
    if reach["skipped"]:
        click.echo(f"skipped for lack of a text in their language: {reach['skipped']}")
    for channel, outside in reach["outside_window"].items():
        label = channels.adapter(channel).label
        how = "what the channel allows outside it (template, message tag)" if outside["reachable"] \
            else f"nothing: not reachable on {label}"
        click.echo(f"{label} contacts outside the 24-hour window: {outside['count']} (they get {how})")
    for channel, count in reach["channels_off"].items():
        click.echo(f"WARNING: {channel} is off (its provider settings are not set): {count} people there "
                   "would not receive it")
    click.echo(f"expected time to send at the configured rates: {_duration(reach['seconds'])}")


@broadcast_cli.command("create")
@click.option("--title", required=True)
@click.option("--text", "texts", multiple=True, metavar="LANG=TEXT",
              help=f"the announcement in one language ({', '.join(LANGUAGES)}); repeat per language")
@click.option("--fallback", type=click.Choice(LANGUAGES), default=None,
              help="send this language's text to people whose language has none (default: skip them)")
@click.option("--language", "languages", multiple=True, type=click.Choice(LANGUAGES))
@click.option("--channel", "channels", multiple=True, type=click.Choice(broadcasts.CHANNELS))
@click.option("--area", "areas", multiple=True, help="camp, district or governorate id from content/areas.yaml")
@click.option("--topic", default=None, help="only people subscribed to this topic (or to everything)")
@click.option("--at", "at", default=None, help="send later: YYYY-MM-DD HH:MM (UTC)")
@click.option("--as", "actor", default=None,
              help="your staff account's email (or a name), for the audit log and the approval rule")
def create(title, texts, fallback, languages, channels, areas, topic, at, actor):
    """Write a broadcast (a draft); it shows the audience and the expected time."""
    parsed = {}
    for item in texts:
        lang, sep, text = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r}: write LANG=TEXT", param_hint="--text")
        parsed[lang.strip()] = text
    when = None
    if at:
        try:
            when = datetime.strptime(at, "%Y-%m-%d %H:%M")
        except ValueError:
            raise click.BadParameter("use YYYY-MM-DD HH:MM", param_hint="--at")
    runtime = _runtime()
    try:
        with runtime.transaction() as session:
            broadcast = broadcasts.create(runtime, session, title=title, texts=parsed, actor=_actor(actor, session),
                                          fallback=fallback, languages=languages, channels=channels, areas=areas,
                                          topic=topic, scheduled_at=when)
            _describe(runtime, session, broadcast)
            click.echo(f"created broadcast {broadcast.id} (draft)")
    except broadcasts.BroadcastError as exc:
        raise click.ClickException(str(exc))


@broadcast_cli.command("show")
@click.argument("broadcast_id", type=BROADCAST_ID)
def show(broadcast_id):
    """Texts as each channel shows them, audience, expected time."""
    runtime = _runtime()
    with runtime.transaction() as session:
        _describe(runtime, session, _get(session, broadcast_id))


@broadcast_cli.command("list")
def list_broadcasts():
    with _runtime().transaction() as session:
        for b in session.execute(select(Broadcast).where(broadcasts.not_a_poll()).order_by(Broadcast.id.desc())
                                 .limit(50)).scalars():
            click.echo(f"{b.id:>5}  {b.status:<10} {b.recipients:>7}  {b.title}")


def _change(broadcast_id: int, actor: str | None, change, who=_actor) -> tuple[str, Any]:
    runtime = _runtime()
    try:
        with runtime.transaction() as session:
            broadcast = _get(session, broadcast_id)
            result = change(session, broadcast, who(actor, session), runtime.config)
            status = broadcast.status
    except broadcasts.BroadcastError as exc:
        raise click.ClickException(str(exc))
    return status, result


@broadcast_cli.command("approve")
@click.argument("broadcast_id", type=BROADCAST_ID)
@click.option("--as", "actor", default=None, metavar="EMAIL", help="your staff account")
def approve(broadcast_id, actor):
    """Approve a draft written by someone else, as a staff account that may approve."""
    status, _ = _change(broadcast_id, actor, broadcasts.approve, who=_approver)
    click.echo(f"broadcast {broadcast_id}: {status}")


@broadcast_cli.command("send")
@click.argument("broadcast_id", type=BROADCAST_ID)
@click.option("--as", "actor", default=None)
def send(broadcast_id, actor):
    """Send now (or at its scheduled time); the queue worker does the sending."""
    status, now = _change(broadcast_id, actor, broadcasts.start)
    if now:
        broadcasts.wake()
    click.echo(f"broadcast {broadcast_id}: {status}")


@broadcast_cli.command("pause")
@click.argument("broadcast_id", type=BROADCAST_ID)
@click.option("--as", "actor", default=None)
def pause(broadcast_id, actor):
    status, _ = _change(broadcast_id, actor, lambda s, b, a, c: broadcasts.pause(s, b, a))
    click.echo(f"broadcast {broadcast_id}: {status}")


@broadcast_cli.command("resume")
@click.argument("broadcast_id", type=BROADCAST_ID)
@click.option("--as", "actor", default=None)
def resume(broadcast_id, actor):
    status, _ = _change(broadcast_id, actor, lambda s, b, a, c: broadcasts.resume(s, b, a))
    broadcasts.wake()
    click.echo(f"broadcast {broadcast_id}: {status}")


@broadcast_cli.command("cancel")
@click.argument("broadcast_id", type=BROADCAST_ID)
@click.option("--as", "actor", default=None)
def cancel(broadcast_id, actor):
    status, dropped = _change(broadcast_id, actor, lambda s, b, a, c: broadcasts.cancel(s, b, a))
    click.echo(f"broadcast {broadcast_id}: {status}; {dropped} message(s) will not be sent")


def _bar(p: dict, width: int = 30) -> str:
    filled = int(width * p["percent"] / 100)
    return (f"[{'#' * filled}{'.' * (width - filled)}] {p['percent']:>3}%  queued {p['queued']}  sent {p['sent']}  "
            f"delivered {p['delivered']}  failed {p['failed']}  cancelled {p['cancelled']}  replies {p['replies']}")


@broadcast_cli.command("status")
@click.argument("broadcast_id", type=BROADCAST_ID)
@click.option("--watch", is_flag=True, help="redraw every second until it is done")
def status(broadcast_id, watch):
    """Progress: queued, sent, delivered, failed by channel and language, failure reasons, replies."""
    runtime = _runtime()
    while True:
        with runtime.transaction() as session:
            broadcast = _get(session, broadcast_id)
            p = broadcasts.progress(session, broadcast)
        if not watch:
            break
        click.echo("\r" + _bar(p), nl=False)
        if p["status"] in (BroadcastStatus.DONE, BroadcastStatus.CANCELLED, BroadcastStatus.DRAFT, BroadcastStatus.APPROVED,
                           BroadcastStatus.PAUSED):
            click.echo()
            break
        time.sleep(1)
    click.echo(f"broadcast {broadcast_id}: {p['status']}, {p['total']} recipient(s)")
    click.echo(_bar(p))
    for title, groups in (("channel", p["by_channel"]), ("language", p["by_language"])):
        for key, counts in sorted(groups.items()):
            click.echo(f"  {title} {key}: " + ", ".join(f"{k} {v}" for k, v in counts.items() if v))
    for reason, count in sorted(p["failure_reasons"].items()):
        click.echo(f"  failed because {reason}: {count}")


@broadcast_cli.command("run")
def run():
    """Send in the foreground (what the worker does), for a machine without a worker."""
    click.echo(broadcast_runner.run(_runtime()))
