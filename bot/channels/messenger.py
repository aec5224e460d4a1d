"""Facebook Messenger: the Graph API's Send API out, the page's webhook in.

Inbound: GET /webhooks/messenger is Meta's subscription handshake (hub.mode, hub.verify_token,
hub.challenge); POST carries {"object": "page", "entry": [{"messaging": [...]}]}, signed with
X-Hub-Signature-256 (HMAC-SHA256 of the raw body, keyed with MESSENGER_APP_SECRET). One post may hold
several events: messages (text, quick replies, attachments), postbacks, delivery receipts.
Replies go through the Send API from the worker (never in the webhook response); menus are quick
replies (at most 13, titles of at most 20 characters). Free-form messages only within 24 hours of the
person's last message; outside it only with a message tag (MESSENGER_BROADCAST_TAG, MESSENGER_ANSWER_TAG).
Sample payloads: tests/payloads/messenger/.
"""
import hashlib
import hmac
import json
import re
import threading
from datetime import timedelta
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
    WINDOW,
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
    WindowArgs,
    json_object,
    merge,
    send_each,
    text_field,
)
from .plain import as_text, directed, option_key

CHANNEL = "messenger"
DEFAULT_API_URL = "https://graph.facebook.com/v21.0"
TEXT_LIMIT = 2000
QUICK_REPLIES = 13
QUICK_TITLE = 20
TAGS = ("ACCOUNT_UPDATE", "CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE", "HUMAN_AGENT")
# Graph API errors that mean something to the queue (code, or (code, subcode))
THROTTLED = {4, 17, 32, 613}
TEMPORARY = {1, 2, 1200}
BLOCKED = {551, (200, 1545041), (10, 2018065)}
OUTSIDE_WINDOW = {(10, 2018278)}
NO_USER = {(100, 2018001)}
_PSID = re.compile(r"[0-9]{1,32}")
_CHALLENGE = re.compile(r"[A-Za-z0-9_.-]{1,256}")
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


# ---- settings ------------------------------------------------------------------------------------
def api_url(config: Config) -> str | None:
    """The Graph API base: https, or plain http to this machine only (a loopback fake). Anything else is
    refused, so the page token never travels in clear or to a host the operator did not mean."""
    url = (config.get("MESSENGER_API_URL") or DEFAULT_API_URL).rstrip("/")
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname or parts.scheme == "http" and parts.hostname in _LOOPBACK:
        return url
    return None


def _missing(config: Config) -> list[str]:
    return [name for name in ("MESSENGER_PAGE_ACCESS_TOKEN", "MESSENGER_APP_SECRET", "MESSENGER_VERIFY_TOKEN")
            if not config.get(name)]


# ---- inbound -------------------------------------------------------------------------------------
def check_signature(body: bytes, header: str, secret: str | None) -> bool:
    """X-Hub-Signature-256: "sha256=" + hex HMAC-SHA256 of the raw body with the app secret, in constant time."""
    if not secret or not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header[len("sha256="):].strip().lower().encode(), expected.encode())


def message_id(mid: object) -> str:
    """A Messenger mid as we keep it: mids run to 100 characters and more; longer than the column's 80
    they are kept as their hash (the same for the webhook's duplicates and for delivery receipts)."""
    if not isinstance(mid, str) or not mid or len(mid) > 1000 or not mid.isascii():
        raise BadRequest("message.mid must be a string")
    return mid if len(mid) <= 80 else "sha256:" + hashlib.sha256(mid.encode()).hexdigest()[:64]


def _psid(sender: object) -> str:
    psid = sender.get("id") if isinstance(sender, dict) else None
    if not isinstance(psid, str) or not _PSID.fullmatch(psid):
        raise BadRequest("sender.id (a page-scoped id, digits) is missing")
    return psid


_KINDS = {"image": "image/jpeg", "audio": "audio/mp4", "video": "video/mp4", "file": ""}


def _attachments(items: object) -> list[Media]:
    media = []
    for item in items if isinstance(items, list) else []:
        payload = item.get("payload") if isinstance(item, dict) else None
        url = payload.get("url") if isinstance(payload, dict) else None
        if not isinstance(payload, dict) or item.get("type") not in _KINDS or not isinstance(url, str) \
                or payload.get("sticker_id"):
            continue            # a sticker (the thumbs-up too), a location, a template: nothing to keep
        media.append(Media(f"{CHANNEL}:url:{url[:2000]}", _KINDS[item["type"]]))
    return media[:10]


def _event(event: object) -> Incoming | list[StatusUpdate] | Ignored:
    if not isinstance(event, dict):
        raise BadRequest("a messaging event must be an object")
    message = event.get("message")
    if isinstance(message, dict):
        if message.get("is_echo"):
            return Ignored("echo of our own message")
        address = _psid(event.get("sender"))
        quick = message.get("quick_reply")
        text = text_field(quick.get("payload"), "quick_reply.payload") if isinstance(quick, dict) else ""
        text = text or text_field(message.get("text"), "message.text")
        media = _attachments(message.get("attachments"))
        return Incoming(CHANNEL, address, text=text, provider_id=message_id(message.get("mid")), media=media,
                        supported=bool(text or media))
    postback = event.get("postback")
    if isinstance(postback, dict):
        address = _psid(event.get("sender"))
        mid = postback.get("mid") or f"postback.{event.get('timestamp')}.{address}"
        return Incoming(CHANNEL, address, text=text_field(postback.get("payload"), "postback.payload"),
                        provider_id=message_id(str(mid)))
    delivery = event.get("delivery")
    if isinstance(delivery, dict):
        mids = delivery.get("mids") or []
        if not isinstance(mids, list):
            raise BadRequest("delivery.mids must be a list")
        return [StatusUpdate(message_id(mid), OutboundStatus.DELIVERED) for mid in mids[:100]]
    if "read" in event:
        return Ignored("read receipt (a watermark, no message ids)")
    return Ignored("an event without a message")


def parse_body(data: object) -> list[Event]:
    """A decoded webhook body to its events; BadRequest when it is not a page's webhook, or when none of
    its events is one. One bad event in a batch is ignored with its reason: refusing the whole post would
    have Facebook deliver the good ones again and again (and in the end switch the webhook off)."""
    if not isinstance(data, dict) or data.get("object") != "page":
        raise BadRequest('not a Messenger webhook: "object" must be "page"')
    entries = data.get("entry")
    if not isinstance(entries, list) or not entries:
        raise BadRequest("entry (a list) is missing")
    events: list[Event] = []
    refused: list[BadRequest] = []
    for entry in entries[:100]:
        try:
            if not isinstance(entry, dict):
                raise BadRequest("an entry must be an object")
            messaging = entry.get("messaging")
            if messaging is None:
                events.append(Ignored("an entry without messaging (standby, changes)"))
                continue
            if not isinstance(messaging, list):
                raise BadRequest("entry.messaging must be a list")
        except BadRequest as bad:
            refused.append(bad)
            continue
        for event in messaging[:100]:
            try:
                found = _event(event)
            except BadRequest as bad:
                refused.append(bad)
                continue
            events += found if isinstance(found, list) else [found]
    if refused and not events:
        raise refused[0]
    return events + [Ignored(f"an event refused: {bad}") for bad in refused]


# ---- rendering -----------------------------------------------------------------------------------
def _title(key: str, label: str, lang: str) -> str:
    return f"{option_key(key, lang)}. {label}"


def messages(reply: Reply, config: Config, voice: VoiceNote | None = None) -> list[Json]:
    """The Send API `message` objects for one reply: its picture first (where PUBLIC_URL serves it), its
    voice note (an audio attachment: the MP3 by a signed link), then the text in parts of at most 2,000
    characters, the options as quick replies on the last part: with their labels when all fit in 20
    characters, else numbered in the text and the numbers as quick replies."""
    out: list[Json] = []
    public = (config.get("PUBLIC_URL") or "").rstrip("/")
    if reply.image and public:
        out.append({"attachment": {"type": "image", "payload": {"url": f"{public}/content-images/{reply.image}",
                                                                "is_reusable": True}}})
    if voice is not None and public:
        out.append({"attachment": {"type": "audio", "payload": {
            "url": recording_links.url(config, voice.sha256, "mp3"), "is_reusable": False}}})
    options = reply.options[:QUICK_REPLIES] if len(reply.options) <= QUICK_REPLIES else []
    labelled = bool(options) and all(len(_title(o.key, o.label, reply.language)) <= QUICK_TITLE for o in options)
    text = directed(reply.text, reply.language) if labelled else as_text(reply, bold=True)
    parts = [text[i:i + TEXT_LIMIT] for i in range(0, len(text), TEXT_LIMIT)] or ([""] if options else [])
    for n, part in enumerate(parts):
        message: Json = {"text": part or "…"}
        if options and n == len(parts) - 1:
            message["quick_replies"] = [
                {"content_type": "text", "payload": o.key,
                 "title": _title(o.key, o.label, reply.language) if labelled else option_key(o.key, reply.language)}
                for o in options]
        out.append(message)
    return out


# ---- sending -------------------------------------------------------------------------------------
_local = threading.local()
_TIMEOUT = urllib3.Timeout(connect=5.0, read=15.0)


def _pool() -> urllib3.PoolManager:
    if getattr(_local, "pool", None) is None:
        _local.pool = urllib3.PoolManager(num_pools=2, maxsize=1, retries=False)
    pool: urllib3.PoolManager = _local.pool
    return pool


def outcome(status: int, body: bytes) -> SendResult:
    """The Send API's answer (HTTP status and JSON body) as one of the queue's outcomes."""
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        data = {}
    data = data if isinstance(data, dict) else {}
    if 200 <= status < 300 and isinstance(data.get("message_id"), str):
        return SendResult(SENT, provider_id=message_id(data["message_id"]))
    error = json_object(data.get("error"))
    code, sub = error.get("code"), error.get("error_subcode")
    words = str(error.get("message") or "")[:200]
    detail = f"Messenger {status} error {code}" + (f"/{sub}" if sub else "") + (f": {words}" if words else "")
    if (code, sub) in OUTSIDE_WINDOW:
        return SendResult(WINDOW, reason="outside_window", detail=detail)
    if code in BLOCKED or (code, sub) in BLOCKED:
        return SendResult(STOPPED, reason="blocked", detail=detail)
    if status == 429 or code in THROTTLED:
        return SendResult(RETRY, reason="throttled", detail=detail, retry_after=60.0)
    if status >= 500 or code in TEMPORARY:
        return SendResult(RETRY, reason=f"http_{status}", detail=detail)
    if (code, sub) in NO_USER:
        return SendResult(FAILED, reason="invalid_address", detail=detail)
    if code == 190:
        return SendResult(FAILED, reason="invalid_token", detail=detail)
    return SendResult(FAILED, reason=f"messenger_{code or status}", detail=detail)


def post(config: Config, path: str, payload: Json) -> tuple[int, bytes]:
    """One Graph API call with the page token, to MESSENGER_API_URL only (no redirects followed)."""
    base = api_url(config)
    response = _pool().request("POST", f"{base}/{path}", body=json.dumps(payload, ensure_ascii=False).encode(),
                               headers={"Content-Type": "application/json",
                                        "Authorization": f"Bearer {config['MESSENGER_PAGE_ACCESS_TOKEN']}"},
                               timeout=_TIMEOUT, redirect=False)
    return response.status, response.data


def send(config: Config, address: str, reply: Reply, window_args: Json | None = None,
         broadcast: bool = False, voice: VoiceNote | None = None) -> SendResult:
    """Each message of the reply in turn; the first that does not go is the outcome."""
    if _missing(config) or not api_url(config):
        return SendResult(FAILED, reason="channel_off", detail="Messenger settings are not set")
    kind = {"messaging_type": "UPDATE" if broadcast else "RESPONSE"}
    return send_each(messages(reply, config, voice), lambda message: post(config, "me/messages", {
        "recipient": {"id": address}, **kind, **(window_args or {}), "message": message}), outcome)


# ---- the adapter ---------------------------------------------------------------------------------
class Messenger(Adapter):
    channel = CHANNEL
    label = "Messenger"
    profile = Profile(CHANNEL, compact=False, max_chars=TEXT_LIMIT, pictures=True, voice=True)
    limits = Limits(text=TEXT_LIMIT, rate_setting="MESSENGER_RATE", rate_default=10.0,
                    pictures=("image/jpeg", "image/png"), window=timedelta(hours=24),
                    options=QUICK_REPLIES, option_label=QUICK_TITLE, voice=("audio/mpeg",))
    routes = (Route("/webhooks/messenger", "messenger_verify", kind="verify", methods=("GET",)),
              Route("/webhooks/messenger", "messenger_receive"))

    def enabled(self, config: Config) -> bool:
        return not _missing(config) and api_url(config) is not None

    def authenticate(self, request: Request, config: Config) -> None:
        if not self.enabled(config):
            raise BadRequest("Messenger is off here: " + (", ".join(_missing(config)) or "MESSENGER_API_URL")
                             + " not set (or not https), so no post can be verified", 403)
        if not check_signature(request.get_data(cache=True), request.headers.get("X-Hub-Signature-256", ""),
                               config.get("MESSENGER_APP_SECRET")):
            raise BadRequest("wrong or missing X-Hub-Signature-256", 403)

    def verify(self, request: Request, config: Config) -> str:
        """Meta's handshake: hub.mode=subscribe and our verify token; the challenge goes back as it came."""
        if not self.enabled(config):
            raise BadRequest("Messenger is off here: its settings are not set", 403)
        token = request.args.get("hub.verify_token", "")
        if request.args.get("hub.mode") != "subscribe" or not hmac.compare_digest(
                token.encode(), config["MESSENGER_VERIFY_TOKEN"].encode()):
            raise BadRequest("wrong hub.mode or hub.verify_token", 403)
        challenge = request.args.get("hub.challenge", "")
        if not _CHALLENGE.fullmatch(challenge):
            raise BadRequest("hub.challenge is missing or not letters and digits")
        return challenge

    def parse(self, request: Request, config: Config) -> list[Event]:
        if request.mimetype != "application/json":
            raise BadRequest("send the webhook as application/json", 415)
        try:
            data = json.loads(request.get_data(cache=True))
        except (ValueError, RecursionError):
            raise BadRequest("the body is not valid JSON") from None
        return parse_body(data)

    def respond(self, events: list[Event], answered: list[tuple[Incoming, list[Reply]]], config: Config) -> Answer:
        return Answer("EVENT_RECEIVED", "text/plain")

    def preview(self, incoming: Incoming, replies: list[Reply], config: Config) -> str:
        reply = merge(replies)
        if reply is None:
            return ""
        shown = []
        for message in messages(reply, config):
            if "attachment" in message:
                shown.append(f"[picture: {reply.image}]")
                continue
            quick = " | ".join(f"[{q['title']}]" for q in message.get("quick_replies", []))
            shown.append(message["text"] + (f"\n{quick}" if quick else ""))
        return "\n".join((["[voice note]"] if reply.voice else []) + shown)

    def mask(self, address: str) -> str:
        return "fb ••••" + address[-4:]

    def send(self, config: Config, address: str, reply: Reply, images: dict[str, bytes],
             window_args: Json | None = None, fast: bool = False, voice: VoiceNote | None = None) -> SendResult:
        return send(config, address, reply, window_args, broadcast=fast, voice=voice)

    def window_args(self, config: Config, purpose: str, text: str, case_code: str | None) -> WindowArgs:
        name = "MESSENGER_BROADCAST_TAG" if purpose == "broadcast" else "MESSENGER_ANSWER_TAG"
        tag = (config.get(name) or "").upper()
        if tag not in TAGS:
            return WindowArgs(None, f"Messenger 24-hour window closed and no message tag is configured ({name})")
        return WindowArgs({"messaging_type": "MESSAGE_TAG", "tag": tag})

    def media_hosts(self, config: Config) -> tuple[str, ...]:
        base = urlsplit(api_url(config) or DEFAULT_API_URL)
        fake = (f"{base.scheme}://{base.netloc}",) if base.scheme == "http" else ()
        return (".fbcdn.net", ".fbsbx.com") + fake

    def doctor(self, config: Config) -> list[tuple[str, str, str]]:
        missing = _missing(config)
        if len(missing) == 3:
            return [(CHANNEL, "WARN", "off: MESSENGER_PAGE_ACCESS_TOKEN, MESSENGER_APP_SECRET, "
                                      "MESSENGER_VERIFY_TOKEN not set")]
        if missing:
            return [(CHANNEL, "FAIL", f"{', '.join(missing)} not set: Messenger is off and /webhooks/messenger "
                                      "refuses every post (403)")]
        if api_url(config) is None:
            return [(CHANNEL, "FAIL", "MESSENGER_API_URL must be https (or http to this machine, for a test "
                                      "fake): the page token goes nowhere else")]
        for name in ("MESSENGER_BROADCAST_TAG", "MESSENGER_ANSWER_TAG"):
            if config.get(name) and config[name].upper() not in TAGS:
                return [(CHANNEL, "FAIL", f"{name} must be one of {', '.join(TAGS)}")]
        public = (config.get("PUBLIC_URL") or "").rstrip("/")
        return [(CHANNEL, "PASS", f"page token, app secret and verify token set; callback "
                                  f"{public or '<PUBLIC_URL>'}/webhooks/messenger (set in the Meta app)")]


ADAPTER = Messenger()


# ---- operator commands ---------------------------------------------------------------------------
cli = AppGroup(CHANNEL, help="Connect the bot to a Facebook page (Messenger).")


@cli.command("set-webhook")
def set_webhook_command() -> None:
    """Print the callback URL and verify token to paste in the Meta app (Messenger > Webhooks): Meta
    configures webhooks in the app dashboard, not by API. Subscribe the page to messages,
    messaging_postbacks and message_deliveries."""
    config = current_app.config
    public = (config.get("PUBLIC_URL") or "").rstrip("/")
    if not public or not config.get("MESSENGER_VERIFY_TOKEN"):
        raise click.ClickException("set PUBLIC_URL and MESSENGER_VERIFY_TOKEN first")
    click.echo(f"Callback URL:  {public}/webhooks/messenger")
    click.echo(f"Verify token:  {config['MESSENGER_VERIFY_TOKEN']}")
    click.echo("Fields:        messages, messaging_postbacks, message_deliveries")
    if _missing(config):
        click.echo(f"still missing: {', '.join(_missing(config))} (the webhook answers 403 until they are set)")


ADAPTER.cli = cli
