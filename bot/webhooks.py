"""The provider-facing routes: Telegram updates, Twilio messages and Twilio delivery statuses.

Bad input gets a 4xx with a reason; forged requests 403; duplicates are answered
as the first delivery was; a database outage is a 503 so the provider retries.
"""
import logging

from flask import Blueprint, Response, abort, current_app, g, jsonify, request
from sqlalchemy.exc import OperationalError

from . import db, inbound, intake, observability, outbound
from .channels import telegram, twilio
from .channels.base import BadRequest, Ignored

log = logging.getLogger(__name__)
blueprint = Blueprint("webhooks", __name__)


def _runtime():
    return current_app.extensions["bot"]


def _error(status: int, reason: str) -> Response:
    response = jsonify(error=reason)
    response.status_code = status
    return response


@blueprint.errorhandler(BadRequest)
def _bad_request(exc: BadRequest):
    return _error(exc.status, exc.reason)


@blueprint.errorhandler(413)
def _too_large(exc):
    return _error(413, "the body is too large for a message")


@blueprint.errorhandler(OperationalError)
@blueprint.errorhandler(intake.QueueUnavailable)
def _unavailable(exc):
    """The database or the queue is down: 503, and the provider delivers again."""
    if isinstance(exc, OperationalError):
        log.error("database unavailable: %s", type(exc).__name__)   # intake logged the queue's own
    response = _error(503, "temporarily unavailable, please retry")
    response.headers["Retry-After"] = "5"
    return response


def _queued() -> bool:
    return current_app.config["INBOUND_MODE"] == "queue"


def _inline(incoming):
    """The turn answered in the response; None when the database is unavailable and the message went to the
    queue instead. Twilio does not deliver an inbound message again after a 503 (its retries cover
    connection failures only, within 15 s), so refusing would lose it: it is acknowledged, the worker
    handles it once the database is back and answers through the provider's API. Only if the queue is
    down too does the provider get its 503."""
    try:
        return inbound.receive(_runtime(), incoming)
    except Exception as exc:
        if not db.unavailable(exc) or not intake.deferrable():
            raise
        log.error("database unavailable (%s): the message is queued instead", type(exc).__name__)
    intake.accept(_runtime(), incoming)
    return None


@blueprint.post("/webhooks/telegram")
def telegram_update():
    config = current_app.config
    if not config.get("TELEGRAM_BOT_TOKEN"):
        return _error(403, "Telegram is off here: TELEGRAM_BOT_TOKEN is not set")
    if not telegram.check_secret(request.headers, config):
        return _error(403, "wrong or missing X-Telegram-Bot-Api-Secret-Token")
    if request.mimetype != "application/json":
        return _error(415, "send the update as application/json")
    try:
        data = request.get_json(silent=True)
    except RecursionError:                    # nested thousands deep: not JSON any Telegram sends
        data = None
    if data is None:
        return _error(400, "the body is not valid JSON")
    parsed = telegram.parse_body(data)
    if isinstance(parsed, Ignored):
        return jsonify(ok=True, ignored=parsed.reason)
    g.channel = "telegram"
    if _queued():
        intake.accept(_runtime(), parsed)
        return jsonify(ok=True)
    outcome = _inline(parsed)
    if outcome is None:
        return jsonify(ok=True)
    observability.record_turn("telegram", outcome)
    body = telegram.webhook_response(parsed, outcome.replies, config)
    return jsonify(body) if body else jsonify(ok=True)


def _twilio_checked() -> None:
    if request.mimetype not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raise BadRequest("send the message as a form (application/x-www-form-urlencoded)", 415)
    behind = (current_app.config.get("PUBLIC_URL") or "").rstrip("/")   # request.url only when it is used
    url = twilio.public_url("" if behind else request.url, request.path, request.query_string.decode(),
                            current_app.config)
    if not current_app.config.get("TWILIO_AUTH_TOKEN"):
        raise BadRequest("Twilio is off here: TWILIO_AUTH_TOKEN is not set, so no post can be verified", 403)
    if not twilio.check_signature(url, request.form, request.headers.get("X-Twilio-Signature", ""),
                                  current_app.config):
        raise BadRequest("wrong or missing X-Twilio-Signature", 403)


@blueprint.post("/webhooks/twilio")
def twilio_message():
    _twilio_checked()
    incoming = twilio.parse_form(request.form)
    g.channel = incoming.channel
    if _queued():
        intake.accept(_runtime(), incoming)
        return Response(twilio.twiml(incoming.channel, [], current_app.config), mimetype="application/xml")
    outcome = _inline(incoming)
    if outcome is None:
        return Response(twilio.twiml(incoming.channel, [], current_app.config), mimetype="application/xml")
    observability.record_turn(incoming.channel, outcome)
    return Response(twilio.twiml(incoming.channel, outcome.replies, current_app.config),
                    mimetype="application/xml")


@blueprint.post("/webhooks/twilio/status")
def twilio_status():
    _twilio_checked()
    update = twilio.parse_status(request.form)
    known = outbound.record_status(_runtime(), update.provider_id, update.status, update.error_code)
    return jsonify(ok=True, known=known)


@blueprint.get("/content-images/<path:name>")
def content_image(name: str):
    """Pictures of the shelter steps, for Telegram and WhatsApp to fetch (PUBLIC_URL + this path)."""
    data = _runtime().content.get().images.get(name)
    if data is None:
        abort(404)
    response = Response(data, mimetype="image/jpeg" if name.lower().endswith((".jpg", ".jpeg")) else "image/png")
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    return response
