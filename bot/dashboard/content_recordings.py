"""Recordings on the content editor: upload a sound for an item (or a step) in one language, mark it
reviewed, remove it. The upload is checked and converted once (bot/recordings); a refused file is answered
422 with the reason on the page, and nothing is saved. Like every edit, each is one save_draft with the
revision the page was loaded with, and an audit event; a translator works only on their languages.
"""
from collections.abc import Callable

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.blueprints import BlueprintSetupState
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from handlers.i18n import LANGUAGES

from .. import content_versions as versions
from .. import recordings
from ..recordings import content as recording_content
from ..recordings import links
from . import blueprint, require, runtime
from .content import actor, draft_for, editor_context, own_languages, t

FORM_MAX = recordings.MAX_BYTES + 256 * 1024      # the sound and the form around it
PLAY_SECONDS = 3600                               # the editor's own <audio> links


def _target(item_id: str) -> tuple[int | None, str]:
    """(step or None, language) of the posted form; 400 for nonsense, 403 for a language not the account's."""
    lang = request.form.get("lang", "")
    step_text = request.form.get("step", "0")
    if lang not in LANGUAGES or not step_text.isdigit() or len(step_text) > 3:
        abort(400)
    if lang not in own_languages():
        abort(403)
    return (int(step_text) or None), lang


def _back(item_id: str) -> Response:
    return redirect(url_for("dashboard.content_item", item_id=item_id) + "#recordings", 303)


def _refused(item_id: str, message: str, status: int) -> tuple[str, int]:
    """The editor again with the reason, as a 4xx: a refused upload is said, never a 500 or a silent drop."""
    with runtime().transaction() as db:
        context = editor_context(db, item_id)
    return render_template("dashboard/content_item.html", unsaved=[], error=message, **context), status


@blueprint.record_once
def _upload_form_checked_after_its_limit(state: BlueprintSetupState) -> None:
    """Sounds may be 20 MB; the app takes 1 MB. The CSRF check is made in _upload_limit once it is raised."""
    state.app.extensions["csrf"].exempt(content_recording_upload)


@blueprint.before_app_request
def _upload_limit() -> Response | tuple[str, int] | None:
    if request.endpoint != "dashboard.content_recording_upload" or request.method != "POST":
        return None
    request.max_content_length = FORM_MAX
    try:
        current_app.extensions["csrf"].protect()
    except RequestEntityTooLarge:
        return Response(f"The recording is over {recordings.MAX_BYTES // (1024 * 1024)} MB.", 413,
                        mimetype="text/plain")
    return None


def _steps(files: dict[str, str], item_id: str) -> int:
    from .. import content_edit
    try:
        name, data, index = content_edit.open_item(files, item_id)
    except content_edit.EditError:
        abort(404)
    return len(data["items"][index].get("steps") or [])


@blueprint.post("/content/items/<item_id>/recordings")
def content_recording_upload(item_id: str) -> Response | tuple[str, int]:
    """A sound for the item (step 0) or one step in one language: checked, converted, put in the draft."""
    require("edit_content")
    step, lang = _target(item_id)
    upload = request.files.get("recording")
    data = upload.read(recordings.MAX_BYTES + 1) if upload else b""
    try:
        with runtime().transaction() as db:
            draft = draft_for(db, request.form.get("revision", ""))
            files, _ = versions.files_of(db, draft)
            steps = _steps(files, item_id)          # 404 for an item the draft does not have
            if step is not None and step > steps:
                abort(404)
            files = recording_content.attach(db, files, item_id, step, lang, data, actor())
            versions.save_draft(db, draft, files, actor(), revision=draft.revision)
            entry = recording_content.entries(files)[recordings.name(item_id, step, lang)]
            versions.audit(db, actor(), "content_recording", f"item:{item_id}",
                           f"{recordings.name(item_id, step, lang)}: {entry['seconds']} s {entry['sha256'][:12]}")
    except recordings.RecordingRefused as refused:
        return _refused(item_id, t(refused.message, **refused.values), refused.status)
    except versions.Stale:
        flash(t("The draft changed since you opened this page. Look again, then upload the recording again."))
        return _back(item_id)
    flash(t("Recording saved in the draft ({seconds} s), to be reviewed.", seconds=entry["seconds"]))
    return _back(item_id)


Change = Callable[[dict[str, str], int | None, str], dict[str, str] | None]


def _change(item_id: str, change: Change, action: str, done: str) -> Response:
    require("edit_content")
    step, lang = _target(item_id)
    try:
        with runtime().transaction() as db:
            draft = draft_for(db, request.form.get("revision", ""))
            files, _ = versions.files_of(db, draft)
            changed = change(files, step, lang)
            if changed is None:
                abort(404)
            versions.save_draft(db, draft, changed, actor(), revision=draft.revision)
            versions.audit(db, actor(), action, f"item:{item_id}", recordings.name(item_id, step, lang))
    except versions.Stale:
        flash(t("The draft changed since you opened this page. Look again, then make your change again."))
        return _back(item_id)
    flash(done)
    return _back(item_id)


@blueprint.post("/content/items/<item_id>/recordings/reviewed")
def content_recording_reviewed(item_id: str) -> Response:
    return _change(item_id, lambda files, step, lang: recording_content.mark(
        files, item_id, step, lang, "reviewed", actor()), "content_recording_review", t("Marked reviewed."))


@blueprint.post("/content/items/<item_id>/recordings/remove")
def content_recording_remove(item_id: str) -> Response:
    if request.form.get("confirm") != "yes":
        abort(400)
    return _change(item_id, lambda files, step, lang: recording_content.detach(files, item_id, step, lang),
                   "content_recording_remove", t("Recording removed from the draft."))


@blueprint.app_template_global()
def recording_link(sha256: str, fmt: str = "ogg") -> str:
    """A signed link for the editor's own player (the same route providers fetch from)."""
    return links.path(str(current_app.config["SECRET_KEY"]), sha256, fmt, PLAY_SECONDS)
