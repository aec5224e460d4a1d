"""What every process needs, built once from the configuration: the web app, the CLI and the queue worker share it.

Nothing here knows Flask: the worker builds a Runtime straight from the environment.
"""
import logging
import threading
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from handlers.content import CONTENT_DIR

from . import config as config_module
from . import db
from .content_store import ContentStore
from .vault import Vault

log = logging.getLogger(__name__)
EXTENSION = "bot"      # the key of app.extensions under which a Flask app keeps its Runtime (bot/app.py)


@dataclass
class Runtime:
    """The settings, the database, the keys and the content of one process (bot/config.py reads the settings)."""
    config: dict[str, Any]
    engine: Engine
    sessions: sessionmaker[Session]
    vault: Vault
    content: ContentStore
    extras: dict[str, Any] = field(default_factory=dict)

    def transaction(self) -> AbstractContextManager[Session]:
        """One unit of work: committed when the block ends, rolled back if it raises."""
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


def build(config: dict[str, Any]) -> Runtime:
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


def of(extensions: Mapping[str, object]) -> Runtime:
    """The runtime a Flask app keeps in app.extensions (bot/app.py puts it there)."""
    found = extensions.get(EXTENSION)
    if not isinstance(found, Runtime):
        raise RuntimeError("this Flask app has no bot runtime: build it with bot.create_app()")
    return found


def current() -> Runtime:
    """The runtime of the Flask app serving this request or command."""
    from flask import current_app  # here, not at the top: the worker imports this module without Flask
    return of(current_app.extensions)
