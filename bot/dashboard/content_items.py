"""Changes to the draft from the Content pages: save an item, mark languages reviewed, new item, move,
retire, add or remove a step, upload a step's picture. Each is one save_draft with the revision the page
was loaded with (a changed draft refuses, and the page says so, keeping what was typed) and an audit event.

A translator's post that touches a language not theirs, or anything of no language, is refused (403)
before anything is read or written.
"""
import hashlib
import re

from flask import abort, current_app, flash, redirect, render_template, request, url_for

from handlers.i18n import LANGUAGES

from .. import content_edit, content_pictures, content_review
from .. import content_versions as versions
from ..recordings import content as recording_content
from . import blueprint, require, runtime
from .content import actor, draft_for, editor_context, edits_everything, own_languages, t

_FIELD = re.compile(r"(title|sms|text|keywords)\.([a-z_]+)")
_STEP = re.compile(r"steps\.(\d{1,3})\.(text|sms)\.([a-z_]+)")
FIELD_MAX = 20_000
PICTURE_FORM_MAX = content_pictures.MAX_BYTES + 256 * 1024     # the picture and the form around it


def _allowed(lang: str) -> None:
    if lang not in LANGUAGES:
        abort(400)
    if lang not in own_languages():
        abort(403)


def posted_changes(form) -> tuple[dict, list[str]]:
    """{(field, lang) | ("steps", n, field, lang) | ("sources",): text} and the languages marked reviewed.
    Refuses (403) a field or review of a language the account may not edit, before anything is saved."""
    changes: dict[tuple[str | int, ...], str] = {}
    for key in form:
        value = form.get(key, "")
        if len(value) > FIELD_MAX:
            abort(400)
        if found := _FIELD.fullmatch(key):
            _allowed(found[2])
            changes[(found[1], found[2])] = value
        elif found := _STEP.fullmatch(key):
            _allowed(found[3])
            changes[("steps", int(found[1]), found[2], found[3])] = value
        elif key == "sources":
            if not edits_everything():
                abort(403)
            changes[("sources",)] = value
    reviewed = form.getlist("reviewed")
    for lang in reviewed:
        _allowed(lang)
    return changes, list(dict.fromkeys(reviewed))


def _current(item: dict, key: tuple) -> str:
    """What the draft holds now for one posted field, as the form shows it."""
    try:
        if key[0] == "sources":
            return "\n".join(str(s) for s in item.get("sources") or [])
        if key[0] == "steps":
            return str(((item.get("steps") or [])[key[1]].get(key[2]) or {}).get(key[3]) or "")
        value = (item.get(key[0]) or {}).get(key[1])
        return "\n".join(str(w) for w in value or []) if key[0] == "keywords" else str(value or "")
    except (IndexError, AttributeError):
        return ""


def _stale_page(item_id: str, changes: dict):
    """The draft moved on: the page again from the current draft, with what this person typed where it
    differs from the draft now (their change, or someone else's they would have overwritten)."""
    with runtime().transaction() as db:
        context = editor_context(db, item_id)
    unsaved = [(" ".join(str(part) for part in key[:-1]) if key[0] != "sources" else "sources",
                key[-1] if key[0] != "sources" else "", value) for key, value in changes.items()
               if content_edit.clean(value) != content_edit.clean(_current(context["item"], key))]
    error = t("The draft changed since you opened this page (someone else saved, published or discarded it). "
              "Nothing was saved. What you typed is below: copy it, then make your change again.")
    return render_template("dashboard/content_item.html", unsaved=unsaved, error=error, **context), 409


def _back(item_id: str):
    return redirect(url_for("dashboard.content_item", item_id=item_id))


@blueprint.post("/content/items/<item_id>")
def content_save(item_id):
    require("edit_content")
    changes, reviewed = posted_changes(request.form)
    try:
        with runtime().transaction() as db:
            draft = draft_for(db, request.form.get("revision", ""))
            files, _ = versions.files_of(db, draft)
            try:
                name, data, index = content_edit.open_item(files, item_id)
            except content_edit.EditError:
                abort(404)
            item = data["items"][index]
            steps = len(item.get("steps") or [])
            if any(key[0] == "steps" and key[1] >= steps for key in changes):
                abort(400)
            before = content_edit.plain(item)
            changed = content_edit.apply(item, changes)
            after = content_edit.plain(item)
            reviews = content_review.read(files)
            updated = content_review.after_save(reviews, item_id, before, after, actor(), reviewed=reviewed)
            if not changed and updated == reviews:
                flash(t("Nothing changed."))
                return _back(item_id)
            if changed:
                files[name] = content_edit.dump(data)
            files[content_review.REVIEWS_FILE] = content_review.write(updated)
            languages = content_review.changed_languages(before, after)
            files = recording_content.after_text_change(files, item_id, languages, actor())
            versions.save_draft(db, draft, files, actor(), revision=draft.revision)
            versions.audit(db, actor(), "content_edit", f"item:{item_id}",
                           f"changed: {', '.join(languages) or '-'}; reviewed: {', '.join(reviewed) or '-'}")
    except versions.Stale:
        return _stale_page(item_id, changes)
    except content_edit.EditError as exc:
        flash(t(exc.message, **exc.values))
        return _back(item_id)
    flash(t("Saved in the draft. People get it once it is published."))
    return _back(item_id)


@blueprint.post("/content/items/<item_id>/reviewed")
def content_mark_reviewed(item_id):
    """This language of this item was checked as it stands in the draft."""
    require("edit_content")
    languages = request.form.getlist("lang")
    if not languages:
        abort(400)
    for lang in languages:
        _allowed(lang)
    try:
        with runtime().transaction() as db:
            draft = draft_for(db, request.form.get("revision", ""))
            files, _ = versions.files_of(db, draft)
            if item_id not in content_edit.find(files):
                abort(404)
            updated = content_review.mark_reviewed(content_review.read(files), item_id, languages, actor())
            files[content_review.REVIEWS_FILE] = content_review.write(updated)
            versions.save_draft(db, draft, files, actor(), revision=draft.revision)
            versions.audit(db, actor(), "content_review", f"item:{item_id}", ", ".join(languages))
    except versions.Stale:
        flash(t("The draft changed since you opened this page. Look again, then mark it reviewed."))
        return _back(item_id)
    flash(t("Marked reviewed."))
    return _back(item_id)


def _everything() -> None:
    """What belongs to no language (the list of items, steps, pictures, sources): all languages needed."""
    require("edit_content")
    if not edits_everything():
        abort(403)


def _whole_file_change(change, item_id: str, action: str, detail: str = ""):
    """A change of a topic file that belongs to no language (new, move, retire, steps)."""
    _everything()
    try:
        with runtime().transaction() as db:
            draft = draft_for(db, request.form.get("revision", ""))
            files, _ = versions.files_of(db, draft)
            result = change(files)
            if result is None:
                return None
            name, body = result
            files[name] = body
            if action == "content_retire":
                files[content_review.REVIEWS_FILE] = content_review.write(
                    content_review.forget(content_review.read(files), item_id))
                files = recording_content.forget_item(files, item_id)
            versions.save_draft(db, draft, files, actor(), revision=draft.revision)
            versions.audit(db, actor(), action, f"item:{item_id}", detail)
    except versions.Stale:
        flash(t("The draft changed since you opened this page. Look again, then make your change again."))
        return False
    except content_edit.EditError as exc:
        flash(t(exc.message, **exc.values))
        return False
    return True


@blueprint.post("/content/items")
def content_new_item():
    _everything()
    topic_id, item_id = request.form.get("topic", ""), (request.form.get("id") or "").strip().lower()
    done = _whole_file_change(lambda files: content_edit.new_item(files, topic_id, item_id), item_id,
                              "content_new_item", f"topic {topic_id}")
    if done:
        flash(t("New item {item} added to the draft: write it in every language.", item=item_id))
        return _back(item_id)
    return redirect(url_for("dashboard.content_topic", topic_id=topic_id) if topic_id
                    else url_for("dashboard.content_index"))


@blueprint.post("/content/items/<item_id>/move")
def content_move(item_id):
    _everything()
    step = {"up": -1, "down": 1}.get(request.form.get("direction", ""))
    if step is None:
        abort(400)
    topic_id = request.form.get("topic", "")
    _whole_file_change(lambda files: content_edit.move(files, item_id, step), item_id, "content_move",
                       request.form.get("direction", ""))
    return redirect(url_for("dashboard.content_topic", topic_id=topic_id) if topic_id
                    else url_for("dashboard.content_index"))


@blueprint.post("/content/items/<item_id>/retire")
def content_retire(item_id):
    _everything()
    if request.form.get("confirm") != "yes":
        abort(400)
    topic_id = request.form.get("topic", "")
    if _whole_file_change(lambda files: content_edit.retire(files, item_id), item_id, "content_retire"):
        flash(t("{item} is removed from the draft. Publishing makes it gone for people; restoring an "
                  "earlier version brings it back.", item=item_id))
    return redirect(url_for("dashboard.content_topic", topic_id=topic_id) if topic_id
                    else url_for("dashboard.content_index"))


def _step_change(item_id: str, change, action: str, detail: str = ""):
    def edit(files):
        name, data, index = content_edit.open_item(files, item_id)
        change(data["items"][index])
        return name, content_edit.dump(data)
    _whole_file_change(edit, item_id, action, detail)
    return _back(item_id)


@blueprint.post("/content/items/<item_id>/steps")
def content_add_step(item_id):
    return _step_change(item_id, content_edit.add_step, "content_step", "added a step")


@blueprint.post("/content/items/<item_id>/steps/<int:n>/remove")
def content_remove_step(item_id, n):
    _everything()
    if request.form.get("confirm") != "yes":
        abort(400)
    def edit(files):
        name, data, index = content_edit.open_item(files, item_id)
        content_edit.remove_step(data["items"][index], n - 1)
        files.update(recording_content.step_removed(files, item_id, n))     # later steps' recordings move up
        return name, content_edit.dump(data)
    _whole_file_change(edit, item_id, "content_step", f"removed step {n}")
    return _back(item_id)


@blueprint.record_once
def _picture_form_checked_after_its_limit(state):
    """Pictures may be 5 MB; the app takes 1 MB. CSRFProtect's check would read this one form under the
    1 MB limit, so it is exempt there and checked in _picture_limit instead, once the limit is raised."""
    state.app.extensions["csrf"].exempt(content_picture_upload)


@blueprint.before_app_request
def _picture_limit():
    """Runs before the dashboard reads any form (sane_input does): the larger limit, then the CSRF check."""
    from werkzeug.exceptions import RequestEntityTooLarge
    if request.endpoint != "dashboard.content_picture_upload" or request.method != "POST":
        return None
    request.max_content_length = PICTURE_FORM_MAX
    try:
        current_app.extensions["csrf"].protect()
    except RequestEntityTooLarge:
        flash("picture_too_big")          # translated by the page: the account is not loaded yet here
        item_id = (request.view_args or {}).get("item_id", "")
        return redirect(url_for("dashboard.content_item", item_id=item_id)), 303
    return None


@blueprint.post("/content/items/<item_id>/steps/<int:n>/picture")
def content_picture_upload(item_id, n):
    """A step's picture: PNG or JPEG up to 5 MB, re-encoded (content_pictures), stored in the draft."""
    require("edit_content")
    if not edits_everything():
        abort(403)
    upload = request.files.get("picture")
    try:
        picture, suffix = content_pictures.clean(upload.read(content_pictures.MAX_BYTES + 1) if upload else b"")
    except content_pictures.PictureRefused as refused:
        flash(t(refused.message, **refused.values))
        return _back(item_id), 303
    image = ""
    try:
        with runtime().transaction() as db:
            draft = draft_for(db, request.form.get("revision", ""))
            files, _ = versions.files_of(db, draft)
            try:
                name, data, index = content_edit.open_item(files, item_id)
            except content_edit.EditError:
                abort(404)
            steps = data["items"][index].get("steps") or []
            if not 1 <= n <= len(steps):
                abort(404)
            digest = hashlib.sha256(picture).hexdigest()[:10]
            image = f"{data.get('topic') or 'pictures'}/{item_id}-{n:02d}-{digest}.{suffix}"
            steps[n - 1]["image"] = image
            files[name] = content_edit.dump(data)
            versions.save_draft(db, draft, files, actor(), images={image: picture}, revision=draft.revision)
            versions.audit(db, actor(), "content_picture", f"item:{item_id}", f"step {n}: {image}")
    except versions.Stale:
        flash(t("The draft changed since you opened this page. Look again, then upload the picture again."))
        return _back(item_id), 303
    flash(t("Picture saved for step {step} (re-encoded, without its metadata).", step=n))
    return _back(item_id), 303
