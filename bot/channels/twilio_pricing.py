"""What the phone menu costs, as Twilio prices it for this account: `flask --app bot twilio voice-price`.

Twilio's prices for Iraq depend on the account (discounts) and the number type, and change; nobody should
copy one into the README from memory. Its Pricing API gives them: Voice v2 (calls in per number type, calls
out per prefix) and Messaging v1 (an SMS part per carrier), asked through the twilio library's own client
(the same one that sends: pricing.twilio.com, or TWILIO_API_URL's fake). The credentials go nowhere else.
"""
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlparse

from . import twilio
from .base import Config

COUNTRY = "IQ"
IRAQI_MOBILE = "9647"         # Iraqi mobile numbers are +964 7…: the prefixes a call-back would dial
MENU_SECONDS = 60             # a typical caller's walk through the menu, before leaving a message
PRICING_HOST = "pricing.twilio.com"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
# Twilio bills every started minute of a call (support.twilio.com, "How are Twilio voice and calling
# product minutes rounded for billing?"): a call of 2 min 30 s costs 3 minutes.
BILLING_SECONDS = 60


class PricingRefused(Exception):
    """The prices cannot be asked here (no credentials, or a base URL the credentials must not go to)."""


@dataclass(frozen=True)
class Price:
    what: str                 # number type ("local", "mobile"…), or a prefix group, or a carrier
    current: Decimal          # what this account pays now
    base: Decimal             # the list price, before the account's discounts


@dataclass(frozen=True)
class Prices:
    unit: str                 # ISO 4217, as Twilio gives it (USD)
    inbound: list[Price]      # per minute, per number type of the Voice number
    outbound_mobile: list[Price]   # per minute, calls to Iraqi mobiles
    sms_unit: str
    sms: list[Price]          # per message part, per carrier and sender number type
    read_at: datetime
    source: str


def pricing_source(config: Config) -> str:
    """Where the request goes: Twilio's own host, or TWILIO_API_URL when it is https or on loopback."""
    base = (config.get("TWILIO_API_URL") or "").strip()
    if not base:
        return PRICING_HOST
    url = urlparse(base)
    if url.scheme == "https" or (url.scheme == "http" and url.hostname in LOOPBACK):
        return base.rstrip("/")
    raise PricingRefused(f"TWILIO_API_URL must be https (or http on 127.0.0.1/localhost, for a test fake), "
                         f"not {url.scheme or '?'}://{url.hostname or '?'}: the credentials would travel in clear")


def fetch(config: Config, now: datetime) -> Prices:
    """Both price lists for Iraq; raises PricingRefused before any request, TwilioRestException on an answer
    that is not a price list, and the HTTP library's errors when Twilio cannot be reached."""
    if not (config.get("TWILIO_ACCOUNT_SID") and config.get("TWILIO_AUTH_TOKEN")):
        raise PricingRefused("Twilio is off here: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (the account "
                             "whose prices to read)")
    source = pricing_source(config)
    client = twilio.make_client(config)
    voice = client.pricing.v2.voice.countries(COUNTRY).fetch()
    messaging = client.pricing.v1.messaging.countries(COUNTRY).fetch()
    return Prices(unit=(voice.price_unit or "?").upper(),
                  inbound=list(_prices(voice.inbound_call_prices, "number_type")),
                  outbound_mobile=list(_outbound_mobile(voice.outbound_prefix_prices)),
                  sms_unit=(messaging.price_unit or "?").upper(),
                  sms=list(_sms(messaging.outbound_sms_prices)),
                  read_at=now, source=source)


def _decimal(value: Any) -> Decimal | None:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() and number >= 0 else None


def _prices(records: Iterable[Any] | None, label: str, prefix: str = "") -> Iterable[Price]:
    for record in records or ():
        if not isinstance(record, Mapping):
            continue
        current, base = _decimal(record.get("current_price")), _decimal(record.get("base_price"))
        if current is not None:
            yield Price(prefix + str(record.get(label) or "?"), current, base if base is not None else current)


def _outbound_mobile(records: Iterable[Any] | None) -> Iterable[Price]:
    for record in records or ():
        if not isinstance(record, Mapping):
            continue
        mobile = [p for p in record.get("destination_prefixes") or () if str(p).startswith(IRAQI_MOBILE)]
        if mobile:
            name = str(record.get("friendly_name") or "").removeprefix("Programmable Outbound Minute - ")
            shown = ", ".join(map(str, mobile[:4])) + (" …" if len(mobile) > 4 else "")
            yield from _prices([{**record, "name": f"{name} ({shown})"}], "name")


def _sms(records: Iterable[Any] | None) -> Iterable[Price]:
    for record in records or ():
        if isinstance(record, Mapping):
            yield from _prices(record.get("prices"), "number_type", f"{record.get('carrier') or '?'}, from ")


def typical_minutes(record_seconds: int) -> int:
    """Billed minutes of a typical call: the menu, then a message of the longest length allowed."""
    return math.ceil((MENU_SECONDS + record_seconds) / BILLING_SECONDS)


def _amount(value: Decimal) -> str:
    return f"{value:.4f}"


def _row(price: Price, width: int) -> str:
    base = f"  (list price {_amount(price.base)})" if price.base != price.current else ""
    return f"  {price.what:<{width}}  {_amount(price.current)}{base}"


def table(prices: Prices, record_seconds: int) -> list[str]:
    """The lines the command prints: what each thing costs, the date it was read, one typical call."""
    width = max((len(p.what) for p in (*prices.inbound, *prices.outbound_mobile, *prices.sms)), default=10)
    lines = [f"Twilio prices for Iraq ({COUNTRY}) for this account, read {prices.read_at:%Y-%m-%d %H:%M} UTC "
             f"from {prices.source}",
             f"Calls in to the Voice number, per minute ({prices.unit}), by number type:"]
    lines += [_row(p, width) for p in prices.inbound] or ["  none: Twilio lists no Iraqi number type for calls in"]
    lines.append(f"Calls out to Iraqi mobiles, per minute ({prices.unit}; only for answers by call-back, "
                 f"which the bot does not make):")
    lines += [_row(p, width) for p in prices.outbound_mobile] or ["  none listed"]
    lines.append(f"SMS answers to callers, per message part ({prices.sms_unit}), by carrier and sender type:")
    lines += [_row(p, width) for p in prices.sms] or ["  none listed"]
    minutes = typical_minutes(record_seconds)
    seconds = MENU_SECONDS + record_seconds
    lines.append(f"One typical call: menu ~{MENU_SECONDS // 60} min + a {record_seconds} s message = "
                 f"{seconds // 60} min {seconds % 60:02d} s, billed as {minutes} started minutes:")
    sms = sorted(p.current for p in prices.sms)
    spread = "" if not sms else _amount(sms[0]) if sms[0] == sms[-1] else f"{_amount(sms[0])}–{_amount(sms[-1])}"
    answer = f", + its SMS answer (1 part) {spread} {prices.sms_unit}" if sms else ""
    lines += [f"  on a {p.what} number: {_amount(p.current * minutes)} {prices.unit}{answer}"
              for p in prices.inbound] or ["  no price for calls in: no estimate"]
    lines.append("  (plus the number's monthly fee, text-to-speech and recording storage where they apply; "
                 "the caller pays their own operator)")
    return lines
