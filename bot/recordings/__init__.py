"""Voice recordings: checked and converted once on upload (convert), kept by hash (store), named by content
versions (handlers/recordings.py: recordings.yaml) and served to providers by signed, expiring links (links).
"""
from handlers.recordings import Voice, find, name, parse_name, playable

from .convert import MAX_BYTES, MAX_SECONDS, Converted, RecordingRefused, convert, probe_seconds
from .links import LINK_SECONDS, blueprint, check, path, url
from .store import FORMATS, get, known, sound, store

__all__ = ["Voice", "find", "name", "parse_name", "playable", "MAX_BYTES", "MAX_SECONDS", "Converted",
           "RecordingRefused", "convert", "probe_seconds", "LINK_SECONDS", "blueprint", "check", "path", "url",
           "FORMATS", "get", "known", "sound", "store"]
