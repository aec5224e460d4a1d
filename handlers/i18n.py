"""UI strings from the Babel catalogs in locales/, and numbers written the way each language writes them.

Babel has no Northern Kurdish in Arabic script: Badini (`kmr`) formats like Sorani
(Arabic-Indic digits, right to left); Latin Kurmanji (`kmr_latn`) like Babel's `ku`.
"""
import datetime
import decimal
import os
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date as _format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

from .text import to_arabic_digits

LANGUAGES = ("ar", "ckb", "kmr", "kmr_latn", "en")
DEFAULT_LANGUAGE = "ar"
RTL = frozenset({"ar", "ckb", "kmr"})
BABEL_LOCALE = {"ar": "ar_IQ", "ckb": "ckb_IQ", "kmr": "ckb_IQ", "kmr_latn": "ku", "en": "en"}
# Each language's own name, shown in the language menu whatever the person's language.
NATIVE_NAMES = {
    "ar": "العربية",
    "ckb": "کوردی (سۆرانی)",
    "kmr": "کوردی (بادینی)",
    "kmr_latn": "Kurmancî (latînî)",
    "en": "English",
}
LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"


def compile_catalogs(locales_dir: Path = LOCALES_DIR) -> list[Path]:
    """Write each .mo whose .po is newer (or whose .mo is missing), so a fresh clone always translates."""
    written = []
    for po_path in sorted(locales_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=None)
        tmp = mo_path.with_suffix(".mo.tmp")
        with tmp.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        os.replace(tmp, mo_path)
        written.append(mo_path)
    return written


def load_translations(locales_dir: Path = LOCALES_DIR) -> dict[str, NullTranslations]:
    """One catalog per language; English is the source language and may have none."""
    catalogs: dict[str, NullTranslations] = {}
    for lang in LANGUAGES:
        mo_path = locales_dir / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"
        if mo_path.exists():
            with mo_path.open("rb") as mo_file:
                catalogs[lang] = Translations(mo_file, domain=DOMAIN)
        elif lang == "en":
            catalogs[lang] = NullTranslations()
        else:
            raise RuntimeError(f"missing compiled catalog {mo_path}; run `pybabel compile -d locales`")
    return catalogs


def catalog_strings(lang: str, locales_dir: Path = LOCALES_DIR) -> list[tuple[str, str]]:
    """(msgid, translation) of one language's catalog, for the content checks (glossary)."""
    path = locales_dir / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not path.exists():
        return []
    return _catalog_strings(path, path.stat().st_mtime)


@lru_cache(maxsize=16)
def _catalog_strings(path: Path, _mtime: float) -> list[tuple[str, str]]:
    with path.open("rb") as po_file:
        catalog = read_po(po_file, locale=None)
    pairs = []
    for message in catalog:
        if not message.id:
            continue
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
        pairs += [(msgid, text) for text in strings if text]
    return pairs


def N_(message: str) -> str:
    """Marks a string for the catalogs where it is translated later (pybabel extract -k N_)."""
    return message


_CATALOGS: dict[str, NullTranslations] | None = None


def catalogs() -> dict[str, NullTranslations]:
    global _CATALOGS
    if _CATALOGS is None:
        compile_catalogs()
        _CATALOGS = load_translations()
    return _CATALOGS


def direction(lang: str) -> str:
    return "rtl" if lang in RTL else "ltr"


def format_number(value: float | decimal.Decimal | str, lang: str) -> str:
    """A number as people read it in this language: Arabic-Indic digits for Arabic script."""
    if lang in RTL:  # CLDR's default numbering for these is 'arab': Arabic separators; Babel leaves Latin digits
        return to_arabic_digits(format_decimal(value, locale=BABEL_LOCALE[lang], numbering_system="default"))
    return format_decimal(value, locale=BABEL_LOCALE.get(lang, "en"))


def format_date(value: datetime.date, lang: str) -> str:
    text = _format_date(value, format="medium", locale=BABEL_LOCALE.get(lang, "en"))
    return to_arabic_digits(text) if lang in RTL else text


class Translator:
    """gettext for one language, with {name} placeholders filled and numbers localised."""

    def __init__(self, lang: str):
        self.lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
        self._catalog = catalogs()[self.lang]

    def __call__(self, message: str, **values: object) -> str:
        if not message:
            return ""          # gettext("") is the catalog's header, never a message
        text = self._catalog.gettext(message)
        if values:
            values = {k: (format_number(v, self.lang) if isinstance(v, int) else v) for k, v in values.items()}
            text = text.format(**values)
        return text

    def plural(self, singular: str, plural: str, count: int, **values: object) -> str:
        """ngettext: the form the language's grammar takes for this count (Arabic has six: يوم واحد،
        يومان، ٣ أيام، ١١ يومًا ...), with {name} placeholders filled and the count localised."""
        text = self._catalog.ngettext(singular, plural, count)
        values = {k: (format_number(v, self.lang) if isinstance(v, int) else v) for k, v in values.items()}
        return text.format(**values)

    def digits(self, text: str) -> str:
        """Digits in a code or count as this language writes them."""
        return to_arabic_digits(text) if self.lang in RTL else text

    def number(self, value: float | decimal.Decimal | str) -> str:
        return format_number(value, self.lang)

    @property
    def locale(self) -> Locale:
        return Locale.parse(BABEL_LOCALE[self.lang])


class Refusal(ValueError):
    """A refusal with a reason whose text is a catalog msgid: English in logs and on the command line,
    the reader's language in the dashboard (`translated`)."""

    def __init__(self, message: str, **values: object) -> None:
        self.message, self.values = message, values
        super().__init__(message.format(**values))

    def translated(self, t: Callable[..., str]) -> str:
        return t(self.message, **self.values)
