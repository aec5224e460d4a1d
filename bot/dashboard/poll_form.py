"""The poll editor's form as plain data: five question slots, each a text and options (one per line) per
language, read into the core's question shape (bot.models.Poll.questions) and written back for editing.

Only the form's own shape is checked here (a free answer with options, languages with different numbers
of options); what a poll may hold is bot.polls' rule, refused there with its reasons.
"""
from collections.abc import Iterable, Mapping
from typing import Any

from werkzeug.datastructures import MultiDict

from handlers.i18n import N_, Refusal

SLOTS = 5                       # the "up to ~5 questions"
KINDS = ("choice", "free")


class FormError(Refusal):
    """The form cannot be read as questions: said in the staff member's language, answered with 400."""


def _lines(value: str | None) -> list[str]:
    return [line.strip() for line in (value or "").splitlines() if line.strip()]


def questions_from(form: Mapping[str, str], languages: Iterable[str]) -> list[dict[str, Any]]:
    """The filled slots, in order, as [{"kind", "text": {lang: str}, "options": [{lang: label}, ...]}].
    A slot with no text and no option in any language is no question."""
    languages = tuple(languages)
    questions: list[dict[str, Any]] = []
    for n in range(1, SLOTS + 1):
        texts = {lang: form.get(f"q{n}_text_{lang}", "").strip() for lang in languages}
        texts = {lang: text for lang, text in texts.items() if text}
        lines = {lang: _lines(form.get(f"q{n}_options_{lang}")) for lang in languages}
        lines = {lang: found for lang, found in lines.items() if found}
        if not texts and not lines:
            continue
        kind = form.get(f"q{n}_kind") or "choice"
        if kind not in KINDS:
            raise FormError(N_("Question {number}: choose numbered options or a free answer."), number=n)
        if kind == "free" and lines:
            raise FormError(N_("Question {number} takes a free answer: leave its options empty."), number=n)
        counts = {len(found) for found in lines.values()}
        if len(counts) > 1:
            raise FormError(N_("Question {number}: every language needs the same number of options, "
                               "one per line."), number=n)
        size = counts.pop() if counts else 0
        options = [{lang: found[i] for lang, found in lines.items()} for i in range(size)]
        questions.append({"kind": kind, "text": texts, "options": options})
    return questions


def form_of(questions: list[dict[str, Any]], fields: Mapping[str, Any]) -> MultiDict:
    """A stored poll as the form that made it, to edit it: the questions in their slots, plus `fields`
    (title, audience lists, schedule) as they are."""
    form: MultiDict = MultiDict()
    for key, value in fields.items():
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if item not in (None, ""):
                form.add(key, str(item))
    for n, question in enumerate(questions[:SLOTS], start=1):
        form[f"q{n}_kind"] = question.get("kind") or "choice"
        for lang, text in (question.get("text") or {}).items():
            form[f"q{n}_text_{lang}"] = text
        options = question.get("options") or []
        for lang in sorted({lang for option in options for lang in option}):
            form[f"q{n}_options_{lang}"] = "\n".join(option.get(lang, "") for option in options)
    return form
