"""Referral contacts and emergency numbers (referrals.yaml) changed in the draft, one entry at a time.

A number reaches people only with its source and the date someone checked it (handlers/referrals.py);
the form asks for both, and a publish refuses a number without them.
"""
import datetime
import re

from handlers.i18n import LANGUAGES, N_, Refusal

from . import content_versions, content_yaml

USES = ("general", "sensitive", "migration", "health")
_PHONE = re.compile(r"^\+?[0-9٠-٩ ]{3,20}$")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,40}$")


class Invalid(Refusal):
    """A form value refused, with a reason in the staff member's language (Refusal.translated)."""


def entries(data) -> list[tuple[str, dict]]:
    """("emergency" | "contact", entry) for every entry of a loaded referrals.yaml."""
    return ([("emergency", e) for e in (data.get("emergency") or {}).get("numbers") or []]
            + [("contact", c) for c in data.get("contacts") or []])


def clean(form: dict, area_ids: set[str]) -> dict:
    """The form's values checked: a phone as people dial it, a real past date, known areas."""
    phone = (form.get("phone") or "").strip()
    if phone and not _PHONE.match(phone):
        raise Invalid(N_("The phone {phone} is not a number people can dial (digits, spaces, a leading +)."), phone=repr(phone))
    verified_on = (form.get("verified_on") or "").strip()
    if verified_on:
        try:
            day = datetime.date.fromisoformat(verified_on)
        except ValueError:
            raise Invalid(N_("Verified on: write the date as YYYY-MM-DD.")) from None
        if day > datetime.date.today():
            raise Invalid(N_("Verified on: a date in the future."))
    areas = [a for a in form.get("areas") or [] if a]
    if any(a not in area_ids for a in areas):
        raise Invalid(N_("An area that is not in areas.yaml (the list of areas)."))
    return {"phone": phone, "verified_on": verified_on, "areas": areas,
            "source": " ".join((form.get("source") or "").split())[:600],
            "verified_by": " ".join((form.get("verified_by") or "").split())[:200],
            "sample": bool(form.get("sample")), "use": [u for u in form.get("use") or [] if u in USES],
            "name": {lang: (form.get(f"name_{lang}") or "").strip() for lang in LANGUAGES},
            "hours": {lang: (form.get(f"hours_{lang}") or "").strip() for lang in LANGUAGES}}


def save(session, actor: str, kind: str, entry_id: str, values: dict, new: bool = False) -> int:
    """Write one entry into the draft's referrals.yaml (layout kept); returns the draft's id."""
    draft = content_versions.draft(session) or content_versions.start_draft(session, actor)
    files, _images = content_versions.files_of(session, draft)
    data = content_yaml.load(files["referrals.yaml"])
    if new:
        if kind != "contact" or not _ID.match(entry_id) or any(e.get("id") == entry_id for _, e in entries(data)):
            raise Invalid(N_("A new contact needs an id not used yet: lower-case letters, digits and -."))
        data.setdefault("contacts", []).append({"id": entry_id})
    entry = next((e for k, e in entries(data) if k == kind and e.get("id") == entry_id), None)
    if entry is None:
        raise LookupError(entry_id)
    for field in ("name", "hours"):
        texts = {lang: content_yaml.scalar(v) for lang, v in values[field].items() if v}
        if texts or field == "name":
            entry[field] = texts
        else:
            entry.pop(field, None)
    for field in ("phone", "source", "verified_by"):
        if values[field]:
            entry[field] = content_yaml.scalar(values[field])
        else:
            entry.pop(field, None)
    if values["verified_on"]:
        entry["verified_on"] = datetime.date.fromisoformat(values["verified_on"])
    else:
        entry.pop("verified_on", None)
    if kind == "contact":
        entry["sample"] = values["sample"]
        entry["use"] = values["use"]
        if values["areas"]:
            entry["areas"] = values["areas"]
        else:
            entry.pop("areas", None)
    elif values["sample"]:
        entry["sample"] = True
    else:
        entry.pop("sample", None)
    content_versions.save_draft(session, draft, {**files, "referrals.yaml": content_yaml.dump(data)}, actor)
    content_versions.audit(session, actor, "content_contact", f"{kind}:{entry_id}",
                           "new" if new else ("verified " + values["verified_on"] if values["verified_on"] else None))
    return draft.id


def save_lines(session, actor: str, values: dict[str, dict[str, str]]) -> int:
    """The emergency heading and the lines put into answers ({emergency}): full and SMS."""
    draft = content_versions.draft(session) or content_versions.start_draft(session, actor)
    files, _images = content_versions.files_of(session, draft)
    data = content_yaml.load(files["referrals.yaml"])
    emergency = data.setdefault("emergency", {})
    for key in ("heading", "inline", "inline_sms"):
        texts = {lang: content_yaml.scalar(v.strip()) for lang, v in (values.get(key) or {}).items() if v.strip()}
        if texts:
            emergency[key] = texts
    content_versions.save_draft(session, draft, {**files, "referrals.yaml": content_yaml.dump(data)}, actor)
    content_versions.audit(session, actor, "content_contact", "emergency:lines")
    return draft.id
