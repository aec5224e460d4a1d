"""A fast loopback fake of Telegram's sendMessage and Twilio's Messages.json, for bench/broadcast.py.

    python bench/fake_provider.py [--port 0]      # prints "listening http://127.0.0.1:PORT", then serves

stdlib asyncio only (one event loop, HTTP/1.1 keep-alive, no body parsing beyond the recipient),
so it answers thousands of requests a second on one core and never is the bottleneck.
Each message's arrival time (time.monotonic() once the whole request is read: the moment the
provider "has" it) is kept; GET /stats answers them as JSON with the recipients, POST /reset forgets them.
CLOCK_MONOTONIC is system-wide on Linux, so the times compare with the benchmark's own.
"""
import argparse
import asyncio
import json
import re
import sys
import time
from itertools import count

TIMES: list[float] = []
RECIPIENTS: list[str] = []
IDS = count(1000)
CHAT_ID = re.compile(rb"(?:^|&|\")chat_id(?:=|\"\s*:\s*\"?)(-?[0-9A-Za-z_@]+)")
TO = re.compile(rb"(?:^|&)To=([^&]*)")


def _answer(status: str, payload: bytes, keep_alive: bool) -> bytes:
    head = (f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
            f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n")
    return head.encode() + payload


def _route(method: str, path: str, body: bytes) -> tuple[str, bytes]:
    now = time.monotonic()
    if path.startswith("/bot"):
        name = path.rsplit("/", 1)[-1]
        if name in ("sendMessage", "sendPhoto"):
            TIMES.append(now)
            found = CHAT_ID.search(body)
            RECIPIENTS.append("tg:" + (found.group(1).decode() if found else "?"))
            message_id = next(IDS)
            result = {"message_id": message_id, "date": int(time.time()),
                      "chat": {"id": int(found.group(1)) if found and found.group(1).lstrip(b"-").isdigit() else 0,
                               "type": "private"}, "text": ""}
            return "200 OK", json.dumps({"ok": True, "result": result}).encode()
        if name == "getMe":
            return "200 OK", b'{"ok":true,"result":{"id":7000000001,"is_bot":true,"first_name":"Bench",' \
                             b'"username":"bench_bot"}}'
        return "200 OK", b'{"ok":true,"result":true}'
    if path.startswith("/2010-04-01/Accounts/") and path.endswith("/Messages.json"):
        TIMES.append(now)
        found = TO.search(body)
        RECIPIENTS.append("tw:" + (found.group(1).decode() if found else "?"))
        sid = f"SMbench{next(IDS):027d}"
        return "201 Created", json.dumps({"sid": sid, "status": "queued", "num_segments": "1"}).encode()
    if path == "/stats":
        return "200 OK", json.dumps({"count": len(TIMES), "times": TIMES, "recipients": RECIPIENTS}).encode()
    if path == "/reset" and method == "POST":
        TIMES.clear()
        RECIPIENTS.clear()
        return "200 OK", b'{"ok":true}'
    return "404 Not Found", b'{"error":"unknown path"}'


async def _connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            lines = head.decode("latin-1").split("\r\n")
            method, path, version = (lines[0].split(" ") + ["", "", ""])[:3]
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    key, _, value = line.partition(":")
                    headers[key.strip().lower()] = value.strip()
            length = int(headers.get("content-length") or 0)
            body = await reader.readexactly(length) if length else b""
            keep_alive = headers.get("connection", "").lower() != "close" and version == "HTTP/1.1"
            status, payload = _route(method, path.split("?", 1)[0], body)
            writer.write(_answer(status, payload, keep_alive))
            await writer.drain()
            if not keep_alive:
                return
    except (asyncio.IncompleteReadError, ConnectionError):
        return
    finally:
        writer.close()


async def main(port: int) -> None:
    server = await asyncio.start_server(_connection, "127.0.0.1", port, backlog=1024)
    print(f"listening http://127.0.0.1:{server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0)
    try:
        asyncio.run(main(parser.parse_args().port))
    except KeyboardInterrupt:
        sys.exit(0)
