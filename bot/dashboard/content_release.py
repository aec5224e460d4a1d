"""Publishing from the Content section: the draft's problems and its diff against the published version,
publish (with the draft revision that was looked at, so a changed draft is never published blind), the
history of versions with restore, and discarding the draft. Editors and admins only change anything here;
everyone who edits content may look. The same steps as `flask --app bot content ...` (bot/cli_content.py).
"""
from flask import abort, flash, g, redirect, render_template, request, url_for

from .. import content_problems, users
from .. import content_versions as versions
from . import blueprint, require, runtime
from .content import actor, t

DIFF_LINES_MAX = 5000         # a whole new import can be long; the page stays usable


def _number(name: str) -> int:
    raw = (request.form.get(name) or "").strip()
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        abort(400)
    return int(raw)


def _diff_rows(lines: list[str]) -> list[tuple[str, str]]:
    """(kind, line): kinds file, hunk, add, remove, picture or same, for the colours; shown as text."""
    rows = []
    for line in lines[:DIFF_LINES_MAX]:
        kind = ("file" if line.startswith(("+++", "---")) else "hunk" if line.startswith("@@")
                else "add" if line.startswith("+") else "remove" if line.startswith("-")
                else "picture" if line.startswith("picture ") else "same")
        rows.append((kind, line))
    return rows


def _publish_page(problems: list[str] | None = None, status: int = 200, refused: bool = False):
    with runtime().transaction() as db:
        draft = versions.draft(db)
        published = versions.published(db)
        if draft is not None:
            problems = versions.problems_of(db, draft) if problems is None else problems
            lines = versions.diff(db)
        else:
            problems, lines = problems or [], []
    by_item, general = content_problems.by_item(problems or [])
    return render_template("dashboard/content_publish.html", draft=draft, published=published,
                           problems=problems or [], by_item=by_item, general=general, rows=_diff_rows(lines),
                           cut=len(lines) > DIFF_LINES_MAX, refused=refused,
                           may_publish=users.can(g.user, "publish_content")), status


@blueprint.get("/content/publish")
def content_publish_page():
    require("edit_content")
    return _publish_page()


@blueprint.post("/content/publish")
def content_publish():
    require("publish_content")
    draft_id, revision = _number("draft"), _number("revision")
    rt = runtime()
    try:
        with rt.transaction() as db:
            if getattr(versions.draft(db), "id", draft_id) != draft_id:
                raise versions.Stale("another draft")
            version = versions.publish(db, actor(), revision=revision)
            version_id = version.id
    except versions.Refused as refused:
        return _publish_page(refused.problems, 409, refused=True)
    except versions.Stale:
        flash(t("The draft changed since you looked at it: look at the changes again before publishing."))
        return redirect(url_for("dashboard.content_publish_page"))
    except LookupError:
        flash(t("There is no draft to publish."))
        return redirect(url_for("dashboard.content_publish_page"))
    rt.content.reload()
    flash(t("Version {version} is published. Every process answers from it within {seconds} seconds.",
              version=version_id, seconds=f"{rt.content.check_every:g}"))
    return redirect(url_for("dashboard.content_versions_page"))


@blueprint.get("/content/versions")
def content_versions_page():
    require("edit_content")
    with runtime().transaction() as db:
        rows = versions.versions(db, 100)
        current = versions.published_id(db)
    return render_template("dashboard/content_versions.html", rows=rows, current=current,
                           may_publish=users.can(g.user, "publish_content"))


def _restorable(db, version_id: int):
    version = versions.get(db, version_id)
    if version is None or version.state not in (versions.PUBLISHED, versions.ARCHIVED):
        abort(404)
    return version


@blueprint.get("/content/versions/<int:version_id>/restore")
def content_restore_page(version_id):
    """The confirmation: what publishing this earlier version again changes against the published one."""
    require("publish_content")
    with runtime().transaction() as db:
        version = _restorable(db, version_id)
        lines = versions.diff(db, new=version, old=versions.published(db))
    return render_template("dashboard/content_restore.html", version=version, rows=_diff_rows(lines),
                           cut=len(lines) > DIFF_LINES_MAX)


@blueprint.post("/content/versions/<int:version_id>/restore")
def content_restore(version_id):
    require("publish_content")
    if request.form.get("confirm") != "yes":
        abort(400)
    rt = runtime()
    try:
        with rt.transaction() as db:
            _restorable(db, version_id)
            copy = versions.restore(db, version_id, actor())
            new_id = copy.id
    except versions.Refused as refused:
        flash(t("Version {version} cannot be published again: {reasons}", version=version_id,
                  reasons="; ".join(refused.problems[:5])))
        return redirect(url_for("dashboard.content_versions_page"))
    rt.content.reload()
    flash(t("Version {old} is published again as version {version}. Every process answers from it within "
              "{seconds} seconds.", old=version_id, version=new_id, seconds=f"{rt.content.check_every:g}"))
    return redirect(url_for("dashboard.content_versions_page"))


@blueprint.post("/content/draft/discard")
def content_discard():
    """The draft is set aside (kept as `discarded` for the record); the next edit starts from the published."""
    require("publish_content")
    if request.form.get("confirm") != "yes":
        abort(400)
    draft_id, revision = _number("draft"), _number("revision")
    with runtime().transaction() as db:
        draft = versions.draft(db)
        if draft is None or (draft.id, draft.revision) != (draft_id, revision):
            flash(t("The draft changed since you looked at it: look at the changes again before discarding."))
            return redirect(url_for("dashboard.content_publish_page"))
        draft.state = versions.DISCARDED
        versions.audit(db, actor(), "content_discard", f"version:{draft.id}", "discarded in the dashboard")
    flash(t("The draft is discarded. The published version is unchanged."))
    return redirect(url_for("dashboard.content_index"))
