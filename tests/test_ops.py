"""Health, readiness and metrics endpoints; logs and metrics never carry personal data."""
import logging

import pytest
from sqlalchemy import create_engine

from bot import db


def test_healthz_and_readyz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/readyz").get_json()["status"] == "ready"


def test_readyz_says_503_when_the_database_is_down(client, runtime):
    healthy = runtime.engine
    runtime.engine = create_engine("postgresql://nobody@127.0.0.1:9/none", pool_pre_ping=False)
    try:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert "database" in response.get_json()["failed"]
        assert client.get("/healthz").status_code == 200
    finally:
        runtime.dispose()
        runtime.engine = healthy


def test_a_database_outage_on_a_webhook_is_a_503_the_provider_retries(telegram, runtime):
    """Tasks run in the caller here (HUEY_IMMEDIATE): nothing could wait for the database elsewhere, so the
    provider hears 503 at once, never a hanging request. With a worker the message is queued instead
    (tests/test_outages.py)."""
    healthy = runtime.sessions
    broken = create_engine("postgresql://nobody@127.0.0.1:9/none")
    runtime.sessions = db.make_sessionmaker(broken)
    try:
        response = telegram.post(telegram.update("مرحبا"))
        assert response.status_code == 503 and response.headers["Retry-After"]
    finally:
        runtime.sessions = healthy


def test_metrics_need_the_token(client, app):
    assert client.get("/metrics").status_code == 403
    app.config["METRICS_TOKEN"] = "m-token"
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    body = client.get("/metrics", headers={"Authorization": "Bearer m-token"}).get_data(as_text=True)
    assert "bot_queue_depth" in body


def test_logs_and_metrics_hold_no_phone_number_chat_id_or_text(twilio, telegram, client, app, caplog):
    app.config["METRICS_TOKEN"] = "m-token"
    with caplog.at_level(logging.DEBUG):
        twilio.say("مرحبا", "+9647501239876")
        twilio.say("الكوليرا عند جارنا", "+9647501239876")
        telegram.say("نەخۆشی سکچوون", chat_id=24681357)
    metrics = client.get("/metrics", headers={"Authorization": "Bearer m-token"}).get_data(as_text=True)
    assert 'bot_inbound_messages_total{channel="sms",language="ar"}' in metrics
    assert 'bot_topic_hits_total{item="cholera"}' in metrics
    logs = "\n".join(r.getMessage() + str(getattr(r, "fields", "")) for r in caplog.records)
    assert "/webhooks/twilio" in logs
    for secret in ("9647501239876", "24681357", "الكوليرا", "جارنا", "سکچوون"):
        assert secret not in metrics and secret not in logs, secret


@pytest.mark.slow       # waits on the clock: db.LOCK_WAIT, 10 s
def test_a_sqlite_write_lock_held_elsewhere_is_a_503_before_twilio_gives_up(twilio, runtime):
    """A backup or a stuck process holding SQLite's write lock: the webhook waits db.LOCK_WAIT, then 503
    with Retry-After, well inside Twilio's 15 s (it was 30 s: Twilio had hung up by then)."""
    import sqlite3
    import time
    url = runtime.config["DATABASE_URL"]
    if not url.startswith("sqlite"):
        import pytest
        pytest.skip("SQLite's lock")
    holder = sqlite3.connect(url.split("///", 1)[1], isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        response = twilio.post(twilio.form("مرحبا", "+9647501119001"))
        waited = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert response.status_code == 503 and response.headers.get("Retry-After"), response.get_data(as_text=True)
    assert db.LOCK_WAIT - 1 <= waited < 15
    assert twilio.say("مرحبا", "+9647501119001")          # the lock gone, the retry is answered
