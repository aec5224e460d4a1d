"""The cheapest webhooks that still do the bot's unavoidable work, for bench/ceiling.py.

- check_app: Flask reads the post and checks it as the bot must (Twilio: the form and twilio's
  RequestValidator against PUBLIC_URL + path; Telegram: the secret header and the JSON body), then answers a
  fixed empty reply: no storage at all.
- store_app: the same, then one Redis LPUSH of the message before answering (what "acknowledge only once the
  message is safe" costs at the least; nothing reads the list).

Served by the Procfile's web line, like bench/bare_app.py. Not used by the bot.
"""
import json
import os

from flask import Flask, Response, request
from twilio.request_validator import RequestValidator

TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response />'


def _app(store) -> Flask:
    app = Flask(__name__)
    validator = RequestValidator(os.environ["TWILIO_AUTH_TOKEN"])
    url = os.environ["PUBLIC_URL"].rstrip("/") + "/webhooks/twilio"
    secret = os.environ["TELEGRAM_WEBHOOK_SECRET"]

    @app.post("/webhooks/twilio")
    def twilio():
        form = request.form
        if not validator.validate(url, form, request.headers.get("X-Twilio-Signature", "")):
            return Response("wrong signature", status=403)
        store(json.dumps(form.to_dict(), ensure_ascii=False))
        return Response(TWIML, mimetype="application/xml")

    @app.post("/webhooks/telegram")
    def telegram():
        if request.headers.get("X-Telegram-Bot-Api-Secret-Token") != secret:
            return Response("wrong secret", status=403)
        update = request.get_json(silent=True)
        if not isinstance(update, dict) or type(update.get("update_id")) is not int:
            return Response("not an update", status=400)
        store(request.get_data(as_text=True))
        return Response('{"ok":true}', mimetype="application/json")

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    return app


def check_app() -> Flask:
    return _app(lambda message: None)


def store_app() -> Flask:
    import redis
    client = redis.Redis.from_url(os.environ["CEILING_REDIS_URL"])
    return _app(lambda message: client.lpush("ceiling", message))
