"""Loopback fakes of the providers' APIs: the only fakes in the suite, at the network edge.

One HTTP server speaks enough of the Telegram Bot API (/bot<token>/<method>) and
of Twilio's Messages API (/2010-04-01/Accounts/<sid>/Messages.json) and Pricing API
(/v2/Voice/Countries/IQ, /v1/Messaging/Countries/IQ, with made-up prices) for our client
libraries, logs every call with its time, and can be told to fail.
It also serves people's attachments: Telegram's /file/bot<token>/<file_path>, Twilio's
…/Media/<sid> (which can be told to redirect, as Twilio does to its CDN) and /cdn/….
"""
import base64
import json
import threading
import time
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from urllib.parse import parse_qs, urlparse

# How often a loopback server's serve_forever looks for shutdown(): the default 0.5 s made every test that
# stops a server wait 0.25 s on average in its teardown.
SHUTDOWN_POLL = 0.01


def serve_in_thread(server) -> threading.Thread:
    """serve_forever in a daemon thread, quick to stop."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": SHUTDOWN_POLL}, daemon=True)
    thread.start()
    return thread


def _form(handler: BaseHTTPRequestHandler, body: bytes) -> dict:
    kind = handler.headers.get("Content-Type", "")
    if kind.startswith("application/json"):
        return json.loads(body or b"{}")
    if kind.startswith("multipart/form-data"):
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + kind.encode() + b"\r\n\r\n" + body)
        fields = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            fields[name] = payload if part.get_filename() else payload.decode("utf-8")
        return fields
    parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True)
    return {k: v if len(v) > 1 else v[0] for k, v in parsed.items()}


class FakeProviders:
    def __init__(self):
        self.calls: list[dict] = []
        self.failures: list[tuple] = []   # (service, status, body, recipient or None), used in order
        self.delay = 0.0
        self.received: list[str] = []     # every request, logged before any delay
        self.updates: list[dict] = []     # for getUpdates
        self.webhook_url = ""             # what setWebhook stored; getWebhookInfo answers it
        self.webhook_error: str | None = None  # getWebhookInfo's last_error_message, when set
        self.requests: list[dict] = []    # every request's path and Authorization header ("" when none)
        self.redirects: dict[str, str] = {}              # path -> Location: answered with a 307
        self.files: dict[str, tuple[bytes, str]] = {}    # path -> (body, content type), streamed without length
        self.file_paths: dict[str, str] = {}             # file_id -> the file_path getFile answers
        # Twilio call recordings: …/Recordings/<RE sid> -> WAV bytes, served only with the account's basic auth
        self.recordings: dict[str, bytes] = {}
        self.account: tuple[str, str] = ("", "")         # (account SID, auth token) the recordings require
        self._ids = count(1000)
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread: threading.Thread | None = None

    def start(self):
        self.thread = serve_in_thread(self.server)
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def fail_next(self, service: str, status: int, body: dict, to: str | None = None):
        """The next call (to this recipient, when given: concurrent senders arrive in any order) fails."""
        self.failures.append((service, status, body, to))

    def sent(self, service: str | None = None) -> list[dict]:
        """Calls that delivered a message (the failures excluded)."""
        return [c for c in self.calls if c["ok"] and c["kind"] == "send" and (service in (None, c["service"]))]

    def _next_failure(self, service: str, recipient: str | None = None):
        with self._lock:
            for i, (svc, status, body, to) in enumerate(self.failures):
                if svc == service and to in (None, recipient):
                    del self.failures[i]
                    return status, body
        return None

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _reply(self, status, payload):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self.do_POST()

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                params = _form(self, self.rfile.read(length)) if length else {}
                path = urlparse(self.path).path
                fake.received.append(path)
                fake.requests.append({"path": path, "authorization": self.headers.get("Authorization", "")})
                if "/Recordings/" in path:                 # a call recording: the account's credentials or 401
                    return fake._recording(self, path)
                if path in fake.redirects:                 # Twilio answers a media URL with its CDN's address
                    self.send_response(307)
                    self.send_header("Location", fake.redirects[path])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if path in fake.files:                     # a chosen body, streamed until the connection closes
                    data, kind = fake.files[path]
                    self.send_response(200)
                    self.send_header("Content-Type", kind)
                    self.send_header("Connection", "close")
                    self.end_headers()
                    try:
                        for start in range(0, len(data), 1 << 16):
                            self.wfile.write(data[start:start + (1 << 16)])
                    except OSError:                        # the client stopped reading: that is the point
                        pass
                    self.close_connection = True
                    return
                if path.startswith(("/file/bot", "/cdn/")) or "/Media/" in path:   # a person's voice note or photo
                    data, kind = (VOICE, "audio/ogg") if path.startswith("/file/") else (PHOTO, "image/jpeg")
                    self.send_response(200)
                    self.send_header("Content-Type", kind)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                if fake.delay:
                    time.sleep(fake.delay)
                if path.startswith("/bot"):
                    return fake._telegram(self, path.split("/")[-1], params)
                if path.startswith("/2010-04-01/Accounts/"):
                    return fake._twilio(self, path, params)
                if path.startswith(("/v2/Voice/Countries/", "/v1/Messaging/Countries/")):
                    return fake._twilio_pricing(self, path)
                if path.startswith("/graph/"):
                    return fake._messenger(self, path, params)
                if path.startswith("/viber/"):
                    return fake._viber(self, path, params)
                self._reply(404, {"error": "unknown path"})

        return Handler

    def _log(self, service, method, params, ok, kind):
        entry = {"t": time.monotonic(), "service": service, "method": method, "params": params, "ok": ok,
                 "kind": kind}
        with self._lock:
            self.calls.append(entry)
        return entry

    def _telegram(self, handler, method, params):
        """params: the form or JSON; an uploaded file (sendPhoto, sendVoice multipart) stays as its bytes."""
        sending = method in ("sendMessage", "sendPhoto", "sendVoice")
        failure = self._next_failure("telegram", str(params.get("chat_id"))) if sending else None
        if failure:
            self._log("telegram", method, params, False, "send")
            return handler._reply(failure[0], failure[1])
        message_id = next(self._ids)
        chat_id = params.get("chat_id")
        if sending:
            self._log("telegram", method, params, True, "send")
            result = {"message_id": message_id, "date": int(time.time()),
                      "chat": {"id": int(chat_id) if str(chat_id).lstrip("-").isdigit() else 0, "type": "private"}}
            if method == "sendPhoto":
                result["photo"] = [{"file_id": f"photo{message_id}", "file_unique_id": f"u{message_id}",
                                    "width": 800, "height": 600}]
                result["caption"] = params.get("caption")
            elif method == "sendVoice":
                result["voice"] = {"file_id": f"voice{message_id}", "file_unique_id": f"v{message_id}",
                                   "duration": int(params.get("duration") or 0), "mime_type": "audio/ogg"}
                result["caption"] = params.get("caption")
            else:
                result["text"] = params.get("text")
            return handler._reply(200, {"ok": True, "result": result})
        self._log("telegram", method, params, True, "other")
        if method == "getUpdates":
            updates, self.updates = self.updates, []
            return handler._reply(200, {"ok": True, "result": updates})
        if method == "getWebhookInfo":
            info = {"url": self.webhook_url, "has_custom_certificate": False, "pending_update_count": 0}
            if self.webhook_error:
                info.update(pending_update_count=12, last_error_date=int(time.time()) - 60,
                            last_error_message=self.webhook_error)
            return handler._reply(200, {"ok": True, "result": info})
        if method == "setWebhook":
            self.webhook_url = params.get("url")
        if method == "getFile":     # then GET /file/bot<token>/<file_path> serves the bytes
            file_id = params.get("file_id")
            return handler._reply(200, {"ok": True, "result": {
                "file_id": file_id, "file_unique_id": "u1", "file_size": len(VOICE),
                "file_path": self.file_paths.get(file_id, f"voice/{file_id}.oga")}})
        if method == "getMe":
            return handler._reply(200, {"ok": True, "result": {"id": 7000000001, "is_bot": True,
                                                               "first_name": "InfoBot", "username": "info_bot"}})
        return handler._reply(200, {"ok": True, "result": True})

    def _twilio(self, handler, path, params):
        if not path.endswith("/Messages.json"):
            return handler._reply(404, {"code": 20404, "message": "not found", "status": 404})
        failure = self._next_failure("twilio", params.get("To"))
        if failure:
            self._log("twilio", "Messages", params, False, "send")
            return handler._reply(failure[0], failure[1])
        self._log("twilio", "Messages", params, True, "send")
        sid = f"SMfake{next(self._ids):029d}"
        return handler._reply(201, {"sid": sid, "status": "queued", "to": params.get("To"),
                                    "from": params.get("From"), "body": params.get("Body"),
                                    "num_segments": "1", "date_created": None})


    def _twilio_pricing(self, handler, path):
        """Twilio's Pricing API (pricing.twilio.com): Voice v2 and Messaging v1 countries, behind the
        account's basic auth like every Twilio API. The prices are TEST DATA, made up: never Twilio's."""
        failure = self._next_failure("twilio_pricing")
        self._log("twilio_pricing", path, {}, failure is None, "other")
        if failure:
            return handler._reply(failure[0], failure[1])
        if not self._authorized(handler):
            return handler._reply(401, twilio_error(20003, 401) | {"message": "Authenticate"})
        iso = path.rstrip("/").rsplit("/", 1)[-1]
        body = PRICING.get(path.split("/Countries/")[0])
        if iso != "IQ" or body is None:
            return handler._reply(404, twilio_error(20404, 404))
        return handler._reply(200, body | {"url": f"https://pricing.twilio.com{path}"})

    def _authorized(self, handler) -> bool:
        """The account's basic auth (SID, auth token), as every Twilio API wants it."""
        expected = "Basic " + base64.b64encode(":".join(self.account).encode()).decode()
        return bool(self.account[0]) and handler.headers.get("Authorization", "") == expected

    def _recording(self, handler, path):
        """GET …/Recordings/<sid> (WAV, or .wav): Twilio's Recording media, behind HTTP basic auth."""
        if not self._authorized(handler):
            return handler._reply(401, {"code": 20003, "message": "Authenticate", "status": 401})
        data = self.recordings.get(path.removesuffix(".wav"))
        if data is None:
            return handler._reply(404, {"code": 20404, "message": "not found", "status": 404})
        handler.send_response(200)
        handler.send_header("Content-Type", "audio/x-wav")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _messenger(self, handler, path, params):
        """The Graph API's Send API (MESSENGER_API_URL = <fake>/graph/v21.0): POST /me/messages."""
        if not path.endswith("/me/messages"):
            return handler._reply(404, {"error": {"message": "Unknown path", "type": "OAuthException", "code": 803}})
        recipient = str((params.get("recipient") or {}).get("id"))
        failure = self._next_failure("messenger", recipient)
        if failure:
            self._log("messenger", "messages", params, False, "send")
            return handler._reply(failure[0], failure[1])
        self._log("messenger", "messages", params, True, "send")
        return handler._reply(200, {"recipient_id": recipient, "message_id": f"m_fake{next(self._ids)}"})

    def _viber(self, handler, path, params):
        """Viber's bot API (VIBER_API_URL = <fake>/viber/pa): send_message and set_webhook, always HTTP 200
        with a status in the body, as Viber answers."""
        method = path.rsplit("/", 1)[-1]
        if method == "set_webhook":
            self.webhook_url = params.get("url")
            self._log("viber", method, params, True, "other")
            return handler._reply(200, {"status": 0, "status_message": "ok",
                                        "event_types": params.get("event_types") or []})
        if method != "send_message":
            return handler._reply(200, {"status": 1, "status_message": "invalidUrl"})
        failure = self._next_failure("viber", str(params.get("receiver")))
        if failure:
            self._log("viber", method, params, False, "send")
            return handler._reply(failure[0], failure[1])
        self._log("viber", method, params, True, "send")
        return handler._reply(200, {"status": 0, "status_message": "ok", "message_token": 5741311803571721000
                                    + next(self._ids), "chat_hostname": "SN-CHAT-05_", "billing_status": 1})


# Twilio's Pricing API answers for Iraq, in the shape of its docs (Voice v2 and Messaging v1 country
# resources). TEST DATA: every price here is made up for the tests and says nothing of what Twilio charges.
PRICING = {
    "/v2/Voice": {
        "country": "Iraq", "iso_country": "IQ", "price_unit": "USD",
        "inbound_call_prices": [
            {"number_type": "local", "base_price": "0.0100", "current_price": "0.0100"},
            {"number_type": "mobile", "base_price": "0.0250", "current_price": "0.0200"},
        ],
        "outbound_prefix_prices": [
            {"friendly_name": "Programmable Outbound Minute - Iraq - Mobile - Test Carrier A",
             "destination_prefixes": ["96477", "96478"], "origination_prefixes": ["ALL"],
             "base_price": "0.1000", "current_price": "0.1000"},
            {"friendly_name": "Programmable Outbound Minute - Iraq - Mobile - Test Carrier B",
             "destination_prefixes": ["96475"], "origination_prefixes": ["ALL"],
             "base_price": "0.1100", "current_price": "0.1100"},
            {"friendly_name": "Programmable Outbound Minute - Iraq - Landline",
             "destination_prefixes": ["9641"], "origination_prefixes": ["ALL"],
             "base_price": "0.0900", "current_price": "0.0900"},
        ],
    },
    "/v1/Messaging": {
        "country": "Iraq", "iso_country": "IQ", "price_unit": "USD",
        "inbound_sms_prices": [{"number_type": "local", "base_price": "0.0050", "current_price": "0.0050"}],
        "outbound_sms_prices": [
            {"carrier": "Test Carrier A", "mcc": "418", "mnc": "99",
             "prices": [{"number_type": "local", "base_price": "0.2000", "current_price": "0.2000"}]},
            {"carrier": "Test Carrier B", "mcc": "418", "mnc": "98",
             "prices": [{"number_type": "local", "base_price": "0.2500", "current_price": "0.2400"}]},
        ],
    },
}

VOICE = b"OggS" + bytes(60)                     # enough of an Ogg file to be recognised
PHOTO = b"\xff\xd8\xff\xe0" + bytes(60)          # and of a JPEG

TELEGRAM_429 = {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 2",
                "parameters": {"retry_after": 2}}
TELEGRAM_BLOCKED = {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}


def messenger_error(code: int, subcode: int | None = None, message: str = "error") -> dict:
    error = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEf123"}
    if subcode:
        error["error_subcode"] = subcode
    return {"error": error}


def twilio_error(code: int, status: int = 400) -> dict:
    return {"code": code, "message": f"error {code}", "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status}
