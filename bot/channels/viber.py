"""Viber: the REST bot API (chatapi.viber.com/pa) out, its callbacks in.

Inbound: POST /webhooks/viber, every callback signed with X-Viber-Content-Signature (hex HMAC-SHA256 of
the raw body, keyed with VIBER_AUTH_TOKEN). Events: message (text, picture; others are answered
politely), subscribed -> START, unsubscribed -> STOP, conversation_started (answered in the response
with the welcome, the only message Viber lets a bot send someone not yet subscribed), delivered, seen
and failed (delivery statuses), webhook (set_webhook's check). message_token identifies each callback.
Replies go through send_message from the worker; menus are keyboards (reply buttons).
Sample payloads: tests/payloads/viber/.
"""
import hashlib
import hmac
import json
import re
import threading
from urllib.parse import urlsplit

import click
import urllib3
from flask import Request, current_app
from flask.cli import AppGroup

from handlers.types import Incoming, Media, Profile, Reply

from ..recordings import links as recording_links
from ..statuses import OutboundStatus
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
    StatusUpdate,
    VoiceNote,
    json_object,
    merge,
    send_each,
    text_field,
)
from .plain import directed, option_key

CHANNEL = "viber"
DEFAULT_API_URL = "https://chatapi.viber.com/pa"
TEXT_LIMIT = 7000
BUTTONS = 24
OPENED = "open."            # provider ids of conversation_started: answered in the webhook response
EVENTS = ["delivered", "seen", "failed", "subscribed", "unsubscribed", "conversation_started"]
# send_message's "status" (always HTTP 200): https://developers.viber.com/docs/api/rest-bot-api/#errorCodes
NOT_SUBSCRIBED, THROTTLED = {6}, {12}
INVALID_ADDRESS = {5, 11}
_USER = re.compile(r"[A-Za-z0-9+/=_-]{1,64}")
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


# ---- settings ------------------------------------------------------------------------------------
def api_url(config: Config) -> str | None:
    """The bot API base: https, or plain http to this machine only (a loopback fake): the auth token
    goes nowhere else."""
    url = (config.get("VIBER_API_URL") or DEFAULT_API_URL).rstrip("/")
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname or parts.scheme == "http" and parts.hostname in _LOOPBACK:
        return url
    return None


def sender(config: Config) -> Json:
    return {"name": (config.get("VIBER_SENDER_NAME") or "Info")[:28]}


# ---- inbound -------------------------------------------------------------------------------------
def check_signature(body: bytes, signature: str, token: str | None) -> bool:
    """X-Viber-Content-Signature: hex HMAC-SHA256 of the raw body with the auth token, in constant time."""
    if not token or not signature:
        return False
    expected = hmac.new(token.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(signature.strip().lower().encode(), expected.encode())


def _token(data: Json) -> str:
    token = data.get("message_token")
    if type(token) is not int or not 0 <= token < 2 ** 64:
        raise BadRequest("message_token (a positive integer) is missing")
    return str(token)


def _user(value: object, name: str) -> str:
    if not isinstance(value, str) or not _USER.fullmatch(value):
        raise BadRequest(f"{name} (a Viber user id) is missing")
    return value


def _hint(person: Json) -> str | None:
    code = person.get("language")
    return code if isinstance(code, str) and code.isascii() and len(code) <= 12 else None


_MEDIA = {"picture": "image/jpeg", "video": "video/mp4", "file": ""}


def parse_body(data: object) -> Incoming | StatusUpdate | Ignored:
    """A decoded callback to one event; BadRequest when it is not a Viber callback."""
    if not isinstance(data, dict) or not isinstance(data.get("event"), str):
        raise BadRequest("not a Viber callback: event is missing")
    event = data["event"]
    if event == "webhook":
        return Ignored("set_webhook's check")
    if event in ("delivered", "seen", "failed"):
        status = {"delivered": OutboundStatus.DELIVERED, "seen": OutboundStatus.READ, "failed": OutboundStatus.FAILED}[event]
        return StatusUpdate(_token(data), status, reason="viber_failed" if event == "failed" else None)
    if event == "unsubscribed":
        # STOP, recorded; no reply: Viber refuses messages to someone who unsubscribed.
        return Incoming(CHANNEL, _user(data.get("user_id"), "user_id"), text="stop", provider_id=_token(data),
                        reachable=False)
    if event in ("subscribed", "conversation_started"):
        person = json_object(data.get("user"))
        address = _user(person.get("id"), "user.id")
        if event == "subscribed":
            return Incoming(CHANNEL, address, text="start", provider_id=_token(data), language_hint=_hint(person))
        # Opening the chat is not consent: no START (it would undo a STOP), only the welcome.
        return Incoming(CHANNEL, address, text="", provider_id=OPENED + _token(data), language_hint=_hint(person))
    if event != "message":
        return Ignored(f"{event} event"[:60])
    person = json_object(data.get("sender"))
    address = _user(person.get("id"), "sender.id")
    message = data.get("message")
    if not isinstance(message, dict):
        raise BadRequest("message is missing")
    kind = message.get("type")
    text = text_field(message.get("text"), "message.text")
    media = []
    if kind in _MEDIA and isinstance(message.get("media"), str):
        media.append(Media(f"{CHANNEL}:url:{message['media'][:2000]}", _MEDIA[kind]))
    elif kind != "text":
        text = ""           # a sticker, a location, a contact: answered politely
    return Incoming(CHANNEL, address, text=text, provider_id=_token(data), media=media,
                    language_hint=_hint(person), supported=bool(text or media))


# ---- rendering -----------------------------------------------------------------------------------
def keyboard(reply: Reply) -> Json | None:
    """Numbered options as reply buttons (at most 24); a tap sends the option's number."""
    if not reply.options or len(reply.options) > BUTTONS:
        return None
    return {"Type": "keyboard", "DefaultHeight": False, "InputFieldState": "regular",
            "Buttons": [{"Columns": 6, "Rows": 1, "ActionType": "reply", "ActionBody": o.key,
                         "Text": f"{option_key(o.key, reply.language)}. {o.label}", "TextSize": "regular"}
                        for o in reply.options]}


def messages(reply: Reply, config: Config, voice: VoiceNote | None = None) -> list[Json]:
    """send_message bodies (without receiver): the picture (where PUBLIC_URL serves it), the voice note (a
    file message: Viber's bot API has no voice type; the MP3 by a signed link), then the text with its
    keyboard; options that cannot be buttons are numbered in the text."""
    from .plain import as_text
    out: list[Json] = []
    public = (config.get("PUBLIC_URL") or "").rstrip("/")
    if reply.image and public:
        out.append({"type": "picture", "text": "", "media": f"{public}/content-images/{reply.image}"})
    if voice is not None and public:
        out.append({"type": "file", "media": recording_links.url(config, voice.sha256, "mp3"),
                    "size": voice.mp3_size, "file_name": f"{voice.sha256[:12]}.mp3"})
    board = keyboard(reply)
    text = (directed(reply.text, reply.language) if board else as_text(reply, bold=True))[:TEXT_LIMIT]
    if text or board:
        message: Json = {"type": "text", "text": text or "…"}
        if board:
            message["keyboard"] = board
        out.append(message)
    return [{"sender": sender(config), "min_api_version": 3, **m} for m in out]


# ---- sending -------------------------------------------------------------------------------------
_local = threading.local()
_TIMEOUT = urllib3.Timeout(connect=5.0, read=15.0)


def _pool() -> urllib3.PoolManager:
    if getattr(_local, "pool", None) is None:
        _local.pool = urllib3.PoolManager(num_pools=2, maxsize=1, retries=False)
    pool: urllib3.PoolManager = _local.pool
    return pool


def post(config: Config, method: str, payload: Json) -> tuple[int, bytes]:
    """One bot API call with the auth token, to VIBER_API_URL only (no redirects followed)."""
    response = _pool().request("POST", f"{api_url(config)}/{method}",
                               body=json.dumps(payload, ensure_ascii=False).encode(),
                               headers={"Content-Type": "application/json",
                                        "X-Viber-Auth-Token": config["VIBER_AUTH_TOKEN"]},
                               timeout=_TIMEOUT, redirect=False)
    return response.status, response.data


def outcome(status: int, body: bytes) -> SendResult:
    """send_message's answer (HTTP status and JSON body) as one of the queue's outcomes."""
    if status >= 500 or status == 429:
        return SendResult(RETRY, reason=f"http_{status}", detail=f"Viber HTTP {status}")
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        data = None
    if not isinstance(data, dict) or type(data.get("status")) is not int:
        return SendResult(FAILED, reason=f"viber_http_{status}", detail="Viber's answer is not its JSON")
    code = data["status"]
    detail = f"Viber status {code} {str(data.get('status_message') or '')[:100]}".strip()
    if code == 0 and 200 <= status < 300:
        return SendResult(SENT, provider_id=str(data.get("message_token") or ""))
    if code in NOT_SUBSCRIBED:
        return SendResult(STOPPED, reason="not_subscribed", detail=detail)
    if code in THROTTLED:
        return SendResult(RETRY, reason="throttled", detail=detail, retry_after=30.0)
    if code in INVALID_ADDRESS:
        return SendResult(FAILED, reason="invalid_address", detail=detail)
    return SendResult(FAILED, reason=f"viber_{code}", detail=detail)


def send(config: Config, address: str, reply: Reply, voice: VoiceNote | None = None) -> SendResult:
    if not config.get("VIBER_AUTH_TOKEN") or not api_url(config):
        return SendResult(FAILED, reason="channel_off", detail="VIBER_AUTH_TOKEN is not set")
    return send_each(messages(reply, config, voice),
                     lambda message: post(config, "send_message", {"receiver": address, **message}), outcome)


# ---- the adapter ---------------------------------------------------------------------------------
class Viber(Adapter):
    channel = CHANNEL
    label = "Viber"
    profile = Profile(CHANNEL, compact=False, max_chars=TEXT_LIMIT, pictures=True, voice=True)
    limits = Limits(text=TEXT_LIMIT, rate_setting="VIBER_RATE", rate_default=10.0,
                    pictures=("image/jpeg", "image/png"), options=BUTTONS, voice=("audio/mpeg",))
    routes = (Route("/webhooks/viber", "viber_receive"),)

    def enabled(self, config: Config) -> bool:
        return bool(config.get("VIBER_AUTH_TOKEN")) and api_url(config) is not None

    def authenticate(self, request: Request, config: Config) -> None:
        if not self.enabled(config):
            raise BadRequest("Viber is off here: VIBER_AUTH_TOKEN is not set (or VIBER_API_URL is not https), "
                             "so no post can be verified", 403)
        if not check_signature(request.get_data(cache=True), request.headers.get("X-Viber-Content-Signature", ""),
                               config["VIBER_AUTH_TOKEN"]):
            raise BadRequest("wrong or missing X-Viber-Content-Signature", 403)

    def parse(self, request: Request, config: Config) -> list[Event]:
        try:
            data = json.loads(request.get_data(cache=True))
        except (ValueError, RecursionError):
            raise BadRequest("the body is not valid JSON") from None
        return [parse_body(data)]

    def answers_in_response(self, incoming: Incoming) -> bool:
        return (incoming.provider_id or "").startswith(OPENED)

    def respond(self, events: list[Event], answered: list[tuple[Incoming, list[Reply]]], config: Config) -> Answer:
        """The welcome for conversation_started rides on the response; everything else is acknowledged."""
        reply = merge(answered[0][1]) if answered else None
        if reply is None:
            return Answer({"status": 0})
        body = messages(reply, config)
        return Answer(body[-1] if body else {"status": 0})

    def preview(self, incoming: Incoming, replies: list[Reply], config: Config) -> str:
        reply = merge(replies)
        if reply is None:
            return ""
        shown = []
        for message in messages(reply, config):
            if message["type"] == "picture":
                shown.append(f"[picture: {reply.image}]")
                continue
            buttons = (message.get("keyboard") or {}).get("Buttons", [])
            shown.append(message["text"] + ("\n" + " | ".join(f"[{b['Text']}]" for b in buttons) if buttons else ""))
        return "\n".join((["[voice note]"] if reply.voice else []) + shown)

    def mask(self, address: str) -> str:
        return "viber ••••" + address[-4:]

    def send(self, config: Config, address: str, reply: Reply, images: dict[str, bytes],
             window_args: Json | None = None, fast: bool = False, voice: VoiceNote | None = None) -> SendResult:
        return send(config, address, reply, voice)

    def media_hosts(self, config: Config) -> tuple[str, ...]:
        base = urlsplit(api_url(config) or DEFAULT_API_URL)
        fake = (f"{base.scheme}://{base.netloc}",) if base.scheme == "http" else ()
        return (".viber.com",) + fake

    def doctor(self, config: Config) -> list[tuple[str, str, str]]:
        if not config.get("VIBER_AUTH_TOKEN"):
            return [(CHANNEL, "WARN", "off: VIBER_AUTH_TOKEN not set")]
        if api_url(config) is None:
            return [(CHANNEL, "FAIL", "VIBER_API_URL must be https (or http to this machine, for a test fake): "
                                      "the auth token goes nowhere else")]
        public = (config.get("PUBLIC_URL") or "").rstrip("/")
        if not public:
            return [(CHANNEL, "WARN", "token set, but PUBLIC_URL is not: `viber set-webhook` needs it")]
        return [(CHANNEL, "PASS", f"token set; run `flask --app bot viber set-webhook` for {public}/webhooks/viber")]


ADAPTER = Viber()


# ---- operator commands ---------------------------------------------------------------------------
cli = AppGroup(CHANNEL, help="Connect the bot to a Viber bot account.")


@cli.command("set-webhook")
def set_webhook_command() -> None:
    """Register PUBLIC_URL/webhooks/viber with Viber (set_webhook). Viber checks it at once with a signed
    "webhook" callback, so the web process must already run there."""
    config = current_app.config
    public = (config.get("PUBLIC_URL") or "").rstrip("/")
    if not public or not ADAPTER.enabled(config):
        raise click.ClickException("set PUBLIC_URL and VIBER_AUTH_TOKEN (and an https VIBER_API_URL) first")
    url = f"{public}/webhooks/viber"
    try:
        status, body = post(config, "set_webhook", {"url": url, "event_types": EVENTS, "send_name": False,
                                                    "send_photo": False})
        data = json.loads(body or b"{}")
    except (urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
        raise click.ClickException(f"set_webhook failed: {type(exc).__name__}") from None
    if status != 200 or not isinstance(data, dict) or data.get("status") != 0:
        words = data.get("status_message") if isinstance(data, dict) else ""
        raise click.ClickException(f"Viber refused the webhook: HTTP {status} {words or ''}".strip())
    click.echo(f"webhook set: {url}")


ADAPTER.cli = cli
