"""`flask --app bot telegram set-webhook | poll`: connecting the bot to Telegram."""
import logging
import time

import click
from flask import current_app
from flask.cli import AppGroup
from telegram import Update
from telegram.error import InvalidToken, NetworkError, TelegramError

from . import inbound
from .channels import telegram
from .channels.base import Ignored, merge
from .runtime import current as current_runtime

log = logging.getLogger(__name__)
telegram_cli = AppGroup("telegram", help="Connect the bot to Telegram.")


def _bot():
    config = current_app.config
    if not config.get("TELEGRAM_BOT_TOKEN"):
        raise click.ClickException("TELEGRAM_BOT_TOKEN is not set")
    return telegram.make_bot(config)


@telegram_cli.command("set-webhook")
def set_webhook():
    """Tell Telegram to post updates to PUBLIC_URL/webhooks/telegram, with the secret header."""
    config = current_app.config
    if not config.get("PUBLIC_URL"):
        raise click.ClickException("PUBLIC_URL is not set (the https address Telegram can reach)")
    url = config["PUBLIC_URL"].rstrip("/") + "/webhooks/telegram"
    bot = _bot()

    async def go():
        async with bot:
            await bot.set_webhook(url, secret_token=config.get("TELEGRAM_WEBHOOK_SECRET"),
                                  allowed_updates=["message", "callback_query", "my_chat_member"])
            return await bot.get_webhook_info()
    info = _telegram_call(go())
    click.echo(f"webhook set: {info.url} (pending updates: {info.pending_update_count})")


def _telegram_call(coro):
    """A call to the Bot API from the command line: a failure is one line, never the token."""
    try:
        return telegram._run(coro)
    except InvalidToken:
        raise click.ClickException("Telegram refused TELEGRAM_BOT_TOKEN (check it with @BotFather)") from None
    except TelegramError as exc:
        reason = str(exc).replace(current_app.config.get("TELEGRAM_BOT_TOKEN") or "\0", "<token>")
        raise click.ClickException(f"Telegram could not be reached or refused: {type(exc).__name__}: {reason}") \
            from None


@telegram_cli.command("poll")
@click.option("--once", is_flag=True, help="Fetch one batch of updates and stop (for scripts and tests).")
@click.option("--timeout", default=30, show_default=True, help="Long-polling timeout in seconds.")
def poll(once, timeout):
    """Long polling, for a laptop with no public address: removes the webhook, then answers updates."""
    runtime = current_runtime()
    bot = _bot()
    images = runtime.content.get().images

    # No `async with bot`: leaving it shuts the client down, and the same client sends the answers.
    async def fetch(offset):
        return await bot.get_updates(offset=offset, timeout=timeout, allowed_updates=["message", "callback_query"])

    async def drop_webhook():
        await bot.delete_webhook()
    _telegram_call(drop_webhook())
    click.echo("polling Telegram; Ctrl-C to stop")
    offset = None
    while True:
        try:
            updates = telegram._run(fetch(offset))
        except NetworkError as exc:
            log.warning("polling: %s; retrying", exc)
            time.sleep(3)
            continue
        for update in updates:
            offset = update.update_id + 1
            _answer(runtime, bot, update, images)
        if once:
            break


def _answer(runtime, bot, update: Update, images) -> None:
    parsed = telegram.from_update(update)
    if isinstance(parsed, Ignored):
        return
    outcome = inbound.receive(runtime, parsed)
    reply = merge(outcome.replies)
    if reply is None:
        return
    try:
        telegram._run(telegram._send(bot, parsed.address, reply, images))
    except TelegramError as exc:
        log.warning("polling: could not answer: %s", exc)
