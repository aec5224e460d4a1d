"""The yardstick for bench/inbound.py: the same gunicorn and Flask, no work at all, a fixed TwiML answer.

Served exactly as the Procfile's web line serves the bot, with "bench.bare_app:create_app()" in place of
"bot:create_app()", so the difference between the two is what the bot itself costs per message.
"""
from flask import Flask, Response

TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Message>ok</Message></Response>'


def create_app() -> Flask:
    """A Flask app answering every webhook post with the same TwiML."""
    app = Flask(__name__)

    @app.post("/webhooks/<path:rest>")
    def webhook(rest):
        return Response(TWIML, mimetype="application/xml")

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    return app
