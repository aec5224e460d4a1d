"""Twilio Voice: the phone menu on the Voice number, and answers to callers by SMS.

Inbound: Twilio's call webhooks are form posts signed like SMS (X-Twilio-Signature over PUBLIC_URL + path +
query + the sorted form, checked with twilio's RequestValidator); every follow-up URL carries the menu's
state in its query, which the signature covers, so no state lives in a process. Answers are TwiML built
with twilio's VoiceResponse only. Sending: a caller is a "voice" contact whose answers go out as SMS to
the number that called (the phone line cannot call back with text).
Sample payloads: tests/payloads/twilio_voice/.
"""
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import click
from flask import current_app
from flask.cli import AppGroup
from twilio.base.exceptions import TwilioRestException
from twilio.twiml.voice_response import Gather, VoiceResponse

from handlers.phone import CallTurn, Play, Prompt, Speak
from handlers.types import Incoming, Profile, Reply

from . import twilio, twilio_pricing
from .base import FAILED, Adapter, Answer, BadRequest, Config, Json, Limits, Route, SendResult, VoiceNote

log = logging.getLogger(__name__)

PATH = "/webhooks/twilio/voice"
RECORD_SECONDS = 90               # a spoken complaint; the recording is stored like a voice note
GATHER_TIMEOUT = 6                # seconds Twilio waits for a key after the prompts end
ARABIC_VOICE, ARABIC_LANGUAGE = "Polly.Zeina", "arb"   # Amazon Polly's Modern Standard Arabic voice on Twilio
_CALL_SID = re.compile(r"CA[0-9a-fA-F]{32}")
_RECORDING_SID = re.compile(r"RE[0-9a-fA-F]{32}")
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
# What Twilio puts in From when the caller's number is withheld: the words spelt on a keypad (ANONYMOUS,
# RESTRICTED, UNAVAILABLE, BLOCKED, UNKNOWN). They look like numbers; nothing may be sent to them.
WITHHELD = frozenset({"+266696687", "+7378742833", "+86282452253", "+2562533", "+8656696"})
_STATE = re.compile(r"[a-z0-9_.-]{1,40}")


@dataclass
class Call:
    """One webhook of a call, channel-neutral: who calls, the menu state of the URL, the key pressed, and
    (after "9") the recording the provider made."""
    call_id: str
    caller: str | None                  # E.164, or None when the number is withheld ("anonymous")
    state: dict[str, str] = field(default_factory=dict)
    digits: str | None = None
    recording_url: str | None = None
    recording_id: str | None = None
    recording_seconds: float | None = None


def parse_call(form: Mapping[str, str], args: Mapping[str, str]) -> Call:
    """A Twilio Voice form (and the follow-up URL's query) to a Call; BadRequest for what is not one."""
    call_sid = (form.get("CallSid") or "").strip()
    if not _CALL_SID.fullmatch(call_sid):
        raise BadRequest("CallSid is missing or is not a Twilio call id")
    caller = (form.get("From") or "").strip()
    state = {k: v for k, v in args.items() if k in ("s", "l", "t", "i", "r") and _STATE.fullmatch(v)}
    digits = (form.get("Digits") or "").strip()
    if digits == "hangup":            # a <Record> the caller ended by hanging up: the recording still counts
        digits = ""
    if digits and not re.fullmatch(r"[0-9*#]{1,20}", digits):
        raise BadRequest("Digits must be keypad keys (0-9, *, #)")
    call = Call(call_sid, caller if _E164.fullmatch(caller) and caller not in WITHHELD else None, state,
                digits or None)
    if form.get("RecordingUrl"):
        recording_sid = (form.get("RecordingSid") or "").strip()
        if not _RECORDING_SID.fullmatch(recording_sid):
            raise BadRequest("RecordingSid is missing or is not a Twilio recording id")
        try:
            seconds = float(form.get("RecordingDuration") or 0)
        except ValueError:
            raise BadRequest("RecordingDuration is not a number") from None
        call.recording_url, call.recording_id = form["RecordingUrl"].strip(), recording_sid
        call.recording_seconds = seconds if 0 <= seconds <= 3600 else None
    return call


def speech_languages(config: Config) -> tuple[str, ...]:
    """Languages the provider's speech may read: Arabic (its Arabic voice), unless switched off."""
    return () if (config.get("TWILIO_VOICE_ARABIC") or "").lower() == "off" else ("ar",)


def render(turn: CallTurn, config: Config, base_url: str) -> str:
    """The turn as TwiML, with twilio's VoiceResponse: prompts inside <Gather> (a key interrupts them),
    or before <Record>; <Redirect> where silence leads; <Hangup> at the end of the call."""
    response = VoiceResponse()

    def url(state: dict[str, str]) -> str:
        return f"{base_url}?{urlencode(sorted(state.items()))}"

    def add(target: Any, prompt: Prompt) -> None:
        if isinstance(prompt, Play):
            target.play(prompt.url)
        elif isinstance(prompt, Speak) and prompt.lang in speech_languages(config):
            target.say(prompt.text, voice=config.get("TWILIO_VOICE_ARABIC") or ARABIC_VOICE,
                       language=config.get("TWILIO_VOICE_ARABIC_LANGUAGE") or ARABIC_LANGUAGE)
        else:        # never read a language by another language's voice
            log.warning("phone prompt in %s left out: no voice speaks it", getattr(prompt, "lang", "?"))

    if turn.gather is not None:
        gather = Gather(num_digits=1, action=url(turn.gather), method="POST", timeout=GATHER_TIMEOUT,
                        finish_on_key="")
        for prompt in turn.prompts:
            add(gather, prompt)
        response.append(gather)
    else:
        for prompt in turn.prompts:
            add(response, prompt)
    if turn.record is not None:
        response.record(action=url(turn.record), method="POST", max_length=record_seconds(config),
                        finish_on_key="#", play_beep=True, timeout=5, trim="trim-silence")
    if turn.silence is not None:
        response.redirect(url(turn.silence), method="POST")
    else:
        response.hangup()
    return str(response)


def record_seconds(config: Config) -> int:
    try:
        seconds = int(config.get("TWILIO_VOICE_RECORD_SECONDS") or RECORD_SECONDS)
    except (TypeError, ValueError):
        seconds = RECORD_SECONDS
    return max(5, min(seconds, 120))


class Voice(Adapter):
    """The "voice" channel: calls in (the phone menu), answers out by SMS to the caller's number."""
    channel = "voice"
    label = "Phone call"
    # what staff answers must fit: they go out as SMS
    profile = Profile("voice", compact=True, max_chars=201, pictures=False, carrier_opt_out=True)
    limits = Limits(text=1600, rate_setting="TWILIO_SMS_RATE", rate_default=10.0)
    routes = (Route(PATH, "twilio_voice", kind="call"),)

    def enabled(self, config: Config) -> bool:
        return bool(config.get("TWILIO_VOICE") in ("1", "true", "on", True)
                    and config.get("TWILIO_ACCOUNT_SID") and config.get("TWILIO_AUTH_TOKEN"))

    def doctor(self, config: Config) -> list[tuple[str, str, str]]:
        if not config.get("TWILIO_VOICE"):
            return [("twilio_voice", "WARN", "off: set TWILIO_VOICE=1 for the phone menu on the Voice number")]
        if not self.enabled(config):
            return [("twilio_voice", "FAIL", "TWILIO_VOICE is set but TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN "
                                             "are not: every call webhook is refused (403)")]
        if not (config.get("TWILIO_SMS_FROM") or config.get("TWILIO_MESSAGING_SERVICE_SID")):
            return [("twilio_voice", "WARN", "callers' messages become cases, but answers cannot reach them: "
                                             "set TWILIO_SMS_FROM (answers go by SMS)")]
        public = (config.get("PUBLIC_URL") or "").rstrip("/")
        voice = "off" if not speech_languages(config) else config.get("TWILIO_VOICE_ARABIC") or ARABIC_VOICE
        return [("twilio_voice", "PASS", f"phone menu at {public or '<PUBLIC_URL>'}{PATH} (set it as the "
                                         f"number's Voice webhook, HTTP POST); Arabic speech: {voice}; "
                                         f"messages up to {record_seconds(config)} s")]

    def authenticate(self, request: Any, config: Config) -> None:
        if not self.enabled(config):
            raise BadRequest("the phone menu is off here: TWILIO_VOICE, TWILIO_ACCOUNT_SID and "
                             "TWILIO_AUTH_TOKEN must be set, so no call can be verified", 403)
        twilio._form_checked(request, config)

    def parse_call(self, request: Any, config: Config) -> Call:
        return parse_call(request.form, request.args)

    def render_call(self, turn: CallTurn, config: Config, base_url: str) -> Answer:
        return Answer(render(turn, config, base_url), "application/xml")

    def preview(self, incoming: Incoming, replies: list[Reply], config: Config) -> str:
        return twilio.SMS.preview(incoming, replies, config)

    def mask(self, address: str) -> str:
        return twilio._phone_mask(address)

    def send(self, config: Config, address: str, reply: Reply, images: dict[str, bytes],
             window_args: Json | None = None, fast: bool = False, voice: VoiceNote | None = None) -> SendResult:
        """An answer to a caller: an SMS to the number that called (a voice note cannot go by SMS)."""
        if not _E164.fullmatch(address or "") or address in WITHHELD:
            return SendResult(FAILED, reason="invalid_address", detail="the caller's number was withheld")
        return twilio.send(config, "sms", address, reply)


ADAPTER = Voice()


# ---- operator commands ---------------------------------------------------------------------------
cli = AppGroup("twilio", help="Twilio (SMS, WhatsApp, the phone menu): what the account pays.")


@cli.command("voice-price")
def voice_price_command() -> None:
    """Print what the phone menu costs this account in Iraq, from Twilio's Pricing API: per minute of a
    call in by number type, per minute out to Iraqi mobiles, per SMS answer, and one typical call."""
    config = current_app.config
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)   # its request headers, not the table
    try:
        prices = twilio_pricing.fetch(config, datetime.now(UTC))
    except twilio_pricing.PricingRefused as exc:
        raise click.ClickException(str(exc)) from None
    except TwilioRestException as exc:
        if exc.status in (401, 403):
            raise click.ClickException(f"Twilio refused the credentials (HTTP {exc.status}, error {exc.code}): "
                                       f"check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN") from None
        raise click.ClickException(f"Twilio's Pricing API answered HTTP {exc.status} (error {exc.code})") from None
    except Exception as exc:  # connection refused, timeout, TLS, an answer that is not JSON
        raise click.ClickException(f"Twilio's Pricing API could not be read: {type(exc).__name__}") from None
    for line in twilio_pricing.table(prices, record_seconds(config)):
        click.echo(line)
    if not ADAPTER.enabled(config):
        click.echo("The phone menu is off here (TWILIO_VOICE is not set): these are the prices it would cost.")


ADAPTER.cli = cli
