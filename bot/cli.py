"""Operator commands: `flask --app bot <group> <command>`, each with --help."""
import getpass
import sys
import uuid

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from handlers.content import load as load_content
from handlers.sms import segments
from handlers.types import Incoming

from . import db, inbound
from .channels import plain, telegram, twilio


def _runtime():
    return current_app.extensions["bot"]


def render_for_terminal(channel: str, incoming: Incoming, replies) -> str:
    """What the person would see on that channel, with the SMS cost shown."""
    if channel == "sms":
        return "\n".join(f"{body}\n  [SMS: {len(body)} characters, {segments(body)} segment(s)]"
                         for body in plain.sms_messages(replies))
    if channel == "whatsapp":
        return "\n---\n".join(body + (f"\n  [picture: {image}]" if image else "")
                              for body, image in twilio.bodies("whatsapp", replies))
    if channel == "telegram":
        body = telegram.webhook_response(incoming, replies, {}) or {}
        keys = [row[0]["text"] for row in (body.get("reply_markup") or {}).get("keyboard", [])]
        reply = telegram.merge(replies)
        picture = f"[picture: {reply.image}]\n" if reply and reply.image else ""
        return picture + (body.get("text") or "") + ("\n" + " | ".join(f"[{k}]" for k in keys) if keys else "")
    return "\n---\n".join(plain.as_text(r) for r in replies)


@click.command("chat")
@click.option("--channel", type=click.Choice(["sms", "whatsapp", "telegram", "web"]), default="web",
              show_default=True, help="Show replies as this channel renders them.")
@click.option("--as", "address", default=None, help="Who you are (default: terminal:<your user name>).")
@with_appcontext
def chat_command(channel, address):
    """Chat with the bot in this terminal, through the same dialogue as every channel."""
    runtime = _runtime()
    address = address or f"terminal:{getpass.getuser()}"
    if sys.stdin.isatty():
        click.echo("Type a message (Ctrl-D to quit). Try: مرحبا · سڵاو · silav · hello")
    while True:
        try:
            text = input("> " if sys.stdin.isatty() else "")
        except EOFError:
            break
        incoming = Incoming(channel, address, text=text, provider_id=f"terminal-{uuid.uuid4().hex}")
        outcome = inbound.receive(runtime, incoming)
        click.echo(render_for_terminal(channel, incoming, outcome.replies))
        click.echo("")


content_cli = AppGroup("content", help="Check and reload the content files.")


@content_cli.command("check")
@click.option("--sms-report", is_flag=True, help="Also print, per language, the SMS parts of the SMS answers.")
def content_check(sms_report):
    """Fail on a missing language, an SMS text over budget, a missing picture, an ambiguous keyword, an
    unverified number, a lost safety fact or a sensitive word that fires on ordinary text."""
    content = load_content(_runtime().content.content_dir)
    for problem in content.problems:
        click.echo(f"problem: {problem}")
    if sms_report:
        for line in sms_parts_report(content):
            click.echo(line)
    items = len(content.items)
    click.echo(f"{len(content.topics)} topics, {items} items, {len(content.keyword_index)} keywords, "
               f"{len(content.problems)} problem(s)")
    if content.problems:
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


@content_cli.command("reload")
def content_reload():
    """Load the content again in this process (running web processes notice changed files by themselves)."""
    content = _runtime().content.reload()
    click.echo(f"reloaded: {len(content.items)} items")


db_cli = AppGroup("db", help="Database schema (Alembic migrations).")


@db_cli.command("upgrade")
def db_upgrade():
    """Apply every migration (the Procfile's release step)."""
    db.upgrade(current_app.config["DATABASE_URL"])
    click.echo(f"database at revision {db.current_revision(_runtime().engine)}")


def init_app(app) -> None:
    from . import cli_broadcast, cli_doctor, cli_feedback, cli_telegram, cli_users
    app.cli.add_command(cli_doctor.doctor_command)
    app.cli.add_command(chat_command)
    app.cli.add_command(content_cli)
    app.cli.add_command(db_cli)
    app.cli.add_command(cli_telegram.telegram_cli)
    app.cli.add_command(cli_feedback.feedback_cli)
    app.cli.add_command(cli_feedback.queue_cli)
    app.cli.add_command(cli_users.users_cli)
    app.cli.add_command(cli_broadcast.broadcast_cli)
