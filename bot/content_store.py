"""The published content, as every process answers from it: a new publish is noticed within seconds.

The database is the one source of truth (bot/content_versions.py). Each process asks it, at most every
CONTENT_CHECK_SECONDS, which version is published (one indexed lookup) and loads a new one when the id
changes, so gunicorn's workers, the queue worker and other machines all switch within that time.
"""
import logging
import threading
import time
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from handlers.content import CONTENT_DIR, Content, load

from . import content_versions
from .db import transaction

log = logging.getLogger(__name__)


class ContentStore:
    def __init__(self, sessions, content_dir: Path = CONTENT_DIR, check_every: float = 2.0, peek=None):
        self.sessions = sessions
        # peek(): an autocommit engine for the periodic check: a plain read, no BEGIN (on SQLite no write
        # lock, which an outage test or a busy worker holds); the runtime sets it once it is built.
        self.peek = peek
        self.content_dir = Path(content_dir)      # the seed an empty database imports; `content check`'s default
        self.check_every = check_every
        self.version_id: int | None = None
        self._lock = threading.Lock()
        self._content: Content | None = None
        self._checked = 0.0

    def _due(self) -> bool:
        return self._content is None or time.monotonic() - self._checked >= self.check_every

    def get(self) -> Content:
        if self._due():
            with self._lock:     # one thread checks (a millisecond; a second when a new version loads) ...
                if self._due():  # ... the others wait for it, then answer from what it found
                    self._check()
        return self._loaded()

    def reload(self) -> Content:
        """Check now (a CLI publish, a test) instead of waiting for the next check."""
        with self._lock:
            self._check()
        return self._loaded()

    def _loaded(self) -> Content:
        if self._content is None:      # no version in the database and none could be seeded: the seed itself
            self._content = load(self.content_dir)
        return self._content

    def _published_id(self) -> int | None:
        with self.peek().connect() as connection:
            return connection.execute(content_versions.PUBLISHED_ID).scalar()

    def _check(self) -> None:
        self._checked = time.monotonic()
        try:
            if self.peek is not None and self._content is not None and self._published_id() == self.version_id:
                return
            with transaction(self.sessions) as session:
                version_id = content_versions.published_id(session)
                if version_id is None:
                    content_versions.seed(session, self.content_dir)
                    version_id = content_versions.published_id(session)
                if version_id is None or version_id == self.version_id:
                    return
                version = content_versions.get(session, version_id)
                if version is None:
                    return
                fresh = content_versions.content_of(session, version)
        except SQLAlchemyError as exc:
            if self._content is None:      # the database is down at start: answer from the seed meanwhile
                log.warning("content: database unreachable (%s); answering from %s until it is back",
                            exc.__class__.__name__, self.content_dir)
                self._content = load(self.content_dir)
            return
        if fresh.problems and self._content is not None and self._content.items:
            for problem in fresh.problems:     # a publish checks first; this guards a hand-edited row
                log.warning("content version %s not loaded: %s", version_id, problem)
            self.version_id = version_id
            return
        self._content, self.version_id = fresh, version_id
        log.info("content: answering from version %s", version_id)
