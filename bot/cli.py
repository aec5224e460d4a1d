"""Operator commands: `flask --app bot <group> <command>`, each with --help."""
import getpass
import sys
import uuid

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from handlers.types import Incoming

from . import channels, db, inbound
from .channels import plain
from .runtime import Runtime
from .runtime import current as current_runtime


def _runtime() -> Runtime:
    return current_runtime()


def render_for_terminal(channel: str, incoming: Incoming, replies) -> str:
    """What the person would see on that channel (its adapter renders it), with the SMS cost shown."""
    found = channels.find(channel)
    if found is not None:
        return found.preview(incoming, replies, {})
    return "\n---\n".join(plain.as_text(r) for r in replies)


@click.command("chat")
@click.option("--channel", type=click.Choice([*channels.names(), "web"]), default="web",
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


db_cli = AppGroup("db", help="Database schema (Alembic migrations).")


@db_cli.command("upgrade")
def db_upgrade():
    """Apply every migration (the Procfile's release step)."""
    db.upgrade(current_app.config["DATABASE_URL"])
    runtime = _runtime()
    click.echo(f"database at revision {db.current_revision(runtime.engine)}")
    runtime.content.reload()      # an empty database takes content/ as its first published version
    click.echo(f"content: published version {runtime.content.version_id}")


def init_app(app) -> None:
    from . import cli_broadcast, cli_content, cli_doctor, cli_feedback, cli_poll, cli_telegram, cli_users
    app.cli.add_command(cli_doctor.doctor_command)
    app.cli.add_command(chat_command)
    app.cli.add_command(cli_content.content_cli)
    app.cli.add_command(db_cli)
    app.cli.add_command(cli_telegram.telegram_cli)
    app.cli.add_command(cli_feedback.feedback_cli)
    app.cli.add_command(cli_feedback.queue_cli)
    app.cli.add_command(cli_users.users_cli)
    app.cli.add_command(cli_broadcast.broadcast_cli)
    app.cli.add_command(cli_poll.poll_cli)
    for adapter in channels.ADAPTERS.values():      # a channel's own commands (set-webhook ...)
        if adapter.cli is not None and adapter.cli.name not in app.cli.commands:
            app.cli.add_command(adapter.cli)
