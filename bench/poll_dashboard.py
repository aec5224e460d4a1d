"""Poll dashboard benchmark: how long the results page, its live JSON and the exports take for a big poll.

    python bench/poll_dashboard.py                        # SQLite, 30,000 people answered
    python bench/poll_dashboard.py --people 100000
    python bench/poll_dashboard.py --postgres postgresql://postgres@127.0.0.1:5432/postgres

A fresh database at the newest migration; N synthetic contacts spread over every camp, three channels and
three languages; a two-question poll made and approved through bot.polls, question 1 "received" by all
(the carrier's outbound rows marked sent); everyone answers question 1 (three options), a third also
question 2 (a free answer, encrypted as the dialogue stores it). Then, through Flask's test client as a
signed-in officer, the real routes: the results page, results.json (a full recount and drawing), results.json
with the page's stamp while nothing changed (what an open page asks every 3 s), the first page of free
answers (first and last page, a search for a word every free answer has and one for a number only a few
have), and the exports: the per-respondent CSV and JSON read piece by piece as a browser reads them, with
how far the RSS rose during each (VmHWM reset before). Prints the median of several calls; no target.
"""
import argparse
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def peak_rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def reset_peak_rss() -> bool:
    """Start VmHWM again from the current RSS (Linux: 5 > /proc/self/clear_refs), so the peak of one step
    shows; False where the kernel does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def download(client, url: str) -> tuple[float, int, float]:
    """Seconds, bytes and how far RSS rose above where it was (MB) for one export read as a browser
    reads it: piece by piece, nothing kept."""
    import gc
    gc.collect()
    before = rss_mb()
    reset_peak_rss()
    start = time.perf_counter()
    response = client.get(url, buffered=False)
    assert response.status_code == 200, response.status_code
    size = sum(len(piece) for piece in response.iter_encoded())
    response.close()
    return time.perf_counter() - start, size, peak_rss_mb() - before


def timed(call, times: int) -> tuple[float, object]:
    """Median milliseconds of `times` calls, and the last result."""
    spent, result = [], None
    for _ in range(times):
        start = time.perf_counter()
        result = call()
        spent.append((time.perf_counter() - start) * 1000)
    return statistics.median(spent), result


def fill(runtime, people: int, seed: int = 7) -> int:
    """Contacts, a sent and approved poll, answers: all in bulk (the answering path is bench/polls.py's)."""
    from sqlalchemy import insert

    from bot import polls
    from bot.models import Contact, Outbound, Poll, PollAnswer, utcnow
    rng = random.Random(seed)
    areas = [a["id"] for gov in runtime.content.get().areas for a in gov.get("areas") or []]
    channels, languages = ("sms", "telegram", "whatsapp"), ("ar", "ckb", "kmr")
    questions = [{"kind": "choice", "text": {"ar": "هل استلمت عائلتك حقيبة الشتاء؟", "ckb": "ئایا جانتای زستانیت وەرگرت؟",
                                             "kmr": "تە جانتایا زڤستانێ وەرگرت؟"},
                  "options": [{"ar": "نعم", "ckb": "بەڵێ", "kmr": "ئەرێ"}, {"ar": "لا", "ckb": "نەخێر", "kmr": "نەخێر"},
                              {"ar": "جزئيًا", "ckb": "بەشێکی", "kmr": "پشکەک"}]},
                 {"kind": "free", "text": {"ar": "ما الذي ينقصكم؟", "ckb": "پێویستیتان بە چییە؟", "kmr": "پێدڤیا هەوە ب چییە؟"},
                  "options": []}]
    with runtime.transaction() as db:
        poll = polls.create(runtime, db, title="Winter kits", questions=questions, actor="user:1")
        polls.approve(db, poll, "user:2", runtime.config)
        poll_id, carrier_id = poll.id, poll.broadcast_id
    now = utcnow()
    for start in range(0, people, 5000):
        rows = range(start, min(people, start + 5000))
        people_rows = [{"id": n + 1, "channel": channels[n % 3], "address_hash": secrets.token_hex(16),
                        "address_enc": "-", "language": languages[(n // 3) % 3], "subscribed": True,
                        "opted_out": False, "area": rng.choice(areas), "topics": "", "state": "browsing",
                        "created_at": now} for n in rows]
        with runtime.transaction() as db:
            db.execute(insert(Contact), people_rows)
            db.execute(insert(Outbound), [{"contact_id": r["id"], "channel": r["channel"], "purpose": "broadcast",
                                           "status": "sent", "broadcast_id": carrier_id, "language": r["language"],
                                           "attempts": 1, "created_at": now, "updated_at": now, "sent_at": now}
                                          for r in people_rows])
            answers = [{"poll_id": poll_id, "question": 0, "contact_id": r["id"], "option": rng.choice((1, 1, 2, 3)),
                        "skipped": False, "language": r["language"], "channel": r["channel"], "area": r["area"],
                        "changes": 0, "created_at": now, "updated_at": now} for r in people_rows]
            answers += [{"poll_id": poll_id, "question": 1, "contact_id": r["id"], "option": None,
                         "text_enc": runtime.vault.encrypt(f"بطانيات ونفط للمدفأة {r['id']}"), "skipped": False,
                         "language": r["language"], "channel": r["channel"], "area": r["area"], "changes": 0,
                         "created_at": now, "updated_at": now} for r in people_rows if r["id"] % 3 == 0]
            db.execute(insert(PollAnswer), answers)
    with runtime.transaction() as db:
        db.get(Poll, poll_id).status = "open"
    return poll_id


def run(database_url: str, people: int, workdir: Path) -> dict:
    from bot import create_app, users
    from bot.models import User
    app = create_app({"INSTANCE_PATH": str(workdir / "instance"), "TESTING": True,
                      "ENVIRON": {"DATABASE_URL": database_url, "AUTO_MIGRATE": "1", "SECRET_KEY": "bench",
                                  "DATA_KEY": "YmVuY2gtZGF0YS1rZXktYmVuY2gtZGF0YS1rZXktMTI="}})
    runtime = app.extensions["bot"]
    start = time.perf_counter()
    poll_id = fill(runtime, people)
    setup = time.perf_counter() - start
    with runtime.transaction() as db:
        officer = users.create(db, "bench@agency.example", "Bench", "correct horse battery", "officer")
        db.flush()
        user_id, stamp = officer.id, users.session_stamp(db.get(User, officer.id))
    client = app.test_client()
    with client.session_transaction() as session:
        session["user_id"], session["pw"], session["ui_lang"] = user_id, stamp, "en"
    base = f"/dashboard/polls/{poll_id}"
    page_ms, page = timed(lambda: client.get(f"{base}/results"), 3)
    assert page.status_code == 200, page.status_code
    full_ms, full = timed(lambda: client.get(f"{base}/results.json"), 3)
    data = full.get_json()
    assert data["received"] == people and data["questions"][0]["answered"] == people, data["received"]
    quiet_ms, quiet = timed(lambda: client.get(f"{base}/results.json", query_string={"stamp": data["stamp"]}), 20)
    assert quiet.get_json().get("unchanged") is True
    answers_ms, answers = timed(lambda: client.get(f"{base}/answers"), 3)
    assert answers.status_code == 200
    free = people // 3
    last_page = max(1, -(-free // 50))
    deep_ms, deep = timed(lambda: client.get(f"{base}/answers", query_string={"page": last_page}), 3)
    assert deep.status_code == 200
    common_ms, common = timed(lambda: client.get(f"{base}/answers", query_string={"q": "بطانيات"}), 3)
    rare_ms, rare = timed(lambda: client.get(f"{base}/answers", query_string={"q": "12345"}), 3)
    assert common.status_code == 200 and rare.status_code == 200
    peak_before_exports = peak_rss_mb()
    csv_s, csv_bytes, csv_rise = download(client, f"{base}/export/respondents.csv")
    json_s, json_bytes, json_rise = download(client, f"{base}/export/respondents.json")
    aggregate_ms, aggregate = timed(lambda: client.get(f"{base}/export/aggregate.csv"), 1)
    runtime.dispose()
    return {"database": database_url.split(":", 1)[0], "people": people, "answers": people + free,
            "free_answers": free,
            "setup_s": round(setup, 1), "results_page_ms": round(page_ms), "results_json_full_ms": round(full_ms),
            "results_json_unchanged_ms": round(quiet_ms, 1), "free_answers_page_ms": round(answers_ms),
            "free_answers_last_page_ms": round(deep_ms), "free_answers_search_common_ms": round(common_ms),
            "free_answers_search_rare_ms": round(rare_ms),
            "export_respondents_csv_s": round(csv_s, 2), "export_respondents_csv_kb": csv_bytes // 1024,
            "export_respondents_csv_rss_rise_mb": round(csv_rise, 1),
            "export_respondents_json_s": round(json_s, 2), "export_respondents_json_kb": json_bytes // 1024,
            "export_respondents_json_rss_rise_mb": round(json_rise, 1),
            "export_aggregate_ms": round(aggregate_ms), "results_json_kb": len(full.data) // 1024,
            "peak_rss_mb_before_exports": round(peak_before_exports), "peak_rss_mb_in_exports": round(peak_rss_mb())}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=30_000)
    parser.add_argument("--postgres", help="an admin URL: a database --name is made there")
    parser.add_argument("--name", default="bench_poll_dashboard", help="the PostgreSQL database (dropped first)")
    args = parser.parse_args()
    os.environ.setdefault("HUEY_IMMEDIATE", "1")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        if args.postgres:
            from bench.common import fresh_postgres
            url = fresh_postgres(args.postgres, args.name)
        else:
            url = f"sqlite:///{workdir / 'bench.sqlite3'}"
        figures = run(url, args.people, workdir)
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
