"""Soak test: N minutes of mixed traffic on PostgreSQL and Redis, with crashes, then a count of every message.

    python bench/soak.py                      # 10 minutes
    python bench/soak.py --minutes 2          # a quick run
    python bench/soak.py --minutes 2 --rate 40 --json soak.json --keep

Needs PostgreSQL (an admin URL that may (re)create the database `soak`; --admin-url, default
postgresql://postgres@127.0.0.1:5432/postgres) and Redis (--redis-url, default redis://127.0.0.1:6379/11:
only that database is flushed, at the start).

What it does:
1. a fresh database `soak` at the newest migration, Redis db 11 flushed;
2. a fake of Telegram's Bot API and Twilio's Messages API in its own process (this file, --fake-provider),
   which writes every message it receives to a log (time, recipient, text) and answers after a small random
   delay (--provider-latency), so a process killed mid-call leaves a message the provider may have;
3. the Procfile's web line as is (gunicorn, WEB_CONCURRENCY=2, WEB_THREADS=4 unless set) and its worker line
   (huey_consumer, QUEUE_WORKERS=4), every provider URL pointing at the fake;
4. inbound traffic at a steady rate (--rate, default 30 requests/s) from --contacts distinct people (SMS,
   WhatsApp, Telegram; Arabic, Sorani, Badini in Arabic and Latin script), each conversation one after the
   other per person: a first message, menu choices, free-text questions, complaints (the reply carries the
   reference code), subscriptions to announcements (menu 6, all topics, no area, yes). Twilio posts are signed
   with twilio's RequestValidator, Telegram updates carry the secret header. About 3 % of deliveries are
   repeated with the same MessageSid / update_id, half right after the first, half at the same moment;
   a delivery that fails (5xx, reset connection) is retried with the same id, as providers do;
5. staff answer about 60 % of the complaints a few seconds later, through bot.cases.answer and, one in
   ten, `flask --app bot feedback answer CODE TEXT` (both go through the outbound queue);
6. at 45 % of the time, one broadcast to all subscribers: created by one actor, approved by another, started
   with bot.broadcasts and the runner woken through the queue; as soon as the first recipients have it,
   kill -9 of the huey consumer and a new one started; at 50 %, kill -9 of one gunicorn worker;
7. at the end, the staff answers still due are given, then the queue drains (every outbound row in a final
   state; rows stranded by the killed consumer wait for the worker's sweep, up to about 7 minutes),
   and the report: messages in, replies, sends, duplicates, lost, RSS per process at start and end.

Exit status 1 when a duplicate or a lost message is found.
"""
import argparse
import asyncio
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import parse_qs, urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from common import fresh_postgres  # noqa: E402  (bench/ is the script's folder)

PUBLIC_URL = "https://soak.example.org"
TWILIO_TOKEN = "soak-twilio-auth-token"
TWILIO_SID = "AC" + "5" * 32
TELEGRAM_SECRET = "soak-telegram-secret"
TELEGRAM_TOKEN = "123456:SOAK"
DATA_KEY = "c29hay1kYXRhLWtleS1zb2FrLWRhdGEta2V5LTAwMDE="
DB_NAME = "soak"
FINAL = ("sent", "delivered", "read", "failed", "undeliverable", "undelivered", "cancelled")
CODE = re.compile(r"[0-9٠-٩]{3} [0-9٠-٩]{4}")
DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# ==== the fake provider (its own process) ===============================================================
def _fake_fields(content_type: str, body: bytes) -> dict:
    if content_type.startswith("application/json"):
        try:
            return json.loads(body or b"{}")
        except ValueError:
            return {}
    if content_type.startswith("multipart/form-data"):
        from email.parser import BytesParser
        from email.policy import HTTP
        message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
        fields = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if not part.get_filename():
                fields[name] = part.get_payload(decode=True).decode("utf-8", "replace")
        return fields
    parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {k: v[-1] for k, v in parsed.items()}


def fake_provider(port: int, log_path: Path, latency: float) -> None:
    """Telegram sendMessage/sendPhoto and Twilio Messages.json; every message is one JSON line in log_path."""
    out = open(log_path, "a", encoding="utf-8", buffering=1)
    ids = iter(range(1000, 10 ** 12))

    def note(service: str, to: str, text: str) -> None:
        out.write(json.dumps({"t": time.time(), "service": service, "to": to, "text": text}, ensure_ascii=False)
                  + "\n")

    async def route(method: str, path: str, headers: dict, body: bytes) -> tuple[str, bytes]:
        fields = _fake_fields(headers.get("content-type", ""), body)
        if path.startswith("/bot"):
            name = path.rsplit("/", 1)[-1]
            if name in ("sendMessage", "sendPhoto"):
                chat = str(fields.get("chat_id", "?"))
                note("telegram", chat, fields.get("text") or fields.get("caption") or "")
                if latency:
                    await asyncio.sleep(random.uniform(0, latency))
                result = {"message_id": next(ids), "date": int(time.time()),
                          "chat": {"id": int(chat) if chat.lstrip("-").isdigit() else 0, "type": "private"},
                          "text": fields.get("text") or ""}
                return "200 OK", json.dumps({"ok": True, "result": result}).encode()
            if name == "getMe":
                return "200 OK", b'{"ok":true,"result":{"id":7000000001,"is_bot":true,"first_name":"Soak",' \
                                 b'"username":"soak_bot"}}'
            return "200 OK", b'{"ok":true,"result":true}'
        if path.startswith("/2010-04-01/Accounts/") and path.endswith("/Messages.json"):
            text = fields.get("Body") or ""
            if fields.get("ContentSid"):
                text = f"template:{fields['ContentSid']}:{fields.get('ContentVariables', '')}"
            note("twilio", fields.get("To", "?"), text)
            if latency:
                await asyncio.sleep(random.uniform(0, latency))
            sid = f"SMsoak{next(ids):028d}"
            return "201 Created", json.dumps({"sid": sid, "status": "queued", "to": fields.get("To"),
                                              "from": fields.get("From"), "body": text, "num_segments": "1",
                                              "date_created": None}).encode()
        return "404 Not Found", b'{"error":"unknown path"}'

    async def connection(reader, writer):
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, path, version = (lines[0].split(" ") + ["", "", ""])[:3]
                headers = {}
                for line in lines[1:]:
                    key, sep, value = line.partition(":")
                    if sep:
                        headers[key.strip().lower()] = value.strip()
                length = int(headers.get("content-length") or 0)
                body = await reader.readexactly(length) if length else b""
                keep = headers.get("connection", "").lower() != "close" and version == "HTTP/1.1"
                status, payload = await route(method, path.split("?", 1)[0], headers, body)
                writer.write((f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
                              f"Content-Length: {len(payload)}\r\nConnection: {'keep-alive' if keep else 'close'}"
                              "\r\n\r\n").encode() + payload)
                await writer.drain()
                if not keep:
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            writer.close()

    async def serve():
        server = await asyncio.start_server(connection, "127.0.0.1", port, backlog=1024)
        print(f"listening http://127.0.0.1:{server.sockets[0].getsockname()[1]}", flush=True)
        async with server:
            await server.serve_forever()

    signal.signal(signal.SIGTERM, lambda *_: (out.flush(), os._exit(0)))
    asyncio.run(serve())


# ==== processes ===========================================================================================
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def procfile_line(kind: str) -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith(kind + ":"):
            return line[len(kind) + 1:].strip()
    raise SystemExit(f"no {kind}: line in Procfile")


def rss_mb(pid: int) -> tuple[float, float] | None:
    """(VmRSS, VmHWM) in MB, or None when the process is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    values = {k: int(re.search(rf"{k}:\s+(\d+) kB", status).group(1)) / 1024 for k in ("VmRSS", "VmHWM")}
    return round(values["VmRSS"], 1), round(values["VmHWM"], 1)


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [int(p) for p in path.read_text().split()]
    except OSError:
        return []


class Proc:
    """A process started from a Procfile line (bash exec), in its own session; only we stop it."""

    def __init__(self, name: str, command: str, env: dict, workdir: Path):
        self.name = name
        self.log_path = workdir / f"{name}.log"
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(["bash", "-c", "exec " + command], cwd=ROOT, env=env, stdout=self.log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        self.pid = self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill9(self) -> None:
        os.kill(self.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.alive():
            os.killpg(self.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


class FakeProvider:
    def __init__(self, workdir: Path, latency: float):
        self.log_path = workdir / "provider-messages.jsonl"
        self.log_path.write_text("")
        self.process = subprocess.Popen([sys.executable, __file__, "--fake-provider", "--fake-log",
                                         str(self.log_path), "--provider-latency", str(latency)],
                                        stdout=subprocess.PIPE, text=True, start_new_session=True)
        line = self.process.stdout.readline().strip()
        if not line.startswith("listening "):
            raise SystemExit(f"fake provider did not start: {line!r}")
        self.url = line.split(" ", 1)[1]
        self.pid = self.process.pid

    def messages(self) -> list[dict]:
        out = []
        for line in self.log_path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                out.append(json.loads(line))
        return out

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


def wait_http(url: str, proc: Proc, timeout: float = 90) -> None:
    import urllib.request
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.alive():
            raise SystemExit(f"{proc.name} exited; see {proc.log_path}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"{proc.name} not ready in {timeout}s; see {proc.log_path}")


# ==== what people write ===================================================================================
LANGS = ("ar", "ckb", "kmr", "kmr_latn")
ARABIC_INDIC = "٠١٢٣٤٥٦٧٨٩"
GREETINGS = {"ar": ["مرحبا", "السلام عليكم", "هلو"], "ckb": ["سڵاو", "ڕۆژباش", "سەلام"],
             "kmr": ["سلاڤ", "ڕۆژباش"], "kmr_latn": ["silav", "rojbaş", "slav"]}
QUESTIONS = {"ar": ["شنو اعراض الكوليرا", "شلون اركب الخيمة", "وين اكدر احصل على مي نظيف", "شلون احمي اطفالي من الحريق"],
             "ckb": ["نیشانەکانی کۆلێرا چین", "منداڵەکەم سکچوونی هەیە", "چۆن خێمە دابنێم"],
             "kmr": ["نیشانێن کۆلێرا چنە", "چاوا خێڤەتێ ساز بکەم"],
             "kmr_latn": ["nîşanên kolêra çi ne", "çawa xêvetê saz bikim", "zarokê min îshal e"]}
COMPLAINTS = {"ar": ["الماء مقطوع في المخيم منذ يومين", "لم نستلم السلة الغذائية منذ شهرين", "الحمامات غير نظيفة في القطاع ٣"],
              "ckb": ["ئاو لە کەمپەکەمان نییە سێ ڕۆژە", "پارەی کاش بۆ مانگی ڕابردوو نەهات"],
              "kmr": ["دابەشکرنا خوارنێ نەهاتیە کرن", "ئاڤ ل کەمپێ نینە"],
              "kmr_latn": ["ava me tune ye ji sê rojan ve", "belavkirina xwarinê nehat kirin"]}
ANSWERS = {"ar": "سيتم توزيع السلال يوم الأحد", "ckb": "تانکەری ئاو سبەی دێت", "kmr": "دابەشکرن دێ ڕۆژا یەکشەمبێ بیت",
           "kmr_latn": "Belavkirin dê roja yekşemê be", "en": "Distribution on Sunday"}
BROADCAST_TEXTS = {"ar": "حملة تلقيح ضد الكوليرا يوم الأحد في المركز الصحي للمخيم",
                   "ckb": "هەڵمەتی کوتان دژی کۆلێرا ڕۆژی یەکشەممە لە بنکەی تەندروستی کەمپ",
                   "kmr": "هەلمەتا کوتانێ دژی کۆلێرایێ ڕۆژا یەکشەمبێ ل بنکەها ساخلەمیێ",
                   "kmr_latn": "Kampanyaya kutanê dijî kolerayê roja yekşemê li navenda tenduristiyê",
                   "en": "Cholera vaccination campaign on Sunday at the camp health centre"}


def digit(n: int, lang: str, rng: random.Random) -> str:
    """How people type a menu number: Arabic-Indic digits often in Arabic script, Latin digits otherwise."""
    if lang != "kmr_latn" and rng.random() < 0.5:
        return "".join(ARABIC_INDIC[int(d)] for d in str(n))
    return str(n)


class Contact:
    def __init__(self, n: int, rng: random.Random):
        self.n = n
        self.channel = ("sms", "whatsapp", "telegram")[n % 3]
        self.lang = LANGS[(n // 3) % len(LANGS)]
        if self.channel == "telegram":
            self.address = str(810000000 + n)
            self.key = "telegram:" + self.address
        else:
            number = f"+9647{n:09d}"
            self.address = ("whatsapp:" + number) if self.channel == "whatsapp" else number
            self.key = "twilio:" + self.address
        self.known = False          # has had a conversation (else the first message is a greeting)
        self.subscribed = False     # said yes to announcements
        self.message_id = 0
        self.rng = rng


# ==== the inbound driver ==================================================================================
class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.posts = 0                   # HTTP posts made (first deliveries, retries, repeats)
        self.accepted_posts = 0          # of which answered 200
        self.accepted: set = set()       # (channel, provider id) answered 200 at least once
        self.attempted: set = set()      # (channel, provider id) posted at least once
        self.replies = 0                 # replies in the response to each message's first accepted delivery
        self.repeat_seq = 0
        self.repeat_concurrent = 0
        self.repeat_mismatch: list = []
        self.errors = Counter()          # status codes and socket errors
        self.error_times: list[float] = []
        self.retried = 0
        self.gave_up: list = []
        self.latencies: list[float] = []
        self.conversations = Counter()
        self.complaints_accepted = 0     # complaint texts answered (one case each)
        self.complaints_without_code = 0
        self.codes: dict = {}            # code -> contact
        self.subscriptions = 0
        self.subscription_failures = 0


class Driver:
    """Conversations, one at a time per person, paced to a steady request rate over all threads."""

    def __init__(self, base_url: str, contacts: list, rate: float, repeat: float, stats: Stats, seed: int):
        self.host, self.port = base_url.split("//", 1)[1].split(":")
        self.contacts = contacts
        self.idle = list(range(len(contacts)))
        self.idle_lock = threading.Lock()
        self.interval = 1.0 / rate
        self.next_slot = time.monotonic()
        self.pace_lock = threading.Lock()
        self.repeat = repeat
        self.stats = stats
        self.stop = threading.Event()
        self.update_id = 500000000
        self.id_lock = threading.Lock()
        self.local = threading.local()
        self.rng = random.Random(seed)
        self.repeats = ThreadPoolExecutor(max_workers=4, thread_name_prefix="repeat")
        self.on_complaint = None
        from twilio.request_validator import RequestValidator
        self.validator = RequestValidator(TWILIO_TOKEN)

    # -- requests
    def _request(self, contact: Contact, text: str) -> tuple:
        contact.message_id += 1
        if contact.channel == "telegram":
            with self.id_lock:
                self.update_id += 1
                update_id = self.update_id
            chat = int(contact.address)
            sender = {"id": chat, "is_bot": False, "first_name": "S"}
            if contact.lang in ("ar", "ckb"):
                sender["language_code"] = contact.lang
            update = {"update_id": update_id, "message": {
                "message_id": contact.message_id, "date": int(time.time()),
                "chat": {"id": chat, "type": "private", "first_name": "S"}, "from": sender, "text": text}}
            body = json.dumps(update, ensure_ascii=False).encode()
            headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
            return ("telegram", str(update_id)), "/webhooks/telegram", body, headers
        sid = "SM" + uuid.uuid4().hex
        form = {"ToCountry": "IQ", "SmsMessageSid": sid, "NumMedia": "0", "SmsSid": sid, "SmsStatus": "received",
                "Body": text, "FromCountry": "IQ", "To": "+9647000000000", "NumSegments": "1", "MessageSid": sid,
                "AccountSid": TWILIO_SID, "ApiVersion": "2010-04-01", "From": contact.address}
        signature = self.validator.compute_signature(PUBLIC_URL + "/webhooks/twilio", form)
        headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}
        return (contact.channel, sid), "/webhooks/twilio", urlencode(form).encode(), headers

    def _connection(self):
        import http.client
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = http.client.HTTPConnection(self.host, int(self.port), timeout=30)
        return conn

    def _post_once(self, path: str, body: bytes, headers: dict, fresh: bool = False):
        """One HTTP post; (status, body text) or (None, error name)."""
        import http.client
        conn = http.client.HTTPConnection(self.host, int(self.port), timeout=30) if fresh else self._connection()
        try:
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read().decode("utf-8", "replace")
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
                if not fresh:
                    self.local.conn = None
            return response.status, data
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            if not fresh:
                self.local.conn = None
            return None, type(exc).__name__
        finally:
            if fresh:
                conn.close()

    def deliver(self, key: tuple, path: str, body: bytes, headers: dict, fresh: bool = False) -> str | None:
        """Deliver as a provider does: retry the same message (same id) until it is accepted."""
        s = self.stats
        for attempt in range(8):
            started = time.monotonic()
            status, data = self._post_once(path, body, headers, fresh)
            with s.lock:
                s.posts += 1
                s.attempted.add(key)
                if status == 200:
                    s.accepted_posts += 1
                    s.accepted.add(key)
                    s.latencies.append(time.monotonic() - started)
                else:
                    s.errors[status or data] += 1
                    s.error_times.append(time.monotonic())
                    if attempt == 0:
                        s.retried += 1
            if status == 200:
                return data
            if status is not None and 400 <= status < 500:
                break          # a provider does not retry a refusal
            time.sleep(0.5 * (attempt + 1))
        with s.lock:
            s.gave_up.append((key, status, (data or "")[:200]))
        return None

    def pace(self) -> None:
        with self.pace_lock:
            now = time.monotonic()
            slot = max(self.next_slot, now)
            self.next_slot = slot + self.interval
        delay = slot - time.monotonic()
        if delay > 0:
            time.sleep(delay)

    def say(self, contact: Contact, text: str) -> str | None:
        """One message; returns the reply text (all of it), or None when it was never accepted."""
        self.pace()
        key, path, body, headers = self._request(contact, text)
        repeat = self.rng.random() < self.repeat
        if repeat and self.rng.random() < 0.5:        # the same delivery twice at the same moment
            twin = self.repeats.submit(self.deliver, key, path, body, headers, True)
            first = self.deliver(key, path, body, headers)
            second = twin.result()
            with self.stats.lock:
                self.stats.repeat_concurrent += 1
                if first != second:
                    self.stats.repeat_mismatch.append((key, "concurrent", (first or "")[:120], (second or "")[:120]))
        else:
            first = self.deliver(key, path, body, headers)
            if repeat and first is not None:           # the same delivery again, after the first was answered
                second = self.deliver(key, path, body, headers)
                with self.stats.lock:
                    self.stats.repeat_seq += 1
                    if first != second:
                        self.stats.repeat_mismatch.append((key, "sequential", first[:120], (second or "")[:120]))
        if first is None:
            return None
        texts = self.reply_texts(contact.channel, first)
        with self.stats.lock:
            self.stats.replies += len(texts)
        return "\n".join(texts)

    @staticmethod
    def reply_texts(channel: str, body: str) -> list[str]:
        if channel == "telegram":
            data = json.loads(body)
            if data.get("method"):
                return [data.get("text") or data.get("caption") or ""]
            return []
        from xml.etree import ElementTree
        root = ElementTree.fromstring(body)
        return [(m.findtext("Body") if m.find("Body") is not None else (m.text or "")) for m in root.iter("Message")]

    # -- conversations
    def take_contact(self) -> Contact:
        with self.idle_lock:
            i = self.rng.randrange(len(self.idle))
            self.idle[i], self.idle[-1] = self.idle[-1], self.idle[i]
            return self.contacts[self.idle.pop()]

    def give_back(self, contact: Contact) -> None:
        with self.idle_lock:
            self.idle.append(contact.n)

    def conversation(self, contact: Contact) -> None:
        rng, lang = contact.rng, contact.lang
        roll = rng.random()
        kind = "complaint" if roll < 0.25 else "subscribe" if roll < 0.45 and not contact.subscribed else "info"
        opening = "0" if contact.known else rng.choice(GREETINGS[lang])
        if self.say(contact, opening) is None:
            return
        contact.known = True
        with self.stats.lock:
            self.stats.conversations[kind] += 1
        if kind == "info":
            self.say(contact, digit(rng.randint(1, 4), lang, rng))
            self.say(contact, rng.choice(QUESTIONS[lang]))
        elif kind == "complaint":
            for step in (5, 1):
                if self.say(contact, digit(step, lang, rng)) is None:
                    return
            reply = self.say(contact, rng.choice(COMPLAINTS[lang]) + f" ({contact.n}-{contact.message_id})")
            if reply is None:
                return
            found = CODE.search(reply)
            with self.stats.lock:
                self.stats.complaints_accepted += 1
                if not found:
                    self.stats.complaints_without_code += 1
            if found:
                code = found.group(0).translate(DIGITS).replace(" ", "")
                with self.stats.lock:
                    self.stats.codes[code] = contact
                if self.on_complaint:
                    self.on_complaint(code, contact)
            self.say(contact, "0")      # skip the optional area
        else:
            for step in (6, 1, 0):      # announcements, all topics, no area
                if self.say(contact, digit(step, lang, rng)) is None:
                    return
            reply = self.say(contact, digit(1, lang, rng))   # yes
            with self.stats.lock:
                if reply is not None:
                    contact.subscribed = True
                    self.stats.subscriptions += 1
                else:
                    self.stats.subscription_failures += 1

    def worker(self) -> None:
        while not self.stop.is_set():
            contact = self.take_contact()
            try:
                self.conversation(contact)
            except Exception as exc:   # keep driving; a crash here is reported
                with self.stats.lock:
                    self.stats.errors[f"driver:{type(exc).__name__}"] += 1
            finally:
                self.give_back(contact)


# ==== staff ==================================================================================================
class Staff:
    """Answers complaints a few seconds after they arrive: the service function, and one in ten by the CLI."""

    def __init__(self, runtime, env: dict, share: float, seed: int, workdir: Path):
        self.runtime, self.env, self.share = runtime, env, share
        self.rng = random.Random(seed)
        self.due: list = []
        self.lock = threading.Lock()
        self.answers: list[dict] = []     # {code, contact, token, outbound_id, via}
        self.failures: list = []
        self.count = 0
        self.stop = threading.Event()
        self.cli = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cli")
        self.cli_jobs = []
        self.cli_log = open(workdir / "feedback-cli.log", "w")

    def complaint(self, code: str, contact: Contact) -> None:
        if self.rng.random() < self.share:
            with self.lock:
                self.due.append((time.monotonic() + self.rng.uniform(2, 20), code, contact))

    def _answer(self, code: str, contact: Contact) -> None:
        from bot import cases
        with self.lock:
            self.count += 1
            n = self.count
        token = f"S{n:05d}"
        text = f"{ANSWERS.get(contact.lang, ANSWERS['en'])} ({token})"
        record = {"code": code, "contact": contact, "token": token, "outbound_id": None,
                  "via": "cli" if n % 10 == 0 else "service"}
        if record["via"] == "cli":
            self.cli_jobs.append(self.cli.submit(self._by_cli, record, text))
            return
        try:
            result = cases.answer(self.runtime, code, text, "user:soak-officer")
            record["outbound_id"] = result["outbound_id"]
        except Exception as exc:
            self.failures.append((code, "service", repr(exc)))
        with self.lock:
            self.answers.append(record)

    def _by_cli(self, record: dict, text: str) -> None:
        done = subprocess.run(["flask", "--app", "bot", "feedback", "answer", record["code"], text,
                               "--as", "soak-cli"], cwd=ROOT, env=self.env, capture_output=True, text=True,
                              timeout=120)
        self.cli_log.write(done.stdout + done.stderr)
        found = re.search(r"queued as message #(\d+)", done.stdout)
        if done.returncode or not found:
            self.failures.append((record["code"], "cli", (done.stdout + done.stderr)[-300:]))
        else:
            record["outbound_id"] = int(found.group(1))
        with self.lock:
            self.answers.append(record)

    def run(self) -> None:
        while not self.stop.wait(0.2):
            self.answer_due(time.monotonic())

    def answer_due(self, now: float) -> None:
        with self.lock:
            ready = [d for d in self.due if d[0] <= now]
            self.due = [d for d in self.due if d[0] > now]
        for _, code, contact in ready:
            self._answer(code, contact)

    def finish(self) -> None:
        self.stop.set()
        self.answer_due(float("inf"))
        for job in self.cli_jobs:
            job.result()
        self.cli.shutdown()
        self.cli_log.close()


# ==== the run ================================================================================================
def fresh_database(admin_url: str) -> str:
    return fresh_postgres(admin_url, DB_NAME)


def memory(gunicorn: Proc, consumer: Proc) -> dict:
    workers = {pid: rss_mb(pid) for pid in children(gunicorn.pid)}
    return {"master": {gunicorn.pid: rss_mb(gunicorn.pid)}, "workers": workers,
            "consumer": {consumer.pid: rss_mb(consumer.pid)}}


def outbound_counts(runtime) -> dict:
    from sqlalchemy import func, select

    from bot.models import Outbound
    with runtime.transaction() as session:
        rows = session.execute(select(Outbound.purpose, Outbound.status, Outbound.failure_reason, func.count())
                               .group_by(Outbound.purpose, Outbound.status, Outbound.failure_reason)).all()
    return {(p, s, r): n for p, s, r, n in rows}


def start_broadcast(runtime) -> int:
    from bot import broadcasts
    from bot.models import Broadcast
    texts = {lang: f"{text} [B1]" for lang, text in BROADCAST_TEXTS.items()}
    with runtime.transaction() as session:
        broadcast = broadcasts.create(runtime, session, title="soak", texts=texts, actor="user:soak-officer",
                                      fallback="ar")
        broadcast_id = broadcast.id
    with runtime.transaction() as session:
        broadcast = session.get(Broadcast, broadcast_id)
        broadcasts.approve(session, broadcast, "user:soak-admin", runtime.config)
        now = broadcasts.start(session, broadcast, "user:soak-admin", runtime.config)
    if now:
        broadcasts.wake()
    return broadcast_id


def broadcast_rows(runtime, broadcast_id: int) -> Counter:
    from sqlalchemy import func, select

    from bot.models import Outbound
    with runtime.transaction() as session:
        return Counter(dict(session.execute(select(Outbound.status, func.count()).where(
            Outbound.broadcast_id == broadcast_id).group_by(Outbound.status)).all()))


def run(args) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="soak-"))
    log(f"work files in {workdir}")
    url = fresh_database(args.admin_url)
    import redis
    redis.Redis.from_url(args.redis_url).flushdb()
    fake = FakeProvider(workdir, args.provider_latency)
    log(f"fake provider pid {fake.pid} at {fake.url}; database {url}; queue {args.redis_url}")
    port = free_port()
    env = dict(os.environ, DATABASE_URL=url, REDIS_URL=args.redis_url, INSTANCE_PATH=str(workdir / "instance"),
               APP_ENV="production", SECRET_KEY="soak-secret-key", DATA_KEY=DATA_KEY, PUBLIC_URL=PUBLIC_URL,
               AUTO_MIGRATE="0", TELEGRAM_BOT_TOKEN=TELEGRAM_TOKEN, TELEGRAM_WEBHOOK_SECRET=TELEGRAM_SECRET,
               TELEGRAM_API_URL=fake.url, TWILIO_ACCOUNT_SID=TWILIO_SID, TWILIO_AUTH_TOKEN=TWILIO_TOKEN,
               TWILIO_SMS_FROM="+9647000000000", TWILIO_WHATSAPP_FROM="whatsapp:+14155238886",
               TWILIO_API_URL=fake.url, TRY_PAGE="0", LOG_LEVEL=args.log_level, PORT=str(port),
               EMBEDDED_WORKER="0", PROMETHEUS_MULTIPROC_DIR=str(workdir / "prometheus"))
    for name in ("HUEY_IMMEDIATE", "BENCH_COUNT_SQL", "METRICS_TOKEN", "TWILIO_MESSAGING_SERVICE_SID",
                 "TWILIO_WHATSAPP_TEMPLATE_SID", "TWILIO_WHATSAPP_BROADCAST_TEMPLATE_SID", "BROADCAST_APPROVAL"):
        env.pop(name, None)
    env.setdefault("WEB_CONCURRENCY", str(args.workers))
    env.setdefault("WEB_THREADS", str(args.threads))
    env.setdefault("QUEUE_WORKERS", str(args.queue_workers))
    os.environ.clear()
    os.environ.update(env)      # this process too: bot.queue builds RedisHuey from the environment
    from bot import runtime as runtime_module
    runtime = runtime_module.default()

    web_cmd, worker_cmd = procfile_line("web"), procfile_line("worker")
    log(f"web: {web_cmd}  (WEB_CONCURRENCY={env['WEB_CONCURRENCY']}, WEB_THREADS={env['WEB_THREADS']}, PORT={port})")
    log(f"worker: {worker_cmd}  (QUEUE_WORKERS={env['QUEUE_WORKERS']})")
    gunicorn = Proc("gunicorn", web_cmd, env, workdir)
    consumers = [Proc("huey-1", worker_cmd, env, workdir)]
    processes = [gunicorn]
    result: dict = {"minutes": args.minutes, "rate": args.rate, "workdir": str(workdir)}
    stats = Stats()
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", gunicorn)
        deadline = time.monotonic() + 30
        while len(children(gunicorn.pid)) < int(env["WEB_CONCURRENCY"]) and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(2)
        mem_start = memory(gunicorn, consumers[0])
        log(f"memory at start (RSS MB): {fmt_memory(mem_start)}")

        contacts = [Contact(n, random.Random(args.seed * 100003 + n)) for n in range(args.contacts)]
        driver = Driver(f"http://127.0.0.1:{port}", contacts, args.rate, args.repeat, stats, args.seed)
        staff = Staff(runtime, env, args.answer_share, args.seed + 1, workdir)
        driver.on_complaint = staff.complaint
        threads = [threading.Thread(target=driver.worker, name=f"driver-{i}", daemon=True)
                   for i in range(args.connections)]
        staff_thread = threading.Thread(target=staff.run, name="staff", daemon=True)
        started = time.monotonic()
        total = args.minutes * 60
        for t in threads:
            t.start()
        staff_thread.start()
        log(f"traffic: {args.rate}/s from {args.contacts} people over {args.connections} connections "
            f"for {args.minutes} min")

        events = {}
        broadcast_id = None
        next_progress = started + 30
        phase = 0
        while time.monotonic() - started < total:
            time.sleep(0.2)
            elapsed = time.monotonic() - started
            if phase == 0 and elapsed >= 0.45 * total:
                phase = 1
                broadcast_id = start_broadcast(runtime)
                events["broadcast_started_s"] = round(elapsed, 1)
                log(f"broadcast {broadcast_id} created by user:soak-officer, approved and started by "
                    f"user:soak-admin, runner woken through the queue ({stats.subscriptions} subscribed so far)")
                wait_until = time.monotonic() + 20
                while time.monotonic() < wait_until:
                    rows = broadcast_rows(runtime, broadcast_id)
                    if rows.get("sent", 0) >= 1:
                        break
                    time.sleep(0.05)
                rows = broadcast_rows(runtime, broadcast_id)
                old = consumers[-1]
                old.kill9()
                events["consumer_killed_s"] = round(time.monotonic() - started, 1)
                events["broadcast_rows_at_kill"] = dict(rows)
                log(f"kill -9 huey consumer {old.pid} (broadcast rows then: {dict(rows)})")
                time.sleep(1)
                consumers.append(Proc(f"huey-{len(consumers) + 1}", worker_cmd, env, workdir))
                log(f"new huey consumer {consumers[-1].pid}")
            if phase == 1 and elapsed >= 0.5 * total:
                phase = 2
                victim = children(gunicorn.pid)[0]
                os.kill(victim, signal.SIGKILL)
                killed_at = time.monotonic()
                events["worker_killed_s"] = round(elapsed, 1)
                events["worker_killed_pid"] = victim
                log(f"kill -9 gunicorn worker {victim}")
            if time.monotonic() >= next_progress:
                next_progress += 30
                with stats.lock:
                    log(f"{elapsed:.0f} s: {stats.accepted_posts} accepted, {len(stats.accepted)} distinct, "
                        f"{sum(stats.errors.values())} errors, {stats.complaints_accepted} complaints, "
                        f"{stats.subscriptions} subscriptions, {len(staff.answers)} answers")
        driver.stop.set()
        for t in threads:
            t.join(timeout=120)
        traffic_seconds = time.monotonic() - started
        if phase == 2:    # failed deliveries right after the worker kill: its connections were cut
            events["errors_within_5s_of_worker_kill"] = sum(1 for t in stats.error_times
                                                            if killed_at - 0.5 <= t <= killed_at + 5)
        staff.finish()
        log(f"traffic stopped after {traffic_seconds:.0f} s; {len(staff.answers)} staff answers given; "
            f"draining the queue")

        drain_started = time.monotonic()
        drained = False
        last_report = 0.0
        while time.monotonic() - drain_started < args.drain_timeout:
            counts = outbound_counts(runtime)
            open_rows = {k: n for k, n in counts.items() if k[1] not in FINAL}
            bstatus = broadcast_status(runtime, broadcast_id)
            if not open_rows and bstatus in (None, "done", "cancelled"):
                drained = True
                break
            if time.monotonic() - last_report > 30:
                last_report = time.monotonic()
                log(f"waiting: open rows {open_rows or '{}'}, broadcast {bstatus} "
                    f"(rows a killed consumer stranded wait for the worker's sweep: up to ~7 min)")
            time.sleep(1)
        drain_seconds = time.monotonic() - drain_started
        log(f"queue {'drained' if drained else 'NOT drained'} in {drain_seconds:.0f} s")
        time.sleep(1)
        mem_end = memory(gunicorn, consumers[-1])
        events.update(workers_at_end=list(mem_end["workers"]))
        log(f"memory at end (RSS MB): {fmt_memory(mem_end)}")
        result.update(analyse(runtime, stats, staff, fake.messages(), broadcast_id, contacts))
        result.update(events=events, drained=drained, drain_seconds=round(drain_seconds, 1),
                      traffic_seconds=round(traffic_seconds, 1), memory_start=jsonable(mem_start),
                      memory_end=jsonable(mem_end),
                      log_problems=log_problems([gunicorn] + consumers))
    finally:
        for proc in [*processes, *consumers]:
            proc.stop()
        fake.stop()
        runtime.dispose()
    report(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    bad = result["duplicates"]["total"] or result["lost"]["total"] or not result["drained"]
    return 1 if bad else 0


def broadcast_status(runtime, broadcast_id):
    if broadcast_id is None:
        return None
    from bot.models import Broadcast
    with runtime.transaction() as session:
        return session.get(Broadcast, broadcast_id).status


def jsonable(mem: dict) -> dict:
    return {role: {str(pid): v for pid, v in procs.items()} for role, procs in mem.items()}


def fmt_memory(mem: dict) -> str:
    def one(v):
        return f"{v[0]:.0f} (peak {v[1]:.0f})" if v else "gone"
    parts = [f"master {one(next(iter(mem['master'].values())))}"]
    parts += [f"worker {pid} {one(v)}" for pid, v in mem["workers"].items()]
    parts += [f"huey {pid} {one(v)}" for pid, v in mem["consumer"].items()]
    return ", ".join(parts)


def log_problems(procs: list) -> dict:
    out = {}
    for proc in procs:
        try:
            text = proc.log_path.read_text(errors="replace")
        except OSError:
            continue
        out[proc.name] = {"tracebacks": text.count("Traceback"), "errors": len(re.findall(r" ERROR |\[ERROR\]", text)),
                          "worker_timeouts": text.count("WORKER TIMEOUT"),
                          "first": next((line for line in text.splitlines()
                                         if re.search(r" ERROR |\[ERROR\]|Traceback", line)), None)}
    return out


# ==== the count ==============================================================================================
def analyse(runtime, stats: Stats, staff: Staff, received: list[dict], broadcast_id, contacts) -> dict:
    from sqlalchemy import func, select

    from bot.models import Case, Message, Outbound
    from bot.models import Contact as ContactRow
    vault = runtime.vault
    with runtime.transaction() as session:
        stored = {tuple(r) for r in session.execute(select(Message.channel, Message.provider_id))}
        message_rows = session.scalar(select(func.count()).select_from(Message))
        case_rows = session.scalar(select(func.count()).select_from(Case))
        case_codes = set(session.scalars(select(Case.code)))
        outbound = session.execute(select(Outbound.id, Outbound.purpose, Outbound.status, Outbound.failure_reason,
                                          Outbound.contact_id, Outbound.broadcast_id, Outbound.channel)).all()
        subscribed_rows = session.execute(select(ContactRow.channel, ContactRow.address_enc).where(
            ContactRow.subscribed.is_(True))).all()
        contact_keys = {}
        for cid, channel, enc in session.execute(select(ContactRow.id, ContactRow.channel, ContactRow.address_enc)):
            address = vault.decrypt(enc)
            contact_keys[cid] = ("telegram:" + address) if channel == "telegram" else \
                "twilio:" + (("whatsapp:" + address.removeprefix("whatsapp:")) if channel == "whatsapp" else address)
    subscribed_db = set()
    for channel, enc in subscribed_rows:
        address = vault.decrypt(enc)
        subscribed_db.add(("telegram:" + address) if channel == "telegram" else
                          "twilio:" + (("whatsapp:" + address.removeprefix("whatsapp:")) if channel == "whatsapp"
                                       else address))
    subscribed_driver = {c.key for c in contacts if c.subscribed}

    # -- inbound
    lost_inbound = sorted(stats.accepted - stored)
    unattempted = sorted(stored - stats.attempted)
    committed_not_accepted = sorted((stored & stats.attempted) - stats.accepted)

    # -- what the provider received
    per_recipient = Counter((m["service"] + ":" + m["to"], m["text"]) for m in received)
    duplicate_sends = {f"{k[0]} {k[1][:60]!r}": n for k, n in per_recipient.items() if n > 1}
    by_service = Counter(m["service"] for m in received)

    # -- outbound rows
    rows_by = Counter((o.purpose, o.status, o.failure_reason) for o in outbound)
    open_rows = [o for o in outbound if o.status not in FINAL]
    interrupted = [o for o in outbound if o.status == "failed" and o.failure_reason == "interrupted"]
    rows_sent = [o for o in outbound if o.status in ("sent", "delivered", "read")]
    row_of = {o.id: o for o in outbound}

    # -- staff answers
    texts_to = defaultdict(list)
    for m in received:
        texts_to[m["service"] + ":" + m["to"]].append(m["text"])
    answers = {"given": len(staff.answers), "by_cli": sum(1 for a in staff.answers if a["via"] == "cli"),
               "failed_to_give": staff.failures, "received_once": 0, "received_twice_or_more": [],
               "lost": [], "interrupted_received": 0, "interrupted_not_received": 0, "other_final": []}
    for a in staff.answers:
        if a["outbound_id"] is None:
            continue
        got = sum(1 for t in texts_to.get(a["contact"].key, []) if f"({a['token']})" in t)
        row = row_of.get(a["outbound_id"])
        status = (row.status, row.failure_reason) if row else ("missing", None)
        if status == ("failed", "interrupted"):
            answers["interrupted_received" if got else "interrupted_not_received"] += 1
            if got > 1:
                answers["received_twice_or_more"].append((a["code"], a["token"], got))
        elif got == 1:
            answers["received_once"] += 1
            if status[0] not in ("sent", "delivered", "read"):
                answers["other_final"].append((a["code"], a["token"], status))
        elif got > 1:
            answers["received_twice_or_more"].append((a["code"], a["token"], got))
        else:
            answers["lost"].append((a["code"], a["token"], status))

    # -- the broadcast
    broadcast = {}
    if broadcast_id is not None:
        brows = [o for o in outbound if o.broadcast_id == broadcast_id]
        got = Counter(k for k, t in ((m["service"] + ":" + m["to"], m["text"]) for m in received) if "[B1]" in t)
        sent_keys = [contact_keys.get(o.contact_id) for o in brows if o.status in ("sent", "delivered", "read")]
        interrupted_keys = [contact_keys.get(o.contact_id) for o in brows
                            if (o.status, o.failure_reason) == ("failed", "interrupted")]
        all_keys = {contact_keys.get(o.contact_id) for o in brows}
        broadcast = {"id": broadcast_id, "status": broadcast_status(runtime, broadcast_id),
                     "rows": dict(Counter(f"{o.status}{':' + o.failure_reason if o.failure_reason else ''}"
                                          for o in brows)),
                     "received": sum(got.values()), "recipients_received": len(got),
                     "sent_not_received": [k for k in sent_keys if not got.get(k)],
                     "interrupted_received": sum(1 for k in interrupted_keys if got.get(k)),
                     "interrupted_not_received": sum(1 for k in interrupted_keys if not got.get(k)),
                     "received_not_recipient": [k for k in got if k not in all_keys],
                     "received_twice": {k: n for k, n in got.items() if n > 1}}

    replies_accounted = {"fake_received": len(received), "rows_sent": len(rows_sent),
                         "interrupted_rows": len(interrupted)}
    inbound_dups = message_rows - len(stored)      # 0 by the unique constraint; kept for the record
    cases_extra = case_rows - len(case_codes)
    complaint_mismatch = case_rows - stats.complaints_accepted
    duplicates = {
        "inbound_message_rows_vs_unique_ids": inbound_dups,
        "cases_vs_complaints_accepted": complaint_mismatch,
        "repeat_responses_differing": len(stats.repeat_mismatch),
        "outbound_same_text_same_recipient": len(duplicate_sends),
        "answers_received_twice": len(answers["received_twice_or_more"]),
        "broadcast_received_twice": len(broadcast.get("received_twice", {})),
    }
    duplicates["total"] = (max(inbound_dups, 0) + max(complaint_mismatch, 0) + len(duplicate_sends)
                           + len(answers["received_twice_or_more"]) + len(broadcast.get("received_twice", {}))
                           + cases_extra + len(stats.repeat_mismatch))
    lost = {
        "accepted_without_message_row": len(lost_inbound),
        "outbound_not_final": len(open_rows),
        "answers_not_received": len(answers["lost"]),
        "broadcast_sent_not_received": len(broadcast.get("sent_not_received", [])),
        "deliveries_given_up": len(stats.gave_up),
        "subscribed_by_driver_not_in_db": len(subscribed_driver - subscribed_db),
        "complaints_without_code": stats.complaints_without_code,
    }
    lost["total"] = sum(lost.values())
    latencies = sorted(stats.latencies)

    def pct(p):
        return round(1000 * latencies[min(len(latencies) - 1, int(p * len(latencies)))], 1) if latencies else None
    return {
        "inbound": {"posts": stats.posts, "accepted_posts": stats.accepted_posts,
                    "messages_accepted": len(stats.accepted), "message_rows": message_rows,
                    "repeats_sequential": stats.repeat_seq, "repeats_concurrent": stats.repeat_concurrent,
                    "errors": dict(stats.errors), "retried_messages": stats.retried,
                    "committed_but_never_accepted": len(committed_not_accepted), "rows_not_sent_by_us": len(unattempted),
                    "replies_in_responses": stats.replies, "conversations": dict(stats.conversations),
                    "complaints": stats.complaints_accepted, "cases": case_rows,
                    "subscriptions": stats.subscriptions, "subscription_failures": stats.subscription_failures,
                    "subscribed_in_db": len(subscribed_db),
                    "latency_ms": {"p50": pct(0.5), "p90": pct(0.9), "p99": pct(0.99),
                                   "max": pct(1.0)}},
        "outbound": {"rows": {f"{p}/{s}{'/' + r if r else ''}": n for (p, s, r), n in sorted(
            rows_by.items(), key=lambda kv: tuple(str(x) for x in kv[0]))},
            "fake_received": len(received), "by_service": dict(by_service), **replies_accounted},
        "answers": {**answers, "lost": answers["lost"][:20], "received_twice_or_more": answers["received_twice_or_more"][:20]},
        "broadcast": {**broadcast, "sent_not_received": broadcast.get("sent_not_received", [])[:20]},
        "duplicates": duplicates, "duplicate_sends_sample": dict(list(duplicate_sends.items())[:20]),
        "repeat_mismatch_sample": stats.repeat_mismatch[:10],
        "lost": lost, "lost_inbound_sample": lost_inbound[:20], "gave_up_sample": stats.gave_up[:10],
        "open_rows_sample": [tuple(o) for o in open_rows[:20]],
    }


def report(r: dict) -> None:
    i, o, a, b = r["inbound"], r["outbound"], r["answers"], r["broadcast"]
    print()
    print(f"== soak: {r['minutes']} min at {r['rate']}/s asked "
          f"({i['accepted_posts'] / max(r['traffic_seconds'], 1):.1f}/s accepted over {r['traffic_seconds']:.0f} s)")
    print(f"messages in : {i['messages_accepted']} accepted ({i['accepted_posts']} posts answered 200 of "
          f"{i['posts']}; repeats {i['repeats_sequential']} sequential + {i['repeats_concurrent']} concurrent; "
          f"errors {i['errors'] or 0}, {i['retried_messages']} messages retried); "
          f"{i['message_rows']} Message rows")
    print(f"              conversations {i['conversations']}; {i['complaints']} complaints -> {i['cases']} cases; "
          f"{i['subscriptions']} subscriptions ({i['subscribed_in_db']} subscribed in the database)")
    print(f"              latency ms p50 {i['latency_ms']['p50']} p90 {i['latency_ms']['p90']} "
          f"p99 {i['latency_ms']['p99']} max {i['latency_ms']['max']}")
    print(f"replies     : {i['replies_in_responses']} in webhook responses")
    print(f"sends       : {o['rows_sent']} outbound rows sent, {o['fake_received']} messages received by the fake "
          f"({o['by_service']}); {o['interrupted_rows']} rows failed:interrupted")
    print(f"              rows: {o['rows']}")
    print(f"answers     : {a['given']} given ({a['by_cli']} by `flask feedback answer`), {a['received_once']} received "
          f"once, interrupted {a['interrupted_received']} received / {a['interrupted_not_received']} not, "
          f"lost {len(a['lost'])}, twice {len(a['received_twice_or_more'])}, failed to give {len(a['failed_to_give'])}")
    if b:
        print(f"broadcast   : {b['status']}, rows {b['rows']}; fake received {b['received']} "
              f"({b['recipients_received']} recipients); interrupted {b['interrupted_received']} received / "
              f"{b['interrupted_not_received']} not")
    print(f"events      : {r['events']}; queue drained: {r['drained']} in {r['drain_seconds']} s")
    print(f"duplicates  : {r['duplicates']}")
    print(f"lost        : {r['lost']}")
    print("memory (RSS MB, peak in brackets):")
    print(f"  start: {fmt_memory({k: {int(p): v for p, v in d.items()} for k, d in r['memory_start'].items()})}")
    print(f"  end  : {fmt_memory({k: {int(p): v for p, v in d.items()} for k, d in r['memory_end'].items()})}")
    print(f"logs        : {r['log_problems']}")
    for name in ("duplicate_sends_sample", "repeat_mismatch_sample", "lost_inbound_sample", "gave_up_sample",
                 "open_rows_sample"):
        if r.get(name):
            print(f"{name}: {r[name]}")
    verdict = "PASS" if not r["duplicates"]["total"] and not r["lost"]["total"] and r["drained"] else "FAIL"
    print(f"verdict     : {verdict} (duplicates {r['duplicates']['total']}, lost {r['lost']['total']})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10, help="how long the traffic runs (default 10)")
    parser.add_argument("--rate", type=float, default=30, help="inbound requests per second (default 30)")
    parser.add_argument("--contacts", type=int, default=3000, help="distinct people (default 3000)")
    parser.add_argument("--connections", type=int, default=24, help="conversations in progress at once")
    parser.add_argument("--repeat", type=float, default=0.03, help="share of deliveries repeated (same id)")
    parser.add_argument("--answer-share", type=float, default=0.6, help="share of complaints staff answer")
    parser.add_argument("--provider-latency", type=float, default=0.05, help="fake provider delay, up to (s)")
    parser.add_argument("--workers", type=int, default=2, help="WEB_CONCURRENCY when the environment has none")
    parser.add_argument("--threads", type=int, default=4, help="WEB_THREADS when the environment has none")
    parser.add_argument("--queue-workers", type=int, default=4, help="QUEUE_WORKERS when the environment has none")
    parser.add_argument("--drain-timeout", type=float, default=600, help="seconds to wait for the queue at the end")
    parser.add_argument("--admin-url", default=os.environ.get("BENCH_ADMIN_URL",
                                                              "postgresql://postgres@127.0.0.1:5432/postgres"),
                        help=f"PostgreSQL URL allowed to (re)create the database {DB_NAME}")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/11",
                        help="RedisHuey URL; this database is flushed at the start")
    parser.add_argument("--log-level", default="WARNING", help="the app's LOG_LEVEL")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, the fake's message log)")
    parser.add_argument("--fake-provider", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--fake-log", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fake_provider:
        fake_provider(0, args.fake_log, args.provider_latency)
        return 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
