"""Recordings in content versions: recordings.yaml names each sound by hash, as versions name pictures, so
publishing and restoring carry them; content/audio/<item>[.step<N>].<lang>.<ext> is the exchange form.

Functions take and return a version's files ({path: YAML text}) and leave saving the draft to the caller.
"""
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from handlers import recordings as names
from handlers.recordings import RECORDINGS_FILE

from .convert import RecordingRefused
from .store import known, store

AUDIO_DIR = "audio"
SUFFIXES = (".ogg", ".opus", ".oga", ".wav", ".mp3", ".m4a", ".flac", ".amr", ".3gp", ".webm", ".aac")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def entries(files: dict[str, str]) -> dict[str, Any]:
    return names.read(files)


def attach(session: Session, files: dict[str, str], item_id: str, step: int | None, lang: str, data: bytes,
           actor: str) -> dict[str, str]:
    """The files with this recording for the item (or step) in this language, as a draft to review;
    RecordingRefused (before anything is written) when the upload is not taken."""
    recording = store(session, data)
    found = entries(files)
    found[names.name(item_id, step, lang)] = {"sha256": recording.sha256, "seconds": recording.milliseconds / 1000,
                                              "state": "draft", "by": actor, "at": _now()}
    return {**files, RECORDINGS_FILE: names.write(found)}


def detach(files: dict[str, str], item_id: str, step: int | None, lang: str) -> dict[str, str] | None:
    """The files without that recording; None when there was none."""
    found = entries(files)
    if found.pop(names.name(item_id, step, lang), None) is None:
        return None
    return {**files, RECORDINGS_FILE: names.write(found)}


def mark(files: dict[str, str], item_id: str, step: int | None, lang: str, state: str,
         actor: str) -> dict[str, str] | None:
    """One recording's review state (draft, needs_update, reviewed); None when there is no such recording."""
    found = entries(files)
    entry = found.get(names.name(item_id, step, lang))
    if not isinstance(entry, dict) or state not in names.STATES:
        return None
    found[names.name(item_id, step, lang)] = {**entry, "state": state, "by": actor, "at": _now()}
    return {**files, RECORDINGS_FILE: names.write(found)}


def after_text_change(files: dict[str, str], item_id: str, languages: list[str], actor: str) -> dict[str, str]:
    """A changed text in a language makes that language's recordings of the item `needs_update` (they
    read out the text as it was), as a changed source makes translations stale."""
    found = entries(files)
    changed = False
    for key, entry in found.items():
        parsed = names.parse_name(str(key))
        if parsed and parsed[0] == item_id and parsed[2] in languages and isinstance(entry, dict) \
                and entry.get("state") != "needs_update":
            found[key] = {**entry, "state": "needs_update", "by": actor, "at": _now()}
            changed = True
    return {**files, RECORDINGS_FILE: names.write(found)} if changed else files


def forget_item(files: dict[str, str], item_id: str) -> dict[str, str]:
    """A retired item's recordings go with it (restoring an earlier version brings them back)."""
    found = entries(files)
    kept = {k: v for k, v in found.items() if (names.parse_name(str(k)) or ("",))[0] != item_id}
    return {**files, RECORDINGS_FILE: names.write(kept)} if len(kept) != len(found) else files


def problems(session: Session, files: dict[str, str]) -> list[str]:
    """A version may only name sounds the database holds (a hand-edited recordings.yaml could name others)."""
    hashes = {str(e.get("sha256")) for e in entries(files).values() if isinstance(e, dict) and e.get("sha256")}
    missing = hashes - known(session, hashes)
    return [f"{RECORDINGS_FILE}: no stored recording {sha[:12]}…" for sha in sorted(missing)]


# ---- content/audio/ --------------------------------------------------------------------------------
def read_audio(content_dir: Path) -> dict[str, bytes]:
    """Sound files directly under content_dir/audio whose name is a recording name (<item>.<lang>.ogg,
    <item>.step<N>.<lang>.wav ...). Anything else there (sub-folders, other names) is not ours."""
    folder = Path(content_dir) / AUDIO_DIR
    if not folder.is_dir():
        return {}
    found = {}
    for path in sorted(folder.iterdir()):
        stem, suffix = path.stem, path.suffix.lower()
        if path.is_file() and suffix in SUFFIXES and names.parse_name(stem):
            found[stem] = path.read_bytes()
    return found


def take_audio(session: Session, files: dict[str, str], audio: dict[str, bytes], actor: str) -> dict[str, str]:
    """The files with content/audio's sounds in recordings.yaml: each stored (converted once: a sound
    already kept is found by its hash); a state recordings.yaml gives for that very sound is kept, a new
    or changed sound is a draft. RecordingRefused names the file that is not taken."""
    if not audio:
        return files
    found = entries(files)
    for name, data in sorted(audio.items()):
        try:
            recording = store(session, data)
        except RecordingRefused as refused:
            raise RecordingRefused(f"{AUDIO_DIR}/{name}: {refused}") from None
        entry = found.get(name) if isinstance(found.get(name), dict) else None
        if entry and entry.get("sha256") == recording.sha256:
            continue
        found[name] = {"sha256": recording.sha256, "seconds": recording.milliseconds / 1000,
                       "state": "draft", "by": actor, "at": _now()}
    return {**files, RECORDINGS_FILE: names.write(found)}


def write_audio(session: Session, files: dict[str, str], target: Path) -> list[str]:
    """Each recording of a version as content/audio/<name>.ogg (OGG/Opus: importing it again finds the
    same sound, nothing converts); other recording-named files there are removed, so git shows deletions."""
    from .store import sound
    folder = Path(target) / AUDIO_DIR
    wanted = {name: entry for name, entry in entries(files).items() if isinstance(entry, dict)}
    if folder.is_dir():
        for path in folder.iterdir():
            if path.is_file() and path.suffix.lower() in SUFFIXES and names.parse_name(path.stem) \
                    and (path.stem not in wanted or path.suffix != ".ogg"):
                path.unlink()
    written = []
    for name, entry in sorted(wanted.items()):
        data = sound(session, str(entry.get("sha256")), "ogg")
        if data is None:
            continue
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{name}.ogg").write_bytes(data)
        written.append(f"{AUDIO_DIR}/{name}.ogg")
    return written


def check_audio(content_dir: Path, items: dict[str, Any]) -> list[str]:
    """`content check DIR`: every sound under audio/ is taken by the upload rules (decoded, at most
    MAX_SECONDS) and names an item, step and language the content has."""
    from .convert import convert
    found = []
    for name, data in read_audio(content_dir).items():
        item_id, step, _lang = names.parse_name(name) or ("", None, "")
        item = items.get(item_id)
        if item is None:
            found.append(f"{AUDIO_DIR}/{name}: no item {item_id!r}")
        elif step and step > len(item.steps):
            found.append(f"{AUDIO_DIR}/{name}: item {item_id} has {len(item.steps)} steps")
        try:
            convert(data)
        except RecordingRefused as refused:
            found.append(f"{AUDIO_DIR}/{name}: {refused}")
    return found


def step_removed(files: dict[str, str], item_id: str, removed: int) -> dict[str, str]:
    """Step `removed` (1..n) of an item is gone: its recordings go, the later steps' move up one."""
    found = entries(files)
    moved = {}
    for key, entry in found.items():
        parsed = names.parse_name(str(key))
        if not parsed or parsed[0] != item_id or not parsed[1] or parsed[1] < removed:
            moved[key] = entry
        elif parsed[1] > removed:
            moved[names.name(item_id, parsed[1] - 1, parsed[2])] = entry
    return {**files, RECORDINGS_FILE: names.write(moved)} if moved != found else files
