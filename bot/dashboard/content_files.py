"""Translators' files in the dashboard: download a language as PO or XLSX, upload it back, see each changed
field, then apply it to the draft (or nothing, when the file is refused)."""
import base64
import json

from flask import Response, abort, flash, g, redirect, render_template, request, url_for

from handlers.langid import model_for

from .. import content_exchange as exchange
from .. import content_versions, users
from . import blueprint, require, runtime

# The confirm step posts the file back as base64 in the form, whose fields Flask caps at 500 kB
# (MAX_FORM_MEMORY_SIZE); a whole language is about 180 kB of PO today.
MAX_FILE = 360 * 1024


def _languages() -> list[str]:
    return [lang for lang in users.content_languages(g.user) if lang in exchange.TARGETS]


@blueprint.get("/content/files")
def content_files():
    require("edit_content")
    return render_template("dashboard/content_files.html", languages=_languages(), changes=None)


@blueprint.get("/content/files/<lang>.<fmt>")
def content_file_download(lang: str, fmt: str):
    require("edit_content")
    if lang not in _languages() or fmt not in ("po", "xlsx"):
        abort(404)
    with runtime().transaction() as db:
        version = content_versions.working(db)
        files, version_id = json.loads(version.files), version.id
        content_versions.audit(db, f"user:{g.user.id}", "content_file_export", f"version:{version_id}", f"{lang}.{fmt}")
    body = (exchange.export_po if fmt == "po" else exchange.export_xlsx)(files, lang, version_id)
    mimetype = "text/x-gettext-translation" if fmt == "po" else \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f"attachment; filename=content-{lang}-v{version_id}.{fmt}"})


@blueprint.post("/content/files")
def content_file_upload():
    """First post: the file is checked and its changes shown; the confirm post carries the same file back."""
    require("edit_content")
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        data, name = upload.read(MAX_FILE + 1), upload.filename
    else:
        data, name = base64.b64decode(request.form.get("data", "") or b""), request.form.get("name", "")
    if not data or len(data) > MAX_FILE:
        return _refused([f"choose a PO or XLSX file of at most {MAX_FILE // 1024} kB"])
    confirm = request.form.get("confirm") == "1"
    try:
        with runtime().transaction() as db:
            lang, changes = exchange.import_into_draft(db, data, name[:200], f"user:{g.user.id}",
                                                       language_model=model_for(runtime().content.get()),
                                                       dry_run=True)
            if lang not in _languages():
                return _refused([f"this account may not change {lang}"], status=403)
            if confirm and changes:
                exchange.import_into_draft(db, data, name[:200], f"user:{g.user.id}",
                                           language_model=model_for(runtime().content.get()))
    except exchange.Refused as refused:
        return _refused(refused.problems)
    if confirm:
        flash("translations_applied")
        return redirect(url_for("dashboard.content_files"))
    return render_template("dashboard/content_files.html", languages=_languages(), changes=changes, lang=lang,
                           name=name, data=base64.b64encode(data).decode())


def _refused(problems: list[str], status: int = 400):
    return render_template("dashboard/content_files.html", languages=_languages(), changes=None,
                           problems=problems), status
