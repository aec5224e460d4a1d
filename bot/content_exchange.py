"""Translators' files: one language of the topic texts as PO (Poedit, Weblate; written by Babel) or XLSX
(any spreadsheet), with the English source and the Arabic beside each entry, and back as a draft.

An entry is one text of a topic: `health`.title, `cholera`.title/.sms/.text, `kit-assembly`.step2.sms ...
(keywords are not translations of each other: they are edited per language in the dashboard). A file
coming back is refused whole, with the reasons, when it is for another language, breaks a placeholder
such as {emergency}, or changes an entry whose English source has changed since it was exported.
"""
import io
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, cast

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from handlers.i18n import LANGUAGES, NATIVE_NAMES
from handlers.yaml_texts import parsed

from . import content_review, content_versions, content_yaml

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

SOURCE = "en"
TARGETS = tuple(lang for lang in LANGUAGES if lang != SOURCE)
FIELDS = ("title", "sms", "text")
_PLACEHOLDER = re.compile(r"\{\w+\}")
PROJECT = "bot-content"


class Refused(ValueError):
    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass
class Entry:
    key: str          # topic:health.title | cholera.sms | kit-assembly.step2.text
    file: str         # topics/health.yaml
    path: tuple       # where in the file: ("title",) or ("items", 0, "sms") or ("items", 3, "steps", 1, "text")
    texts: dict       # {language: text}


@dataclass
class Change:
    key: str
    old: str
    new: str


def entries(files: dict[str, str]) -> list[Entry]:
    """Every translatable text of the topic files, in file order."""
    found = []
    for name in sorted(n for n in files if n.startswith("topics/") and n.endswith(".yaml")):
        data = parsed(files[name]) or {}
        topic = data.get("topic", name)
        found.append(Entry(f"topic:{topic}.title", name, ("title",), dict(data.get("title") or {})))
        for i, item in enumerate(data.get("items") or []):
            for field in FIELDS:
                found.append(Entry(f"{item.get('id')}.{field}", name, ("items", i, field), dict(item.get(field) or {})))
            for n, step in enumerate(item.get("steps") or [], 1):
                for field in ("text", "sms"):
                    found.append(Entry(f"{item.get('id')}.step{n}.{field}", name, ("items", i, "steps", n - 1, field),
                                       dict(step.get(field) or {})))
    return found


# ---- export -----------------------------------------------------------------------------------------
def export_po(files: dict[str, str], lang: str, version_id: int) -> bytes:
    catalog = Catalog(locale=None, project=PROJECT, version=str(version_id), charset="utf-8",
                      fuzzy=False, header_comment=f"# {NATIVE_NAMES.get(lang, lang)} ({lang}): the bot's topic texts, "
                                                  f"from content version {version_id}.\n# msgid is the English source; "
                                                  "the comment above each entry is the Arabic.")
    catalog.language_team = lang
    for entry in entries(files):
        source = str(entry.texts.get(SOURCE) or "")
        if not source:
            continue
        comments = [f"ar: {entry.texts.get('ar', '')}"] if lang != "ar" and entry.texts.get("ar") else []
        catalog.add(source, string=str(entry.texts.get(lang) or ""), context=entry.key, auto_comments=comments)
    out = io.BytesIO()
    write_po(out, catalog, width=0, omit_header=False)
    body = out.getvalue().decode("utf-8")
    # Babel writes no Language header without a locale it knows (ckb, kmr_latn are not all CLDR locales)
    body = body.replace('"Content-Type: text/plain; charset=utf-8\\n"',
                        f'"Language: {lang}\\n"\n"Content-Type: text/plain; charset=utf-8\\n"', 1)
    return body.encode("utf-8")


def export_xlsx(files: dict[str, str], lang: str, version_id: int) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    book = Workbook()
    sheet = cast("Worksheet", book.active)       # a new workbook's one sheet
    sheet.title = lang
    sheet.append(["key", "English (source)", "Arabic", f"{NATIVE_NAMES.get(lang, lang)} ({lang})"])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for entry in entries(files):
        if entry.texts.get(SOURCE):
            sheet.append([entry.key, entry.texts.get(SOURCE), entry.texts.get("ar", ""), entry.texts.get(lang, "")])
    for column, width in zip("ABCD", (26, 60, 60, 60)):
        sheet.column_dimensions[column].width = width
    for row in sheet.iter_rows(min_row=2):
        for cell in row[1:]:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    meta = book.create_sheet("about")
    meta.append(["language", lang])
    meta.append(["content version", version_id])
    meta.append(["exported", datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")])
    meta.sheet_state = "hidden"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# ---- import -----------------------------------------------------------------------------------------
def _read_po(data: bytes) -> tuple[str, list[tuple[str, str, str]]]:
    try:
        catalog = read_po(io.BytesIO(data), abort_invalid=True)
    except Exception as exc:      # Babel raises its own PoFileError and plain ValueErrors
        raise Refused([f"not a readable PO file ({exc.__class__.__name__}: {str(exc)[:120]})"]) from None
    lang = ""
    for name, value in catalog.mime_headers:
        if name.lower() == "language":
            lang = value.strip()
    rows = [(str(m.context or ""), str(m.id or ""), str(m.string or "")) for m in catalog if m.id and m.context]
    return lang, rows


def _read_xlsx(data: bytes) -> tuple[str, list[tuple[str, str, str]]]:
    from openpyxl import load_workbook
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        raise Refused([f"not a readable XLSX file ({exc.__class__.__name__})"]) from None
    sheet = book.worksheets[0]
    lang = sheet.title.strip()
    rows = []
    for n, row in enumerate(sheet.iter_rows(min_row=2, values_only=True), 2):
        if not row or not row[0]:
            continue
        cells = [("" if v is None else str(v)) for v in list(row) + [None] * 4][:4]
        rows.append((cells[0], cells[1], cells[3]))
    return lang, rows


def read(data: bytes, filename: str) -> tuple[str, list[tuple[str, str, str]]]:
    """(language, [(key, English source as exported, translation)])."""
    if filename.lower().endswith(".xlsx") or data[:2] == b"PK":
        return _read_xlsx(data)
    return _read_po(data)


def plan(files: dict[str, str], data: bytes, filename: str, expected_lang: str | None = None,
         language_model=None) -> tuple[str, list[Change]]:
    """What importing the file would change in these files, or Refused with every reason."""
    lang, rows = read(data, filename)
    problems = []
    if lang not in TARGETS:
        raise Refused([f"the file is for language {lang!r}; translations are for {', '.join(TARGETS)}"])
    if expected_lang and lang != expected_lang:
        raise Refused([f"the file is for {lang}, not {expected_lang}"])
    current = {entry.key: entry for entry in entries(files)}
    changes = []
    for key, source, text in rows:
        entry = current.get(key)
        if entry is None:
            problems.append(f"{key}: no such text any more (the item was renamed or retired)")
            continue
        text = text.replace("\r\n", "\n").strip()
        old = str(entry.texts.get(lang) or "")
        if not text or text == old.strip():
            continue
        if source.strip() != str(entry.texts.get(SOURCE) or "").strip():
            problems.append(f"{key}: the English source changed since this file was exported; export again")
            continue
        wanted, got = set(_PLACEHOLDER.findall(source)), set(_PLACEHOLDER.findall(text))
        if wanted != got:
            problems.append(f"{key}: placeholders {', '.join(sorted(wanted)) or 'none'} expected, "
                            f"found {', '.join(sorted(got)) or 'none'}")
            continue
        changes.append(Change(key, old, text))
    if language_model is not None and changes:
        scores = language_model.scores(" ".join(c.new for c in changes), LANGUAGES)
        best = max(scores, key=scores.get)
        if best != lang:
            problems.append(f"the translations read as {NATIVE_NAMES.get(best, best)} ({best}), not {lang}")
    if problems:
        raise Refused(problems)
    return lang, changes


def apply(files: dict[str, str], lang: str, changes: list[Change], actor: str) -> dict[str, str]:
    """The files with the changes made (layout kept), and reviews.yaml marking those texts unreviewed."""
    by_key = {entry.key: entry for entry in entries(files)}
    loaded: dict[str, object] = {}
    items_changed = set()
    for change in changes:
        entry = by_key[change.key]
        data = loaded.setdefault(entry.file, content_yaml.load(files[entry.file]))
        node: Any = data
        for step in entry.path:
            node = node[step]
        node[lang] = content_yaml.scalar(change.new)
        items_changed.add(change.key.split(".")[0])
    out = dict(files)
    for name, data in loaded.items():
        out[name] = content_yaml.dump(data)
    reviews = content_review.read(out)          # the same rules as a save in the dashboard
    before, after = _items(files), _items(out)
    for item_id in sorted(items_changed & set(after)):
        reviews = content_review.after_save(reviews, item_id, before[item_id], after[item_id], actor)
    out[content_review.REVIEWS_FILE] = content_review.write(reviews)
    return out


def _items(files: dict[str, str]) -> dict[str, dict]:
    return {str(item.get("id")): item for name in files if name.startswith("topics/")
            for item in (parsed(files[name]) or {}).get("items") or []}


def import_into_draft(session, data: bytes, filename: str, actor: str, expected_lang: str | None = None,
                      language_model=None, dry_run: bool = False) -> tuple[str, list[Change]]:
    """Check the file against the draft (made from the published version if there is none) and, unless
    dry_run, apply it there. Nothing is applied when anything is refused."""
    draft = content_versions.draft(session)
    files = json.loads(content_versions.working(session).files)
    lang, changes = plan(files, data, filename, expected_lang, language_model)
    if changes and not dry_run:
        draft = draft or content_versions.start_draft(session, actor)
        content_versions.save_draft(session, draft, apply(files, lang, changes, actor), actor)
        content_versions.audit(session, actor, "content_translations", f"version:{draft.id}",
                               f"{lang}: {len(changes)} text(s) from {filename[:100]}")
    return lang, changes
