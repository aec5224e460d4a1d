"""Fetching a person's voice note or photo from the provider that keeps it, for staff to open.

We store references, not files: "telegram:file:<file_id>" or a Twilio MediaUrl
(which needs the account's credentials to download).
"""
import logging

import httpx

from .channels import telegram

log = logging.getLogger(__name__)


def entry(ref) -> tuple[str, str]:
    """(provider reference, content type) of a stored attachment; older rows hold the reference only."""
    if isinstance(ref, dict):
        return ref.get("url") or "", ref.get("type") or ""
    return str(ref), ""


def kind(ref: str) -> str:
    return "telegram" if ref.startswith("telegram:file:") else "twilio"


def fetch(config: dict, ref: str) -> tuple[bytes | None, str]:
    try:
        if ref.startswith("telegram:file:"):
            return _telegram(config, ref.removeprefix("telegram:file:"))
        return _twilio(config, ref)
    except Exception as exc:  # the provider is down or the file expired: a 502 for staff, a line in the log
        log.warning("media fetch failed: %s", type(exc).__name__)
        return None, ""


def _telegram(config: dict, file_id: str):
    async def go():
        bot = telegram.make_bot(config)
        tg_file = await bot.get_file(file_id)
        return bytes(await tg_file.download_as_bytearray())
    data = telegram._run(go())
    return data, "audio/ogg" if data[:4] == b"OggS" else ("image/jpeg" if data[:3] == b"\xff\xd8\xff" else
                                                          "application/octet-stream")


def _twilio(config: dict, url: str):
    base = config.get("TWILIO_API_URL")
    if base and url.startswith("https://api.twilio.com"):
        url = base.rstrip("/") + url[len("https://api.twilio.com"):]
    response = httpx.get(url, auth=(config["TWILIO_ACCOUNT_SID"], config["TWILIO_AUTH_TOKEN"]),
                         follow_redirects=True, timeout=15)
    response.raise_for_status()
    return response.content, response.headers.get("Content-Type", "application/octet-stream")
