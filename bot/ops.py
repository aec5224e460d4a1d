"""Endpoints for load balancers and monitoring: /healthz, /readyz, /metrics (token protected)."""
import hmac

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy import func, select, text

from .models import Outbound
from .observability import exposition

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
    runtime = current_app.extensions["bot"]
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
    runtime = current_app.extensions["bot"]
    body = exposition()
    with runtime.transaction() as session:
        depth = session.scalar(select(func.count()).select_from(Outbound).where(
            Outbound.status.in_(("pending", "queued", "sending")))) or 0
    body += (b"# HELP bot_queue_depth Outbound messages waiting or being sent\n# TYPE bot_queue_depth gauge\n"
             + f"bot_queue_depth {depth}\n".encode())
    return Response(body, mimetype="text/plain; version=0.0.4")
