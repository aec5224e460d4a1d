"""Content YAML texts parsed once each, and shared.

The loader, the editor, the translation exchange and the review read a version's files on every page and
every save, and nearly all of them are the text they read the last time (a save changes one file). libyaml
parses (CSafeLoader: PyYAML's safe rules, in C) and the last 32 texts' data are kept: the same text gives the
same object. Readers never change what they get; a change is written as a new text (content_edit)."""
from functools import lru_cache
from typing import Any

import yaml

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@lru_cache(maxsize=32)      # 11 files a version: the published one, the draft and one more (at most ~10 MB)
def parsed(text: str) -> Any:
    """The text's data, read-only (yaml.YAMLError for a text that is not YAML: not kept)."""
    return yaml.load(text, Loader=LOADER)
