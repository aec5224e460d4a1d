"""The task queue: SqliteHuey in instance/ by default, RedisHuey when REDIS_URL is set.

Run the consumer with `huey_consumer bot.queue.huey` (the Procfile's worker).
Tasks carry row ids (the database row is the message, the task a courier), or with INBOUND_MODE=queue
a message sealed with DATA_KEY (see intake): nothing in the queue is readable without the key.
Beside the queue, in the same storage, the waiting room keeps each person's acknowledged messages in
the order they arrived, so the workers handle them in that order (see WaitingRoom).
"""
import itertools
import logging
import sqlite3
import threading
import time

from huey import RedisHuey, SqliteHuey, crontab
from huey.signals import SIGNAL_INTERRUPTED
from huey.storage import RedisStorage, SqliteStorage
from huey.utils import normalize_time

from . import config as config_module
from . import runtime as runtime_module

log = logging.getLogger(__name__)


def _make_huey():
    settings = config_module.load(runtime_module.instance_path())
    immediate = settings["HUEY_IMMEDIATE"]
    # results=False: nothing reads a task's return value, and Huey would keep every one (a string per
    # message sent) in Redis or the queue file for ever.
    if settings.get("REDIS_URL"):
        return RedisHuey("bot", url=settings["REDIS_URL"], immediate=immediate, results=False)
    return _sqlite_huey(settings["HUEY_SQLITE_PATH"], immediate)


def _sqlite_huey(path: str, immediate: bool) -> SqliteHuey:
    """SqliteHuey sets WAL mode as it opens the file, and SQLite refuses that at once, without waiting,
    while another process (the consumer starting beside the web) holds the file: a process importing
    this module then died with "database is locked". A few tries, a quarter second apart."""
    for attempt in range(40):
        try:
            return SqliteHuey("bot", filename=path, immediate=immediate, results=False)
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == 39:
                raise
            time.sleep(0.25)


huey = _make_huey()


@huey.task(retries=0, context=False)
def send_outbound_task(outbound_id: int) -> str:
    from .outbound import send_one
    return send_one(runtime_module.default(), outbound_id)


@huey.task(retries=0, context=False)
def receive_task(sealed: str) -> str:
    """A message the webhook acknowledged at once (INBOUND_MODE=queue, or inline mode while the database
    was unavailable): sealed, see intake. It waits for the database as long as an outage lasts, and a
    fault of another kind ends in dead_letters: never dropped. A second run is a duplicate (the provider's id)."""
    from .intake import process
    return process(runtime_module.default(), sealed)


@huey.task(retries=0, context=False)
def call_message_task(sealed: str, room: str | None = None) -> str:
    """A caller's recorded message taken while the database was down (see phone.take_later): it waits out
    the outage, then opens the case and sends its code by SMS; a fault of another kind ends in dead_letters."""
    from .phone import take_later
    return take_later(runtime_module.default(), sealed, room)


@huey.signal(SIGNAL_INTERRUPTED)
def run_again_after_restart(signal, task, *args, **kwargs) -> None:
    """The consumer was stopped (SIGTERM: a deploy, a restart) while this task ran, and its threads die with
    it. An inbound message exists nowhere else (the provider had its 200 long ago), so it is queued again for
    the next consumer; if the first run got as far as storing it, the rerun is a duplicate. Put straight into
    the schedule, a few seconds ahead: anything pushed onto the queue (schedule() included, which goes through
    it) is taken by this consumer's idle threads, still waiting in Redis BRPOP as it exits, and lost with them.
    Sends need nothing: their rows are in the database and the sweep finds them."""
    if isinstance(task, (receive_task.task_class, call_message_task.task_class)):
        log.warning("an inbound message was being handled as the worker stopped: queued again")
        task.eta = normalize_time(delay=5, utc=huey.utc)
        huey.add_schedule(task)


@huey.task(retries=10, retry_delay=30, context=False)
def erasure_notice_task(sealed: str) -> str:
    """"Your data is deleted", to an address no row holds any more (INBOUND_MODE=queue): sealed, and
    retried for about five minutes while the provider cannot be reached."""
    from .intake import send_erasure_notice
    return send_erasure_notice(runtime_module.default(), sealed)


@huey.periodic_task(crontab(minute="*/2"))
def sweep_task() -> int:
    from .outbound import sweep
    return sweep(runtime_module.default())


@huey.periodic_task(crontab(minute="*/5"))
def rescue_waiting_task() -> int:
    """Messages whose task died with a SIGKILLed worker (see intake.rescue_waiting)."""
    from .intake import rescue_waiting
    return rescue_waiting(runtime_module.default())


@huey.periodic_task(crontab(minute="17", hour="*/6"))
def retention_task() -> dict:
    from .retention import purge
    return purge(runtime_module.default())


@huey.task(retries=0, context=False)
def broadcast_run_task() -> str:
    """Send what is 'sending'; a second copy finds the lease taken and returns at once."""
    from .broadcast_runner import run
    return run(runtime_module.default())


@huey.periodic_task(crontab(minute="*"))
def broadcast_tick_task() -> str:
    """Scheduled broadcasts whose time has come, and broadcasts whose runner died."""
    from .broadcast_runner import tick
    return tick(runtime_module.default())


@huey.on_startup()
def resume_broadcasts() -> None:
    """A restarted worker picks up an interrupted broadcast once the dead runner's lease runs out."""
    from .broadcast_runner import lease_free_at, lease_length
    try:
        runtime = runtime_module.default()
        until = lease_free_at(runtime)
    except Exception:   # database not reachable yet: the periodic tick will try again
        log.exception("could not check for interrupted broadcasts")
        return
    from .cases import as_aware
    from .models import utcnow
    delay = max(0.0, (as_aware(until) - utcnow()).total_seconds() + 1) if until else 0
    broadcast_run_task.schedule(delay=min(delay, lease_length(runtime).total_seconds() + 1))


class WaitingRoom:
    """One person's acknowledged inbound messages, in the order the webhook accepted them.

    The webhook puts a sealed message here (`arrive`, which stamps it with the next number of one
    counter) just before it queues the task; the worker takes it out (`leave`) once the message is
    stored. A worker whose message finds an earlier one of the same person still waiting handles that
    one first (intake), so two messages from one person are never handled out of order, whichever
    worker thread or process takes which task, while different people are handled in parallel.
    It lives in the queue's own storage (Redis, SqliteHuey's file, or memory in HUEY_IMMEDIATE): the
    webhook still needs nothing but the queue, and `person` is the keyed address hash, not the address.
    """

    def arrive(self, person: str, sealed: str) -> None:
        raise NotImplementedError

    def waiting(self, person: str) -> list[str]:
        """The person's sealed messages not yet handled, first arrived first."""
        raise NotImplementedError

    def leave(self, person: str, sealed: str) -> None:
        raise NotImplementedError

    def stale(self, before: float) -> list[tuple[str, str]]:
        """(person, their last waiting message) for each person whose last message arrived before `before`
        (a time.time()) and still waits: its task was lost (a worker killed with SIGKILL takes its task
        with it, and no signal handler runs). People whose room is empty are forgotten here."""
        raise NotImplementedError

    def anyone(self) -> bool:
        """Might anybody's message be waiting? (Cheap; True may linger until `stale` forgets a person.)"""
        raise NotImplementedError


class RedisWaitingRoom(WaitingRoom):
    """A sorted set per person (score: the arrival number, member: the sealed message), kept a week
    after the person's last message; the numbers come from one counter, INCR, in the same script."""
    KEEP_SECONDS = 7 * 86400
    _ARRIVE = """
local n = redis.call('INCR', KEYS[1])
redis.call('ZADD', KEYS[2], n, ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[4])
return n
"""
    # a person leaves the list of rooms only if no message arrived since it was read, and the room is empty
    _FORGET = """
local at = redis.call('ZSCORE', KEYS[1], ARGV[1])
if at and tonumber(at) <= tonumber(ARGV[2]) and redis.call('ZCARD', KEYS[2]) == 0 then
  redis.call('ZREM', KEYS[1], ARGV[1])
end
return 0
"""

    def __init__(self, storage: RedisStorage):
        self.redis = storage.conn
        self.prefix = f"bot.inbound.{storage.name}"
        self._arrive = self.redis.register_script(self._ARRIVE)
        self._forget = self.redis.register_script(self._FORGET)
        self._people = f"{self.prefix}.people"       # person -> time of their last arrival

    def _key(self, person: str) -> str:
        return f"{self.prefix}.waiting.{person}"

    def arrive(self, person: str, sealed: str) -> None:
        self._arrive(keys=[f"{self.prefix}.arrivals", self._key(person), self._people],
                     args=[sealed, self.KEEP_SECONDS, time.time(), person])

    def waiting(self, person: str) -> list[str]:
        return [m.decode() if isinstance(m, bytes) else m for m in self.redis.zrange(self._key(person), 0, -1)]

    def leave(self, person: str, sealed: str) -> None:
        self.redis.zrem(self._key(person), sealed)

    def anyone(self) -> bool:
        return bool(self.redis.zcard(self._people))

    def stale(self, before: float) -> list[tuple[str, str]]:
        found = []
        for raw in self.redis.zrangebyscore(self._people, "-inf", before, start=0, num=1000):
            person = raw.decode() if isinstance(raw, bytes) else raw
            waiting = self.waiting(person)
            if waiting:
                found.append((person, waiting[-1]))
            else:
                self._forget(keys=[self._people, self._key(person)], args=[person, before])
        return found


class SqliteWaitingRoom(WaitingRoom):
    """A table in SqliteHuey's file; AUTOINCREMENT numbers the arrivals (never reused)."""

    def __init__(self, storage: SqliteStorage):
        self.storage = storage
        storage.sql("create table if not exists bot_inbound_waiting (stamp integer primary key autoincrement, "
                    "person text not null, sealed text not null)", commit=True)
        storage.sql("create index if not exists bot_inbound_waiting_person on bot_inbound_waiting (person, stamp)",
                    commit=True)
        columns = [row[1] for row in storage.sql("pragma table_info(bot_inbound_waiting)", results=True)]
        if "arrived" not in columns:        # a queue file from before the rescue
            storage.sql("alter table bot_inbound_waiting add column arrived real not null default 0", commit=True)

    def arrive(self, person: str, sealed: str) -> None:
        # one statement in autocommit: atomic, and no BEGIN EXCLUSIVE that would hold the queue's dequeues
        self.storage.sql("insert into bot_inbound_waiting (person, sealed, arrived) values (?, ?, ?)",
                         (person, sealed, time.time()))

    def waiting(self, person: str) -> list[str]:
        rows = self.storage.sql("select sealed from bot_inbound_waiting where person = ? order by stamp",
                                (person,), results=True)
        return [row[0] for row in rows]

    def leave(self, person: str, sealed: str) -> None:
        self.storage.sql("delete from bot_inbound_waiting where person = ? and sealed = ?", (person, sealed))

    def anyone(self) -> bool:
        return bool(self.storage.sql("select 1 from bot_inbound_waiting limit 1", results=True))

    def stale(self, before: float) -> list[tuple[str, str]]:
        rows = self.storage.sql(
            "select w.person, w.sealed from bot_inbound_waiting w join (select person, max(stamp) as last "
            "from bot_inbound_waiting group by person having max(arrived) < ?) p "
            "on w.person = p.person and w.stamp = p.last limit 1000", (before,), results=True)
        return [(row[0], row[1]) for row in rows]


class MemoryWaitingRoom(WaitingRoom):
    """HUEY_IMMEDIATE (tests): tasks run in the caller, one process."""

    def __init__(self):
        self._lock, self._stamps, self._rooms = threading.Lock(), itertools.count(1), {}

    def arrive(self, person: str, sealed: str) -> None:
        with self._lock:
            self._rooms.setdefault(person, []).append((next(self._stamps), sealed, time.time()))

    def waiting(self, person: str) -> list[str]:
        with self._lock:
            return [entry[1] for entry in sorted(self._rooms.get(person, []))]

    def stale(self, before: float) -> list[tuple[str, str]]:
        with self._lock:
            return [(person, max(room)[1]) for person, room in self._rooms.items()
                    if room and max(entry[2] for entry in room) < before]

    def anyone(self) -> bool:
        with self._lock:
            return any(self._rooms.values())

    def leave(self, person: str, sealed: str) -> None:
        with self._lock:
            left = [entry for entry in self._rooms.get(person, []) if entry[1] != sealed]
            if left:
                self._rooms[person] = left
            else:
                self._rooms.pop(person, None)


_ROOM_BUILDING = threading.Lock()


def waiting_room() -> WaitingRoom:
    """The waiting room in the queue's current storage (HUEY_IMMEDIATE switches it to memory)."""
    storage = huey.storage
    room = getattr(storage, "_bot_waiting_room", None)
    if room is None:
        with _ROOM_BUILDING:
            room = getattr(storage, "_bot_waiting_room", None)
            if room is None:
                if isinstance(storage, RedisStorage):
                    room = RedisWaitingRoom(storage)
                elif isinstance(storage, SqliteStorage):
                    room = SqliteWaitingRoom(storage)
                else:
                    room = MemoryWaitingRoom()
                storage._bot_waiting_room = room
    return room


def waiting() -> tuple[int, int]:
    """(tasks waiting for a worker, tasks scheduled for later): what `queue status`, /metrics and doctor show."""
    return huey.storage.queue_size(), huey.storage.schedule_size()


def start_embedded_worker(workers: int = 2):
    """`flask run` on a laptop: the consumer's threads inside the web process, so answers and
    broadcasts go out with no second command. Production runs the Procfile's `worker` instead."""
    consumer = huey.create_consumer(workers=workers, worker_type="thread", periodic=True)
    consumer.scheduler.start()
    for _, thread in consumer.worker_threads:
        thread.start()
    log.info("queue worker running inside the web process (%s threads); set EMBEDDED_WORKER=0 "
             "when a separate `huey_consumer bot.queue.huey` runs", workers)
    return consumer
