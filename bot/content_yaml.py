"""Changing one text in a content YAML file without rewriting the rest of it.

ruamel.yaml's round trip keeps the file's layout, quotes and comments, so a version's diff shows the
sentence a translator changed, not a reformatted file.
"""
import io

from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, LiteralScalarString


def _yaml() -> YAML:
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 10 ** 9
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def load(text: str):
    return _yaml().load(text)


def dump(data) -> str:
    out = io.StringIO()
    _yaml().dump(data, out)
    return out.getvalue()


def scalar(value: str):
    """A text as the files write it: several lines as a block (|-), one line in double quotes."""
    value = value.replace("\r\n", "\n").strip("\n")
    return LiteralScalarString(value) if "\n" in value else DoubleQuotedScalarString(value)
