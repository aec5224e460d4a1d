"""Polls in the dashboard, through Flask's test client on SQLite and PostgreSQL: an officer writes a poll,
a second person approves it (the broadcast rule), it is sent; people answer through the real webhooks;
the results page counts them, hides small cells, keeps free answers from viewers; exports carry no number.
"""
import re

from sqlalchemy import select

from bot.models import AuditEvent, Poll

from .conftest import csrf_token
from .test_broadcasts import delivered, person
from .test_dashboard import sign_in, staff  # noqa: F401  (fixture)

WINTER = {"q1_kind": "choice",
          "q1_text_ar": "هل استلمت عائلتك حقيبة الشتاء؟", "q1_options_ar": "نعم\nلا",
          "q1_text_ckb": "ئایا خێزانەکەت جانتای زستانی وەرگرت؟", "q1_options_ckb": "بەڵێ\nنەخێر",
          "q1_text_kmr": "ئەرێ خێزانا تە جانتایا زڤستانێ وەرگرت؟", "q1_options_kmr": "ئەرێ\nنەخێر",
          "q2_kind": "free",
          "q2_text_ar": "ما الذي ينقص عائلتك هذا الشتاء؟",
          "q2_text_ckb": "خێزانەکەت ئەم زستانە پێویستی بە چییە؟",
          "q2_text_kmr": "خێزانا تە ڤێ زڤستانێ پێدڤی ب چییە؟"}


def compose(client, **fields):
    data = {"title": "Winter kits", **WINTER, **fields}
    data["csrf_token"] = csrf_token(client, "/dashboard/polls/new")
    return client.post("/dashboard/polls/new", data={k: v for k, v in data.items() if v is not None})


def act(client, page_url, action):
    return client.post(f"{page_url}/{action}", data={"csrf_token": csrf_token(client, page_url)})


def test_an_officer_writes_a_poll_and_a_second_person_must_approve_it(app, runtime, fake, staff):
    person(runtime, "sms", "+9647500000081", "ar")
    person(runtime, "telegram", "8082", "ckb")
    writer = sign_in(app, staff["officer"])
    made = compose(writer)
    assert made.status_code == 302, made.get_data(as_text=True)
    page_url = made.headers["Location"]
    page = writer.get(page_url).get_data(as_text=True)
    assert "هل استلمت عائلتك حقيبة الشتاء؟" in page and "١. نعم" in page      # question 1 as sent, options numbered
    assert "خێزانەکەت ئەم زستانە" in page                                     # question 2 too
    assert "SMS" in page and "Telegram" in page and "WhatsApp" in page       # one preview per channel
    assert re.search(r"2 people", page)
    assert "must approve" in page and ">Approve<" not in page

    act(writer, page_url, "send")
    assert delivered(fake) == []                                          # not without approval
    refused = act(writer, page_url, "approve")
    assert refused.status_code == 303
    assert "you wrote this" in writer.get(page_url).get_data(as_text=True)
    poll_id = int(page_url.rstrip("/").split("/")[-1])
    with runtime.transaction() as db:
        assert db.get(Poll, poll_id).status == "draft"                    # nor approved by its writer

    approver = sign_in(app, staff["admin"])
    assert ">Approve<" in approver.get(page_url).get_data(as_text=True)
    assert act(approver, page_url, "approve").status_code == 302
    assert act(writer, page_url, "send").status_code == 302
    got = sorted((address, text) for _, address, text in delivered(fake))
    assert [a for a, _ in got] == ["+9647500000081", "8082"]
    assert "هل استلمت عائلتك" in got[0][1] and "ئایا خێزانەکەت" in got[1][1]
    with runtime.transaction() as db:
        actions = [a for (a,) in db.execute(select(AuditEvent.action).where(
            AuditEvent.target == f"poll:{poll_id}").order_by(AuditEvent.id))]
    assert actions[:3] == ["poll_create", "poll_approve", "poll_send"]
    assert "Winter kits" in writer.get("/dashboard/polls").get_data(as_text=True)


def test_a_draft_is_changed_in_the_same_editor(app, runtime, staff):
    writer = sign_in(app, staff["officer"])
    page_url = compose(writer).headers["Location"]
    edit_url = f"{page_url}/edit"
    form = writer.get(edit_url).get_data(as_text=True)
    assert "هل استلمت عائلتك حقيبة الشتاء؟" in form and "نعم\nلا" in form and 'name="revision" value="0"' in form
    changed = {**WINTER, "title": "Winter kits, round 2", "q1_options_ar": "نعم\nلا\nلا أعرف",
               "q1_options_ckb": "بەڵێ\nنەخێر\nنازانم", "q1_options_kmr": "ئەرێ\nنەخێر\nنزانم", "revision": "0",
               "csrf_token": csrf_token(writer, edit_url)}
    assert writer.post(edit_url, data=changed).status_code == 302
    assert "٣. لا أعرف" in writer.get(page_url).get_data(as_text=True)
    stale = writer.post(edit_url, data={**changed, "csrf_token": csrf_token(writer, edit_url)})
    assert stale.status_code == 400 and "changed this poll meanwhile" in stale.get_data(as_text=True)


def test_what_cannot_be_a_poll_is_refused_with_the_reason(app, runtime, staff):
    officer = sign_in(app, staff["officer"])
    cases = [
        ({k: "" for k in WINTER if k.startswith(("q1_text", "q1_options", "q2_text"))}, "at least one question"),
        ({"q1_options_ckb": "بەڵێ"}, "same number of options"),
        ({"q1_options_ar": "نعم", "q1_options_ckb": "بەڵێ", "q1_options_kmr": "ئەرێ"}, "needs 2 to 9 options"),
        ({"q2_options_ar": "واحد\nاثنان"}, "takes a free answer"),
        ({"q1_kind": "ranking"}, "numbered options or a free answer"),
        ({"q2_text_kmr": ""}, "same languages as question 1"),
        ({"at": "tomorrow"}, "That time is not valid"),
        ({"window_hours": "0"}, "hours"),
        ({"window_hours": "lots"}, "whole number of hours"),
        ({"area": "atlantis"}, "Unknown area"),
        ({"channel": "pigeon"}, "Channels are"),
        ({"q1_text_ar": "س" * 400}, "keep it under"),
    ]
    for fields, reason in cases:
        response = compose(officer, **fields)
        assert response.status_code == 400, (fields, response.status_code)
        assert reason in response.get_data(as_text=True), (fields, reason)
    with runtime.transaction() as db:
        assert db.execute(select(Poll)).first() is None
    arabic = sign_in(app, staff["officer"], lang="ar")
    page = compose(arabic, q1_kind="ranking").get_data(as_text=True)
    assert 'dir="rtl"' in page and "data-segments-options" in page


def test_polls_are_for_staff_who_may_and_a_viewer_only_reads(app, runtime, staff):
    viewer = sign_in(app, staff["viewer"])
    assert viewer.get("/dashboard/polls").status_code == 200
    assert viewer.get("/dashboard/polls/new").status_code == 403
    assert viewer.post("/dashboard/polls/new", data={"title": "x"}).status_code in (400, 403)
    writer = sign_in(app, staff["officer"])
    page_url = compose(writer).headers["Location"]
    assert viewer.get(page_url).status_code == 200
    assert ">Approve<" not in viewer.get(page_url).get_data(as_text=True)
    token = csrf_token(viewer, "/dashboard/polls")
    for action in ("approve", "send", "close", "cancel"):
        assert viewer.post(f"{page_url}/{action}", data={"csrf_token": token}).status_code == 403
    assert writer.get("/dashboard/polls/999999").status_code == 404
    assert act(writer, page_url, "explode").status_code == 404
