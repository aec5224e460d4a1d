"""Emergency numbers and referral contacts (content/referrals.yaml): which may be shown, and the checks.

A number reaches a person only when someone has checked it: it carries its source and the date it was
verified, and it is not a sample. Answers that tell people to call for help carry {emergency}, replaced
at load by the language's `inline` line, so one edit of referrals.yaml reaches every answer.
"""
import datetime
import re
from typing import Any

from .i18n import LANGUAGES
from .text import to_ascii_digits

Entry = dict[str, Any]     # a contact, an emergency number or a language's texts, as referrals.yaml holds it

PLACEHOLDER = "{emergency}"
_DIGITS = re.compile(r"\d+")


def is_placeholder(phone: str) -> bool:
    """"+964 000 000 0000": only zeros once the country code is set aside."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    if phone.strip().startswith("+964") or digits.startswith("964") and len(digits) > 10:
        digits = digits[3:]
    return not any(ch != "0" for ch in digits)


def _verified(entry: Entry) -> bool:
    return bool(str(entry.get("source") or "").strip()) and _date(entry.get("verified_on")) is not None


def _date(value: object) -> datetime.date | None:
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        return None


def shown(entry: Entry) -> bool:
    """May this contact or number be shown to people? Never a sample; a phone only once verified."""
    if entry.get("sample"):
        return False
    phone = str(entry.get("phone") or "")
    return not phone or (not is_placeholder(phone) and _verified(entry))


def serves(contact: Entry, area: str | None, governorates: list[Entry]) -> bool:
    """A contact with `areas` (governorate or camp ids of areas.yaml) is for people there; one without, for all."""
    places = contact.get("areas") or []
    if not places:
        return True
    if area is None:
        return False
    governorate = next((g.get("id") for g in governorates for a in g.get("areas") or [] if a.get("id") == area), None)
    return area in places or governorate in places


def area_problems(contacts: list[Entry], governorates: list[Entry]) -> list[str]:
    known = {g.get("id") for g in governorates} | {a.get("id") for g in governorates for a in g.get("areas") or []}
    return [f"referrals.yaml {c.get('id')}: area {place!r} is not in areas.yaml"
            for c in contacts for place in c.get("areas") or [] if place not in known]


def emergency_numbers(emergency: Entry) -> list[Entry]:
    return [n for n in emergency.get("numbers") or [] if shown(n)]


def expand(texts: Entry, emergency: Entry, sms: bool = False) -> Entry:
    """{emergency} replaced by each language's line of numbers (the short one in SMS answers)."""
    inline = emergency.get("inline_sms" if sms else "inline") or {}
    return {lang: value.replace(PLACEHOLDER, inline.get(lang) or inline.get("en") or "")
            if isinstance(value, str) else value for lang, value in (texts or {}).items()}


def problems(emergency: Entry, contacts: list[Entry], fields: list[tuple[str, dict[str, str]]]) -> list[str]:
    """What `content check` says of referrals.yaml, and of the answers that use {emergency}.

    fields: (where, {language: raw text}) for every text of the topic files, before expansion."""
    found = []
    numbers = emergency_numbers(emergency)
    for n in emergency.get("numbers") or []:
        where = f"referrals.yaml emergency {n.get('id', '?')}"
        if not _verified(n) or n.get("sample"):
            found.append(f"{where}: no source and verified_on date (or marked sample): never shown")
        for lang in LANGUAGES:
            if not (n.get("name") or {}).get(lang):
                found.append(f"{where} name: missing {lang}")
    if not numbers:
        found.append("referrals.yaml: no verified emergency number: HELP shows none")
    phones = {to_ascii_digits(str(n.get("phone"))) for n in numbers}
    for lang in LANGUAGES:
        for key in ("inline", "inline_sms"):
            line = (emergency.get(key) or {}).get(lang)
            if not line:
                found.append(f"referrals.yaml emergency {key}: missing {lang}")
                continue
            given = set(_DIGITS.findall(to_ascii_digits(line)))
            for phone in sorted(phones - given):
                found.append(f"referrals.yaml emergency {key} [{lang}]: {phone} is missing")
            for number in sorted(given - phones):
                found.append(f"referrals.yaml emergency {key} [{lang}]: {number} is not a verified number")
        if not (emergency.get("heading") or {}).get(lang):
            found.append(f"referrals.yaml emergency heading: missing {lang}")
    for contact in contacts:
        if contact.get("phone") and not contact.get("sample") and not shown(contact):
            found.append(f"referrals.yaml contact {contact.get('id', '?')}: a phone without source and "
                         "verified_on is never shown")
    for where, texts in fields:
        using = sorted(lang for lang, text in (texts or {}).items() if PLACEHOLDER in str(text))
        if using and len(using) != len([v for v in (texts or {}).values() if v]):
            missing = sorted(set(k for k, v in texts.items() if v) - set(using))
            found.append(f"{where}: {PLACEHOLDER} in {', '.join(using)} but not in {', '.join(missing)}")
        english = str((texts or {}).get("en") or "")
        if re.search(r"\bHELP\b", english) and PLACEHOLDER not in english:
            found.append(f"{where}: sends people to HELP for numbers; write {PLACEHOLDER} (the numbers) instead")
    return found
