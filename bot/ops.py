"""Endpoints for load balancers and monitoring: /healthz, /readyz, /metrics (token protected)."""
import hmac

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy import func, select, text

from .models import DeadLetter, Outbound
from .observability import exposition
from .runtime import current as current_runtime
from .statuses import OutboundStatus

blueprint = Blueprint("ops", __name__)


@blueprint.get("/healthz")
def healthz():
    """The process is alive (no dependency checked: a restart would not fix a database outage)."""
    return jsonify(status="ok")


def _check_database(runtime) -> str | None:
    try:
        with runtime.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        return type(exc).__name__
    return None


def _check_queue() -> str | None:
    try:
        from .queue import huey
        huey.storage.queue_size()
    except Exception as exc:
        return type(exc).__name__
    return None


@blueprint.get("/readyz")
def readyz():
    """Ready to take traffic: database and queue reachable; 503 otherwise, with what failed."""
    runtime = current_runtime()
    problems = {name: error for name, error in (("database", _check_database(runtime)),
                                                 ("queue", _check_queue())) if error}
    if problems:
        response = jsonify(status="unavailable", failed=problems)
        response.status_code = 503
        return response
    return jsonify(status="ready")


@blueprint.get("/metrics")
def metrics():
    token = current_app.config.get("METRICS_TOKEN")
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not token or not hmac.compare_digest(given.encode(), token.encode()):
        return jsonify(error="metrics need Authorization: Bearer <METRICS_TOKEN>"), 403
    runtime = current_runtime()
    body = exposition()
    gauges = []
    try:      # during a database outage the queue's figures below are what matters: still answered
        with runtime.transaction() as session:
            depth = session.scalar(select(func.count()).select_from(Outbound).where(
                Outbound.status.in_(OutboundStatus.open()))) or 0
            dead = session.scalar(select(func.count()).select_from(DeadLetter)) or 0
        gauges += [("bot_queue_depth", "Outbound messages waiting or being sent", depth),
                   ("bot_dead_letters", "Inbound messages that failed for a reason other than an outage "
                                        "(flask --app bot queue replay)", dead)]
    except Exception:
        gauges.append(("bot_database_up", "0 while the database cannot be reached", 0))
    try:
        from .queue import waiting
        queued, scheduled = waiting()
        gauges += [("bot_queue_tasks_waiting", "Tasks in the queue waiting for a worker (inbound messages "
                                               "pile up here while the database is down)", queued),
                   ("bot_queue_tasks_scheduled", "Tasks scheduled for later (retries, interrupted tasks)",
                    scheduled)]
    except Exception:     # the queue is down: /readyz says so; the other figures still count
        pass
    for name, words, value in gauges:
        body += f"# HELP {name} {words}\n# TYPE {name} gauge\n{name} {value}\n".encode()
    return Response(body, mimetype="text/plain; version=0.0.4")
