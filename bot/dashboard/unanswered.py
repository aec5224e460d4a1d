"""Questions the bot could not answer well, grouped; an editor adds a wording as a keyword in one step."""
from flask import abort, flash, g, redirect, render_template, request, url_for

from handlers.content import pick
from handlers.i18n import LANGUAGES, Translator

from .. import content_versions, unanswered, users
from . import blueprint, require, runtime


@blueprint.get("/unanswered")
def unanswered_page():
    require("see_unanswered")
    language = request.args.get("lang") if request.args.get("lang") in LANGUAGES else None
    content = runtime().content.get()
    with runtime().transaction() as db:
        found = unanswered.groups(db, runtime().vault, content, language)
    items = sorted(((i.id, pick(i.title, g.ui_lang)) for i in content.items.values()), key=lambda x: x[1])
    titles = dict(items)
    return render_template("dashboard/unanswered.html", groups=found[:200], language=language, items=items,
                           titles=titles, languages=LANGUAGES, kinds=unanswered.KINDS,
                           may_add=users.can(g.user, "edit_content"))


@blueprint.post("/unanswered/keyword")
def unanswered_keyword():
    require("see_unanswered")
    require("edit_content")
    form = request.form
    item_id, language, phrase = form.get("item", ""), form.get("language", ""), (form.get("phrase") or "").strip()
    if language not in users.content_languages(g.user) or not phrase or item_id not in runtime().content.get().items:
        abort(400, "choose an item, and a language you may edit; the wording may not be empty")
    actor = f"user:{g.user.id}"
    try:
        with runtime().transaction() as db:
            _version, published = unanswered.add_keyword(db, actor, item_id, language, phrase,
                                                         publish=users.can(g.user, "publish_content"))
    except unanswered.Clash as clash:
        t = Translator(g.ui_lang)
        said = t("This wording is already a keyword of another item: nothing was changed.")
        flash(f"{said} ({clash})")
        return redirect(url_for("dashboard.unanswered_page", lang=form.get("back_lang") or None))
    except content_versions.Refused as refused:
        flash("; ".join(refused.problems[:3]))
        return redirect(url_for("dashboard.unanswered_page", lang=form.get("back_lang") or None))
    if published:
        runtime().content.reload()
    flash("keyword_published" if published else "keyword_drafted")
    return redirect(url_for("dashboard.unanswered_page", lang=form.get("back_lang") or None))
