"""What the bot says, kept as versions in the database: seed, import, draft, diff, publish, restore, export.

A version holds the YAML files of content/ as they are (the exchange format staff can keep in git and
diff) and its pictures by hash. One version is published; every process answers from it (ContentStore
notices a new one within seconds). Staff change a draft; publishing runs every rule `content check`
has and refuses with the reasons. Functions take a session and leave the commit to the caller.
"""
import difflib
import hashlib
import json
import logging
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import func, select, text

from handlers.content import IMAGE_SUFFIXES, Content, load_files, read_dir

from .models import AuditEvent, ContentImage, ContentVersion
from .recordings import content as recordings
from .statuses import ContentState

log = logging.getLogger(__name__)
DRAFT, PUBLISHED, ARCHIVED, DISCARDED = ContentState.DRAFT, ContentState.PUBLISHED, ContentState.ARCHIVED, ContentState.DISCARDED
_SEED_LOCK = 74_017   # pg_advisory_xact_lock key: two processes starting on an empty database seed once


class Refused(ValueError):
    """A publish or restore the content rules refuse; problems name the file, item, field and language."""

    def __init__(self, problems: list[str]):
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


class Stale(ValueError):
    """The draft changed since the caller read it (another editor, or an import)."""


def audit(session, actor: str, action: str, target: str | None = None, detail: str | None = None) -> None:
    session.add(AuditEvent(actor=actor[:80], action=action[:40], target=(target or "")[:80] or None,
                           detail=(detail or "")[:300] or None))


def published(session) -> ContentVersion | None:
    return session.scalars(select(ContentVersion).where(ContentVersion.state == PUBLISHED)
                           .order_by(ContentVersion.id.desc()).limit(1)).first()


# The one value every process polls (an indexed lookup): a new id means a new publish or restore.
PUBLISHED_ID = select(func.max(ContentVersion.id)).where(ContentVersion.state == PUBLISHED)


def published_id(session) -> int | None:
    return session.scalar(PUBLISHED_ID)


def draft(session) -> ContentVersion | None:
    return session.scalars(select(ContentVersion).where(ContentVersion.state == DRAFT)
                           .order_by(ContentVersion.id.desc()).limit(1)).first()


def working(session) -> ContentVersion:
    """The draft, else the published version: what staff edit and translators export. Every process seeds
    the first version when it starts (ContentStore), so one exists once the app has run."""
    version = draft(session) or published(session)
    if version is None:
        raise LookupError("no content version yet: start the app once, or `flask --app bot content import`")
    return version


def get(session, version_id: int) -> ContentVersion | None:
    return session.get(ContentVersion, version_id)


def files_of(session, version: ContentVersion) -> tuple[dict[str, str], dict[str, bytes]]:
    files = json.loads(version.files)
    hashes = json.loads(version.images or "{}")
    blobs = {row.sha256: row.data for row in session.scalars(
        select(ContentImage).where(ContentImage.sha256.in_(set(hashes.values()))))} if hashes else {}
    return files, {name: blobs[sha] for name, sha in hashes.items() if sha in blobs}


def content_of(session, version: ContentVersion) -> Content:
    return load_files(*files_of(session, version))


def store_images(session, images: dict[str, bytes]) -> dict[str, str]:
    """Keep each picture once by its hash; the names-to-hashes map goes into the version."""
    hashes = {}
    for name, data in sorted(images.items()):
        sha = hashlib.sha256(data).hexdigest()
        if session.get(ContentImage, sha) is None:
            session.add(ContentImage(sha256=sha, data=data))
            session.flush()
        hashes[name] = sha
    return hashes


def _safe_names(names, suffixes: tuple[str, ...]) -> None:
    """A version's names become paths on export: plain relative names only (no .., no absolute path)."""
    for name in names:
        parts = str(name).split("/")
        if (not str(name).endswith(suffixes) or str(name).startswith("/") or "\\" in str(name)
                or any(p in ("", ".", "..") for p in parts)):
            raise ValueError(f"not a content file name: {name!r}")


def _new(session, state: str, files: dict, image_hashes: dict, actor: str, note: str | None = None,
         based_on: int | None = None, **extra) -> ContentVersion:
    _safe_names(files, (".yaml",))
    _safe_names(image_hashes, IMAGE_SUFFIXES)
    version = ContentVersion(state=state, files=json.dumps(files, ensure_ascii=False, sort_keys=True),
                             images=json.dumps(image_hashes, sort_keys=True), based_on=based_on,
                             created_by=actor[:80], note=(note or "")[:300] or None, **extra)
    session.add(version)
    session.flush()
    return version


def seed(session, content_dir: Path, actor: str = "seed") -> ContentVersion | None:
    """An empty database takes the files of content_dir as its first published version. Processes that
    start together seed once: PostgreSQL takes a lock for it, SQLite's transactions begin IMMEDIATE."""
    if session.bind.dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SEED_LOCK})
    if session.scalar(select(func.count()).select_from(ContentVersion)):
        return None
    files, images = read_dir(content_dir)
    try:
        files = recordings.take_audio(session, files, recordings.read_audio(content_dir), actor)
    except ValueError as refused:      # one bad sound must not stop the first start: the rest is seeded
        log.warning("content seed without recordings: %s", refused)
    now = datetime.now(timezone.utc)
    version = _new(session, PUBLISHED, files, store_images(session, images), actor,
                   note=f"imported from {Path(content_dir).name}/ at first start", published_by=actor,
                   published_at=now)
    audit(session, actor, "content_seed", f"version:{version.id}")
    return version


def start_draft(session, actor: str) -> ContentVersion:
    """The draft, made from the published version if there is none."""
    current = draft(session)
    if current is not None:
        return current
    base = published(session)
    if base is None:
        raise LookupError("no published content to start a draft from")
    version = _new(session, DRAFT, json.loads(base.files), json.loads(base.images or "{}"), actor,
                   note=f"draft from version {base.id}", based_on=base.id)
    audit(session, actor, "content_draft", f"version:{version.id}")
    return version


def save_draft(session, version: ContentVersion, files: dict[str, str], actor: str,
               images: dict[str, bytes] | None = None, revision: int | None = None) -> ContentVersion:
    """Replace the draft's files (and add pictures); refuses if the draft moved on since `revision`."""
    if version.state != DRAFT:
        raise Stale(f"version {version.id} is {version.state}, not a draft")
    if revision is not None and revision != version.revision:
        raise Stale(f"the draft changed (revision {version.revision}, you edited {revision}): reload it")
    _safe_names(files, (".yaml",))
    _safe_names(images or {}, IMAGE_SUFFIXES)
    version.files = json.dumps(files, ensure_ascii=False, sort_keys=True)
    if images:
        hashes = json.loads(version.images or "{}")
        hashes.update(store_images(session, images))
        version.images = json.dumps(hashes, sort_keys=True)
    version.revision += 1
    session.flush()
    return version


def import_files(session, files: dict[str, str], images: dict[str, bytes], actor: str,
                 note: str | None = None) -> ContentVersion:
    """Files become the draft (an earlier draft is set aside as discarded, kept for the record)."""
    base = published(session)
    old = draft(session)
    if old is not None:
        old.state = DISCARDED
        audit(session, actor, "content_discard", f"version:{old.id}", "replaced by an import")
    version = _new(session, DRAFT, files, store_images(session, images), actor, note=note,
                   based_on=base.id if base else None)
    audit(session, actor, "content_import", f"version:{version.id}", note)
    return version


def import_dir(session, content_dir: Path, actor: str) -> ContentVersion:
    """content_dir's files, pictures and recordings (audio/, converted once) as the draft; a sound that is
    not taken refuses the import (RecordingRefused, a ValueError naming the file)."""
    files, images = read_dir(content_dir)
    files = recordings.take_audio(session, files, recordings.read_audio(content_dir), actor)
    return import_files(session, files, images, actor=actor, note=f"imported from {content_dir}")


def diff(session, new: ContentVersion | None = None, old: ContentVersion | None = None) -> list[str]:
    """Unified diff lines, file by file, of the draft (or `new`) against the published version (or `old`)."""
    new = new or draft(session)
    old = old or published(session)
    if new is None or old is None:
        return []
    before, after = json.loads(old.files), json.loads(new.files)
    lines: list[str] = []
    for name in sorted(set(before) | set(after)):
        a, b = before.get(name, ""), after.get(name, "")
        if a != b:
            lines += difflib.unified_diff(a.splitlines(), b.splitlines(), f"v{old.id}/{name}",
                                          f"v{new.id}/{name}", lineterm="", n=2)
    images_before, images_after = json.loads(old.images or "{}"), json.loads(new.images or "{}")
    for name in sorted(set(images_before) | set(images_after)):
        if images_before.get(name) != images_after.get(name):
            state = ("added" if name not in images_before else "removed" if name not in images_after
                     else "replaced")
            lines.append(f"picture {name}: {state}")
    return lines


def problems_of(session, version: ContentVersion) -> list[str]:
    return content_of(session, version).problems + recordings.problems(session, json.loads(version.files))


def publish(session, actor: str, revision: int | None = None) -> ContentVersion:
    """The draft becomes the published version, if every content rule passes (else Refused)."""
    version = draft(session)
    if version is None:
        raise LookupError("there is no draft to publish: import files or edit in the dashboard first")
    if revision is not None and revision != version.revision:
        raise Stale(f"the draft changed (revision {version.revision}, you reviewed {revision}): look again")
    problems = problems_of(session, version)
    if problems:
        raise Refused(problems)
    _make_published(session, version, actor)
    audit(session, actor, "content_publish", f"version:{version.id}", version.note)
    return version


def _make_published(session, version: ContentVersion, actor: str) -> None:
    for old in session.scalars(select(ContentVersion).where(ContentVersion.state == PUBLISHED)):
        old.state = ARCHIVED
    session.flush()
    version.state = PUBLISHED
    version.published_by = actor[:80]
    version.published_at = datetime.now(timezone.utc)
    session.flush()


def restore(session, version_id: int, actor: str) -> ContentVersion:
    """An earlier version published again, as a new version (the history keeps every step)."""
    source = session.get(ContentVersion, version_id)
    if source is None or source.state not in (PUBLISHED, ARCHIVED):
        raise LookupError(f"no earlier published version {version_id}")
    copy = _new(session, DRAFT, json.loads(source.files), json.loads(source.images or "{}"), actor,
                note=f"restore of version {source.id}", based_on=source.id)
    problems = problems_of(session, copy)
    if problems:
        raise Refused(problems)
    _make_published(session, copy, actor)
    audit(session, actor, "content_restore", f"version:{copy.id}", f"restores version {source.id}")
    return copy


def versions(session, limit: int = 50) -> list[ContentVersion]:
    return list(session.scalars(select(ContentVersion).order_by(ContentVersion.id.desc()).limit(limit)))


def export(session, target: Path, version: ContentVersion | None = None) -> list[str]:
    """Write a version (the published one by default) as the content/ layout; returns the paths written.
    YAML files and pictures in target that the version does not have are removed, so git shows deletions."""
    version = version or published(session)
    if version is None:
        raise LookupError("nothing is published yet")
    files, images = files_of(session, version)
    target = Path(target)
    if target.is_dir() and any(target.iterdir()) and not (target / "topics").is_dir():
        raise LookupError(f"{target} is not empty and holds no topics/: export into an empty or a content directory")
    target.mkdir(parents=True, exist_ok=True)
    wanted = {target / name for name in files} | {target / "images" / name for name in images}
    for old in list(target.rglob("*.yaml")) + (list((target / "images").rglob("*")) if (target / "images").is_dir() else []):
        if old.is_file() and old not in wanted and "tools" not in old.relative_to(target).parts:
            old.unlink()
    written = []
    for name, body in sorted(files.items()):
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body, encoding="utf-8")
        written.append(name)
    for name, data in sorted(images.items()):
        path = target / "images" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(f"images/{name}")
    return written + recordings.write_audio(session, files, target)
