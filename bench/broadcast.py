"""Broadcast benchmark: queueing 100,000 recipients, memory while doing it, and the send rate against the limit.

    python bench/broadcast.py --database both            # sqlite and postgresql
    python bench/broadcast.py --database sqlite --contacts 20000 --skip-rate
    python bench/broadcast.py --database postgresql --skip-selection     # only the send rates

Needs PostgreSQL for --database postgresql: an admin URL that may (re)create the database
`bench_broadcast` (--admin-url, default postgresql://postgres@127.0.0.1:5432/postgres).

Per database:
1. a fresh database at the newest migration (bot.db.upgrade) and N synthetic contacts (default 100,000),
   bulk-inserted by a pool of processes: Telegram, SMS and WhatsApp; Arabic, Sorani, Badini; areas from
   content/areas.yaml; about 3 % opted out and 7 % unsubscribed; addresses encrypted and hashed with the
   app's own Vault, as the inbound path stores them (setup time is reported apart; it is not a target);
2. a broadcast to all of them, made, approved and started through bot.broadcasts, then the runner's
   selection phase (bot.broadcast_runner._select: audience -> Outbound rows, a batch per transaction),
   timed, with the process's peak RSS (VmHWM, reset through /proc/self/clear_refs first) sampled around it;
   then the same selection again for a second broadcast under tracemalloc (Python's own allocation peak;
   tracemalloc slows the code down, so this run is not timed as the target);
3. unless --skip-rate: broadcasts to Telegram-only audiences run by bot.broadcast_runner.run against
   bench/fake_provider.py, a stdlib asyncio fake of the Bot API in a separate process, which notes the
   arrival time of every message: at TELEGRAM_RATE=1000 (20,000 people) and at 25 (500 people).
   Achieved rate = messages / (last arrival - first arrival); the busiest 1-second window is counted
   over the arrival times.

Targets (exit 1 when one is missed): selection < 10 s on SQLite (reported, not enforced, on PostgreSQL);
peak RSS during selection < 200 MB; achieved rate within 5 % of the limit; never more than the limit in any
1-second window; everyone sent exactly once.
"""
import argparse
import gc
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
import urllib.request
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from common import conclude, fresh_postgres  # noqa: E402  (bench/ is the script's folder)

DATA_KEY = "YmVuY2gtZGF0YS1rZXktYmVuY2gtZGF0YS1rZXktMDE="
DB_NAME = "bench_broadcast"
TARGETS = {"select_seconds_sqlite": 10.0, "rss_mb": 200.0, "rate_within": 0.05}
TEXTS = {"ar": "حملة تلقيح ضد الكوليرا يوم الأحد في المركز الصحي للمخيم، من الساعة ٨ صباحا",
         "ckb": "هەڵمەتی کوتان دژی کۆلێرا ڕۆژی یەکشەممە لە بنکەی تەندروستی کەمپ، لە کاتژمێر ٨ی بەیانییەوە",
         "kmr": "هەلمەتا کوتانێ دژی کۆلێرایێ ڕۆژا یەکشەمبێ ل بنکەها ساخلەمیێ یا کەمپێ، ژ دەمژمێر ٨ێ سپێدێ"}
CHANNELS = (("telegram", 0.40), ("sms", 0.35), ("whatsapp", 0.25))
LANGUAGES = (("ar", 0.5), ("ckb", 0.3), ("kmr", 0.2))


def log(message: str) -> None:
    print(message, flush=True)


# ---- database and contacts -----------------------------------------------------------------------------
def fresh_database(kind: str, workdir: Path, admin_url: str, name: str) -> str:
    from bot import db
    if kind != "sqlite":
        return fresh_postgres(admin_url, DB_NAME)
    url = f"sqlite:///{workdir / (name + '.sqlite3')}"
    db.upgrade(url)
    return url


def _area_ids() -> list[str]:
    from handlers.content import load
    content = load()
    return [a["id"] for g in content.areas for a in g.get("areas") or []]


def _pick(rng: random.Random, weighted) -> str:
    x = rng.random()
    for value, weight in weighted:
        x -= weight
        if x < 0:
            return value
    return weighted[-1][0]


def _insert_chunk(job: tuple) -> int:
    """In a worker process: make contacts [start, stop) and insert them in one transaction."""
    url, start, stop, mix, areas = job
    from sqlalchemy import insert

    from bot import db
    from bot.models import Contact, utcnow
    from bot.vault import Vault
    vault = Vault(DATA_KEY)
    rng = random.Random(start)
    now = utcnow()
    rows = []
    for n in range(start, stop):
        channel = _pick(rng, CHANNELS) if mix else "telegram"
        address = str(100000000 + n) if channel == "telegram" else f"+9647{n:09d}"
        stopped = mix and rng.random() < 0.03
        rows.append({"channel": channel, "address_hash": vault.address_hash(channel, address),
                     "address_enc": vault.encrypt(address), "language": _pick(rng, LANGUAGES) if mix else "ar",
                     "state": "browsing", "state_enc": None, "opted_out": stopped,
                     "subscribed": not stopped and not (mix and rng.random() < 0.07),
                     "topics": "" if not mix or rng.random() < 0.6 else rng.choice(["health", "shelter", "health,safety"]),
                     "area": rng.choice(areas) if not mix or rng.random() < 0.9 else None,
                     "created_at": now - timedelta(days=rng.randint(1, 300)),
                     "last_seen_at": now - timedelta(hours=rng.randint(0, 24 * 14))})
    from sqlalchemy.exc import OperationalError
    for attempt in range(20):
        engine = db.make_engine(url)
        try:
            with db.transaction(db.make_sessionmaker(engine)) as session:
                session.execute(insert(Contact), rows)
            return len(rows)
        except OperationalError:   # SQLite: the app's connect-time PRAGMA journal_mode=WAL does not wait for
            if attempt == 19:      # the lock another setup process holds; the whole chunk is simply retried
                raise
            time.sleep(0.2)
        finally:
            engine.dispose()
    return 0


def insert_contacts(url: str, count: int, mix: bool, processes: int) -> float:
    """Bulk-insert `count` contacts with a pool of processes (encrypting is the slow part); returns seconds."""
    started = time.perf_counter()
    areas = _area_ids()
    chunk = 5000
    jobs = [(url, s, min(s + chunk, count), mix, areas) for s in range(0, count, chunk)]
    with ProcessPoolExecutor(max_workers=processes) as pool:
        done = sum(pool.map(_insert_chunk, jobs))
    assert done == count
    return time.perf_counter() - started


def make_runtime(url: str, workdir: Path, fake_url: str, **config):
    from bot import config as config_module
    from bot import runtime as runtime_module
    environ = {"DATABASE_URL": url, "DATA_KEY": DATA_KEY, "SECRET_KEY": "bench-secret", "AUTO_MIGRATE": "0",
               "TELEGRAM_BOT_TOKEN": "123456:BENCH", "TELEGRAM_API_URL": fake_url,
               "TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": "bench-token",
               "TWILIO_SMS_FROM": "+9647000000000", "TWILIO_WHATSAPP_FROM": "whatsapp:+14155238886",
               "TWILIO_API_URL": fake_url, "BROADCAST_APPROVAL": "required", "HUEY_IMMEDIATE": "1"}
    cfg = config_module.load(str(workdir / "instance"), environ)
    cfg.update(config)
    return runtime_module.build(cfg)


def new_broadcast(runtime, **target) -> int:
    from bot import broadcasts
    from bot.models import Broadcast
    with runtime.transaction() as session:
        broadcast = broadcasts.create(runtime, session, title="bench", texts=TEXTS, actor="user:1", **target)
        broadcast_id = broadcast.id
    with runtime.transaction() as session:
        broadcast = session.get(Broadcast, broadcast_id)
        reach = broadcasts.audience(runtime, session, broadcast)
        broadcasts.approve(session, broadcast, "user:2", runtime.config)
        broadcasts.start(session, broadcast, "user:2", runtime.config)
    return broadcast_id, reach


# ---- memory ---------------------------------------------------------------------------------------------
def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def reset_peak() -> bool:
    """Linux >= 4.0: writing 5 to clear_refs resets VmHWM to the current RSS."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


class RssSampler:
    """VmRSS every 5 ms, in case VmHWM cannot be reset."""

    def __init__(self):
        self.peak = _status_kb("VmRSS")
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self.stop.wait(0.005):
            self.peak = max(self.peak, _status_kb("VmRSS"))

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


# ---- selection ------------------------------------------------------------------------------------------
def bench_selection(kind: str, args, workdir: Path) -> dict:
    from bot import broadcast_runner, broadcasts
    from bot.models import Broadcast
    url = fresh_database(kind, workdir, args.admin_url, "select")
    setup = insert_contacts(url, args.contacts, mix=True, processes=args.processes)
    log(f"setup: {args.contacts} contacts encrypted and inserted in {setup:.1f} s ({args.processes} processes)")
    runtime = make_runtime(url, workdir, "http://127.0.0.1:9")
    broadcast_id, reach = new_broadcast(runtime)
    log(f"audience: {reach['total']} of {args.contacts} ({reach['by_channel']})")

    gc.collect()
    rss_before = _status_kb("VmRSS") / 1024
    hwm_reset = reset_peak()
    with RssSampler() as sampler:
        started = time.perf_counter()
        ok = broadcast_runner._select(runtime, broadcast_id, "bench")
        seconds = time.perf_counter() - started
    broadcast_runner._release(runtime, "bench")
    peak_rss = max(_status_kb("VmHWM") if hwm_reset else 0, sampler.peak) / 1024
    with runtime.transaction() as session:
        b = session.get(Broadcast, broadcast_id)
        queued, done = b.recipients, b.selection_done
        broadcasts.cancel(session, b, "user:2")           # not to be sent
    assert ok and done, "selection did not finish"
    log(f"selection: {queued} recipients queued in {seconds:.2f} s ({queued / seconds:.0f}/s); "
        f"RSS {rss_before:.0f} MB before, peak {peak_rss:.0f} MB (+{peak_rss - rss_before:.0f} MB)"
        f"{'' if hwm_reset else ' (sampled; VmHWM could not be reset)'}")

    second, _ = new_broadcast(runtime)
    gc.collect()
    tracemalloc.start()
    started = time.perf_counter()
    broadcast_runner._select(runtime, second, "bench")
    traced_seconds = time.perf_counter() - started
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    broadcast_runner._release(runtime, "bench")
    with runtime.transaction() as session:
        broadcasts.cancel(session, session.get(Broadcast, second), "user:2")
    log(f"selection under tracemalloc: Python allocation peak {traced_peak / 2**20:.1f} MB "
        f"({traced_seconds:.2f} s with tracing on)")
    runtime.dispose()
    return {"contacts": args.contacts, "setup_seconds": setup, "audience": reach["total"], "queued": queued,
            "select_seconds": seconds, "rss_before_mb": rss_before, "rss_peak_mb": peak_rss,
            "rss_delta_mb": peak_rss - rss_before, "tracemalloc_peak_mb": traced_peak / 2**20,
            "peak_from": "VmHWM" if hwm_reset else "sampled VmRSS"}


# ---- send rate ------------------------------------------------------------------------------------------
class FakeProvider:
    def __init__(self):
        self.process = subprocess.Popen([sys.executable, str(ROOT / "bench" / "fake_provider.py")],
                                        stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline().strip()
        if not line.startswith("listening "):
            raise RuntimeError(f"fake provider did not start: {line!r}")
        self.url = line.split(" ", 1)[1]

    def call(self, path: str, method: str = "GET") -> dict:
        request = urllib.request.Request(self.url + path, method=method, data=b"" if method == "POST" else None)
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def stop(self):
        self.process.terminate()
        self.process.wait(10)


def busiest_second(times: list[float]) -> int:
    """Most arrivals in any window [t, t + 1 s)."""
    worst, left = 0, 0
    for right, t in enumerate(times):
        while times[left] <= t - 1.0:
            left += 1
        worst = max(worst, right - left + 1)
    return worst


def bench_rate(kind: str, args, workdir: Path, fake: FakeProvider, rate: float, people: int) -> dict:
    from sqlalchemy import func, select

    from bot import broadcast_runner
    from bot.models import Broadcast, Outbound
    url = fresh_database(kind, workdir, args.admin_url, f"rate{int(rate)}")
    setup = insert_contacts(url, people, mix=False, processes=args.processes)
    extra = {"TELEGRAM_RATE": float(rate)}
    if args.threads:
        extra["BROADCAST_THREADS"] = args.threads
    runtime = make_runtime(url, workdir, fake.url, **extra)
    broadcast_id, reach = new_broadcast(runtime)
    fake.call("/reset", "POST")
    started, cpu = time.perf_counter(), time.process_time()
    outcome = broadcast_runner.run(runtime)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    stats = fake.call("/stats")
    times = sorted(stats["times"])
    with runtime.transaction() as session:
        statuses = dict(session.execute(select(Outbound.status, func.count()).where(
            Outbound.broadcast_id == broadcast_id).group_by(Outbound.status)).all())
        status = session.get(Broadcast, broadcast_id).status
    runtime.dispose()
    n = len(times)
    span = times[-1] - times[0] if n > 1 else float("nan")
    achieved = n / span if n > 1 else 0.0
    result = {"limit": rate, "people": people, "setup_seconds": setup, "outcome": outcome, "status": status,
              "messages": n, "distinct": len(set(stats["recipients"])), "statuses": statuses,
              "span_seconds": span, "wall_seconds": wall, "achieved": achieved,
              "achieved_n_minus_1": (n - 1) / span if n > 1 else 0.0,
              "busiest_second": busiest_second(times), "threads": runtime.config.get("BROADCAST_THREADS"),
              "cpu_ms_per_message": 1000 * cpu / n if n else float("nan"), "load_average": os.getloadavg()[0]}
    log(f"rate {rate:g}/s: {n} messages ({result['distinct']} distinct) in {span:.2f} s -> {achieved:.1f}/s "
        f"({achieved / rate:.1%} of the limit), busiest 1 s window {result['busiest_second']}, "
        f"runner {wall:.1f} s ({outcome}, broadcast {status}), rows {statuses}, "
        f"{result['cpu_ms_per_message']:.2f} ms CPU/message in this process, load average {result['load_average']:.1f}")
    return result


# ---- report ---------------------------------------------------------------------------------------------
def bench_database(kind: str, args) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-broadcast-{kind}-"))
    log(f"\n== {kind} (work files in {workdir})")
    result = {"database": kind, "selection": None if args.skip_selection else bench_selection(kind, args, workdir),
              "rates": []}
    if not args.skip_rate:
        fake = FakeProvider()
        try:
            for rate, people in ((1000.0, args.fast_contacts), (25.0, args.slow_contacts)):
                result["rates"].append(bench_rate(kind, args, workdir, fake, rate, people))
        finally:
            fake.stop()
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return result


def verdict(result: dict) -> list[str]:
    missed = []
    s = result["selection"]
    if s and result["database"] == "sqlite" and s["select_seconds"] >= TARGETS["select_seconds_sqlite"]:
        missed.append(f"selection {s['select_seconds']:.1f} s (target < {TARGETS['select_seconds_sqlite']:.0f})")
    if s and s["rss_peak_mb"] >= TARGETS["rss_mb"]:
        missed.append(f"peak RSS {s['rss_peak_mb']:.0f} MB (target < {TARGETS['rss_mb']:.0f})")
    for r in result["rates"]:
        if abs(r["achieved"] - r["limit"]) > TARGETS["rate_within"] * r["limit"]:
            missed.append(f"{r['achieved']:.1f}/s at a limit of {r['limit']:g}/s (target within 5 %)")
        if r["busiest_second"] > r["limit"]:
            missed.append(f"{r['busiest_second']} messages in one second at a limit of {r['limit']:g}/s")
        if r["messages"] != r["people"] or r["distinct"] != r["people"]:
            missed.append(f"{r['messages']} messages, {r['distinct']} distinct, for {r['people']} people")
    return missed


def report(results: list[dict]) -> None:
    if any(r["selection"] for r in results):
        _report_selection(results)
    _report_rates(results)


def _report_selection(results: list[dict]) -> None:
    log("\n| database | contacts | queued | selection s | RSS before / peak / delta MB | tracemalloc peak MB |")
    log("|---|---|---|---|---|---|")
    for r in results:
        s = r["selection"]
        if not s:
            continue
        log(f"| {r['database']} | {s['contacts']} | {s['queued']} | {s['select_seconds']:.2f} | "
            f"{s['rss_before_mb']:.0f} / {s['rss_peak_mb']:.0f} / {s['rss_delta_mb']:.0f} | "
            f"{s['tracemalloc_peak_mb']:.1f} |")


def _report_rates(results: list[dict]) -> None:
    if any(r["rates"] for r in results):
        log("\n| database | limit /s | messages | span s | achieved /s | of limit | busiest 1 s | threads "
            "| CPU ms/message | load |")
        log("|---|---|---|---|---|---|---|---|---|---|")
        for r in results:
            for x in r["rates"]:
                log(f"| {r['database']} | {x['limit']:g} | {x['messages']} | {x['span_seconds']:.2f} | "
                    f"{x['achieved']:.1f} | {x['achieved'] / x['limit']:.1%} | {x['busiest_second']} | "
                    f"{x['threads']} | {x['cpu_ms_per_message']:.2f} | {x['load_average']:.1f} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--admin-url", default=os.environ.get("BENCH_ADMIN_URL",
                                                              "postgresql://postgres@127.0.0.1:5432/postgres"),
                        help=f"PostgreSQL URL allowed to (re)create the database {DB_NAME}")
    parser.add_argument("--contacts", type=int, default=100_000, help="contacts for the selection run")
    parser.add_argument("--fast-contacts", type=int, default=20_000, help="Telegram recipients at 1000/s")
    parser.add_argument("--slow-contacts", type=int, default=500, help="Telegram recipients at 25/s")
    parser.add_argument("--threads", type=int, default=0,
                        help="BROADCAST_THREADS for the rate runs (default: the app's default)")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 2, help="processes for the setup")
    parser.add_argument("--skip-rate", action="store_true", help="only the selection (queue time and memory)")
    parser.add_argument("--skip-selection", action="store_true", help="only the send rates")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (SQLite files)")
    args = parser.parse_args()
    import logging
    logging.basicConfig(level=logging.WARNING)
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    results = [bench_database(kind, args) for kind in kinds]
    return conclude(results, report, verdict, args.json, log)


if __name__ == "__main__":
    sys.exit(main())
