"""Twilio SMS and WhatsApp: one adapter, since Twilio posts both the same way (From "whatsapp:+964..." is WhatsApp).

Inbound: form posts signed with X-Twilio-Signature, checked with twilio's
RequestValidator against PUBLIC_URL + path (the URL Twilio called, not the one a
proxy hands us). Replies ride on the response as TwiML. Sending outside a
request uses twilio.rest.Client; TWILIO_API_URL points it at a loopback fake.
Sample payloads: tests/payloads/twilio/.
"""
import json
import re
import threading
from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import urlparse

from flask import Request
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator, add_port, compare, remove_port
from twilio.rest import Client
from twilio.twiml.messaging_response import MessagingResponse

from handlers.sms import segments, split_pages
from handlers.types import PROFILES, Incoming, Media, Reply

from ..recordings import links as recording_links
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
    Json,
    Limits,
    Route,
    SendResult,
    StatusUpdate,
    VoiceNote,
    WindowArgs,
)
from .plain import as_text, sms_messages

WHATSAPP_PREFIX = "whatsapp:"
WHATSAPP_LIMIT = 1600     # Twilio refuses a longer WhatsApp body (error 21617): longer replies go in parts
# Twilio error codes that mean something to the queue (https://www.twilio.com/docs/api/errors).
OPTED_OUT = {21610}                    # the recipient sent STOP
OUTSIDE_WINDOW = {63016}               # WhatsApp free-form message outside the 24-hour window
INVALID_ADDRESS = {21211, 21614, 63003, 21408}


# ---- inbound -------------------------------------------------------------------------------------
def public_url(request_url: str, path: str, query: str, config: Config) -> str:
    base = (config.get("PUBLIC_URL") or "").rstrip("/")
    if not base:
        return request_url
    return f"{base}{path}" + (f"?{query}" if query else "")


def check_signature(url: str, form: Json, signature: str, config: Config) -> bool:
    """Twilio's signature, or nothing is accepted: without the auth token no post can be told from a
    forgery (anyone could read a person's case status by posting their number), so the channel is off."""
    token = config.get("TWILIO_AUTH_TOKEN")
    if not token:
        return False
    return bool(signature) and _validate(_validator(token), url, form, signature)


_validators: dict[str, RequestValidator] = {}


def _validator(token: str) -> RequestValidator:
    validator = _validators.get(token)
    if validator is None:
        validator = _validators[token] = RequestValidator(token)
    return validator


def _validate(validator: RequestValidator, url: str, form: Mapping[str, str], signature: str) -> bool:
    """RequestValidator.validate for a form post, stopping at the first URL form that matches.

    validate() signs the URL without and with the port and accepts either; it always computes both.
    A form (never a JSON body) has no bodySHA256 to check. Same answer, usually half the HMACs.
    """
    parsed = urlparse(url)
    return bool(compare(validator.compute_signature(remove_port(parsed), form), signature)
                or compare(validator.compute_signature(add_port(parsed), form), signature))


def parse_form(form: Mapping[str, str]) -> Incoming:
    """A Twilio inbound message form to an Incoming; raises BadRequest for a form that is not one."""
    sender = (form.get("From") or "").strip()
    sid = _sid(form.get("MessageSid") or form.get("SmsMessageSid"))
    if not sender:
        raise BadRequest("From is missing")
    channel = "whatsapp" if sender.startswith(WHATSAPP_PREFIX) else "sms"
    address = (sender[len(WHATSAPP_PREFIX):] if channel == "whatsapp" else sender).strip()
    if not address or len(address) > 64:
        raise BadRequest("From has no address (or one longer than 64 characters)")
    try:
        count = min(int(form.get("NumMedia") or 0), 10)
    except ValueError:
        raise BadRequest("NumMedia is not a number") from None
    media = [Media(url, form.get(f"MediaContentType{i}") or "")
             for i in range(count) if (url := form.get(f"MediaUrl{i}"))]
    text = form.get("Body") or ""
    return Incoming(channel, address, text=text, provider_id=sid, media=media, supported=bool(text or media))


def parse_status(form: Mapping[str, str]) -> StatusUpdate:
    status = (form.get("MessageStatus") or form.get("SmsStatus") or "").strip().lower()
    if not status:
        raise BadRequest("MessageSid and MessageStatus are required")
    sid = _sid(form.get("MessageSid") or form.get("SmsSid"))
    error_code = (form.get("ErrorCode") or "").strip()[:12] or None
    code = int(error_code) if error_code and error_code.isdigit() and len(error_code) <= 9 else None
    return StatusUpdate(sid, status[:20], error_code, reason=f"twilio_{code}" if code is not None else None,
                        stopped=code in OPTED_OUT)


_SID = re.compile(r"[A-Za-z0-9]{1,80}")


def _sid(value: str | None) -> str:
    """Twilio's ids are 34 letters and digits (SM + 32 hex); anything else is not from Twilio."""
    sid = (value or "").strip()
    if not sid:
        raise BadRequest("MessageSid is missing")
    if not _SID.fullmatch(sid):
        raise BadRequest("MessageSid must be letters and digits (at most 80)")
    return sid


# ---- rendering -----------------------------------------------------------------------------------
def image_url(reply: Reply, config: Config) -> str | None:
    base = (config.get("PUBLIC_URL") or "").rstrip("/")
    return f"{base}/content-images/{reply.image}" if reply.image and base else None


def bodies(channel: str, replies: list[Reply], fold_latin: bool = False) -> list[tuple[str, str | None]]:
    """(text, image) per message: SMS at most three segments each (Latin Kurmanji in plain letters with
    SMS_FOLD_LATIN); WhatsApp up to 4,096 characters."""
    if channel == "sms":
        return [(body, None) for body in sms_messages(replies, fold_latin)]
    return [(part, r.image if n == 0 else None) for r in replies
            for n, part in enumerate(whatsapp_parts(as_text(r, bold=True)))]


def whatsapp_parts(body: str, limit: int = WHATSAPP_LIMIT) -> list[str]:
    """A WhatsApp body in messages of at most `limit` characters, cut between lines (a line longer than
    that at a sentence end): nothing is cut off, the options stay whole under the text."""
    if len(body) <= limit:
        return [body]
    parts, current = [], ""
    for line in body.split("\n"):
        for piece in (split_pages(line, limit) if len(line) > limit else [line]):
            candidate = f"{current}\n{piece}" if current else piece
            if current and len(candidate) > limit:
                parts.append(current)
                current = piece
            else:
                current = candidate
    return parts + ([current] if current else [])


def voice_url(reply: Reply, config: Config) -> str | None:
    """A signed, expiring link to the reply's voice note (OGG/Opus) that Twilio fetches from PUBLIC_URL."""
    if not reply.voice or not config.get("PUBLIC_URL"):
        return None
    return recording_links.url(config, reply.voice, "ogg")


def twiml(channel: str, replies: list[Reply], config: Config) -> str:
    messages = []
    for body, image in bodies(channel, replies, config.get("SMS_FOLD_LATIN", False)):
        url = image_url(Reply("", image=image), config) if image else None
        messages.append((body, url))
    if channel == "whatsapp":      # WhatsApp plays audio without a caption: the voice note is a message of its own
        messages += [("", url) for reply in replies if (url := voice_url(reply, config))]
    if any(_SURROGATE.search(body) or (url and _SURROGATE.search(url)) for body, url in messages):
        return _twiml_library(messages)
    return _XML_DECLARATION + _element("Response", None, "".join(
        _element("Message", body, _element("Media", url, "") if url else "") for body, url in messages))


# What twilio's MessagingResponse writes (xml.etree.ElementTree underneath), written directly: building
# the element tree cost more than the rest of the rendering (bench/check_equivalence.py compares both).
_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
_SURROGATE = re.compile("[\ud800-\udfff]")   # ElementTree writes these as character references


def _element(name: str, text: str | None, children: str) -> str:
    if not text and not children:
        return f"<{name} />"
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") if text else ""
    return f"<{name}>{text}{children}</{name}>"


def _twiml_library(messages: list[tuple[str, str | None]]) -> str:
    response = MessagingResponse()
    for body, url in messages:
        message = response.message(body)
        if url:
            message.media(url)
    return str(response)


# ---- sending outside a request -------------------------------------------------------------------
class LoopbackHttpClient(TwilioHttpClient):  # type: ignore[misc]  # twilio ships no type information
    """Sends Twilio API calls to TWILIO_API_URL instead of api., messaging. or pricing.twilio.com (the tests'
    fake, a proxy)."""

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        for host in ("https://api.twilio.com", "https://messaging.twilio.com", "https://pricing.twilio.com"):
            if url.startswith(host):
                url = self.base_url + url[len(host):]
        return super().request(method, url, *args, **kwargs)


_clients = threading.local()


def make_client(config: Config) -> Client:
    """One client per thread, kept: its connection pool makes the next send cheaper."""
    key = (config.get("TWILIO_ACCOUNT_SID"), config.get("TWILIO_AUTH_TOKEN"), config.get("TWILIO_API_URL"))
    if getattr(_clients, "key", None) != key:
        _clients.client, _clients.key = _new_client(config), key
    return _clients.client


def _new_client(config: Config) -> Client:
    http_client = LoopbackHttpClient(config["TWILIO_API_URL"], timeout=15) if config.get("TWILIO_API_URL") \
        else TwilioHttpClient(timeout=15)
    return Client(config["TWILIO_ACCOUNT_SID"], config["TWILIO_AUTH_TOKEN"], http_client=http_client)


def send(config: Config, channel: str, address: str, reply: Reply, template: Json | None = None,
         voice: VoiceNote | None = None) -> SendResult:
    """Send one stored message (a template on WhatsApp outside the 24-hour window); a voice note follows
    the text as a media message of its own, by a signed link."""
    if not (config.get("TWILIO_ACCOUNT_SID") and config.get("TWILIO_AUTH_TOKEN")):
        return SendResult(FAILED, reason="channel_off", detail="Twilio credentials are not set")
    args: Json = {}
    if channel == "whatsapp":
        if not config.get("TWILIO_WHATSAPP_FROM"):
            return SendResult(FAILED, reason="channel_off", detail="TWILIO_WHATSAPP_FROM is not set")
        sender = config["TWILIO_WHATSAPP_FROM"]
        args["from_"] = sender if sender.startswith(WHATSAPP_PREFIX) else WHATSAPP_PREFIX + sender
        args["to"] = WHATSAPP_PREFIX + address
    else:
        if config.get("TWILIO_MESSAGING_SERVICE_SID"):
            args["messaging_service_sid"] = config["TWILIO_MESSAGING_SERVICE_SID"]
        elif config.get("TWILIO_SMS_FROM"):
            args["from_"] = config["TWILIO_SMS_FROM"]
        else:
            return SendResult(FAILED, reason="channel_off", detail="TWILIO_SMS_FROM is not set")
        args["to"] = address
    if config.get("PUBLIC_URL"):
        args["status_callback"] = config["PUBLIC_URL"].rstrip("/") + "/webhooks/twilio/status"
    if template:
        args.update(template)
    else:
        parts = bodies(channel, [reply], config.get("SMS_FOLD_LATIN", False))
        args["body"] = "\n".join(body for body, _ in parts)
        if parts[0][1] and (url := image_url(reply, config)):
            args["media_url"] = [url]
    calls = [args]
    if voice is not None and not template and (url := voice_url(reply, config)):
        media = {k: v for k, v in args.items() if k != "body" and k != "media_url"}
        calls = [args, {**media, "media_url": [url]}] if args.get("body") else [{**media, "media_url": [url]}]
    result = SendResult(FAILED, reason="empty", detail="nothing to send")
    for call in calls:
        try:
            message = make_client(config).messages.create(**call)
        except TwilioRestException as exc:
            return _failure(exc)
        except Exception as exc:  # connection refused, timeout, TLS: all temporary from our side
            return SendResult(RETRY, reason="connection", detail=type(exc).__name__)
        result = SendResult(SENT, provider_id=message.sid)
    return result


def _failure(exc: TwilioRestException) -> SendResult:
    code = exc.code or 0
    detail = f"Twilio {exc.status} error {code}"
    if code in OPTED_OUT:
        return SendResult(STOPPED, reason="opted_out", detail=detail)
    if code in OUTSIDE_WINDOW:
        return SendResult(WINDOW, reason="outside_window", detail=detail)
    if exc.status == 429 or (exc.status or 0) >= 500:
        return SendResult(RETRY, reason=f"http_{exc.status}", detail=detail)
    if code in INVALID_ADDRESS:
        return SendResult(FAILED, reason="invalid_address", detail=detail)
    return SendResult(FAILED, reason=f"twilio_{code or exc.status}", detail=detail)


# ---- the adapters: one module, two channels (SMS and WhatsApp share the webhook) -------------------------
ROUTES = (Route("/webhooks/twilio", "twilio_message"),
          Route("/webhooks/twilio/status", "twilio_status", kind="status"))


def _form_checked(request: Request, config: Config) -> None:
    if request.mimetype not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raise BadRequest("send the message as a form (application/x-www-form-urlencoded)", 415)
    behind = (config.get("PUBLIC_URL") or "").rstrip("/")   # request.url only when it is used
    url = public_url("" if behind else request.url, request.path, request.query_string.decode(), config)
    if not config.get("TWILIO_AUTH_TOKEN"):
        raise BadRequest("Twilio is off here: TWILIO_AUTH_TOKEN is not set, so no post can be verified", 403)
    if not check_signature(url, request.form, request.headers.get("X-Twilio-Signature", ""), config):
        raise BadRequest("wrong or missing X-Twilio-Signature", 403)


def _phone_mask(address: str) -> str:
    """+964 77• ••• •234 for phone numbers."""
    if not address.startswith("+"):
        return "••••" + address[-4:]
    digits = address[1:]
    country = "964" if digits.startswith("964") else digits[:3]
    rest = digits[len(country):]
    if len(rest) < 6:
        return f"+{country} " + "•" * len(rest)
    visible_start, visible_end = rest[:2], rest[-3:]
    hidden = "•" * (len(rest) - 5)
    middle = visible_start + hidden + visible_end
    return f"+{country} {middle[:3]} {middle[3:6]} {middle[6:]}".strip()


class _Twilio(Adapter):
    routes = ROUTES
    status_group = ("sms", "whatsapp")   # Telegram rows keep Telegram's small message numbers: never theirs

    def authenticate(self, request: Request, config: Config) -> None:
        _form_checked(request, config)

    def parse(self, request: Request, config: Config) -> list[Event]:
        return [parse_form(request.form)]

    def parse_status(self, request: Request, config: Config) -> list[StatusUpdate]:
        return [parse_status(request.form)]

    def answers_in_response(self, incoming: Incoming) -> bool:
        return True

    def respond(self, events: list[Event], answered: list[tuple[Incoming, list[Reply]]], config: Config) -> Answer:
        channel = answered[0][0].channel if answered else \
            next((e.channel for e in events if isinstance(e, Incoming)), self.channel)
        return Answer(twiml(channel, answered[0][1] if answered else [], config), "application/xml")

    def mask(self, address: str) -> str:
        return _phone_mask(address)

    def send(self, config: Config, address: str, reply: Reply, images: dict[str, bytes],
             window_args: Json | None = None, fast: bool = False, voice: VoiceNote | None = None) -> SendResult:
        return send(config, self.channel, address, reply, template=window_args, voice=voice)


class Sms(_Twilio):
    channel = "sms"
    label = "SMS"
    profile = PROFILES["sms"]
    limits = Limits(text=1600, rate_setting="TWILIO_SMS_RATE", rate_default=10.0)

    def enabled(self, config: Config) -> bool:
        return bool(config.get("TWILIO_ACCOUNT_SID") and config.get("TWILIO_AUTH_TOKEN")
                    and (config.get("TWILIO_SMS_FROM") or config.get("TWILIO_MESSAGING_SERVICE_SID")))

    def preview(self, incoming: Incoming, replies: list[Reply], config: Config) -> str:
        return "\n".join(f"{body}\n  [SMS: {len(body)} characters, {segments(body)} segment(s)]"
                         for body in sms_messages(replies, config.get("SMS_FOLD_LATIN", False)))


class WhatsApp(_Twilio):
    channel = "whatsapp"
    label = "WhatsApp"
    profile = PROFILES["whatsapp"]
    limits = Limits(text=WHATSAPP_LIMIT, rate_setting="TWILIO_WHATSAPP_RATE", rate_default=20.0,
                    pictures=("image/jpeg", "image/png"), window=timedelta(hours=24), voice=("audio/ogg",))
    fallback_channel = "sms"
    voice_in_response = True       # TwiML <Media>: Twilio fetches the signed link

    def enabled(self, config: Config) -> bool:
        return bool(config.get("TWILIO_ACCOUNT_SID") and config.get("TWILIO_AUTH_TOKEN")
                    and config.get("TWILIO_WHATSAPP_FROM"))

    def preview(self, incoming: Incoming, replies: list[Reply], config: Config) -> str:
        return "\n---\n".join([body + (f"\n  [picture: {image}]" if image else "")
                                for body, image in bodies("whatsapp", replies)]
                               + ["[voice note]" for reply in replies if reply.voice])

    def window_args(self, config: Config, purpose: str, text: str, case_code: str | None) -> WindowArgs:
        """Outside the 24 hours only an approved template passes: the broadcast template with the text as
        {{1}}, or for an answer the answer template with the case code."""
        if purpose == "broadcast":
            sid = config.get("TWILIO_WHATSAPP_BROADCAST_TEMPLATE_SID")
            if not sid:
                return WindowArgs(None, "WhatsApp 24-hour window closed and no broadcast template is configured")
            return WindowArgs({"content_sid": sid, "content_variables": json.dumps({"1": text or ""},
                                                                                    ensure_ascii=False)})
        sid = config.get("TWILIO_WHATSAPP_TEMPLATE_SID")
        if not sid:
            return WindowArgs(None, "WhatsApp 24-hour window closed; no template, no SMS contact")
        return WindowArgs({"content_sid": sid, "content_variables": json.dumps({"1": case_code or ""})})


SMS = Sms()
WHATSAPP = WhatsApp()
