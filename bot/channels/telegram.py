"""Telegram: updates in through the webhook (or long polling), replies as a method call in the response.

Parsed with python-telegram-bot's `Update.de_json`; sent outside a request with
its `Bot` client (base URL from TELEGRAM_API_URL, for a self-hosted Bot API server
or the tests' loopback fake). A real sample update: tests/payloads/telegram/.
"""
import asyncio
import hmac
import html
import json
import re
import threading
from collections.abc import Coroutine
from http import HTTPStatus
from typing import Any, TypeVar

import urllib3
from flask import Request
from telegram import Bot, Chat, InputFile, Message, ReplyKeyboardMarkup, Update, User
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import BadRequest as TgBadRequest
from telegram.error import ChatMigrated, Conflict, Forbidden, InvalidToken, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.request import BaseRequest, RequestData
from werkzeug.datastructures import Headers

from handlers.types import PROFILES, Incoming, Media, Reply

from .base import (
    FAILED,
    RETRY,
    SENT,
    STOPPED,
    Adapter,
    Answer,
    BadRequest,
    Config,
    Event,
    Ignored,
    Json,
    Limits,
    Route,
    SendResult,
    VoiceNote,
    merge,
    text_field,
)
from .plain import directed, option_key

CHANNEL = "telegram"
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
_BOLD = re.compile(r"\*([^*\n]+)\*")


# ---- inbound -------------------------------------------------------------------------------------
def check_secret(headers: Headers, config: Config) -> bool:
    """Only a post carrying our secret is Telegram's. Without a secret nothing is accepted: anyone could
    then read a person's case by posting their chat id (config generates one into instance/keys.json)."""
    secret = config.get("TELEGRAM_WEBHOOK_SECRET")
    if not secret or not config.get("TELEGRAM_BOT_TOKEN"):
        return False
    given = headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    return hmac.compare_digest(given.encode(), secret.encode())


def parse_body(data: object) -> Incoming | Ignored:
    """A decoded update body to an Incoming; raises BadRequest when it is not a Telegram update."""
    if not isinstance(data, dict):
        raise BadRequest("an update must be a JSON object")
    update_id = data.get("update_id")
    if type(update_id) is not int or not 0 <= update_id < 2 ** 63:
        raise BadRequest("update_id (a positive integer) is missing")
    try:
        update = Update.de_json(data, None)
    except Exception as exc:  # de_json raises whatever the wrong shape provokes
        raise BadRequest(f"not a Telegram update: {type(exc).__name__}") from None
    return from_update(update)


def _chat_id(chat: Chat | None) -> str:
    """A chat id as we keep it; de_json takes whatever the JSON holds, Telegram sends an integer."""
    if chat is None or type(chat.id) is not int or abs(chat.id) >= 2 ** 63:
        raise BadRequest("the message has no chat with an integer id")
    return str(chat.id)


def _hint(user: User | None) -> str | None:
    code = getattr(user, "language_code", None) if user is not None else None
    return code if isinstance(code, str) and code.isascii() else None


def _file(attachment: object) -> str:
    """The attachment's file_id as a reference the worker can fetch (voice, audio, photo size, video...)."""
    return "telegram:file:" + text_field(getattr(attachment, "file_id", None), "file_id")


def _mime(attachment: object, default: str) -> str:
    mime = getattr(attachment, "mime_type", None)
    return mime if isinstance(mime, str) and mime.isascii() and len(mime) <= 100 else default


def from_update(update: Update) -> Incoming | Ignored:
    if update.callback_query is not None:
        query = update.callback_query
        if query.message is None or query.from_user is None:
            return Ignored("callback without a chat")
        chat = query.message.chat
        if chat is not None and chat.type != "private":
            return Ignored("not a private chat")
        return Incoming(CHANNEL, _chat_id(chat), text=text_field(query.data, "callback_query.data"),
                        provider_id=str(update.update_id), language_hint=_hint(query.from_user))
    message = update.message
    if message is None:
        kind = ("edited message" if update.edited_message else
                "member update" if update.my_chat_member else "update without a message")
        return Ignored(kind)
    address = _chat_id(message.chat)
    if message.chat.type != "private":
        return Ignored("not a private chat")
    media = []
    if message.voice:
        media.append(Media(_file(message.voice), _mime(message.voice, "audio/ogg")))
    elif message.audio:
        media.append(Media(_file(message.audio), _mime(message.audio, "audio/mpeg")))
    elif message.photo:
        media.append(Media(_file(message.photo[-1]), "image/jpeg"))
    elif message.video_note or message.video:
        video = message.video_note or message.video
        media.append(Media(_file(video), "video/mp4"))
    elif message.document:
        media.append(Media(_file(message.document), _mime(message.document, "")))
    text = text_field(message.text, "message.text") or text_field(message.caption, "message.caption")
    return Incoming(CHANNEL, address, text=text, provider_id=str(update.update_id),
                    media=media, language_hint=_hint(message.from_user), supported=bool(text or media))


# ---- rendering -----------------------------------------------------------------------------------
def _html(text: str) -> str:
    return _BOLD.sub(r"<b>\1</b>", html.escape(text, quote=False))


def keyboard(reply: Reply) -> Json | None:
    """Numbered options as reply-keyboard buttons; a tap sends "١. الصحة", which the dialogue reads as 1."""
    if not reply.options:
        return None
    # ReplyKeyboardMarkup(rows, resize_keyboard=True, is_persistent=True).to_dict(), without building
    # the objects: the same dict (bench/check_equivalence.py compares both).
    return {"is_persistent": True,
            "keyboard": [[{"text": f"{option_key(o.key, reply.language)}. {o.label}"}] for o in reply.options],
            "resize_keyboard": True}


def webhook_response(incoming: Incoming, replies: list[Reply], config: Config) -> Json | None:
    """The method call Telegram performs for us when it reads the webhook response."""
    reply = merge(replies)
    if reply is None:
        return None
    body: Json = {"chat_id": int(incoming.address) if incoming.address.lstrip("-").isdigit() else incoming.address,
                  "parse_mode": "HTML"}
    # Without options, the last keyboard goes: old "1. Yes, delete" buttons must not stay under a final word.
    body["reply_markup"] = keyboard(reply) or {"remove_keyboard": True}
    text = _html(directed(reply.text, reply.language))
    public = (config.get("PUBLIC_URL") or "").rstrip("/")
    if reply.image and public and len(text) <= CAPTION_LIMIT:
        return {"method": "sendPhoto", "photo": f"{public}/content-images/{reply.image}", "caption": text, **body}
    return {"method": "sendMessage", "text": text[:TEXT_LIMIT], **body}


# ---- sending outside a request -------------------------------------------------------------------
_loop_local = threading.local()
T = TypeVar("T")


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Each worker thread keeps one event loop for python-telegram-bot's async client."""
    loop = getattr(_loop_local, "loop", None)
    if loop is None or loop.is_closed():
        loop = asyncio.new_event_loop()
        _loop_local.loop = loop
    return loop.run_until_complete(coro)


class PooledRequest(BaseRequest):
    """python-telegram-bot's transport for the sending threads, over urllib3 instead of httpx.

    Each sending thread has its own Bot and event loop and sends one message at a time, so a blocking
    call inside the coroutine holds nothing up; urllib3 takes about a quarter of httpx's CPU per call,
    which is what limited a broadcast's rate (the sender is one Python process). Status and body go back
    to python-telegram-bot unchanged, so its error handling (RetryAfter, Forbidden, BadRequest) is the
    same; timeouts become TimedOut and connection errors NetworkError, as with its httpx transport."""

    TIMEOUT = 5.0    # python-telegram-bot's own defaults: 5 s to connect, read and write
    MEDIA_WRITE_TIMEOUT = 20.0

    def __init__(self) -> None:
        self._pool = urllib3.PoolManager(num_pools=2, maxsize=1, retries=False, block=False)

    @property
    def read_timeout(self) -> float:
        return self.TIMEOUT

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        self._pool.clear()

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
                         write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
                         connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
                         pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE) -> tuple[int, bytes]:
        def given(value: ODVInput[float], default: float) -> float:
            return default if isinstance(value, DefaultValue) or value is None else value
        files = request_data.multipart_data if request_data else None
        fields = dict(request_data.json_parameters) if request_data else {}
        timeout = urllib3.Timeout(connect=given(connect_timeout, self.TIMEOUT),
                                  read=max(given(read_timeout, self.TIMEOUT),
                                           given(write_timeout, self.MEDIA_WRITE_TIMEOUT if files else self.TIMEOUT)))
        try:
            if files:
                # InputFile has read every upload into bytes; RequestData's type also allows IO[bytes]
                response = self._pool.request(method, url, fields={**fields, **files},  # type: ignore[dict-item]
                                              encode_multipart=True,
                                              headers={"User-Agent": self.USER_AGENT}, timeout=timeout)
            else:
                response = self._pool.request(method, url, fields=fields or None, encode_multipart=False,
                                              headers={"User-Agent": self.USER_AGENT}, timeout=timeout)
        except urllib3.exceptions.TimeoutError as err:
            raise TimedOut from err
        except (urllib3.exceptions.HTTPError, OSError) as err:
            raise NetworkError(f"urllib3.{err.__class__.__name__}: {err}") from err
        return response.status, response.data


def make_bot(config: Config, request: BaseRequest | None = None) -> Bot:
    base = (config.get("TELEGRAM_API_URL") or "https://api.telegram.org").rstrip("/")
    return Bot(config["TELEGRAM_BOT_TOKEN"], base_url=f"{base}/bot", base_file_url=f"{base}/file/bot",
               request=request)


def _thread_bot(config: Config) -> Bot:
    """One client per worker thread (its connections belong to that thread's event loop)."""
    key = (config["TELEGRAM_BOT_TOKEN"], config.get("TELEGRAM_API_URL"))
    if getattr(_loop_local, "bot_key", None) != key:
        _loop_local.bot, _loop_local.bot_key = make_bot(config, PooledRequest()), key
    bot: Bot = _loop_local.bot
    return bot


def warm_up(config: Config) -> None:
    """Make this thread's client and event loop before its first paced send."""
    _thread_bot(config)
    _run(asyncio.sleep(0))


async def _send(bot: Bot, chat_id: str, reply: Reply, images: dict[str, bytes], voice: VoiceNote | None = None) -> Message:
    """The provider call is the first network call: no getMe before it (that would widen the window
    in which a killed worker leaves a message claimed but unsent)."""
    markup = keyboard(reply)
    markup_obj = ReplyKeyboardMarkup.de_json(markup, bot) if markup else None
    text = _html(directed(reply.text, reply.language))
    if voice is not None:
        return await _send_voice(bot, chat_id, reply, images, voice, text, markup_obj)
    if reply.image and reply.image in images and len(text) <= CAPTION_LIMIT:
        photo = InputFile(images[reply.image], filename=reply.image.rsplit("/", 1)[-1])
        return await bot.send_photo(chat_id, photo, caption=text, parse_mode="HTML", reply_markup=markup_obj)
    return await bot.send_message(chat_id, text[:TEXT_LIMIT], parse_mode="HTML", reply_markup=markup_obj)


async def _send_voice(bot: Bot, chat_id: str, reply: Reply, images: dict[str, bytes], voice: VoiceNote,
                      text: str, markup: ReplyKeyboardMarkup | None) -> Message:
    """sendVoice with the OGG/Opus file uploaded (multipart: no public URL needed); the text as its
    caption, or first as its own message when it is longer than a caption or comes with a picture."""
    note = InputFile(voice.ogg, filename=f"{voice.sha256[:12]}.ogg")
    seconds = max(1, round(voice.seconds))
    if text and (len(text) > CAPTION_LIMIT or (reply.image and reply.image in images)):
        await _send(bot, chat_id, Reply(reply.text, image=reply.image, language=reply.language), images)
        return await bot.send_voice(chat_id, note, duration=seconds, reply_markup=markup)
    return await bot.send_voice(chat_id, note, duration=seconds, caption=text or None,
                                parse_mode="HTML" if text else None, reply_markup=markup)


def send(config: Config, address: str, reply: Reply, images: dict[str, bytes],
         voice: VoiceNote | None = None) -> SendResult:
    """Send one stored message; every python-telegram-bot error becomes one of the queue's outcomes.
    images: the content's pictures by name (Content.images); voice: the reply's recording, uploaded."""
    if not config.get("TELEGRAM_BOT_TOKEN"):
        return SendResult(FAILED, reason="channel_off", detail="TELEGRAM_BOT_TOKEN is not set")
    try:
        sent = _run(_send(_thread_bot(config), address, reply, images, voice))
    except TelegramError as exc:
        return _failure(exc)
    return SendResult(SENT, provider_id=str(sent.message_id))


def send_text(config: Config, address: str, reply: Reply, images: dict[str, bytes]) -> SendResult:
    """A text-only message (a broadcast) as one sendMessage POST over this thread's urllib3 pool.

    python-telegram-bot's Bot builds objects around every call (the request, the Message it answers)
    and runs an event loop turn; at hundreds a second that was a large part of the sender's CPU. The
    request is the one Bot.send_message makes (chat_id, text, parse_mode), and the answer is read with
    python-telegram-bot's own rules (_raise_for, from BaseRequest._request_wrapper) into its exceptions,
    so every outcome is the one send() gives. Replies with an image or a keyboard go through send()."""
    if reply.image or reply.options:
        return send(config, address, reply, images)
    token = config.get("TELEGRAM_BOT_TOKEN")
    if not token:
        return SendResult(FAILED, reason="channel_off", detail="TELEGRAM_BOT_TOKEN is not set")
    pool, url = _raw_pool(config)
    text = _html(directed(reply.text, reply.language))[:TEXT_LIMIT]
    body = json.dumps({"chat_id": address, "text": text, "parse_mode": "HTML"}, ensure_ascii=False).encode()
    try:
        try:
            response = pool.urlopen("POST", url, body=body, headers=_JSON_HEADERS, timeout=_RAW_TIMEOUT,
                                    retries=False, redirect=False)
        except urllib3.exceptions.TimeoutError as err:
            raise TimedOut from err
        except (urllib3.exceptions.HTTPError, OSError) as err:
            raise NetworkError(f"urllib3.{err.__class__.__name__}: {err}") from err
        _raise_for(response.status, response.data)
        try:
            message_id = json.loads(response.data)["result"]["message_id"]
        except (ValueError, TypeError, KeyError) as err:
            raise TelegramError("Invalid server response") from err
    except TelegramError as exc:
        return _failure(exc)
    return SendResult(SENT, provider_id=str(message_id))


_JSON_HEADERS = {"Content-Type": "application/json", "User-Agent": PooledRequest.USER_AGENT}
_RAW_TIMEOUT = urllib3.Timeout(connect=PooledRequest.TIMEOUT, read=PooledRequest.TIMEOUT)


def _raw_pool(config: Config) -> tuple[urllib3.HTTPConnectionPool, str]:
    """This thread's connection pool and sendMessage path (kept: the connection stays open)."""
    key = (config["TELEGRAM_BOT_TOKEN"], config.get("TELEGRAM_API_URL"))
    if getattr(_loop_local, "raw_key", None) != key:
        base = (config.get("TELEGRAM_API_URL") or "https://api.telegram.org").rstrip("/")
        url = urllib3.util.parse_url(f"{base}/bot{config['TELEGRAM_BOT_TOKEN']}/sendMessage")
        _loop_local.raw = (urllib3.connection_from_url(url.url, maxsize=1, block=False), url.request_uri)
        _loop_local.raw_key = key
    raw: tuple[urllib3.HTTPConnectionPool, str] = _loop_local.raw
    return raw


def _raise_for(code: int, payload: bytes) -> None:
    """python-telegram-bot's BaseRequest._request_wrapper for an answer: its exception, or nothing (2xx)."""
    if HTTPStatus.OK <= code <= 299:
        return
    try:
        message = f"{HTTPStatus(code).phrase} ({code})"
    except ValueError:
        message = f"Unknown HTTPError ({code})"
    try:
        data = json.loads(payload)
        if not isinstance(data, dict):
            raise ValueError
    except ValueError:
        message += f". Parsing the server response {payload!r} failed"
    else:
        message = data.get("description") or message
        parameters = data.get("parameters")
        if parameters:
            if parameters.get("migrate_to_chat_id"):
                raise ChatMigrated(parameters["migrate_to_chat_id"])
            if parameters.get("retry_after"):
                raise RetryAfter(parameters["retry_after"])
            message += f". The server response contained unknown parameters: {parameters}"
    if code == HTTPStatus.FORBIDDEN:
        raise Forbidden(message)
    if code in (HTTPStatus.NOT_FOUND, HTTPStatus.UNAUTHORIZED):
        raise InvalidToken(message)
    if code == HTTPStatus.BAD_REQUEST:
        raise TgBadRequest(message)
    if code == HTTPStatus.CONFLICT:
        raise Conflict(message)
    raise NetworkError(message)


def _failure(exc: TelegramError) -> SendResult:
    """A python-telegram-bot error as one of the queue's outcomes."""
    if isinstance(exc, RetryAfter):
        delay = exc.retry_after.total_seconds() if hasattr(exc.retry_after, "total_seconds") else exc.retry_after
        return SendResult(RETRY, reason="throttled", retry_after=float(delay))
    if isinstance(exc, Forbidden):
        return SendResult(STOPPED, reason="blocked", detail=str(exc)[:300])
    if isinstance(exc, TgBadRequest):       # a NetworkError subclass in python-telegram-bot
        return SendResult(FAILED, reason="bad_request", detail=str(exc)[:300])
    if isinstance(exc, (TimedOut, NetworkError)):
        return SendResult(RETRY, reason="connection", detail=str(exc)[:300])
    return SendResult(FAILED, reason="telegram_error", detail=str(exc)[:300])


# ---- the adapter ---------------------------------------------------------------------------------
class Telegram(Adapter):
    """Telegram's Bot API: updates by webhook, the reply as a method call in the webhook response."""
    channel = CHANNEL
    label = "Telegram"
    profile = PROFILES["telegram"]
    limits = Limits(text=TEXT_LIMIT, rate_setting="TELEGRAM_RATE", rate_default=25.0,
                    pictures=("image/jpeg", "image/png"), voice=("audio/ogg",))
    routes = (Route("/webhooks/telegram", "telegram_update"),)

    def enabled(self, config: Config) -> bool:
        return bool(config.get("TELEGRAM_BOT_TOKEN") and config.get("TELEGRAM_WEBHOOK_SECRET"))

    def authenticate(self, request: Request, config: Config) -> None:
        if not config.get("TELEGRAM_BOT_TOKEN"):
            raise BadRequest("Telegram is off here: TELEGRAM_BOT_TOKEN is not set", 403)
        if not check_secret(request.headers, config):
            raise BadRequest("wrong or missing X-Telegram-Bot-Api-Secret-Token", 403)

    def parse(self, request: Request, config: Config) -> list[Event]:
        if request.mimetype != "application/json":
            raise BadRequest("send the update as application/json", 415)
        try:
            data = request.get_json(silent=True)
        except RecursionError:                    # nested thousands deep: not JSON any Telegram sends
            data = None
        if data is None:
            raise BadRequest("the body is not valid JSON")
        return [parse_body(data)]

    def answers_in_response(self, incoming: Incoming) -> bool:
        return True

    def respond(self, events: list[Event], answered: list[tuple[Incoming, list[Reply]]], config: Config) -> Answer:
        if events and isinstance(events[0], Ignored):
            return Answer({"ok": True, "ignored": events[0].reason})
        body = webhook_response(answered[0][0], answered[0][1], config) if answered else None
        return Answer(body or {"ok": True})

    def preview(self, incoming: Incoming, replies: list[Reply], config: Config) -> str:
        body = webhook_response(incoming, replies, {}) or {}
        keys = [row[0]["text"] for row in (body.get("reply_markup") or {}).get("keyboard", [])]
        reply = merge(replies)
        picture = f"[picture: {reply.image}]\n" if reply and reply.image else ""
        picture += "[voice note]\n" if reply and reply.voice else ""
        return picture + (body.get("text") or "") + ("\n" + " | ".join(f"[{k}]" for k in keys) if keys else "")

    def mask(self, address: str) -> str:
        return "tg ••••" + address[-4:]

    def send(self, config: Config, address: str, reply: Reply, images: dict[str, bytes],
             window_args: Json | None = None, fast: bool = False, voice: VoiceNote | None = None) -> SendResult:
        if voice is not None:
            return send(config, address, reply, images, voice)
        return (send_text if fast else send)(config, address, reply, images)

    def warm_up(self, config: Config) -> None:
        if config.get("TELEGRAM_BOT_TOKEN"):     # build the client now, not after the first slot
            warm_up(config)


ADAPTER = Telegram()
