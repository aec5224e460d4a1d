"""Polls in the dashboard, through Flask's test client on SQLite and PostgreSQL: an officer writes a poll,
a second person approves it (the broadcast rule), it is sent; people answer through the real webhooks;
the results page counts them, hides small cells, keeps free answers from viewers; exports carry no number.
"""
import json
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.models import AuditEvent, Poll, PollAnswer

from .conftest import Telegram, Twilio, csrf_token
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


def sent_poll(app, staff, **fields):
    """Written by an officer, approved by the admin, sent: the page's address and the officer's client."""
    writer = sign_in(app, staff["officer"])
    page_url = compose(writer, **fields).headers["Location"]
    assert act(sign_in(app, staff["admin"]), page_url, "approve").status_code == 302
    assert act(writer, page_url, "send").status_code == 302
    return page_url, writer


KHANKE = [f"+96475000002{n:02d}" for n in range(6)]     # six Arabic readers on SMS in Khanke camp (Duhok)
BAHARKA = (9091, 9092)                                 # two Sorani readers on Telegram in Baharka (Erbil)
COMPLAINT_NUMBER = "07701234567"


def answer_through_the_webhooks(app):
    sms, telegram = Twilio(app.test_client()), Telegram(app.test_client())
    for n, address in enumerate(KHANKE):
        sms.say("١" if n < 5 else "2", address)                      # five yes, one no
    telegram.say("بەڵێ", chat_id=BAHARKA[0], language_code="ckb")     # yes, in words
    telegram.say("2", chat_id=BAHARKA[1], language_code="ckb")        # no
    sms.say(f"نحتاج بطانيات ومدفأة، اتصلوا بي على {COMPLAINT_NUMBER}", KHANKE[0])   # question 2, free
    telegram.say("بەتانی و نەوت", chat_id=BAHARKA[0], language_code="ckb")


def row_of(page: str, by: str, name: str) -> str:
    """The cells of one row of a breakdown table, as text."""
    table = re.search(rf'<table class="cases small breakdown" data-by="{by}">(.*?)</table>', page, re.S).group(1)
    row = next(r for r in re.findall(r"<tr>(.*?)</tr>", table, re.S) if name in r)
    return " ".join(re.sub(r"<[^>]+>", " ", row).split())


@pytest.fixture
def answered(app, runtime, fake, staff):
    runtime.config["TWILIO_SMS_RATE"] = 1000.0      # not a test of the pace: the six texts go out at once
    for address in KHANKE:
        person(runtime, "sms", address, "ar", area="duhok-khanke")
    for chat in BAHARKA:
        person(runtime, "telegram", str(chat), "ckb", area="erbil-baharka")
    page_url, writer = sent_poll(app, staff)
    answer_through_the_webhooks(app)
    return page_url, writer


def test_answers_through_the_webhooks_fill_the_results_and_small_cells_stay_hidden(app, runtime, answered, staff):
    page_url, writer = answered
    live = writer.get(f"{page_url}/results.json").get_json()
    assert live["received"] == 8 and live["answered"] == 8 and live["live"] is True
    first, second = live["questions"]
    assert [o["count"] for o in first["options"]] == [6, 2] and first["answered"] == 8
    assert [o["percent"] for o in first["options"]] == [75.0, 25.0]
    assert second["answered"] == 2
    page = writer.get(f"{page_url}/results").get_data(as_text=True)
    assert 'data-count="received">8<' in page and "<svg" in page
    over_time = page[page.index('class="card over-time"'):]
    assert "<svg" in over_time and "<title>People who answered question 1: 8</title>" in over_time
    khanke = row_of(page, "area", "Khanke camp")
    assert khanke.startswith("Duhok › Khanke camp") and "5" in khanke.split() and "&lt;5" in khanke
    baharka = row_of(page, "area", "Baharka")
    assert baharka.startswith("Erbil › Baharka")
    assert baharka.split()[-3:] == ["&lt;5"] * 3          # 1 yes, 1 no, 2 people: nothing countable shown
    sorani = row_of(page, "language", "کوردی (سۆرانی)")
    assert sorani.count("&lt;5") == 3
    assert live["html"] in page                            # the live section is the page's own
    arabic = sign_in(app, staff["viewer"], lang="ar").get(f"{page_url}/results").get_data(as_text=True)
    assert "حسب المخيم أو القضاء" in arabic and "دهوك › مخيم خانكي" in arabic and "&lt;٥" in arabic
    assert COMPLAINT_NUMBER not in page and "بطانيات" not in page   # free answers are not on this page


def test_free_answers_are_masked_searchable_audited_and_not_for_viewers(app, runtime, answered, staff):
    page_url, writer = answered
    listed = writer.get(f"{page_url}/answers").get_data(as_text=True)
    assert "نحتاج بطانيات ومدفأة" in listed and "بەتانی و نەوت" in listed
    assert COMPLAINT_NUMBER not in listed and "•••" in listed
    found = writer.get(f"{page_url}/answers", query_string={"q": "بەتانی"}).get_data(as_text=True)
    assert "بەتانی و نەوت" in found and "نحتاج بطانيات" not in found
    with runtime.transaction() as db:
        assert db.scalar(select(AuditEvent.detail).where(AuditEvent.action == "poll_view_answers")
                         .order_by(AuditEvent.id.desc())) == "search: بەتانی"

    viewer = sign_in(app, staff["viewer"])
    results = viewer.get(f"{page_url}/results").get_data(as_text=True)
    assert 'data-count="received">8<' in results and f'{page_url}/answers"' not in results
    assert "Per respondent" not in results
    assert viewer.get(f"{page_url}/answers").status_code == 403
    assert viewer.get(f"{page_url}/export/respondents.csv").status_code == 403
    counts = viewer.get(f"{page_url}/export/aggregate.csv").get_data(as_text=True)
    assert "#x_poll_option" in counts.splitlines()[1] and "بطانيات" not in counts


def test_exports_carry_the_hxl_row_and_no_phone_number(app, runtime, answered):
    page_url, writer = answered
    per_person = writer.get(f"{page_url}/export/respondents.csv")
    assert per_person.status_code == 200 and per_person.mimetype == "text/csv"
    lines = per_person.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[1].startswith("#meta+poll,") and "#x_poll_option+num" in lines[1] and "#adm1+code" in lines[1]
    assert len(lines) == 2 + 8 + 2                       # eight answers to question 1, two free answers
    as_json = writer.get(f"{page_url}/export/respondents.json").get_json()
    assert len(as_json["rows"]) == 10 and as_json["hxl"]["area"] == "#loc+code"
    aggregate = writer.get(f"{page_url}/export/aggregate.csv?by=governorate").get_data(as_text=True)
    everything = per_person.get_data(as_text=True) + json.dumps(as_json, ensure_ascii=False) + aggregate
    for address in [*KHANKE, COMPLAINT_NUMBER, *map(str, BAHARKA)]:
        assert address not in everything and address[-7:] not in everything
    assert "bot.example" not in everything and "whatsapp:" not in everything
    for by in ("area", "governorate", "language", "channel", "day"):          # the page's choices
        counted = writer.get(f"{page_url}/export/aggregate.json", query_string={"by": by}).get_json()
        assert counted["rows"] and counted["hxl"]["count"] == "#indicator+num+count", by
    assert writer.get(f"{page_url}/export/aggregate.csv?by=phone").status_code == 400
    assert writer.get(f"{page_url}/export/everything.xlsx").status_code == 404
    with runtime.transaction() as db:
        assert db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "poll_export")) == 8
        assert db.scalar(select(func.count()).select_from(PollAnswer)) == 10


def test_the_live_page_gets_a_new_section_only_when_an_answer_changed(app, runtime, answered):
    page_url, writer = answered
    stamp = re.search(r'data-stamp="(\w+)"', writer.get(f"{page_url}/results").get_data(as_text=True)).group(1)
    same = writer.get(f"{page_url}/results.json", query_string={"stamp": stamp}).get_json()
    assert same == {"status": "open", "live": True, "stamp": stamp, "unchanged": True}
    telegram = Telegram(app.test_client())
    telegram.next_id += 1000                             # Telegram's update ids go on from the fixture's
    telegram.say("بەتانی و نەوتی زیاتر", chat_id=BAHARKA[1], language_code="ckb")   # question 2
    changed = writer.get(f"{page_url}/results.json", query_string={"stamp": stamp}).get_json()
    assert changed["stamp"] != stamp and "unchanged" not in changed and changed["questions"][1]["answered"] == 3


def test_closing_stops_the_live_page_and_the_answers(app, runtime, answered):
    page_url, writer = answered
    assert act(writer, page_url, "close").status_code == 302
    live = writer.get(f"{page_url}/results.json").get_json()
    assert live["status"] == "closed" and live["live"] is False
    assert 'data-live="0"' in writer.get(f"{page_url}/results").get_data(as_text=True)
    sms = Twilio(app.test_client())
    sms.n += 1000                                        # Twilio's message ids go on from the fixture's
    assert sms.say("2", KHANKE[1])                       # answered as an ordinary message ...
    after = writer.get(f"{page_url}/results.json").get_json()["questions"]
    assert [o["count"] for o in after[0]["options"]] == [6, 2]
    assert after[1]["answered"] == 2                     # ... not as the free answer it was waiting for


def test_a_scheduled_poll_waits_and_its_broadcast_is_handled_as_the_poll(app, runtime, fake, staff):
    person(runtime, "sms", "+9647500000091", "ar")
    later = (datetime.now(ZoneInfo("Asia/Baghdad")) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    page_url, writer = sent_poll(app, staff, at=later)
    page = writer.get(page_url).get_data(as_text=True)
    assert "scheduled" in page and "Close the poll" not in page and "Cancel poll" in page
    assert delivered(fake) == []                                       # not before its time
    with runtime.transaction() as db:
        poll = db.execute(select(Poll)).scalar_one()
        carrier_url = f"/dashboard/broadcasts/{poll.broadcast_id}"
    assert writer.get(carrier_url).headers["Location"].endswith(page_url)   # its broadcast is the poll's page
    cancelled = writer.post(f"{carrier_url}/cancel", data={"csrf_token": csrf_token(writer, "/dashboard/polls")})
    assert cancelled.status_code == 303
    with runtime.transaction() as db:
        assert db.execute(select(Poll.status)).scalar_one() == "scheduled"  # only the poll's own buttons change it
    assert act(writer, page_url, "cancel").status_code == 302
    with runtime.transaction() as db:
        assert db.execute(select(Poll.status)).scalar_one() == "cancelled"


def test_a_free_answer_that_is_a_sensitive_report_is_shown_to_focal_points_only(app, runtime, fake, staff):
    person(runtime, "sms", KHANKE[0], "ar", area="duhok-khanke")
    page_url, writer = sent_poll(app, staff)
    sms = Twilio(app.test_client())
    sms.say("١", KHANKE[0])
    report = "موظف التوزيع طلب مني شيئا مقابل المساعدة"
    sms.say(report, KHANKE[0])                                  # the free answer to question 2
    with runtime.transaction() as db:
        assert db.scalar(select(PollAnswer.case_id).where(PollAnswer.question == 1)) is not None
    officer_view = writer.get(f"{page_url}/answers").get_data(as_text=True)
    assert report not in officer_view and "only focal points see it" in officer_view
    focal = sign_in(app, staff["focal_point"]).get(f"{page_url}/answers").get_data(as_text=True)
    assert report in focal
    # a search must not tell the officer whether the hidden words hold a word either
    officer_search = writer.get(f"{page_url}/answers", query_string={"q": "مقابل"}).get_data(as_text=True)
    assert "only focal points see it" not in officer_search
    focal_search = sign_in(app, staff["focal_point"]).get(f"{page_url}/answers", query_string={"q": "مقابل"})
    assert report in focal_search.get_data(as_text=True)


def test_without_the_approval_rule_the_writer_sends_at_once(environ, tmp_path, fake):
    from bot import create_app, users
    app = create_app({"INSTANCE_PATH": str(tmp_path / "solo"), "TESTING": True,
                      "ENVIRON": {**environ, "BROADCAST_APPROVAL": "none"}})
    runtime = app.extensions["bot"]
    try:
        with runtime.transaction() as db:
            users.create(db, "solo@agency.example", "Solo", "correct horse battery", "officer")
        person(runtime, "telegram", "8093", "ckb")
        writer = sign_in(app, "solo@agency.example")
        page_url = compose(writer).headers["Location"]
        page = writer.get(page_url).get_data(as_text=True)
        assert "must approve" not in page and ">Send now<" in page
        assert act(writer, page_url, "send").status_code == 302
        assert [a for _, a, _ in delivered(fake)] == ["8093"]
    finally:
        runtime.dispose()


HUGE = "9" * 30                       # fits no database integer


def test_odd_inputs_on_the_poll_pages_are_4xx_or_polite_never_500(app, runtime, staff):
    app.config["PROPAGATE_EXCEPTIONS"] = False            # an unhandled error answers 500, as in production
    writer = sign_in(app, staff["officer"])
    refused = [{"at": "0001-01-01T00:00"}, {"at": "9999-12-31T23:59"}, {"window_hours": HUGE},
               {"window_hours": "-5"}, {"q1_kind": "  "}, {"area": HUGE}, {"topic": "x" * 500},
               {"q1_options_ar": "\n".join(f"خيار {n}" for n in range(50))}, {"fallback": "tlh"},
               {"q1_options_ar": "نعم\n" + "لا" * 80}]
    for fields in refused:
        response = compose(writer, **fields)
        assert response.status_code == 400, (fields, response.status_code)
        assert 'class="flash error"' in response.get_data(as_text=True), fields
    gap = {k.replace("q2_", "q4_"): v for k, v in WINTER.items()}       # questions in slots 1 and 4
    gap = {k: v for k, v in gap.items() if not k.startswith("q2_")}
    made = compose(writer, **{k: None for k in WINTER if k.startswith("q2_")}, **gap, title="t" * 5000)
    assert made.status_code == 302
    page_url = made.headers["Location"]
    assert "(٢/٢) ما الذي ينقص" in writer.get(page_url).get_data(as_text=True)
    for path in (f"/dashboard/polls/{HUGE}", f"/dashboard/polls/{HUGE}/results",
                 f"{page_url}/export/aggregate.xml"):
        assert writer.get(path).status_code == 404, path
    for path, query in ((f"{page_url}/answers", {"question": HUGE, "page": HUGE, "q": "ب" * 1000}),
                        (f"{page_url}/answers", {"question": "٢", "page": "-3"}),
                        (f"{page_url}/results.json", {"stamp": "x" * 1000}),
                        (f"{page_url}/results", {"page": HUGE}), (f"{page_url}/edit", {})):
        assert writer.get(path, query_string=query).status_code == 200, (path, query)
    assert writer.get(f"{page_url}/export/aggregate.csv", query_string={"by": "area;--"}).status_code == 400
    stale = writer.post(f"{page_url}/edit", data={**WINTER, "revision": HUGE,
                                                  "csrf_token": csrf_token(writer, f"{page_url}/edit")})
    assert stale.status_code == 400 and "changed this poll meanwhile" in stale.get_data(as_text=True)
    for action in ("close", "send"):                      # a draft cannot close; nor be sent unapproved
        assert act(writer, page_url, action).status_code == 303
    assert act(sign_in(app, staff["admin"]), page_url, "approve").status_code == 302
    assert act(sign_in(app, staff["admin"]), page_url, "approve").status_code == 303   # not twice
    assert writer.get(f"{page_url}/edit").status_code == 303                        # approved: no edits
    with runtime.transaction() as db:
        assert db.execute(select(Poll.status)).scalar_one() == "approved"
