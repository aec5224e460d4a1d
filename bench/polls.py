"""Poll benchmark: a two-question poll to 100,000 synthetic contacts, then 30,000 answers through the real path.

    python bench/polls.py --database sqlite
    python bench/polls.py --database both --json polls.json
    python bench/polls.py --database sqlite --contacts 20000 --answers 6000      # a quicker run

Per database:
1. a fresh database at the newest migration and N synthetic contacts (default 100,000), made as
   bench/broadcast.py makes them (Telegram, SMS, WhatsApp; Arabic, Sorani, Badini; camps; ~3 % stopped,
   ~7 % not subscribed; addresses hashed and encrypted with the app's Vault). Setup time is reported apart.
2. the poll made, approved and sent through bot.polls: its carrier broadcast's selection
   (bot.broadcast_runner._select: audience -> one outbound row per person) and then the real sender
   (bot.broadcast_runner.run: lease, pacer, threads, outbound.send_prepared, the Recorder) against
   bench/fake_provider.py, a loopback fake of Telegram's and Twilio's APIs in its own process, at
   --rate messages/s per channel (default 2000: the providers' real limits would make this a wait, not a
   measurement). Reported: selection time, send time, messages the fake received (and distinct recipients).
3. --answers answers (default 30,000) through bot.inbound.receive, the function the webhooks (inline)
   and the queue worker both run: dedupe on the provider id, the contact's upsert and lock, the poll
   looked up, the dialogue (handlers/polls.py), the answer upserted, the reply kept with the message.
   Two thirds of the answers are to question 1 ("1", "١", "2", "نعم", "بەڵێ"...), one third to question 2
   from people who answered question 1. --threads workers answer in parallel (default 1; PostgreSQL
   takes more). Reported: time, answers/s, peak RSS (VmHWM reset first, else sampled), and a tracemalloc
   peak over a further 2,000 answers (Python's own allocations; tracing slows it, so not timed).
4. results and a breakdown by camp (bot.poll_results), timed, and checked against what was sent.

No target is enforced (exit 0 unless a count is wrong): the figures go in the closing note and README.
"""
import argparse
import gc
import os
import shutil
import sys
import tempfile
import threading
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from broadcast import (  # noqa: E402  (bench/ is the script's folder)
    FakeProvider,
    RssSampler,
    _status_kb,
    fresh_database,
    insert_contacts,
    log,
    make_runtime,
    reset_peak,
)
from common import conclude, fresh_postgres  # noqa: E402

DB_NAME = "bench_polls"

QUESTIONS = [
    {"kind": "choice",
     "text": {"ar": "هل استلمت عائلتك حقيبة الشتاء؟", "ckb": "ئایا خێزانەکەت کیتی زستانەی وەرگرت؟",
              "kmr": "ئەرێ خێزانا تە کیتا زستانێ وەرگرت؟"},
     "options": [{"ar": "نعم", "ckb": "بەڵێ", "kmr": "بەلێ"}, {"ar": "لا", "ckb": "نەخێر", "kmr": "نەخێر"}]},
    {"kind": "choice",
     "text": {"ar": "أي يوم يناسبكم للتوزيع؟", "ckb": "کام ڕۆژ بۆ دابەشکردن گونجاوە؟", "kmr": "کیژ ڕۆژ بۆ دابەشکرنێ باشە؟"},
     "options": [{"ar": "السبت", "ckb": "شەممە", "kmr": "شەمبی"}, {"ar": "الأحد", "ckb": "یەکشەممە", "kmr": "یەکشەمبی"},
                 {"ar": "الاثنين", "ckb": "دووشەممە", "kmr": "دووشەمبی"}]},
]
WORDS = {"ar": ["1", "١", "2", "نعم", "لا"], "ckb": ["1", "١", "٢", "بەڵێ", "نەخێر"], "kmr": ["1", "2", "بەلێ", "۱", "نەخێر"]}
SECOND = ["1", "2", "3", "٢", "٣"]


def _recipients(runtime, broadcast_id: int, limit: int) -> list[tuple[str, str, str]]:
    """(channel, address, language) of people question 1 reached, decrypted as a phone would send from."""
    from sqlalchemy import select

    from bot.models import Contact, Outbound
    with runtime.transaction() as session:
        rows = session.execute(select(Contact.channel, Contact.address_enc, Contact.language).join(
            Outbound, Outbound.contact_id == Contact.id).where(
            Outbound.broadcast_id == broadcast_id, Outbound.status.in_(("sent", "delivered", "read")))
            .order_by(Contact.id).limit(limit)).all()
    return [(channel, runtime.vault.decrypt(enc), lang or "ar") for channel, enc, lang in rows]


def _answer_waves(people: list, count: int) -> list[list[tuple[str, str, str]]]:
    """(channel, address, text) in two waves: two thirds answer question 1, then half of them question 2
    (a second answer must come after the first, whatever the threads)."""
    first = (2 * count) // 3
    return [[(c, a, WORDS[lang][n % 5]) for n, (c, a, lang) in enumerate(people[:first])],
            [(c, a, SECOND[n % 5]) for n, (c, a, _lang) in enumerate(people[:count - first])]]


def _run_answers(runtime, waves: list[list], threads: int, tag: str) -> int:
    from bot import inbound
    from handlers.types import Incoming

    def one(job: tuple[int, tuple[str, str, str]]) -> int:
        index, (channel, address, text) = job
        outcome = inbound.receive(runtime, Incoming(channel, address, text, provider_id=f"{tag}-{index}"))
        return 0 if outcome.duplicate else 1

    done = 0
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        for number, wave in enumerate(waves):
            jobs = [(number * 10_000_000 + i, job) for i, job in enumerate(wave)]
            done += sum(map(one, jobs)) if threads <= 1 else sum(pool.map(one, jobs, chunksize=64))
    return done


def bench_database(kind: str, args) -> dict:
    from sqlalchemy import func, select

    from bot import broadcast_runner, poll_results, polls
    from bot.models import Outbound, Poll, PollAnswer
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-polls-{kind}-"))
    log(f"\n== {kind} (work files in {workdir})")
    url = fresh_database(kind, workdir, args.admin_url, "polls") if kind == "sqlite" \
        else fresh_postgres(args.admin_url, DB_NAME)
    setup = insert_contacts(url, args.contacts, mix=True, processes=args.processes)
    log(f"setup: {args.contacts} contacts in {setup:.1f} s")
    fake = FakeProvider()
    try:
        rate = float(args.rate)
        runtime = make_runtime(url, workdir, fake.url, TELEGRAM_RATE=rate, TWILIO_SMS_RATE=rate,
                               TWILIO_WHATSAPP_RATE=rate, TWILIO_WHATSAPP_BROADCAST_TEMPLATE_SID="HX" + "0" * 32)
        with runtime.transaction() as session:
            poll = polls.create(runtime, session, title="bench", questions=QUESTIONS, actor="user:1")
            poll_id, broadcast_id = poll.id, poll.broadcast_id
            reach = polls.audience(runtime, session, poll)
            polls.approve(session, poll, "user:2", runtime.config)
            polls.send(session, poll, "user:2", runtime.config)
        log(f"audience: {reach['total']} ({reach['by_channel']})")
        fake.call("/reset", "POST")
        gc.collect()
        started = time.perf_counter()
        assert broadcast_runner._select(runtime, broadcast_id, "bench")
        select_seconds = time.perf_counter() - started
        broadcast_runner._release(runtime, "bench")
        started = time.perf_counter()
        outcome = broadcast_runner.run(runtime)
        send_seconds = time.perf_counter() - started
        stats = fake.call("/stats")
        with runtime.transaction() as session:
            statuses = dict(session.execute(select(Outbound.status, func.count()).where(
                Outbound.broadcast_id == broadcast_id).group_by(Outbound.status)).all())
            status = polls.refresh(session, session.get(Poll, poll_id))
        sent = len(stats["times"])
        log(f"question 1: {statuses.get('sent', 0)} rows sent, selection {select_seconds:.1f} s, sending "
            f"{send_seconds:.1f} s ({sent / send_seconds:.0f}/s at a limit of {rate:g}/s per channel; {outcome}), "
            f"fake received {sent} ({len(set(stats['recipients']))} distinct); poll {status}")

        people = _recipients(runtime, broadcast_id, args.answers + 2000)
        waves = _answer_waves(people[:args.answers], args.answers)
        gc.collect()
        rss_before = _status_kb("VmRSS") / 1024
        hwm = reset_peak()
        with RssSampler() as sampler:
            started, cpu = time.perf_counter(), time.process_time()
            answered = _run_answers(runtime, waves, args.threads, "answer")
            answer_seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        rss_peak = max(_status_kb("VmHWM") if hwm else 0, sampler.peak) / 1024
        log(f"answers: {answered} in {answer_seconds:.1f} s = {answered / answer_seconds:.0f} answers/s "
            f"({args.threads} thread(s), {1000 * cpu / answered:.2f} ms CPU each); RSS {rss_before:.0f} MB before, "
            f"peak {rss_peak:.0f} MB")
        extra = [(c, a, WORDS[lang][0]) for c, a, lang in people[args.answers:args.answers + 2000]]
        tracemalloc.start()
        _run_answers(runtime, [extra], 1, "traced")
        _, traced = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        log(f"tracemalloc peak over {len(extra)} further answers: {traced / 2**20:.1f} MB")

        with runtime.transaction() as session:
            poll = session.get(Poll, poll_id)
            started = time.perf_counter()
            result = poll_results.results(runtime, session, poll)
            by_area = poll_results.breakdown(runtime, session, poll, "area")
            results_seconds = time.perf_counter() - started
            stored = session.scalar(select(func.count()).select_from(PollAnswer))
        counted = sum(q["answered"] for q in result["questions"])
        log(f"results + breakdown by camp: {results_seconds * 1000:.0f} ms; {counted} answers counted "
            f"({stored} rows), {len(by_area['questions'][0]['rows'])} camps")
        runtime.dispose()
    finally:
        fake.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return {"database": kind, "contacts": args.contacts, "setup_seconds": setup, "audience": reach["total"],
            "select_seconds": select_seconds, "send_seconds": send_seconds, "sent": sent,
            "distinct": len(set(stats["recipients"])), "rows_sent": statuses.get("sent", 0), "rate": rate,
            "answers": answered, "answer_seconds": answer_seconds, "answers_per_second": answered / answer_seconds,
            "cpu_ms_per_answer": 1000 * cpu / answered, "threads": args.threads, "rss_before_mb": rss_before,
            "rss_peak_mb": rss_peak, "tracemalloc_mb": traced / 2**20, "results_ms": results_seconds * 1000,
            "counted": counted, "stored": stored, "expected": sum(map(len, waves)) + len(extra)}


def verdict(result: dict) -> list[str]:
    missed = []
    if result["sent"] != result["audience"] or result["distinct"] != result["audience"]:
        missed.append(f"{result['sent']} sent, {result['distinct']} distinct, for {result['audience']} people")
    if result["stored"] != result["expected"] or result["counted"] != result["expected"]:
        missed.append(f"{result['stored']} answers stored, {result['counted']} counted, {result['expected']} given")
    return missed


def report(results: list[dict]) -> None:
    log("\n| database | contacts | audience | selection s | send s (limit/s) | answers | answer s | answers/s "
        "| threads | RSS peak MB | tracemalloc MB | results ms |")
    log("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        log(f"| {r['database']} | {r['contacts']} | {r['audience']} | {r['select_seconds']:.1f} | "
            f"{r['send_seconds']:.1f} ({r['rate']:g}) | {r['answers']} | {r['answer_seconds']:.1f} | "
            f"{r['answers_per_second']:.0f} | {r['threads']} | {r['rss_peak_mb']:.0f} | {r['tracemalloc_mb']:.1f} | "
            f"{r['results_ms']:.0f} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--admin-url", default=os.environ.get("BENCH_ADMIN_URL",
                                                              "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--answers", type=int, default=30_000)
    parser.add_argument("--rate", type=float, default=2000.0, help="messages/s per channel for the send")
    parser.add_argument("--threads", type=int, default=1, help="threads answering at once")
    parser.add_argument("--processes", type=int, default=2, help="processes for the setup")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    import logging
    logging.basicConfig(level=logging.WARNING)
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    return conclude([bench_database(kind, args) for kind in kinds], report, verdict, args.json, log)


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    sys.exit(main())
