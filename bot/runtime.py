"""What every process needs, built once from the configuration: the web app, the CLI and the queue worker share it.

Nothing here knows Flask: the worker builds a Runtime straight from the environment.
"""
import logging
import threading
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from handlers.content import CONTENT_DIR

from . import config as config_module
from . import db
from .content_store import ContentStore
from .vault import Vault

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    config: dict
    engine: Engine
    sessions: sessionmaker
    vault: Vault
    content: ContentStore
    extras: dict = field(default_factory=dict)

    def transaction(self):
        return db.transaction(self.sessions)

    @cached_property
    def statement_engine(self) -> Engine:
        """Autocommit, for one statement at a time (the send path): built when first used, so the web
        processes in inline mode never open it."""
        engine = db.make_engine(self.engine.url.render_as_string(hide_password=False), autocommit=True)
        if self.config.get("BENCH_COUNT_SQL"):
            from .observability import count_sql
            count_sql(engine, begins=False)
        return engine

    def dispose(self) -> None:
        self.engine.dispose()
        if "statement_engine" in self.__dict__:
            self.statement_engine.dispose()

    @cached_property
    def channels(self) -> dict[str, bool]:
        return config_module.channels_enabled(self.config)


def build(config: dict) -> Runtime:
    """Connect, migrate when allowed (the embedded default), load content and keys."""
    url = config["DATABASE_URL"]
    if config.get("AUTO_MIGRATE"):
        db.upgrade(url, lock_path=str(Path(config.get("INSTANCE_DIR") or instance_path()) / "migrate.lock"))
    engine = db.make_engine(url)
    if config.get("BENCH_COUNT_SQL"):
        from .observability import count_sql
        count_sql(engine)
    sessions = db.make_sessionmaker(engine)
    store = ContentStore(sessions, config.get("CONTENT_DIR") or CONTENT_DIR,
                         check_every=float(config.get("CONTENT_CHECK_SECONDS") or 2))
    for problem in store.get().problems:
        log.warning("content: %s", problem)
    for channel, enabled in config_module.channels_enabled(config).items():
        if not enabled:
            log.info("channel %s is off: its provider settings are not set (see README)", channel)
    runtime = Runtime(config=config, engine=engine, sessions=sessions, vault=Vault(config["DATA_KEY"]), content=store)
    store.peek = lambda: runtime.statement_engine
    return runtime


_DEFAULT: Runtime | None = None


def instance_path() -> str:
    """instance/ beside the package (as Flask has it), or INSTANCE_PATH for a worker elsewhere."""
    import os
    return os.environ.get("INSTANCE_PATH") or str(Path(__file__).resolve().parent.parent / "instance")


_BUILDING = threading.Lock()


def default() -> Runtime:
    """The process-wide runtime for code that runs outside a request (queue worker).

    Built once under a lock: the consumer's worker threads start together, and each used to build its
    own (two engines, two migration runs at once; a start-up hook that failed then left an interrupted
    broadcast to the next minute's tick)."""
    global _DEFAULT
    if _DEFAULT is None:
        with _BUILDING:
            if _DEFAULT is None:
                _DEFAULT = build(config_module.load(instance_path()))
    return _DEFAULT


def set_default(runtime: Runtime) -> None:
    global _DEFAULT
    _DEFAULT = runtime
