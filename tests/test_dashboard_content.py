"""The Content section of the dashboard: staff edit what the bot says, translators review their languages,
an editor publishes, and people get the new sentence on SMS and Telegram.

Staff sign in through the login form and post the editor's own form back, with its CSRF token and the
draft revision it was loaded with, as a browser does; answers come through the real signed webhooks.
The review rules (bot/content_review.py) are pure functions, tested at the end without a database.
"""
import io
import re
import struct
import zlib
from html import unescape
from html.parser import HTMLParser

import pytest
import yaml
from PIL import Image
from sqlalchemy import func, select

from bot import content_review, content_versions, users
from bot.models import AuditEvent, User

from .conftest import csrf_token
from .test_dashboard import PASSWORD, post_form, sign_in

OLD = "ئێستا بچۆ بنکەی تەندروستی"
NEW = "یەکسەر بچۆ بنکەی تەندروستی"              # one character more: 134, still two SMS parts
XSS = "<script>alert(1)</script>"
EDITOR, TRANSLATOR = "editor@agency.example", "shilan@agency.example"
ITEM = "/dashboard/content/items/cholera"


@pytest.fixture
def staff(runtime):
    """An editor, a Sorani translator, and one account of every other role (the admin with a second factor)."""
    with runtime.transaction() as db:
        for role in ("admin", "officer", "focal_point", "viewer", "editor"):
            user = users.create(db, f"{role}@agency.example", role.title(), PASSWORD, role)
            if role == "admin":
                users.enable_totp(db, runtime.vault, user)
        users.create(db, TRANSLATOR, "Shilan", PASSWORD, "translator").languages = "ckb"
    return {role: f"{role}@agency.example" for role in ("admin", "officer", "focal_point", "viewer", "editor")}


class _Form(HTMLParser):
    """The named fields of one form of a page, with the values the page filled in, as a browser sends them."""

    def __init__(self, form_id: str):
        super().__init__()
        self.form_id, self.inside, self.fields, self.readonly = form_id, False, {}, []
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        elif self.inside and tag == "textarea":
            self._textarea = a.get("name")
            if "readonly" in a:
                self.readonly.append(a.get("id"))
            if self._textarea:
                self.fields[self._textarea] = ""
        elif self.inside and tag == "input" and a.get("name") and a.get("type") in ("hidden", "text"):
            self.fields[a["name"]] = a.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.fields[self._textarea] += data


def item_form(client, url=ITEM) -> _Form:
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    form = _Form("item-form")
    form.feed(page.get_data(as_text=True))
    form.fields = {k: unescape(v).removeprefix("\n") for k, v in form.fields.items()}
    return form


def save(client, changes: dict, reviewed=(), url=ITEM, form=None):
    """Change some fields of the editor's form and save it, as a person would (the form loaded first)."""
    fields = dict((form or item_form(client, url)).fields)
    fields.update(changes)
    return client.post(url, data={**fields, "reviewed": list(reviewed)})


def draft_files(runtime) -> dict:
    with runtime.transaction() as db:
        draft = content_versions.draft(db)
        return content_versions.files_of(db, draft)[0] if draft else {}


def draft_item(runtime, item_id="cholera", name="topics/health.yaml") -> dict:
    data = yaml.safe_load(draft_files(runtime)[name])
    return next(item for item in data["items"] if item["id"] == item_id)


def reviews(runtime) -> dict:
    return content_review.read(draft_files(runtime))


def user_id(runtime, email) -> int:
    with runtime.transaction() as db:
        return db.execute(select(User.id).where(User.email == email)).scalar_one()


def publish(client):
    page = client.get("/dashboard/content/publish").get_data(as_text=True)
    draft = re.search(r'name="draft" value="(\d+)"', page).group(1)
    revision = re.search(r'name="revision" value="(\d+)"', page).group(1)
    return post_form(client, "/dashboard/content/publish", "/dashboard/content/publish", draft=draft,
                     revision=revision)


def changed_lines(diff: list[str], name: str) -> list[str]:
    """The removed and added lines of one file in a version diff."""
    lines, inside = [], False
    for line in diff:
        if line.startswith(("--- ", "+++ ")):
            inside = line.endswith("/" + name)
        elif inside and line[:1] in "+-":
            lines.append(line)
    return lines


def ors(bodies: list[str]) -> str:
    return next((b for b in bodies if "ORS" in b), f"no cholera answer in {bodies}")


# ---- editing, reviewing, publishing ----------------------------------------------------------------

def test_an_editor_fixes_a_sorani_sentence_in_the_draft_and_people_see_nothing_yet(app, staff, runtime, twilio):
    editor = sign_in(app, EDITOR)
    form = item_form(editor)
    assert OLD in form.fields["sms.ckb"] and len(form.fields) > 20     # every language, every field
    saved = save(editor, {"sms.ckb": form.fields["sms.ckb"].replace(OLD, NEW)}, form=form)
    assert saved.status_code == 302
    assert "Saved in the draft" in editor.get(ITEM).get_data(as_text=True)
    assert NEW in draft_item(runtime)["sms"]["ckb"]
    state = reviews(runtime)["cholera"]
    assert state == {"ckb": {"state": "draft", "by": f"user:{user_id(runtime, EDITOR)}", "at": state["ckb"]["at"]}}
    with runtime.transaction() as db:
        diff = content_versions.diff(db)
    new = form.fields["sms.ckb"].replace(OLD, NEW)
    assert changed_lines(diff, "topics/health.yaml") == [f'-      ckb: "{form.fields["sms.ckb"]}"',
                                                         f'+      ckb: "{new}"']     # one line, the rest kept
    assert OLD in ors(twilio.say("کۆلێرا", "+9647501110001"))                          # not published yet
    with runtime.transaction() as db:
        assert db.scalar(select(func.count()).where(AuditEvent.action == "content_edit")) == 1


def test_a_sorani_translator_fixes_the_sentence_marks_it_reviewed_and_sees_the_rest_read_only(app, staff, runtime):
    translator = sign_in(app, TRANSLATOR)
    assert translator.get("/dashboard/cases").headers["Location"].endswith("/dashboard/content")
    form = item_form(translator)
    assert set(key.rsplit(".", 1)[-1] for key in form.fields if "." in key) == {"ckb"}   # only Sorani is sent
    assert "f-sms-kmr" in form.readonly and "f-sms-en" in form.readonly
    page = translator.get(ITEM).get_data(as_text=True)
    assert 'name="sources"' not in page and "Retire" not in page and "Publish these changes" not in page
    saved = save(translator, {"sms.ckb": form.fields["sms.ckb"].replace(OLD, NEW)}, reviewed=["ckb"], form=form)
    assert saved.status_code == 302
    entry = reviews(runtime)["cholera"]["ckb"]
    assert entry["state"] == "reviewed" and entry["by"] == f"user:{user_id(runtime, TRANSLATOR)}"
    queue = translator.get("/dashboard/content/review/ckb").get_data(as_text=True)
    assert 'href="/dashboard/content/items/cholera"' not in queue                       # reviewed: not waiting
    assert 'href="/dashboard/content/items/handwashing"' in queue                       # never reviewed: waiting


def test_a_translator_post_to_another_language_is_refused_and_nothing_changes(app, staff, runtime):
    translator = sign_in(app, TRANSLATOR)
    form = item_form(translator)
    before = draft_files(runtime)
    for changes, reviewed in (({"sms.kmr": "هەر تشت"}, ()), ({"sms.ckb": "باش"}, ["kmr"]),
                              ({"sources": "mine"}, ()), ({"steps.0.sms.kmr": "x"}, ())):
        assert save(translator, changes, reviewed, form=form).status_code == 403, changes
    assert post_form(translator, ITEM, f"{ITEM}/reviewed", lang="en", revision=form.fields["revision"]
                     ).status_code == 403
    for url, data in (("/dashboard/content/items", {"topic": "health", "id": "new-one"}),
                      (f"{ITEM}/move", {"direction": "down", "topic": "health"}),
                      (f"{ITEM}/retire", {"confirm": "yes"}),
                      ("/dashboard/content/publish", {"draft": "1", "revision": "0"}),
                      ("/dashboard/content/versions/1/restore", {"confirm": "yes"}),
                      ("/dashboard/content/draft/discard", {"confirm": "yes", "draft": "1", "revision": "0"})):
        assert post_form(translator, ITEM, url, **{"revision": form.fields["revision"], **data}).status_code == 403, url
    assert draft_files(runtime) == before == {}                                        # no draft was even made
    publish_page = translator.get("/dashboard/content/publish").get_data(as_text=True)
    assert "Publish these changes" not in publish_page


def test_the_editor_reviews_the_diff_publishes_and_people_get_the_new_sentence_then_a_restore(
        app, staff, runtime, twilio, telegram):
    editor = sign_in(app, EDITOR)
    form = item_form(editor)
    full_text = "ئێستا بڕۆ بۆ بنکەی تەندروستی"                     # the same advice in the full text
    assert full_text in form.fields["text.ckb"]
    save(editor, {"sms.ckb": form.fields["sms.ckb"].replace(OLD, NEW),
                  "text.ckb": form.fields["text.ckb"].replace(full_text, NEW)}, form=form)
    page = editor.get("/dashboard/content/publish").get_data(as_text=True)
    assert '<span class="d-add">+      ckb: &#34;' in page and NEW in page and "d-remove" in page
    assert "The content check finds no problem." in page, re.findall(r"<li>.*?</li>", page)[:5]
    done = publish(editor)
    assert done.status_code == 302 and done.headers["Location"].endswith("/dashboard/content/versions")
    versions_page = editor.get("/dashboard/content/versions").get_data(as_text=True)
    assert "Version 2 is published. Every process answers from it within 2 seconds." in versions_page
    assert NEW in ors(twilio.say("کۆلێرا", "+9647501110002"))
    assert NEW in str(telegram.say("کۆلێرا", chat_id=8801, language_code="ckb"))

    confirm = editor.get("/dashboard/content/versions/1/restore")
    assert confirm.status_code == 200 and NEW in confirm.get_data(as_text=True)      # what the restore undoes
    restored = post_form(editor, "/dashboard/content/versions/1/restore", "/dashboard/content/versions/1/restore",
                         confirm="yes")
    assert restored.status_code == 302
    after = ors(twilio.say("کۆلێرا", "+9647501110003"))
    assert OLD in after and NEW not in after
    with runtime.transaction() as db:
        actions = db.scalars(select(AuditEvent.action).where(AuditEvent.action.like("content_%"))
                             .order_by(AuditEvent.id)).all()
        published_by = content_versions.get(db, 2).published_by
    assert actions == ["content_seed", "content_draft", "content_edit", "content_publish", "content_restore"]
    assert published_by == f"user:{user_id(runtime, EDITOR)}"


def test_a_publish_the_checks_refuse_lists_the_reasons_and_publishes_nothing(app, staff, runtime, twilio):
    editor = sign_in(app, EDITOR)
    form = item_form(editor)
    save(editor, {"sms.ckb": "س" * 160}, form=form)                         # over the SMS budget
    hands = item_form(editor, "/dashboard/content/items/handwashing")
    clash = form.fields["keywords.ckb"].split("\n")[0]                      # a keyword of cholera, for handwashing
    save(editor, {"keywords.ckb": hands.fields["keywords.ckb"] + "\n" + clash},
         url="/dashboard/content/items/handwashing", form=hands)
    refused = publish(editor)
    assert refused.status_code == 409
    page = refused.get_data(as_text=True)
    assert "Not published" in page
    assert "item cholera sms [ckb]: 160 characters, over 150" in page
    assert "points at two items: cholera and handwashing" in page
    assert page.count('href="/dashboard/content/items/handwashing"') == 1   # listed under the item
    with runtime.transaction() as db:
        assert content_versions.published_id(db) == 1
        assert content_versions.draft(db) is not None                       # the draft stays to be fixed
    assert OLD in ors(twilio.say("کۆلێرا", "+9647501110004"))
    editor_page = editor.get(ITEM).get_data(as_text=True)
    assert "160 characters, over 150" in editor_page                         # beside the field too


def test_a_save_or_publish_from_a_stale_page_is_refused_and_keeps_what_was_typed(app, staff, runtime):
    first, second = sign_in(app, EDITOR), sign_in(app, staff["admin"])
    form_first, form_second = item_form(first), item_form(second)
    assert save(first, {"sms.ckb": form_first.fields["sms.ckb"].replace(OLD, NEW)}, form=form_first).status_code == 302
    mine = "سکچوون؟ ORS بدە. ئێستا بچۆ بنکەی تەندروستی."
    stale = save(second, {"sms.ckb": mine}, form=form_second)
    assert stale.status_code == 409
    page = stale.get_data(as_text=True)
    assert "The draft changed since you opened this page" in page and mine in page   # nothing lost silently
    unsaved = re.search(r'<section class="card unsaved">(.*?)</section>', page, re.S).group(1)
    assert unsaved.count("<textarea") == 1                                   # what differs, not the whole form
    assert NEW in draft_item(runtime)["sms"]["ckb"]                                      # the first save stands
    publish_page = first.get("/dashboard/content/publish").get_data(as_text=True)
    draft = re.search(r'name="draft" value="(\d+)"', publish_page).group(1)
    save(second, {"title.en": "Cholera"})                                                # the draft moves on
    blind = post_form(first, "/dashboard/content/publish", "/dashboard/content/publish", draft=draft, revision="1")
    assert blind.status_code == 302 and blind.headers["Location"].endswith("/dashboard/content/publish")
    assert "look at the changes again" in first.get("/dashboard/content/publish").get_data(as_text=True)
    with runtime.transaction() as db:
        assert content_versions.published_id(db) == 1


def test_changing_the_english_source_marks_the_other_languages_needs_update(app, staff, runtime):
    editor = sign_in(app, EDITOR)
    form = item_form(editor)
    save(editor, {"sms.en": form.fields["sms.en"].replace("clinic now", "health centre now")}, form=form)
    states = {lang: entry["state"] for lang, entry in reviews(runtime)["cholera"].items()}
    assert states == {"en": "draft", "ar": "needs_update", "ckb": "needs_update", "kmr": "needs_update",
                      "kmr_latn": "needs_update"}
    translator = sign_in(app, TRANSLATOR)
    queue = translator.get("/dashboard/content/review/ckb").get_data(as_text=True)
    row = re.search(r'<tr><td><a href="/dashboard/content/items/cholera".*?</tr>', queue, re.S).group(0)
    assert "needs update" in row
    topic = translator.get("/dashboard/content/topics/health").get_data(as_text=True)
    assert 'class="review r-needs_update" lang="ckb"' in topic
    done = post_form(translator, ITEM, f"{ITEM}/reviewed", lang="ckb", revision=item_form(translator).fields["revision"])
    assert done.status_code == 302 and reviews(runtime)["cholera"]["ckb"]["state"] == "reviewed"


def test_markup_in_a_field_is_stored_as_typed_shown_as_text_and_sent_as_plain_text(app, staff, runtime, twilio,
                                                                                 telegram):
    editor = sign_in(app, EDITOR)
    url = "/dashboard/content/items/handwashing"
    assert save(editor, {"title.en": XSS}, url=url).status_code == 302
    assert draft_item(runtime, "handwashing")["title"]["en"] == XSS                      # stored as typed
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    for page in (url, "/dashboard/content/publish", "/dashboard/content/topics/health"):
        html = editor.get(page).get_data(as_text=True)
        assert XSS not in html and escaped in html, page
    assert publish(editor).status_code == 302
    preview = editor.get(f"{url}?preview=en").get_data(as_text=True)
    assert XSS not in preview
    assert f"<b>{escaped}</b>" in preview                                  # the Telegram bubble: bold, as text
    assert "&lt;b&gt;&amp;lt;script&amp;gt;alert(1)" in preview            # the HTML as sent, shown as text
    response = twilio.post(twilio.form("health", "+9647501110005"))
    xml = response.get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in xml and "<script>" not in xml       # TwiML: plain text
    from .conftest import twiml_bodies
    assert any(XSS in body for body in twiml_bodies(xml))                                  # the person reads it
    sent = telegram.say("handwashing", chat_id=8802, language_code="en")
    assert "<b>&lt;script&gt;alert(1)&lt;/script&gt;</b>" in sent["text"]                  # Telegram's HTML escapes it


# ---- items, steps and pictures ----------------------------------------------------------------------

def test_new_items_are_added_moved_and_retired_and_a_restore_brings_a_retired_item_back(app, staff, runtime):
    editor = sign_in(app, EDITOR)
    revision = item_form(editor).fields["revision"]
    made = post_form(editor, "/dashboard/content/topics/health", "/dashboard/content/items", topic="health",
                     id="water-trucking", revision=revision)
    assert made.headers["Location"].endswith("/dashboard/content/items/water-trucking")
    empty = item_form(editor, "/dashboard/content/items/water-trucking")
    assert empty.fields["sms.ar"] == "" and "keywords.kmr_latn" in empty.fields
    refused = publish(editor)
    assert refused.status_code == 409 and "item water-trucking sms: missing ar" in refused.get_data(as_text=True)
    taken = post_form(editor, "/dashboard/content/topics/health", "/dashboard/content/items", topic="health",
                      id="cholera", revision=item_form(editor).fields["revision"], follow=True)
    assert "There is already an item cholera." in taken.get_data(as_text=True)

    def order():
        return [i["id"] for i in yaml.safe_load(draft_files(runtime)["topics/health.yaml"])["items"]]
    assert order()[:2] == ["cholera", "handwashing"] and order()[-1] == "water-trucking"
    post_form(editor, "/dashboard/content/topics/health", f"{ITEM}/move", direction="down", topic="health",
              revision=item_form(editor).fields["revision"])
    assert order()[:2] == ["handwashing", "cholera"]
    for item_id in ("water-trucking", "vaccination"):
        post_form(editor, "/dashboard/content/topics/health", f"/dashboard/content/items/{item_id}/retire",
                  confirm="yes", topic="health", revision=item_form(editor).fields["revision"])
    assert "vaccination" not in order() and "water-trucking" not in order()
    assert publish(editor).status_code == 302
    assert "vaccination" not in runtime.content.get().items                                # gone for people
    post_form(editor, "/dashboard/content/versions/1/restore", "/dashboard/content/versions/1/restore", confirm="yes")
    assert "vaccination" in runtime.content.get().items                                    # and back


def _png(width=40, height=30, exif: bytes = b"") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), "red").save(out, "PNG", exif=exif)
    return out.getvalue()


def _huge_png_header(side=40_000) -> bytes:
    """A PNG that says it is side x side pixels (a decompression bomb) in a few bytes."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def upload(client, data: bytes, filename="step.png", token=True):
    url = "/dashboard/content/items/kit-assembly"
    fields = {"revision": item_form(client, url).fields["revision"],
              "picture": (io.BytesIO(data), filename, "image/png")}
    if token:
        fields["csrf_token"] = csrf_token(client, url)
    return client.post(f"{url}/steps/1/picture", data=fields, content_type="multipart/form-data",
                       follow_redirects=True)


def test_a_step_picture_is_re_encoded_without_metadata_and_bad_files_are_refused_with_a_reason(app, staff, runtime):
    editor = sign_in(app, EDITOR)
    exif = Image.Exif()
    exif[0x010F], exif[0x8298] = "SecretCam", "Ahmed's phone"                # camera maker, owner
    picture = _png(exif=exif.tobytes())
    assert b"SecretCam" in picture
    done = upload(editor, picture)
    assert done.status_code == 200 and "Picture saved for step 1" in done.get_data(as_text=True)
    with runtime.transaction() as db:
        files, images = content_versions.files_of(db, content_versions.draft(db))
    step = yaml.safe_load(files["topics/shelter.yaml"])["items"][0]["steps"][0]
    stored = images[step["image"]]
    assert step["image"].startswith("shelter/kit-assembly-01-") and step["image"].endswith(".png")
    assert b"SecretCam" not in stored and b"Ahmed" not in stored and not Image.open(io.BytesIO(stored)).getexif()
    assert Image.open(io.BytesIO(stored)).size == (40, 30)
    served = editor.get(f"/dashboard/content/pictures/{step['image']}")
    assert served.status_code == 200 and served.data == stored and served.headers["X-Content-Type-Options"] == "nosniff"

    for data, name, reason in ((b"just some text, not a picture", "notes.png", "This file is not a PNG or JPEG picture."),
                               (_huge_png_header(), "bomb.png", "The picture is too large: at most 4,096 pixels a side."),
                               (b"\x89PNG" + b"\x00" * (6 * 1024 * 1024), "big.png", "The picture is over 5 MB.")):
        refused = upload(editor, data, name)
        assert refused.status_code == 200 and reason in refused.get_data(as_text=True), name
    with runtime.transaction() as db:
        assert content_versions.files_of(db, content_versions.draft(db))[1] == images   # nothing else was stored
    assert upload(editor, picture, token=False).status_code == 400                       # CSRF on the upload too


# ---- who may do what ---------------------------------------------------------------------------------

def test_the_content_pages_follow_the_roles(app, staff, runtime):
    pages = ("/dashboard/content", "/dashboard/content/topics/health", ITEM, "/dashboard/content/publish",
             "/dashboard/content/versions", "/dashboard/content/review/ckb")
    for role in ("viewer", "focal_point"):
        client = sign_in(app, staff[role])
        assert [client.get(p).status_code for p in pages] == [403] * len(pages), role
        assert "/dashboard/content" not in client.get("/dashboard/cases").get_data(as_text=True)
    officer = sign_in(app, staff["officer"])
    assert [officer.get(p).status_code for p in pages] == [200] * len(pages)
    form = item_form(officer)
    assert save(officer, {"title.kmr": form.fields["title.kmr"] + "!"}, form=form).status_code == 302   # edits all
    assert reviews(runtime)["cholera"]["kmr"]["state"] == "draft"
    assert "Publish these changes" not in officer.get("/dashboard/content/publish").get_data(as_text=True)
    assert publish_forbidden(officer)
    editor = sign_in(app, EDITOR)
    assert editor.get("/dashboard/").headers["Location"].endswith("/dashboard/content")
    nav = editor.get("/dashboard/content").get_data(as_text=True)
    assert 'href="/dashboard/content"' in nav and 'href="/dashboard/cases"' not in nav
    no_token = editor.post(ITEM, data={"sms.ckb": "x", "revision": form.fields["revision"]})
    assert no_token.status_code == 400


def publish_forbidden(client) -> bool:
    return post_form(client, "/dashboard/content/publish", "/dashboard/content/publish", draft="2",
                     revision="1").status_code == 403


def test_an_admin_makes_a_translator_and_sets_their_languages(app, staff, runtime):
    admin = sign_in(app, staff["admin"])
    made = post_form(admin, "/dashboard/users", "/dashboard/users", email="dilan@agency.example", name="Dilan",
                     role="translator", languages=["kmr", "kmr_latn"]).get_data(as_text=True)
    assert "shown once" in made
    dilan = user_id(runtime, "dilan@agency.example")
    with runtime.transaction() as db:
        assert users.content_languages(db.get(User, dilan)) == ("kmr", "kmr_latn")
    post_form(admin, "/dashboard/users", f"/dashboard/users/{dilan}/languages", languages=["kmr"])
    with runtime.transaction() as db:
        assert db.get(User, dilan).languages == "kmr"
        assert db.scalar(select(func.count()).where(AuditEvent.action == "user_languages")) == 1
    page = admin.get("/dashboard/users").get_data(as_text=True)
    assert "translator" in page and "editor" in page


# ---- the review rules, without a database -------------------------------------------------------------

def _item(**langs) -> dict:
    """An item whose every text is the language's word, changed where a keyword says so."""
    texts = {lang: langs.get(lang, lang) for lang in ("ar", "ckb", "kmr", "kmr_latn", "en")}
    return {"id": "x", "title": dict(texts), "sms": dict(texts), "text": dict(texts),
            "keywords": {lang: [lang] for lang in texts}, "steps": [{"text": dict(texts), "sms": dict(texts)}]}


@pytest.mark.parametrize("after, reviewed, expected", [
    (_item(ckb="new"), (), {"ckb": "draft"}),
    (_item(ckb="new"), ("ckb",), {"ckb": "reviewed"}),
    (_item(en="new"), (), {"en": "draft", "ar": "needs_update", "ckb": "needs_update", "kmr": "needs_update",
                           "kmr_latn": "needs_update"}),
    (_item(ar="new", kmr="new"), (), {"ar": "draft", "kmr": "draft", "en": "needs_update", "ckb": "needs_update",
                                      "kmr_latn": "needs_update"}),
    (_item(en="new"), ("ckb",), {"en": "draft", "ar": "needs_update", "ckb": "reviewed", "kmr": "needs_update",
                                 "kmr_latn": "needs_update"}),
    (_item(), ("kmr",), {"kmr": "reviewed"}),
], ids=["sorani changed", "sorani changed and reviewed", "english source", "arabic source and badini",
        "english source, sorani checked", "nothing changed, badini checked"])
def test_saving_an_item_sets_the_review_states(after, reviewed, expected):
    start = {"x": {"ckb": {"state": "reviewed", "by": "user:1", "at": "2026-01-01T00:00:00+00:00"}}}
    result = content_review.after_save(start, "x", _item(), after, "user:7", "2026-02-02T00:00:00+00:00", reviewed)
    states = {lang: entry["state"] for lang, entry in result["x"].items()}
    assert states == {**({"ckb": "reviewed"} if "ckb" not in expected else {}), **expected}
    assert all(entry["by"] == "user:7" for lang, entry in result["x"].items() if lang in expected)
    assert start["x"]["ckb"]["by"] == "user:1"                                       # the input is not changed


def test_a_keyword_change_is_a_change_of_that_language_only():
    after = _item()
    after["keywords"]["kmr"] = ["kmr", "more"]
    assert content_review.changed_languages(_item(), after) == ["kmr"]
    assert content_review.after_save({}, "x", _item(), after, "user:7")["x"]["kmr"]["state"] == "draft"
    assert "en" not in content_review.after_save({}, "x", _item(), after, "user:7")["x"]


def test_reviews_yaml_round_trips_and_lists_what_awaits_review():
    reviews = content_review.mark_reviewed({}, "b", ["ckb"], "user:2", "2026-01-01T00:00:00+00:00")
    reviews = content_review.after_save(reviews, "a", _item(), _item(en="new"), "user:3", "2026-01-02T00:00:00+00:00")
    text = content_review.write(reviews)
    assert content_review.read({"reviews.yaml": text}) == reviews
    assert text.index("  a:") < text.index("  b:") and text.index("ar:") < text.index("ckb:") < text.index("en:")
    assert content_review.awaiting(reviews, ["a", "b", "c"], "ckb") == [("a", "needs_update"), ("c", "draft")]
    assert content_review.counts(reviews, ["a", "b", "c"], "ckb") == {"draft": 1, "needs_update": 1, "reviewed": 1}
    assert content_review.state_of(content_review.forget(reviews, "b"), "b", "ckb") == "draft"
