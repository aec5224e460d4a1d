"""How close any Flask webhook can come to the bare endpoint on this machine: the ceiling for the
throughput target of bench/inbound.py.

    python bench/ceiling.py                  # 10 s per run
    python bench/ceiling.py --duration 20 --json ceiling.json

Under the Procfile's web line, one after the other, the same wrk load (bench/requests.lua, the signed posts
and updates of bench/inbound.py): the bare app (bench/bare_app.py); check_app (reads and checks each post:
Twilio's signature, Telegram's secret and JSON, nothing else; bench/ceiling_app.py); store_app (the same plus
one Redis LPUSH before answering); and the bot itself with INBOUND_MODE=queue and no worker running (its
webhook alone: check, seal, hand to Huey). Prints requests/s and the share of the bare app's.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench import inbound  # noqa: E402

APPS = [("bare", "bench.bare_app:create_app()"), ("check", "bench.ceiling_app:check_app()"),
        ("store", "bench.ceiling_app:store_app()"), ("bot webhook (queue mode, no worker)", "bot:create_app()")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--contacts", type=int, default=20000)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12", help="emptied before and after")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: `apt-get install -y wrk`")
    import redis
    redis.Redis.from_url(args.redis_url).flushdb()
    workdir = Path(tempfile.mkdtemp(prefix="bench-ceiling-"))
    url = inbound.prepare_database("sqlite", workdir, "")
    # no worker runs: nothing is sent, the provider URLs point at an unused port
    env = dict(os.environ, **inbound.bot_env(url, workdir, f"http://127.0.0.1:{inbound.free_port()}"),
               INBOUND_MODE="queue", EMBEDDED_WORKER="0", REDIS_URL=args.redis_url, CEILING_REDIS_URL=args.redis_url)
    env.pop("HUEY_IMMEDIATE", None)
    env.setdefault("WEB_CONCURRENCY", "4")
    env.setdefault("WEB_THREADS", "4")
    requests = workdir / "requests.txt"
    inbound.make_requests(requests, args.contacts, first_contact=0, seed=0)
    inbound.log(f"gunicorn: {inbound.web_line()}  (WEB_CONCURRENCY={env['WEB_CONCURRENCY']}, "
                f"WEB_THREADS={env['WEB_THREADS']}); {os.cpu_count()} cores")
    results = []
    try:
        for name, spec in APPS:
            server = inbound.Server(name.split()[0], spec, env, workdir)
            try:
                server.wait_ready()
                inbound.wrk(server.url, requests, 3, args.connections, 2)
                run = inbound.wrk(server.url, requests, args.duration, args.connections, 2)
            finally:
                server.stop()
            results.append({"app": name, "rps": run["rps"], "p99_ms": run["p99_ms"], "errors": run["errors"]})
    finally:
        redis.Redis.from_url(args.redis_url).flushdb()
        shutil.rmtree(workdir, ignore_errors=True)
    bare = results[0]["rps"]
    inbound.log("\n| app | req/s | share of bare | p99 ms | errors |\n|---|---|---|---|---|")
    for r in results:
        inbound.log(f"| {r['app']} | {r['rps']:.0f} | {r['rps'] / bare:.0%} | {r['p99_ms']:.1f} | {r['errors']} |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
