"""Metrics (Prometheus) and one log line per request: counts and timings, never a number, chat id or text.

Labels are channel, language, item id, outcome and reason: small fixed sets, no personal data.
Under gunicorn set PROMETHEUS_MULTIPROC_DIR so every worker's counts add up (prometheus_client's
multiprocess mode).
"""
import contextvars
import json
import logging
import os
import random
import time

from flask import g, has_request_context, request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess

log = logging.getLogger("bot.requests")

INBOUND = Counter("bot_inbound_messages_total", "Messages received", ["channel", "language"])
REPLIES = Counter("bot_replies_total", "Replies sent in webhook responses", ["channel"])
TOPIC_HITS = Counter("bot_topic_hits_total", "Items shown, by item id", ["item"])
UNMATCHED = Counter("bot_unmatched_questions_total", "Free-text questions with no answer", ["language"])
FEEDBACK = Counter("bot_feedback_cases_total", "Feedback cases opened", ["kind", "sensitive"])
SENDS = Counter("bot_sends_total", "Outbound sends by outcome", ["channel", "outcome", "reason"])
DUPLICATES = Counter("bot_duplicate_deliveries_total", "Webhooks delivered again and handled once", ["channel"])
SQL_STATEMENTS = Counter("bot_sql_statements_total", "SQL statements run while handling a request "
                         "(only counted with BENCH_COUNT_SQL=1, for the benchmark)", ["route"])
LATENCY = Histogram("bot_webhook_seconds", "Webhook handling time", ["route"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))


def record_turn(channel: str, outcome) -> None:
    """Counters for one handled inbound message, from the dialogue's events."""
    if outcome.duplicate:
        DUPLICATES.labels(channel).inc()
        return
    INBOUND.labels(channel, outcome.language or "unknown").inc()
    REPLIES.labels(channel).inc(len(outcome.replies))
    for event in outcome.events:
        if event[0] == "item":
            TOPIC_HITS.labels(event[1]).inc()
        elif event[0] == "unmatched":
            UNMATCHED.labels(outcome.language or "unknown").inc()
        elif event[0] == "feedback":
            FEEDBACK.labels(event[1], "yes" if len(event) > 2 and event[2] else "no").inc()


def record_send(channel: str, status: str) -> None:
    outcome, _, reason = status.partition(":")
    SENDS.labels(channel, outcome, reason or "").inc()


def exposition() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest()


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {"time": self.formatTime(record), "level": record.levelname, "logger": record.name,
                "message": record.getMessage()}
        data.update(getattr(record, "fields", {}))
        return json.dumps(data, ensure_ascii=False)


def configure_logging(json_format: bool) -> None:
    if json_format:
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        root = logging.getLogger()
        root.handlers[:] = [handler]


# The route label of statements run outside a request: "queue", or what the running task set (intake's
# inbound messages: "queue:inbound"), so the benchmark counts a message's statements without the periodic tasks'.
TASK_ROUTE = contextvars.ContextVar("task_route", default="queue")


def count_sql(engine, begins: bool = True) -> None:
    """BENCH_COUNT_SQL=1: count every statement sent to the database, per route (bench/inbound.py reads it);
    outside a request (the queue worker's tasks) as TASK_ROUTE says. begins=False for an autocommit engine,
    which sends no BEGIN (SQLAlchemy still fires the event)."""
    from sqlalchemy import event

    def _count():
        if not has_request_context():
            SQL_STATEMENTS.labels(TASK_ROUTE.get()).inc()
        elif request.url_rule is not None:
            SQL_STATEMENTS.labels(request.url_rule.rule).inc()

    # Every statement, plus the BEGIN each transaction sends (psycopg2 sends it implicitly, SQLite
    # explicitly as BEGIN IMMEDIATE): both are round trips. COMMIT is not counted.
    event.listen(engine, "before_cursor_execute", lambda *args: _count())
    if begins:
        event.listen(engine, "begin", lambda conn: _count())


def init_app(app) -> None:
    """One line per request: id, route, channel, status, duration. The path holds no personal data."""
    @app.before_request
    def _start():
        # 16 hex digits, as uuid4().hex[:16] gave, without a getrandom() call per request (random
        # reseeds itself in every forked worker)
        g.request_id = request.headers.get("X-Request-Id") or f"{random.getrandbits(64):016x}"
        g.started = time.perf_counter()

    @app.after_request
    def _finish(response):
        elapsed = time.perf_counter() - getattr(g, "started", time.perf_counter())
        route = request.url_rule.rule if request.url_rule else "unmatched"
        if route.startswith("/webhooks/"):
            LATENCY.labels(route).observe(elapsed)
        fields = {"request_id": getattr(g, "request_id", ""), "method": request.method, "route": route,
                  "channel": getattr(g, "channel", None), "status": response.status_code,
                  "duration_ms": round(elapsed * 1000, 1)}
        log.info("%s %s %s %.1fms", request.method, route, response.status_code, elapsed * 1000,
                 extra={"fields": fields})
        response.headers["X-Request-Id"] = fields["request_id"]
        return response
