"""Fetching a person's voice note or photo from the provider that keeps it, for staff to open.

We store references, not files: "telegram:file:<file_id>" or a Twilio MediaUrl (which needs the
account's credentials to download). The reference came in a webhook, so it is not trusted:
- a Twilio MediaUrl is fetched only from Twilio's media host (https://api.twilio.com, or the origin of
  TWILIO_API_URL when set), the only place the account's credentials go; Twilio answers with a redirect
  to its CDN, followed (at most MAX_REDIRECTS times) without credentials, to https addresses only;
- a Telegram file is downloaded only when getFile answers a plain relative path, under the Bot API's
  file URL (python-telegram-bot would read an absolute path, or one that exists here, from the disk);
- every download stops past MAX_BYTES or TOTAL_SECONDS.
Anything else is refused before any request, with a line in the log.
"""
import logging
import re
import time
from urllib.parse import quote

import httpx

from . import channels
from .channels import telegram

log = logging.getLogger(__name__)

MAX_BYTES = 20 * 1024 * 1024      # the Bot API serves files up to 20 MB; Twilio's media are smaller
TOTAL_SECONDS = 30.0              # one attachment, redirects included
MAX_REDIRECTS = 3
TWILIO_MEDIA_ORIGIN = "https://api.twilio.com"
_SEGMENT = r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}"
_TELEGRAM_FILE_PATH = re.compile(rf"{_SEGMENT}(?:/{_SEGMENT}){{0,7}}")    # e.g. voice/file_12.oga


class Refused(Exception):
    """A reference or an answer we do not follow: another host, an odd path, too big, too slow."""


def entry(ref) -> tuple[str, str]:
    """(provider reference, content type) of a stored attachment; older rows hold the reference only."""
    if isinstance(ref, dict):
        return ref.get("url") or "", ref.get("type") or ""
    return str(ref), ""


def kind(ref: str) -> str:
    """Which provider keeps the attachment."""
    if ref.startswith("telegram:file:"):
        return "telegram"
    channel, sep, _ = ref.partition(":url:")
    return channel if sep and channels.find(channel) is not None else "twilio"


def _public_ref(config: dict, ref: str):
    """"<channel>:url:<https URL>": a file on the channel's own media hosts (its adapter names them),
    fetched without any credentials; None when the reference is not of that kind."""
    channel, sep, url = ref.partition(":url:")
    found = channels.find(channel) if sep else None
    if found is None:
        return None
    return _public(url, found.media_hosts(config))


def fetch(config: dict, ref: str) -> tuple[bytes | None, str]:
    """(bytes, the provider's content type), or (None, "") when it cannot or may not be fetched."""
    try:
        if ref.startswith("telegram:file:"):
            return _telegram(config, ref.removeprefix("telegram:file:"))
        public = _public_ref(config, ref)
        if public is not None:
            return public
        return _twilio(config, ref)
    except Refused as exc:     # never the whole reference: it may carry a token or someone's address
        log.warning("media fetch refused: %s", exc)
        return None, ""
    except Exception as exc:  # the provider is down or the file expired: a 502 for staff, a line in the log
        log.warning("media fetch failed: %s", type(exc).__name__)
        return None, ""


def inline_type(body: bytes) -> str | None:
    """The type to show an attachment as, read from its first bytes (never from the provider's header):
    images, sound and video that browsers render inertly. None: anything else (HTML, SVG, PDF…)."""
    head = bytes(body[:64])
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] in (b"WEBP", b"WAVE"):
        return "image/webp" if head[8:12] == b"WEBP" else "audio/wav"
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE6 == 0xE2
                                   and head[1] & 0x18 != 0x08):    # an MPEG layer III frame, known version
        return "audio/mpeg"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"M4A ", b"M4B "):
            return "audio/mp4"
        return "video/3gpp" if brand.startswith(b"3g") else "video/mp4"
    if head.startswith(b"#!AMR-WB\n"):
        return "audio/amr-wb"
    if head.startswith(b"#!AMR\n"):
        return "audio/amr"
    if head.startswith(b"\x1a\x45\xdf\xa3") and b"\x42\x82\x84webm" in head:   # EBML, DocType "webm"
        return "video/webm"
    return None


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    """Scheme, host and port (the default one when not written): what "the same host" means."""
    return url.scheme, url.host, url.port or {"https": 443, "http": 80}.get(url.scheme)


def _media_origin(config: dict) -> httpx.URL:
    """Where Twilio's media are: api.twilio.com, or TWILIO_API_URL (the tests' loopback fake)."""
    return httpx.URL(config.get("TWILIO_API_URL") or TWILIO_MEDIA_ORIGIN)


def _twilio_target(config: dict, url: str) -> httpx.URL:
    """The URL to fetch a Twilio MediaUrl or RecordingUrl from, if it is on Twilio's media host (or the
    TWILIO_API_URL fake); Refused otherwise, before any request."""
    base = (config.get("TWILIO_API_URL") or "").rstrip("/")
    if base and url.startswith(TWILIO_MEDIA_ORIGIN + "/"):
        url = base + url[len(TWILIO_MEDIA_ORIGIN):]
    allowed = _media_origin(config)
    try:
        target = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise Refused("not a URL") from exc
    root = str(allowed.copy_with(path="/", query=None, fragment=None))     # e.g. https://api.twilio.com/
    if target.userinfo or _origin(target) != _origin(allowed) or not url.startswith(root):
        raise Refused(f"media URL is not on Twilio's media host (on {target.host or '?'})")
    return target


def on_twilio_host(config: dict, url: str) -> bool:
    """Would the account's credentials go with this URL? Only for Twilio's own media host."""
    try:
        _twilio_target(config, url)
    except Refused:
        return False
    return True


def _twilio(config: dict, url: str):
    """A MediaUrl on Twilio's media host, with the account's credentials; its redirects without them."""
    target = _twilio_target(config, url)
    # the account's credentials for Twilio's own host only, never for where it sends us on to
    return _follow(target, _media_origin(config), (config["TWILIO_ACCOUNT_SID"], config["TWILIO_AUTH_TOKEN"]))


def _follow(target: httpx.URL, allowed: httpx.URL, credentials: tuple | None = None):
    """GET with redirects followed by hand (each checked by _redirect), credentials on the first request
    only, within TOTAL_SECONDS and the size limit: (bytes, Content-Type)."""
    deadline = time.monotonic() + TOTAL_SECONDS
    with httpx.Client(follow_redirects=False) as client:
        for hop in range(MAX_REDIRECTS + 1):
            client.cookies.clear()
            request = client.build_request("GET", target, headers={"Accept-Encoding": "identity"},
                                           timeout=_timeout(deadline))
            response = client.send(request, auth=credentials if hop == 0 else None, stream=True)
            try:
                if not response.is_redirect:
                    response.raise_for_status()
                    return _read(response, deadline), response.headers.get("Content-Type", "")
                target = _redirect(response, allowed)
            finally:
                response.close()
    raise Refused(f"more than {MAX_REDIRECTS} redirects")


def _public(url: str, hosts: tuple[str, ...]):
    """A provider's public media URL (Messenger's and Viber's CDNs): https on one of `hosts` (a host, or a
    ".suffix"; an "http://127.0.0.1:port" origin for a loopback fake), no credentials, limits as above."""
    try:
        target = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise Refused("not a URL") from exc
    host = target.host or ""
    origin = f"{target.scheme}://{host}" + (f":{target.port}" if target.port else "")
    on_host = any((h.startswith(".") and host.endswith(h)) or h == host for h in hosts if "://" not in h) \
        and target.scheme == "https"
    if target.userinfo or not (on_host or origin in hosts):
        raise Refused(f"media URL is not on the channel's media hosts (on {host or '?'})")
    return _follow(target, httpx.URL(origin))


def _redirect(response: httpx.Response, allowed: httpx.URL) -> httpx.URL:
    """Where a redirect goes, if we may follow it: https, or back to the configured (loopback) origin."""
    try:
        target = response.url.join(response.headers.get("Location", ""))
    except (httpx.InvalidURL, TypeError) as exc:
        raise Refused("redirect to something that is not a URL") from exc
    if target.userinfo or not target.host or (target.scheme != "https" and _origin(target) != _origin(allowed)):
        raise Refused(f"redirect to {target.scheme}://{target.host or '?'} (only https is followed)")
    return target


def _timeout(deadline: float) -> httpx.Timeout:
    """Each step's timeout: what is left of the whole download's time (15 s at most)."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise Refused(f"took longer than {TOTAL_SECONDS:.0f} s")
    return httpx.Timeout(min(15.0, left))


def _read(response: httpx.Response, deadline: float) -> bytes:
    """The body, read in chunks; stops past MAX_BYTES or the deadline."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > MAX_BYTES:
        raise Refused(f"{declared} bytes, more than {MAX_BYTES}")
    body = bytearray()
    for chunk in response.iter_bytes(65536):
        body += chunk
        if len(body) > MAX_BYTES:
            raise Refused(f"more than {MAX_BYTES} bytes")
        if time.monotonic() > deadline:
            raise Refused(f"took longer than {TOTAL_SECONDS:.0f} s")
    return bytes(body)


def _telegram(config: dict, file_id: str):
    """getFile, then the file from the Bot API's file URL, if getFile answered a plain relative path."""
    async def locate():
        bot = telegram.make_bot(config)
        tg_file = await bot.get_file(file_id)
        return bot.base_file_url, tg_file.file_path or "", tg_file.file_size
    base, path, size = telegram._run(locate())
    # python-telegram-bot puts the file URL in front of the path, unless the path names a file on this
    # machine: then it would read that file. Only a plain relative path under the file URL is downloaded.
    prefix = base + "/"
    relative = path[len(prefix):] if path.startswith(prefix) else ""
    if not _TELEGRAM_FILE_PATH.fullmatch(relative) or ".." in relative:
        raise Refused("Telegram file_path is not a plain relative path")
    if size and size > MAX_BYTES:
        raise Refused(f"{size} bytes, more than {MAX_BYTES}")
    deadline = time.monotonic() + TOTAL_SECONDS
    with httpx.Client(follow_redirects=False) as client:
        with client.stream("GET", prefix + quote(relative), headers={"Accept-Encoding": "identity"},
                           timeout=_timeout(deadline)) as response:
            response.raise_for_status()
            return _read(response, deadline), response.headers.get("Content-Type", "")
