"""Recordings in the database: each sound kept once, converted once (bot/recordings/convert.py).

Functions take a session and leave the commit to the caller, as bot/content_versions.py does.
"""
import hashlib

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..models import Recording, utcnow
from .convert import convert

FORMATS = {"ogg": "audio/ogg", "mp3": "audio/mpeg"}     # what each stored form is served as


def store(session: Session, data: bytes) -> Recording:
    """The recording of an upload: the one already kept (same upload, or one of our own OGG files coming
    back from an export), else a new one converted now. RecordingRefused says why a file is not taken."""
    source = hashlib.sha256(data).hexdigest()
    found = session.scalars(select(Recording).where(Recording.source_sha256 == source).limit(1)).first()
    found = found or session.get(Recording, source)
    if found is not None:
        return found
    converted = convert(data)
    sha = hashlib.sha256(converted.ogg).hexdigest()
    # Two editors uploading the same new file at once: ON CONFLICT DO NOTHING, so the second finds the first.
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(module.insert(Recording).values(
        sha256=sha, source_sha256=source, ogg=converted.ogg, mp3=converted.mp3,
        milliseconds=round(converted.seconds * 1000), source_format=converted.source_format[:40],
        created_at=utcnow()).on_conflict_do_nothing(index_elements=["sha256"]))
    recording = session.get(Recording, sha)
    assert recording is not None
    return recording


def get(session: Session, sha256: str) -> Recording | None:
    return session.get(Recording, sha256)


def sound(session: Session, sha256: str, fmt: str) -> bytes | None:
    """One stored form (ogg or mp3) of a recording, reading only that column."""
    if fmt not in FORMATS:
        return None
    column = Recording.ogg if fmt == "ogg" else Recording.mp3
    return session.scalar(select(column).where(Recording.sha256 == sha256))


def known(session: Session, hashes: set[str]) -> set[str]:
    """Which of these hashes are stored (a publish refuses a version naming a sound that is not)."""
    if not hashes:
        return set()
    return set(session.scalars(select(Recording.sha256).where(Recording.sha256.in_(hashes))))


def voice_parts(session: Session, sha256: str) -> tuple[bytes, int, int] | None:
    """(OGG bytes, milliseconds, MP3 size) of a recording, for sending it; the MP3 itself is not read."""
    row = session.execute(select(Recording.ogg, Recording.milliseconds, func.length(Recording.mp3))
                          .where(Recording.sha256 == sha256)).one_or_none()
    return (bytes(row[0]), int(row[1]), int(row[2])) if row is not None else None
