"""Signed, expiring links to recordings, served by the app at /media/recordings/<sha256>.<ogg|mp3>.

Providers fetch media by URL (Twilio for WhatsApp and <Play>, Messenger, Viber); they cannot sign in,
so the link carries its own proof: an HMAC-SHA256 over the path and the expiry time, keyed from
SECRET_KEY. A forged or altered link is answered 403, an expired one 410, before anything is read.
"""
import hashlib
import hmac
import re
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, current_app, request

from .store import FORMATS, sound

LINK_SECONDS = 3600          # long enough for a provider's fetch and a retry, short enough to stop sharing
blueprint = Blueprint("media", __name__)
_SHA = re.compile(r"[0-9a-f]{64}")


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), b"recording links", hashlib.sha256).digest()


def signature(secret: str, sha256: str, fmt: str, expires: int) -> str:
    return hmac.new(_key(secret), f"{sha256}.{fmt}:{expires}".encode(), hashlib.sha256).hexdigest()


def path(secret: str, sha256: str, fmt: str, seconds: int = LINK_SECONDS, now: float | None = None) -> str:
    """/media/recordings/<sha256>.<fmt>?expires=…&sig=… valid for `seconds` from now."""
    expires = int((time.time() if now is None else now) + seconds)
    query = urlencode({"expires": expires, "sig": signature(secret, sha256, fmt, expires)})
    return f"/media/recordings/{sha256}.{fmt}?{query}"


def url(config: Mapping[str, Any], sha256: str, fmt: str, seconds: int | None = None, now: float | None = None) -> str:
    """The absolute link providers fetch: PUBLIC_URL + path (the path alone when PUBLIC_URL is unset), valid
    for `seconds` or RECORDING_LINK_SECONDS (default LINK_SECONDS)."""
    base = str(config.get("PUBLIC_URL") or "").rstrip("/")
    seconds = seconds or int(config.get("RECORDING_LINK_SECONDS") or LINK_SECONDS)
    return base + path(str(config["SECRET_KEY"]), sha256, fmt, seconds, now)


def check(secret: str, sha256: str, fmt: str, expires: str, sig: str, now: float | None = None) -> int:
    """200 when the link is ours and still valid, 403 when it is not ours, 410 when it has expired."""
    if not (expires.isascii() and expires.isdigit()) or len(expires) > 12:     # "²" and "١" are digits too
        return 403
    if not hmac.compare_digest(signature(secret, sha256, fmt, int(expires)).encode(), sig.encode()):
        return 403
    return 410 if int(expires) < (time.time() if now is None else now) else 200


@blueprint.get("/media/recordings/<name>")
def recording(name: str) -> Response:
    """A recording's bytes with its type, for whoever holds a valid link; nothing is said about others."""
    sha256, _, fmt = name.partition(".")
    if fmt not in FORMATS or not _SHA.fullmatch(sha256):
        abort(404)
    status = check(str(current_app.config["SECRET_KEY"]), sha256, fmt, request.args.get("expires", ""),
                   request.args.get("sig", ""))
    if status == 403:
        abort(403, "this link is not valid")
    if status == 410:
        abort(410, "this link has expired")
    with current_app.extensions["bot"].transaction() as session:
        data = sound(session, sha256, fmt)
    if data is None:
        abort(404)
    response = Response(data, mimetype=FORMATS[fmt])
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Content-Disposition"] = f'inline; filename="{sha256[:12]}.{fmt}"'
    return response
