"""Translators' files in the dashboard: download, upload, every change shown, then applied; refused whole."""
import io
import re

from babel.messages.pofile import read_po, write_po

from bot import content_versions, users

from .test_dashboard import PASSWORD, csrf_token, sign_in


def _accounts(runtime):
    with runtime.transaction() as db:
        users.create(db, "tr@agency.example", "Tr", PASSWORD, "translator").languages = "kmr"
        users.create(db, "viewer@agency.example", "Vi", PASSWORD, "viewer")


def _upload(client, data, name):
    return client.post("/dashboard/content/files", content_type="multipart/form-data",
                       data={"csrf_token": csrf_token(client, "/dashboard/content/files"),
                             "file": (io.BytesIO(data), name)})


def test_a_badini_translator_downloads_edits_uploads_sees_the_diff_and_applies(app, runtime):
    _accounts(runtime)
    client = sign_in(app, "tr@agency.example")
    page = client.get("/dashboard/content/files").get_data(as_text=True)
    assert "/dashboard/content/files/kmr.po" in page and "/dashboard/content/files/ckb.po" not in page
    assert client.get("/dashboard/content/files/ckb.po").status_code == 404
    body = client.get("/dashboard/content/files/kmr.po").data
    catalog = read_po(io.BytesIO(body))
    message = next(m for m in catalog if m.context == "cholera.title")
    message.string = "کۆلێرا و زکچوونا ئاڤی <b>"
    out = io.BytesIO()
    write_po(out, catalog, width=0)

    shown = _upload(client, out.getvalue(), "kmr.po")
    page = shown.get_data(as_text=True)
    assert shown.status_code == 200 and "cholera.title" in page and "زکچوونا ئاڤی &lt;b&gt;" in page
    with runtime.transaction() as db:
        assert content_versions.draft(db) is None               # shown, not applied
    data = re.search(r'name="data" value="([^"]+)"', page).group(1)
    done = client.post("/dashboard/content/files", data={"csrf_token": csrf_token(client, "/dashboard/content/files"),
                                                         "confirm": "1", "name": "kmr.po", "data": data})
    assert done.status_code == 302
    with runtime.transaction() as db:
        files, _ = content_versions.files_of(db, content_versions.draft(db))
    assert 'kmr: "کۆلێرا و زکچوونا ئاڤی <b>"' in files["topics/health.yaml"]


def test_a_file_for_a_language_not_assigned_is_refused_and_viewers_have_no_page(app, runtime):
    _accounts(runtime)
    import json

    from bot import content_exchange
    client = sign_in(app, "tr@agency.example")
    with runtime.transaction() as db:
        files = json.loads(content_versions.published(db).files)
    ckb = content_exchange.export_po(files, "ckb", 1).replace(
        'msgstr "کۆلێرا و سکچوون"'.encode(), 'msgstr "کۆلێرا و سکچوونی ئاوی"'.encode())
    refused = _upload(client, ckb, "ckb.po")
    assert refused.status_code == 403 and "may not change ckb" in refused.get_data(as_text=True)
    assert _upload(client, b"not a po file \x00\xff", "x.po").status_code == 400
    with runtime.transaction() as db:
        assert content_versions.draft(db) is None
    viewer = sign_in(app, "viewer@agency.example")
    assert viewer.get("/dashboard/content/files").status_code == 403
