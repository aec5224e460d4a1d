"""The database engine, transactions, insert-or-ignore, and migrations run through Alembic.

SQLite (the embedded default) gets WAL, a busy timeout and BEGIN IMMEDIATE, so
concurrent requests queue for the single writer instead of failing. PostgreSQL is
used as it is.
"""
import random
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, InvalidatePoolError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# How long a SQLite writer waits for the lock before the request gets its 503: under Twilio's 15 s webhook
# timeout and gunicorn's 30 s, so the provider hears "try again" instead of a dropped connection.
LOCK_WAIT = 10.0


def make_engine(url: str, autocommit: bool = False) -> Engine:
    """autocommit: for single statements that need no transaction around them (the send path's claim and
    outcome): no BEGIN and COMMIT round trips. Its own engine and pool: an autocommit setting on pooled
    connections shared with the transactional engine would be reset to pysqlite's implicit transactions."""
    options = {"isolation_level": "AUTOCOMMIT"} if autocommit else {}
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": LOCK_WAIT, "check_same_thread": False}, **options)
        _tune_sqlite(engine, begin_immediate=not autocommit)
        return engine
    # autocommit: the queue worker's threads and a broadcast's senders (BROADCAST_THREADS, 16) record outcomes
    engine = create_engine(url, pool_size=2 if autocommit else 5, max_overflow=18 if autocommit else 10, **options)
    _ping_when_idle(engine)
    return engine


# A pooled connection used less than this long ago is handed out without a ping.
PING_IDLE_SECONDS = 2.0


def _ping_when_idle(engine: Engine) -> None:
    """pool_pre_ping, but only for a connection that sat idle in the pool: under load every checkout
    paid one more round trip (SELECT 1) before the first statement. A connection that waited
    PING_IDLE_SECONDS or more is pinged as pre_ping would (a dead one is replaced, the pool renewed);
    one that worked a moment ago is not. Should the database go away in that moment, the first
    statement fails, SQLAlchemy renews the pool on the disconnect, and the webhook answers 503 so the
    provider retries."""
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection, record, _proxy):
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None or time.monotonic() - idle_since < PING_IDLE_SECONDS:
            return   # a fresh connection, or one that just worked
        try:
            alive = dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            if not dialect.is_disconnect(exc, dbapi_connection, None):
                raise
            alive = False
        if not alive:
            raise InvalidatePoolError("ping failed on a connection idle in the pool")


def _tune_sqlite(engine: Engine, begin_immediate: bool = True) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(LOCK_WAIT * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    if begin_immediate:
        @event.listens_for(engine, "begin")
        def _on_begin(connection):
            _begin_immediate(connection.connection.driver_connection)


def _begin_immediate(raw: sqlite3.Connection, timeout: float = LOCK_WAIT) -> None:
    """BEGIN IMMEDIATE, waiting for the write lock by polling every millisecond or so.

    SQLite's own busy handler backs off to 100 ms sleeps, so under load (several gunicorn workers and
    threads) the lock sits free while waiters sleep: throughput falls and p99 climbs to seconds. Polling
    hands the lock on within about a millisecond. busy_timeout is off for this one statement only.
    """
    deadline = time.monotonic() + timeout
    pause = 0.0005
    raw.execute("PRAGMA busy_timeout=0")
    try:
        while True:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise OperationalError("BEGIN IMMEDIATE", None, exc) from exc
                if time.monotonic() > deadline:
                    raise OperationalError("BEGIN IMMEDIATE", None, exc) from exc
            time.sleep(pause * (0.5 + random.random()))
            pause = min(pause * 1.5, 0.004)
    finally:
        raw.execute(f"PRAGMA busy_timeout={int(LOCK_WAIT * 1000)}")


# What an outage raises (server down or restarting, connection lost, SQLite's write lock held, the pool
# exhausted): the same work can succeed later. Anything else is a fault, and trying again will not help.
UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout)


def unavailable(exc: BaseException) -> bool:
    return isinstance(exc, UNAVAILABLE) or (isinstance(exc, DBAPIError) and exc.connection_invalidated)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: committed when the block ends, rolled back if it raises."""
    with factory() as session, session.begin():
        yield session


def insert_ignore(session: Session, model, values: dict, conflict: list[str]):
    """INSERT ... ON CONFLICT DO NOTHING, returning the new id or None: the race-free way to dedupe."""
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    statement = (module.insert(model).values(**values)
                 .on_conflict_do_nothing(index_elements=conflict).returning(model.id))
    return session.execute(statement).scalar_one_or_none()


def insert_many_ignore(session: Session, model, rows: list[dict], conflict: list[str]) -> int:
    """Many rows as INSERT ... ON CONFLICT DO NOTHING RETURNING id; returns how many were new.

    The rows go as executemany parameters of one cached statement (SQLAlchemy batches them into
    multi-row VALUES itself, "insertmanyvalues"): .values(rows) would compile a new statement with a
    bind parameter per cell for every batch, which took most of a broadcast's selection time."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    table = model.__table__
    statement = module.insert(table).on_conflict_do_nothing(index_elements=conflict).returning(table.c.id)
    return len(session.execute(statement, rows).all())


def upsert_locked(session: Session, model, values: dict, conflict: list[str], touch: list[str]):
    """INSERT ... ON CONFLICT DO UPDATE SET <touch> RETURNING the row, as an ORM object.

    One statement finds or creates the row and leaves it locked until the transaction ends (PostgreSQL
    locks a row it updates on conflict, as SELECT ... FOR UPDATE would); the unique constraint decides.
    """
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(model).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=conflict, set_={name: statement.excluded[name] for name in touch}).returning(model)
    return session.scalars(statement, execution_options={"populate_existing": True}).one()


def alembic_config(url: str) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head", lock_path: str | None = None) -> None:
    """Alembic upgrade; with lock_path, one process at a time (gunicorn's workers start together and
    would each create the same tables on a fresh SQLite file)."""
    if lock_path is None:
        command.upgrade(alembic_config(url), revision)
        return
    import fcntl
    Path(lock_path).parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)        # the others wait, then find the schema current
        try:
            command.upgrade(alembic_config(url), revision)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        try:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except Exception:
            return None


def head_revision(url: str) -> str | None:
    from alembic.script import ScriptDirectory
    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()
