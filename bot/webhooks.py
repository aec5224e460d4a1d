"""The provider-facing routes, one per adapter route (bot/channels/): messages, events, delivery statuses.

Bad input gets a 4xx with a reason; forged requests 403; duplicates are answered
as the first delivery was; a database outage is a 503 so the provider retries.
"""
import logging
from functools import partial

from flask import Blueprint, Response, abort, current_app, g, jsonify, request
from sqlalchemy.exc import OperationalError

from handlers.types import Incoming

from . import channels, db, inbound, intake, observability
from .channels.base import Adapter, Answer, BadRequest, Ignored, StatusUpdate
from .outbound import statuses
from .runtime import Runtime
from .runtime import current as current_runtime

log = logging.getLogger(__name__)
blueprint = Blueprint("webhooks", __name__)


def _runtime() -> Runtime:
    return current_runtime()


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


def _answer(answer: Answer) -> Response:
    if isinstance(answer.body, dict):
        response = jsonify(answer.body)
    else:
        response = Response(answer.body or "", mimetype=answer.mimetype)
    response.status_code = answer.status
    return response


def _receive(adapter: Adapter):
    """Every provider's messages and events: authenticated first (nothing is read, deduplicated or answered
    before), parsed into channel-neutral events, each handled; the adapter words the response."""
    config = current_app.config
    adapter.authenticate(request, config)
    events = adapter.parse(request, config)
    for event in events:      # one URL may serve several channels (Twilio's SMS and WhatsApp): each must be on
        if isinstance(event, Incoming) and not channels.adapter(event.channel).enabled(config):
            raise BadRequest(f"{event.channel} is off here: its settings are not all set (see README)", 403)
    answered = []
    for event in events:
        if isinstance(event, Ignored):
            continue
        if isinstance(event, StatusUpdate):
            statuses.record(_runtime(), adapter.status_channels(), event)
            continue
        g.channel = event.channel
        own = channels.adapter(event.channel)
        if _queued() or not own.answers_in_response(event) or intake.waits_behind(_runtime(), event):
            intake.accept(_runtime(), event)        # the worker answers through the provider's API
            continue
        outcome = _inline(event)
        if outcome is None:
            continue
        observability.record_turn(event.channel, outcome)
        answered.append((event, outcome.replies))
    return _answer(adapter.respond(events, answered, config))


def _status(adapter: Adapter):
    """Delivery callbacks on their own URL (Twilio's)."""
    adapter.authenticate(request, current_app.config)
    if not any(channels.adapter(channel).enabled(current_app.config) for channel in adapter.status_channels()):
        raise BadRequest(f"{', '.join(adapter.status_channels())} off here: the settings are not set (see README)", 403)
    known = False
    for update in adapter.parse_status(request, current_app.config):
        known = statuses.record(_runtime(), adapter.status_channels(), update) or known
    return jsonify(ok=True, known=known)


def _verify(adapter: Adapter):
    """A subscription handshake (Messenger's GET with hub.challenge)."""
    return Response(adapter.verify(request, current_app.config), mimetype="text/plain")


def _call(adapter: Adapter):
    """A phone call's webhooks (the menu, its keys, a recorded message): authenticated first, like every
    post; the phone menu (bot/phone.py) decides what the caller hears, the adapter words it."""
    from . import phone
    config = current_app.config
    adapter.authenticate(request, config)
    call = adapter.parse_call(request, config)
    g.channel = adapter.channel
    base = (config.get("PUBLIC_URL") or "").rstrip("/") + request.path if config.get("PUBLIC_URL") \
        else request.base_url
    return _answer(adapter.render_call(phone.answer(_runtime(), adapter.channel, call), config, base))


_VIEWS = {"receive": _receive, "status": _status, "verify": _verify, "call": _call}
for _adapter, _route in channels.webhooks():
    blueprint.add_url_rule(_route.rule, _route.endpoint, partial(_VIEWS[_route.kind], _adapter),
                           methods=list(_route.methods))


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


@blueprint.get("/phone-prompts/<lang>/<name>")
def phone_prompt(lang: str, name: str):
    """A recorded phone-menu prompt, for Twilio's <Play> to fetch (PUBLIC_URL + this path)."""
    from . import phone
    return phone.prompt_file(current_app.config, lang, name)
