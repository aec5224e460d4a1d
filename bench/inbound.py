"""Inbound webhook benchmark: the bot under gunicorn against a bare Flask app under the same gunicorn.

    python bench/inbound.py --database both          # sqlite and postgresql, inline and queue mode, 20 s per run
    python bench/inbound.py --database postgresql --inbound inline

Needs wrk (Debian/Ubuntu: `apt-get install -y wrk`; macOS: `brew install wrk`), PostgreSQL for
--database postgresql (an admin URL that may create the database `bench_inbound`).

What it does, per database:
1. a fresh database at the newest migration;
2. the Procfile's web line, as is (WEB_CONCURRENCY / WEB_THREADS), serving the bot, and beside it the same
   line serving bench/bare_app.py; providers point at an unused loopback port (no outbound network);
3. request files: signed Twilio posts (X-Twilio-Signature from twilio's RequestValidator against
   PUBLIC_URL + path, a new MessageSid each) and Telegram updates (secret header, a new update_id each)
   from thousands of distinct people writing Arabic, Sorani and Badini (Arabic and Latin script): a
   first message, a menu choice and a free-text question each;
4. wrk (bench/requests.lua) at full speed against the bare app, then against the bot, then against the
   bot at half the bare app's rate (wrk's delay() keeps a timetable; see README, Benchmarks);
5. SQL statements per message from the bot's own /metrics (BENCH_COUNT_SQL=1 counts every statement per
   route, summed over the gunicorn workers by Prometheus' multiprocess mode) and peak RSS (VmHWM) of
   every worker from /proc.

With INBOUND_MODE=queue (--inbound queue or both) the Procfile's worker line runs beside gunicorn, the
providers are bench/fake_provider.py on loopback, and after each run the script waits until every
acknowledged message is stored and its reply sent: the seconds that took and messages/s end to end.

Targets (exit 1 when one is missed): >= 50 % of the bare rps; p99 < 100 ms at half the bare rate;
<= 8 SQL statements per message; no errors.
"""
import argparse
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
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from common import conclude, fresh_postgres  # noqa: E402  (bench/ is the script's folder)

PUBLIC_URL = "https://bench.example.org"
TWILIO_TOKEN = "bench-twilio-auth-token"
TELEGRAM_SECRET = "bench-telegram-secret"
METRICS_TOKEN = "bench-metrics-token"
DATA_KEY = "YmVuY2gtZGF0YS1rZXktYmVuY2gtZGF0YS1rZXktMDE="
TARGETS = {"ratio": 0.5, "p99_half_ms": 100.0, "sql_per_message": 8.0}

# What people write: (greeting, menu choice, free-text question) per language, in their own script.
SCRIPTS = {
    "ar": [("مرحبا", "١", "شنو اعراض الكوليرا"), ("السلام عليكم", "٢", "وين اكدر اسجل شكوى"),
           ("هلو", "3", "شلون اركب الخيمة")],
    "ckb": [("سڵاو", "١", "نیشانەکانی کۆلێرا چین"), ("ڕۆژباش", "٢", "چۆن سکاڵا بکەم"),
            ("سەلام", "4", "منداڵەکەم سکچوونی هەیە")],
    "kmr": [("سلاڤ", "١", "نیشانێن کۆلێرا چنە"), ("ڕۆژباش", "2", "ئەز دڤێت گازندەکێ بکەم")],
    "kmr_latn": [("silav", "1", "nîşanên kolêra çi ne"), ("rojbaş", "2", "ez dixwazim gilîyekê bikim"),
                 ("slav", "3", "çawa xêvetê saz bikim")],
}


def log(message: str) -> None:
    print(message, flush=True)


# ---- requests --------------------------------------------------------------------------------------
def make_requests(path: Path, contacts: int, first_contact: int, seed: int) -> int:
    """Three messages from each of `contacts` new people, in groups so each person's come in order."""
    from twilio.request_validator import RequestValidator
    validator = RequestValidator(TWILIO_TOKEN)
    rng = random.Random(seed)
    languages = list(SCRIPTS)
    lines = []
    group = 100
    for start in range(first_contact, first_contact + contacts, group):
        people = []
        for n in range(start, min(start + group, first_contact + contacts)):
            lang = languages[n % len(languages)]
            people.append((n, ("sms", "whatsapp", "telegram")[n % 3], rng.choice(SCRIPTS[lang])))
        for step in range(3):
            for n, channel, texts in people:
                lines.append(_request_line(validator, channel, n, step, texts[step]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines)


def _request_line(validator, channel: str, n: int, step: int, text: str) -> str:
    if channel == "telegram":
        chat_id = 800000000 + n
        update = {"update_id": 300000000 + n * 3 + step, "message": {
            "message_id": n * 3 + step + 1, "date": 1760000000 + step,
            "chat": {"id": chat_id, "type": "private", "first_name": "B"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "B"}, "text": text}}
        body = json.dumps(update, ensure_ascii=False)
        return "\t".join(("/webhooks/telegram", "X-Telegram-Bot-Api-Secret-Token", TELEGRAM_SECRET,
                          "application/json", body))
    number = f"+9647{n:09d}"
    sid = f"SM{n:024d}{step:08d}"
    form = {"ToCountry": "IQ", "SmsMessageSid": sid, "NumMedia": "0", "SmsSid": sid, "SmsStatus": "received",
            "Body": text, "FromCountry": "IQ", "To": "+9647000000000", "NumSegments": "1", "MessageSid": sid,
            "AccountSid": "AC" + "0" * 32, "ApiVersion": "2010-04-01",
            "From": ("whatsapp:" + number) if channel == "whatsapp" else number}
    signature = validator.compute_signature(PUBLIC_URL + "/webhooks/twilio", form)
    return "\t".join(("/webhooks/twilio", "X-Twilio-Signature", signature,
                      "application/x-www-form-urlencoded", urlencode(form)))


# ---- servers ---------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def procfile_line(name: str) -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return line[len(name) + 1:].strip()
    raise SystemExit(f"no {name}: line in Procfile")


def web_line() -> str:
    return procfile_line("web")


class Process:
    """A started Procfile line in its own process group; stop() ends the group."""
    process: subprocess.Popen
    log: object

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


class Server(Process):
    """One gunicorn started from the Procfile's web line, in its own process group."""

    def __init__(self, name: str, app_spec: str, env: dict, workdir: Path):
        self.name, self.port = name, free_port()
        command = web_line().replace('"bot:create_app()"', f'"{app_spec}"')
        env = dict(env, PORT=str(self.port))
        env.setdefault("PROMETHEUS_MULTIPROC_DIR", str(workdir / f"prometheus-{name}"))
        Path(env["PROMETHEUS_MULTIPROC_DIR"]).mkdir(exist_ok=True)
        self.log = open(workdir / f"{name}.log", "w")
        self.process = subprocess.Popen(["bash", "-c", "exec " + command], cwd=ROOT, env=env,
                                        stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.url = f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{self.name} exited; see {self.log.name}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise SystemExit(f"{self.name} did not start in {timeout}s; see {self.log.name}")

    def workers(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(p) for p in children.read_text().split()] if children.exists() else []

    def peak_rss_mb(self) -> list[float]:
        """VmHWM (peak resident set) of each worker, in MB."""
        peaks = []
        for pid in self.workers():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            found = re.search(r"VmHWM:\s+(\d+) kB", status)
            if found:
                peaks.append(round(int(found.group(1)) / 1024, 1))
        return peaks

class Worker(Process):
    """The Procfile's worker line (the Huey consumer), for INBOUND_MODE=queue, with the web's metrics folder."""

    def __init__(self, env: dict, workdir: Path):
        self.log = open(workdir / "worker.log", "w")
        self.process = subprocess.Popen(["bash", "-c", "exec " + procfile_line("worker")], cwd=ROOT, env=env,
                                        stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def peak_rss_mb(self) -> float:
        found = re.search(r"VmHWM:\s+(\d+) kB", Path(f"/proc/{self.process.pid}/status").read_text())
        return round(int(found.group(1)) / 1024, 1) if found else 0.0

class FakeProvider:
    """bench/fake_provider.py: answers the worker's sendMessage / Messages.json calls, counts them."""

    def __init__(self):
        self.process = subprocess.Popen([sys.executable, str(ROOT / "bench" / "fake_provider.py"), "--port", "0"],
                                        stdout=subprocess.PIPE, text=True, start_new_session=True)
        line = self.process.stdout.readline().strip()
        if not line.startswith("listening "):
            raise SystemExit(f"fake provider did not start: {line!r}")
        self.url = line.split(" ", 1)[1]

    def count(self) -> int:
        with urllib.request.urlopen(self.url + "/stats", timeout=30) as response:
            return json.loads(response.read())["count"]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def backlog(url: str) -> tuple[int, int]:
    """(messages stored, outbound rows not yet sent or failed): what the worker has done and has left."""
    from sqlalchemy import create_engine, text
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return (conn.execute(text("SELECT count(*) FROM messages")).scalar(),
                    conn.execute(text("SELECT count(*) FROM outbound WHERE status IN ('pending', 'queued', "
                                      "'sending')")).scalar())
    finally:
        engine.dispose()


def drain(url: str, accepted_before: int, accepted: int, started: float, timeout: float = 900) -> dict:
    """Wait until every message the webhook acknowledged is stored and answered (or, when the request file
    came round again and repeats were duplicates, until nothing moves for 3 s); seconds since the run began."""
    deadline = time.monotonic() + timeout
    last, still_since = -1, time.monotonic()
    while True:
        stored, unsent = backlog(url)
        now = time.monotonic()
        if stored != last:
            last, still_since = stored, now
        if unsent == 0 and (stored - accepted_before >= accepted or now - still_since > 3) or now > deadline:
            break
        time.sleep(0.5)
    seconds = time.monotonic() - started
    return {"stored": stored - accepted_before, "unsent": unsent, "seconds": seconds,
            "processed_per_s": (stored - accepted_before) / seconds if seconds else 0.0}


def metric_sum(server: Server, name: str, route_prefix: str = "/webhooks/") -> float:
    request = urllib.request.Request(server.url + "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read().decode()
    total = 0.0
    for match in re.finditer(rf'^{name}\{{route="([^"]+)"\}} ([0-9.e+]+)$', body, re.M):
        if match.group(1).startswith(route_prefix):
            total += float(match.group(2))
    return total


# ---- wrk -------------------------------------------------------------------------------------------
def wrk(url: str, requests_file: Path, seconds: int, connections: int, threads: int, rate: float = 0) -> dict:
    env = dict(os.environ, BENCH_REQUESTS=str(requests_file), BENCH_THREADS=str(threads))
    if rate:
        env["BENCH_RATE"] = str(rate)
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
               "-s", str(ROOT / "bench" / "requests.lua"), url]
    began = time.monotonic()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=seconds + 120)
    found = re.search(r"^BENCH_JSON (.*)$", done.stdout, re.M)
    if not found:
        raise SystemExit(f"wrk said:\n{done.stdout}\n{done.stderr}")
    result = json.loads(found.group(1))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["began"] = began
    result["errors"] = sum(result[k] for k in ("connect", "read", "write", "status", "timeout"))
    for key in ("p50", "p90", "p99", "max"):
        result[f"{key}_ms"] = result.pop(f"{key}_us") / 1000
    if result["wrapped"]:
        log(f"  note: the request file was used {result['wrapped']} more time(s): repeats were duplicates; "
            "raise --contacts")
    return result


# ---- one database ----------------------------------------------------------------------------------
def prepare_database(kind: str, workdir: Path, admin_url: str) -> str:
    from bot import db
    if kind != "sqlite":
        return fresh_postgres(admin_url, "bench_inbound")
    url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    db.upgrade(url)
    return url


def bot_env(url: str, workdir: Path, provider_url: str) -> dict:
    """The bot's settings for a benchmark: production mode, every channel on, providers at provider_url."""
    return dict(DATABASE_URL=url, INSTANCE_PATH=str(workdir / "instance"), APP_ENV="production",
                SECRET_KEY="bench-secret-key", DATA_KEY=DATA_KEY, PUBLIC_URL=PUBLIC_URL, AUTO_MIGRATE="0",
                TELEGRAM_BOT_TOKEN="123456:BENCH", TELEGRAM_WEBHOOK_SECRET=TELEGRAM_SECRET,
                TELEGRAM_API_URL=provider_url, TWILIO_ACCOUNT_SID="AC" + "0" * 32, TWILIO_AUTH_TOKEN=TWILIO_TOKEN,
                TWILIO_SMS_FROM="+9647000000000", TWILIO_WHATSAPP_FROM="whatsapp:+14155238886",
                TWILIO_API_URL=provider_url, METRICS_TOKEN=METRICS_TOKEN, TRY_PAGE="0")


def bench_database(kind: str, args, mode: str = "inline") -> dict:
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-{kind}-{mode}-"))
    log(f"\n== {kind}, INBOUND_MODE={mode} (work files in {workdir})")
    url = prepare_database(kind, workdir, args.admin_url)
    fake = FakeProvider() if mode == "queue" else None
    # inline: nothing listens there, no call leaves this machine; queue: the worker sends to the loopback fake
    unused = fake.url if fake else f"http://127.0.0.1:{free_port()}"
    env = dict(os.environ, **bot_env(url, workdir, unused), BENCH_COUNT_SQL="1", LOG_LEVEL=args.log_level)
    env.pop("REDIS_URL", None)
    env.pop("HUEY_IMMEDIATE", None)
    env["INBOUND_MODE"] = mode
    if mode == "queue" and kind == "postgresql":     # the production profile: PostgreSQL and RedisHuey
        import redis
        redis.Redis.from_url(args.redis_url).flushdb()
        env["REDIS_URL"] = args.redis_url
    if mode == "queue":       # the worker's SQL statements land in the same metrics as the web's
        env["PROMETHEUS_MULTIPROC_DIR"] = str(workdir / "prometheus-app")
        env["EMBEDDED_WORKER"] = "0"
    env.setdefault("WEB_CONCURRENCY", str(args.workers))
    env.setdefault("WEB_THREADS", str(args.threads))
    log(f"gunicorn: {web_line()}  (WEB_CONCURRENCY={env['WEB_CONCURRENCY']}, WEB_THREADS={env['WEB_THREADS']})")

    files = {}
    for i, name in enumerate(("warm", "full", "half", "own")):
        files[name] = workdir / f"requests-{name}.txt"
        count = make_requests(files[name], args.contacts, first_contact=i * args.contacts, seed=i)
    log(f"requests: {count} per run from {args.contacts} people (sms, whatsapp, telegram; ar, ckb, kmr)")

    app = Server("app", "bot:create_app()", env, workdir)
    bare = Server("bare", "bench.bare_app:create_app()", {k: v for k, v in env.items()
                                                          if k != "PROMETHEUS_MULTIPROC_DIR"}, workdir)
    worker = Worker(env, workdir) if mode == "queue" else None
    drains: dict = {}

    def after(name: str, run: dict, before: int) -> None:
        """Queue mode: the run's messages are only acknowledged; wait until each is stored and answered."""
        if worker:
            accepted = run["requests"] - run["errors"]
            drains[name] = drain(url, before, accepted, run["began"])
            d = drains[name]
            log(f"  queue: {d['stored']} of {accepted} acknowledged messages stored and answered "
                f"{d['seconds']:.1f} s after the run began ({d['processed_per_s']:.0f} messages/s end to end)"
                + (f", {d['unsent']} replies still unsent" if d["unsent"] else ""))

    try:
        app.wait_ready()
        bare.wait_ready()
        wrk(bare.url, files["warm"], 3, args.connections, args.wrk_threads)
        bare_run = wrk(bare.url, files["full"], args.duration, args.connections, args.wrk_threads)
        log(f"bare : {bare_run['rps']:.0f} req/s, p50 {bare_run['p50_ms']:.1f} ms, p99 {bare_run['p99_ms']:.1f} ms")

        warm = wrk(app.url, files["warm"], 5, args.connections, args.wrk_threads)
        after("warm", warm, 0)
        # queue mode: the worker's statements for inbound messages (not its periodic tasks')
        routes = "queue:inbound" if worker else "/webhooks/"
        stored_before = backlog(url)[0]
        sql_before, count_before = metric_sum(app, "bot_sql_statements_total", routes), \
            metric_sum(app, "bot_webhook_seconds_count")
        app_run = wrk(app.url, files["full"], args.duration, args.connections, args.wrk_threads)
        after("full", app_run, stored_before)
        sql_after, count_after = metric_sum(app, "bot_sql_statements_total", routes), \
            metric_sum(app, "bot_webhook_seconds_count")
        handled = (backlog(url)[0] - stored_before) if worker else count_after - count_before
        sql_per_message = (sql_after - sql_before) / handled if handled else float("nan")
        log(f"bot  : {app_run['rps']:.0f} req/s, p50 {app_run['p50_ms']:.1f} ms, p99 {app_run['p99_ms']:.1f} ms, "
            f"{sql_per_message:.2f} SQL/message ({handled:.0f} messages counted by /metrics)")

        half_rate = bare_run["rps"] / 2
        stored_before = backlog(url)[0]
        half_run = wrk(app.url, files["half"], args.duration, args.half_connections, args.wrk_threads, rate=half_rate)
        after("half", half_run, stored_before)
        log(f"bot at half the bare rate ({half_rate:.0f}/s asked, {half_run['rps']:.0f}/s done): "
            f"p50 {half_run['p50_ms']:.1f} ms, p99 {half_run['p99_ms']:.1f} ms")
        own_rate = app_run["rps"] / 2     # for capacity planning: latency at half of what the bot itself can do
        stored_before = backlog(url)[0]
        own_run = wrk(app.url, files["own"], args.duration, args.half_connections, args.wrk_threads, rate=own_rate)
        after("own", own_run, stored_before)
        log(f"bot at half its own rate ({own_rate:.0f}/s asked, {own_run['rps']:.0f}/s done): "
            f"p50 {own_run['p50_ms']:.1f} ms, p99 {own_run['p99_ms']:.1f} ms")
        rss = {"app": app.peak_rss_mb(), "bare": bare.peak_rss_mb(),
               "worker": worker.peak_rss_mb() if worker else None}
        sent = fake.count() if fake else None
    finally:
        app.stop()
        bare.stop()
        if worker:
            worker.stop()
        if fake:
            fake.stop()
    result = {"database": kind if mode == "inline" else f"{kind} (queue)", "mode": mode, "drains": drains,
        "provider_received": sent, "bare": bare_run, "app": app_run, "half": half_run, "half_rate": half_rate,
              "own_half": own_run, "own_half_rate": own_rate,
              "ratio": app_run["rps"] / bare_run["rps"], "sql_per_message": sql_per_message,
              "messages_counted": handled, "peak_rss_mb": rss, "workdir": str(workdir)}
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return result


def verdict(result: dict) -> list[str]:
    missed = []
    if result["ratio"] < TARGETS["ratio"]:
        missed.append(f"rps {result['ratio']:.0%} of bare (target >= {TARGETS['ratio']:.0%})")
    if result["half"]["p99_ms"] >= TARGETS["p99_half_ms"]:
        missed.append(f"p99 at half rate {result['half']['p99_ms']:.1f} ms (target < {TARGETS['p99_half_ms']:.0f})")
    if not result["sql_per_message"] <= TARGETS["sql_per_message"]:
        missed.append(f"{result['sql_per_message']:.2f} SQL/message (target <= {TARGETS['sql_per_message']:.0f})")
    errors = result["app"]["errors"] + result["half"]["errors"] + result["own_half"]["errors"]
    if errors:
        missed.append(f"{errors} errors")
    return missed


def report(results: list[dict]) -> None:
    log("\n| database | bare rps | bot rps | ratio | p50 / p90 / p99 ms | errors | SQL/msg | peak RSS/worker MB "
        "| half bare rate: asked / done rps, p50 / p99 ms | half own rate: same |")
    log("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        a, h, o = r["app"], r["half"], r["own_half"]
        log(f"| {r['database']} | {r['bare']['rps']:.0f} | {a['rps']:.0f} | {r['ratio']:.0%} | "
            f"{a['p50_ms']:.1f} / {a['p90_ms']:.1f} / {a['p99_ms']:.1f} | {a['errors'] + h['errors'] + o['errors']} | "
            f"{r['sql_per_message']:.2f} | {max(r['peak_rss_mb']['app'] or [0]):.0f} "
            f"(bare {max(r['peak_rss_mb']['bare'] or [0]):.0f}) | "
            f"{r['half_rate']:.0f} / {h['rps']:.0f}, {h['p50_ms']:.1f} / {h['p99_ms']:.1f} | "
            f"{r['own_half_rate']:.0f} / {o['rps']:.0f}, {o['p50_ms']:.1f} / {o['p99_ms']:.1f} |")
    queued = [r for r in results if r.get("mode") == "queue"]
    if queued:
        log("\nQueue mode, answered by the worker (the Procfile's worker line on the same machine): stored and "
            "answered, seconds from the run's start until the last reply went out, messages/s end to end")
        log("| database | full speed | half bare rate | half own rate | worker peak RSS MB | replies at the fake |")
        log("|---|---|---|---|---|---|")
        for r in queued:
            cells = [f"{d['stored']} in {d['seconds']:.0f} s = {d['processed_per_s']:.0f}/s"
                     + (f", {d['unsent']} unsent" if d["unsent"] else "")
                     for d in (r["drains"].get(k) for k in ("full", "half", "own")) if d]
            log(f"| {r['database']} | " + " | ".join(cells) + f" | {r['peak_rss_mb']['worker']:.0f} | "
                f"{r['provider_received']} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--admin-url", default=os.environ.get("BENCH_ADMIN_URL",
                                                              "postgresql://postgres@127.0.0.1:5432/postgres"),
                        help="PostgreSQL URL allowed to (re)create the database bench_inbound")
    parser.add_argument("--duration", type=int, default=20, help="seconds per measured run")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections at full speed")
    parser.add_argument("--half-connections", type=int, default=64, help="wrk connections for the half-rate run")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--inbound", choices=["inline", "queue", "both"], default="both",
                        help="INBOUND_MODE: answer in the webhook response, or acknowledge and answer from the queue")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13",
                        help="RedisHuey for queue mode on PostgreSQL (this Redis database is emptied)")
    parser.add_argument("--contacts", type=int, default=12000, help="distinct people per request file")
    parser.add_argument("--workers", type=int, default=4, help="WEB_CONCURRENCY when the environment has none")
    parser.add_argument("--threads", type=int, default=4, help="WEB_THREADS when the environment has none")
    parser.add_argument("--log-level", default="INFO", help="the app's LOG_LEVEL (INFO: one line per request)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, request files)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: `apt-get install -y wrk` (Debian/Ubuntu) or `brew install wrk`")
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    modes = ["inline", "queue"] if args.inbound == "both" else [args.inbound]
    results = [bench_database(kind, args, mode) for kind in kinds for mode in modes]
    return conclude(results, report, verdict, args.json, log)


if __name__ == "__main__":
    sys.exit(main())
