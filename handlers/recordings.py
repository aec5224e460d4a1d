"""Which item (or step) has a voice recording in which language: recordings.yaml of a content version.

The sound itself is kept once by hash in the database (bot/recordings/); a version only names it, as it
names pictures, so publishing and restoring carry recordings with the texts. Each entry has the review
state texts have (draft, needs_update, reviewed). Names are `<item>.<lang>` or `<item>.step<N>.<lang>`,
the file names of content/audio/.
"""
import re
from dataclasses import dataclass
from typing import Any

import yaml

from .i18n import LANGUAGES

RECORDINGS_FILE = "recordings.yaml"
STATES = ("draft", "needs_update", "reviewed")
_NAME = re.compile(r"(?P<item>[a-z0-9][a-z0-9_-]*)(?:\.step(?P<step>[1-9][0-9]?))?\.(?P<lang>[a-z_]+)")


@dataclass(frozen=True)
class Voice:
    """A recording as the dialogue and the channels need it."""
    sha256: str
    seconds: float
    state: str


def name(item_id: str, step: int | None, lang: str) -> str:
    return f"{item_id}.step{step}.{lang}" if step else f"{item_id}.{lang}"


def parse_name(text: str) -> tuple[str, int | None, str] | None:
    """(item id, step or None, language) of a recording name, or None when it is not one."""
    match = _NAME.fullmatch(text)
    if not match or match["lang"] not in LANGUAGES:
        return None
    return match["item"], int(match["step"]) if match["step"] else None, match["lang"]


def find(recordings: dict[str, Any], item_id: str, step: int | None, lang: str) -> Voice | None:
    """The recording of an item (step None) or of one step, in exactly this language (no fallback:
    a Sorani speaker is not played Arabic)."""
    entry = recordings.get(name(item_id, step, lang))
    if not isinstance(entry, dict) or not entry.get("sha256"):
        return None
    state = str(entry.get("state") or "draft")
    return Voice(str(entry["sha256"]), float(entry.get("seconds") or 0), state if state in STATES else "draft")


def playable(recordings: dict[str, Any], item_id: str, step: int | None, lang: str, reviewed_only: bool) -> Voice | None:
    """The recording people may be offered: with REVIEWED_ONLY only a reviewed one, as for texts."""
    voice = find(recordings, item_id, step, lang)
    if voice is None or (reviewed_only and voice.state != "reviewed"):
        return None
    return voice


def read(files: dict[str, str]) -> dict[str, Any]:
    """recordings.yaml of a version's files ({} when there is none)."""
    text = files.get(RECORDINGS_FILE)
    data = yaml.safe_load(text) if text else None
    return dict((data or {}).get("recordings") or {}) if isinstance(data, dict) else {}


def write(recordings: dict[str, Any]) -> str:
    """recordings.yaml sorted by name, so its diff stays small and readable."""
    ordered = {key: {field: recordings[key][field] for field in ("sha256", "seconds", "state", "by", "at")
                     if field in recordings[key]} for key in sorted(recordings)}
    header = ("# Voice recordings by item (and step) and language; the sound is content/audio/<name>.ogg, kept in\n"
              "# the database by sha256. state: draft, needs_update (the text changed since), reviewed.\n")
    return header + yaml.safe_dump({"recordings": ordered}, allow_unicode=True, sort_keys=False,
                                   width=float("inf"), default_flow_style=False)


def problems(recordings: dict[str, Any], items: dict[str, Any]) -> list[str]:
    """Every entry names a real item, step and language and a sound by its hash."""
    found = []
    for key, entry in sorted(recordings.items()):
        parsed = parse_name(str(key))
        if parsed is None:
            found.append(f"{RECORDINGS_FILE}: {key!r} is not <item>.<lang> or <item>.step<N>.<lang>")
            continue
        item_id, step, _lang = parsed
        item = items.get(item_id)
        if item is None:
            found.append(f"{RECORDINGS_FILE}: {key}: no item {item_id!r}")
        elif step and step > len(item.steps):
            found.append(f"{RECORDINGS_FILE}: {key}: item {item_id} has {len(item.steps)} steps")
        if not isinstance(entry, dict) or not re.fullmatch(r"[0-9a-f]{64}", str(entry.get("sha256") or "")):
            found.append(f"{RECORDINGS_FILE}: {key}: no sha256 of the sound")
    return found
