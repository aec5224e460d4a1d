"""CPU per inbound request, in one process, by kind of request: the bench's mix without gunicorn or wrk.

    python bench/profile_inbound.py                      # ms per request: first message, menu choice, question
    python bench/profile_inbound.py --pyinstrument out.html   # and where the time goes (pip install pyinstrument)
    python bench/profile_inbound.py --database postgresql     # against bench_inbound (recreated)

Builds the bot as bench/inbound.py configures it (signed Twilio posts, Telegram updates with the secret
header, from people writing Arabic, Sorani and Badini) and posts the same request lines through Flask's
test client, one at a time, timing each. The test client adds a little of its own (building the WSGI
environ); the comparison before/after is what matters.
"""
import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import inbound as bench  # noqa: E402

STEPS = ("first", "menu", "question")


def build_app(kind: str, workdir: Path, admin_url: str):
    url = bench.prepare_database(kind, workdir, admin_url)
    unused = "http://127.0.0.1:9"
    os.environ.update(bench.bot_env(url, workdir, unused), LOG_LEVEL=os.environ.get("LOG_LEVEL", "WARNING"))
    os.environ.pop("REDIS_URL", None)
    os.environ.pop("HUEY_IMMEDIATE", None)
    from bot import create_app
    return create_app()


def requests(contacts: int, workdir: Path, first: int = 0) -> list[tuple]:
    path = workdir / f"requests-{first}.txt"
    bench.make_requests(path, contacts, first_contact=first, seed=first)
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        route, header, value, mimetype, body = line.split("\t", 4)
        lines.append((route, {header: value}, mimetype, body.encode("utf-8")))
    # make_requests writes groups of 100 people: step 0 for all, then step 1, then step 2
    steps = []
    group = 100
    for start in range(0, contacts, group):
        size = min(group, contacts - start)
        steps += [0] * size + [1] * size + [2] * size
    return [(step, *line) for step, line in zip(steps, lines)]


def run(client, reqs) -> dict:
    times: dict = {s: [] for s in range(3)}
    for step, route, headers, mimetype, body in reqs:
        started = time.perf_counter()
        response = client.post(route, data=body, headers=headers, content_type=mimetype)
        times[step].append(time.perf_counter() - started)
        if response.status_code != 200:
            raise SystemExit(f"{route}: {response.status_code} {response.get_data(as_text=True)[:300]}")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--admin-url", default=os.environ.get("BENCH_ADMIN_URL",
                                                              "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--contacts", type=int, default=600)
    parser.add_argument("--pyinstrument", type=Path, help="write a pyinstrument HTML profile here")
    parser.add_argument("--text", action="store_true", help="print the pyinstrument tree as text too")
    parser.add_argument("--only", choices=STEPS, help="profile only this kind of request (after the others ran)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="profile-inbound-"))
    app = build_app(args.database, workdir, args.admin_url)
    client = app.test_client()
    run(client, requests(100, workdir, first=10_000_000))          # warm up
    reqs = requests(args.contacts, workdir)
    if args.only:   # the earlier steps first, unprofiled, so each person is where the step expects
        step = STEPS.index(args.only)
        run(client, [r for r in reqs if r[0] < step])
        reqs = [r for r in reqs if r[0] == step]
    profiler = None
    if args.pyinstrument:
        from pyinstrument import Profiler
        profiler = Profiler(interval=0.0005)
        profiler.start()
    started = time.perf_counter()
    cpu_started = time.process_time()
    times = run(client, reqs)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    if profiler:
        profiler.stop()
        args.pyinstrument.write_text(profiler.output_html())
        if args.text:
            print(profiler.output_text(unicode=True, color=False, show_all=False))
    total = sum(len(t) for t in times.values())
    print(f"{args.database}: {total} requests, {wall * 1000 / total:.2f} ms wall and {cpu * 1000 / total:.2f} ms "
          f"CPU per request ({total / wall:.0f}/s in one thread)")
    for step, name in enumerate(STEPS):
        t = sorted(times[step])
        if not t:
            continue
        print(f"  {name:9s} mean {statistics.mean(t) * 1000:6.2f} ms  p50 {t[len(t) // 2] * 1000:6.2f}  "
              f"p99 {t[int(len(t) * 0.99)] * 1000:6.2f}")


if __name__ == "__main__":
    main()
