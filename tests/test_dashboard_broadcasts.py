"""Broadcasts in the dashboard: compose with previews and counts, a second person approves, send, progress."""
import re

from sqlalchemy import select

from bot.models import Broadcast

from .conftest import csrf_token
from .test_broadcasts import delivered, person
from .test_dashboard import sign_in, staff  # noqa: F401  (fixture)


def compose(client, **fields):
    data = {"title": "Distribution", "text_ar": "توزيع الحصص الغذائية يوم الخميس في المخيم",
            "text_ckb": "دابەشکردنی بەشە خۆراک ڕۆژی پێنجشەممە لە کەمپ", "fallback": "", **fields}
    data["csrf_token"] = csrf_token(client, "/dashboard/broadcasts/new")
    return client.post("/dashboard/broadcasts/new", data=data)


def test_an_officer_composes_a_second_approves_and_the_people_receive_it(app, runtime, fake, staff):
    person(runtime, "sms", "+9647500000071", "ar")
    person(runtime, "telegram", "7072", "ckb")
    person(runtime, "whatsapp", "+9647500000073", "kmr")
    writer = sign_in(app, staff["officer"])
    made = compose(writer)
    assert made.status_code == 302
    page_url = made.headers["Location"]
    page = writer.get(page_url).get_data(as_text=True)
    assert "توزيع الحصص الغذائية" in page and "SMS" in page and "WhatsApp" in page and "Telegram" in page
    assert "nothing (no text, no fallback)" in page                       # the Badini reader is skipped
    assert re.search(r"2 people", page)
    assert "must approve" in page and ">Approve<" not in page
    broadcast_id = int(page_url.rstrip("/").split("/")[-1])
    token = csrf_token(writer, page_url)
    writer.post(f"{page_url}/send", data={"csrf_token": token})
    assert delivered(fake) == []                                          # not without approval
    writer.post(f"{page_url}/approve", data={"csrf_token": token})
    with runtime.transaction() as session:
        assert session.get(Broadcast, broadcast_id).status == "draft"    # nor approved by its writer

    approver = sign_in(app, staff["admin"])
    assert ">Approve<" in approver.get(page_url).get_data(as_text=True)
    token = csrf_token(approver, page_url)
    assert approver.post(f"{page_url}/approve", data={"csrf_token": token}).status_code == 302
    assert writer.post(f"{page_url}/send", data={"csrf_token": csrf_token(writer, page_url)}).status_code == 302
    got = delivered(fake)
    assert sorted(a for _, a, _ in got) == ["+9647500000071", "7072"]
    progress = writer.get(f"{page_url}/progress.json").get_json()
    assert progress["status"] == "done" and progress["sent"] == 2 and progress["percent"] == 100
    assert 'role="progressbar"' in writer.get(page_url).get_data(as_text=True)
    assert "Distribution" in writer.get("/dashboard/broadcasts").get_data(as_text=True)


def test_broadcast_pages_are_for_officers_not_viewers(app, staff):
    viewer = sign_in(app, staff["viewer"])
    assert viewer.get("/dashboard/broadcasts").status_code == 403
    assert viewer.get("/dashboard/broadcasts/new").status_code == 403
    officer = sign_in(app, staff["officer"])
    assert officer.get("/dashboard/broadcasts/999").status_code == 404
    assert officer.post("/dashboard/broadcasts/new", data={"title": "x", "text_ar": "y"}).status_code == 400


def test_a_broadcast_with_no_text_is_refused_with_a_reason(app, staff, runtime):
    officer = sign_in(app, staff["officer"])
    response = compose(officer, text_ar="", text_ckb="")
    assert response.status_code == 400 and "at least one language" in response.get_data(as_text=True)
    arabic = sign_in(app, staff["officer"], lang="ar")
    refused = compose(arabic, text_ar="", text_ckb="").get_data(as_text=True)
    assert "اكتب الإعلان بلغة واحدة على الأقل" in refused
    with runtime.transaction() as session:
        assert session.execute(select(Broadcast)).first() is None


def test_the_compose_page_counts_sms_parts_and_speaks_arabic(app, staff):
    officer = sign_in(app, staff["officer"], lang="ar")
    page = officer.get("/dashboard/broadcasts/new").get_data(as_text=True)
    assert 'dir="rtl"' in page and 'data-segments="seg-ar"' in page
