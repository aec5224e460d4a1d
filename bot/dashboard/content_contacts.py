"""Referral contacts and emergency numbers, per governorate or camp, each with its source and check date."""
import json

from flask import abort, flash, g, redirect, render_template, request, url_for

from handlers import referrals
from handlers.content import pick
from handlers.i18n import LANGUAGES, Translator

from .. import content_contacts as service
from .. import content_versions, content_yaml
from . import blueprint, require, runtime


def _working(db):
    """The draft's referrals.yaml (else the published one), its areas, and the draft's problems about it."""
    version = content_versions.working(db)
    files = json.loads(version.files)
    data = content_yaml.load(files["referrals.yaml"])
    areas = content_yaml.load(files.get("areas.yaml", "governorates: []")).get("governorates") or []
    problems = [p for p in content_versions.problems_of(db, version) if "referrals.yaml" in p]
    return version, data, areas, problems


def _why_hidden(entry) -> str | None:
    if entry.get("sample"):
        return "sample"
    if entry.get("phone") and not referrals.shown(entry):
        return "unverified"
    return None


@blueprint.get("/content/contacts")
def contacts_page():
    require("edit_contacts")
    with runtime().transaction() as db:
        version, data, areas, problems = _working(db)
        rows = [(kind, entry, _why_hidden(entry)) for kind, entry in service.entries(data)]
        emergency = data.get("emergency") or {}
        return render_template("dashboard/content_contacts.html", rows=rows, version=version, problems=problems,
                               emergency=emergency, languages=LANGUAGES, area_names=_area_names(areas))


def _area_names(areas) -> dict:
    names = {}
    for gov in areas:
        names[gov.get("id")] = pick(gov.get("name") or {}, g.ui_lang)
        for area in gov.get("areas") or []:
            names[area.get("id")] = pick(area.get("name") or {}, g.ui_lang)
    return names


@blueprint.route("/content/contacts/<kind>/<entry_id>", methods=["GET", "POST"])
def contact_edit(kind: str, entry_id: str):
    require("edit_contacts")
    if kind not in ("contact", "emergency"):
        abort(404)
    new = entry_id == "new"
    error = None
    if request.method == "POST":
        form = {**request.form.to_dict(), "use": request.form.getlist("use"), "areas": request.form.getlist("areas")}
        try:
            with runtime().transaction() as db:
                _version, _data, areas, _problems = _working(db)
                known = {gv.get("id") for gv in areas} | {a.get("id") for gv in areas for a in gv.get("areas") or []}
                wanted = (request.form.get("id") or "").strip() if new else entry_id
                service.save(db, f"user:{g.user.id}", kind, wanted, service.clean(form, known), new=new)
            flash("contact_saved")
            return redirect(url_for("dashboard.contacts_page"))
        except service.Invalid as exc:
            error = exc.translated(Translator(g.ui_lang))
        except LookupError:
            abort(404)
    with runtime().transaction() as db:
        version, data, areas, problems = _working(db)
        entry = {} if new else next((e for k, e in service.entries(data) if k == kind and e.get("id") == entry_id), None)
        if entry is None:
            abort(404)
        return render_template("dashboard/content_contact.html", kind=kind, entry=entry, new=new, error=error,
                               form=request.form if error else None, languages=LANGUAGES, uses=service.USES,
                               areas=areas, pick=pick, problems=[p for p in problems if f" {entry_id}" in p])


@blueprint.post("/content/contacts/lines")
def contact_lines():
    require("edit_contacts")
    values = {key: {lang: request.form.get(f"{key}_{lang}", "") for lang in LANGUAGES}
              for key in ("heading", "inline", "inline_sms")}
    with runtime().transaction() as db:
        service.save_lines(db, f"user:{g.user.id}", values)
    flash("contact_saved")
    return redirect(url_for("dashboard.contacts_page"))
