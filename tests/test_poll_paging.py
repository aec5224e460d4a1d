"""A big poll's free answers and per-respondent export, on SQLite and PostgreSQL: a page of free answers
opens only its own answers (counted by a real Vault that notes what it decrypts), a search pages across
the matches and stops counting at its bound, and the streamed export is byte for byte the file the
whole-in-memory export wrote (the same DictWriter / json.dumps over the same rows)."""
import csv
import io
import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select

from bot import poll_results, polls
from bot.export import neutralise
from bot.models import AuditEvent, Contact, Poll, PollAnswer, utcnow
from bot.vault import Vault

from .test_dashboard import sign_in, staff  # noqa: F401  (fixture)
from .test_poll_dashboard import COMPLAINT_NUMBER, answered  # noqa: F401  (fixture)

FREE = {"kind": "free", "text": {"ar": "ما الذي ينقص عائلتك هذا الشتاء؟", "ckb": "خێزانەکەت پێویستی بە چییە؟",
                                  "kmr": "خێزانا تە پێدڤی ب چییە؟", "en": "What does your family lack?"}}
ANSWERS = 130           # free answers in the big poll, one a minute; the even ones ask for blankets


class CountingVault(Vault):
    """The real vault, noting every token it opens."""

    def __init__(self, data_key: str):
        super().__init__(data_key)
        self.opened: list[str] = []

    def decrypt(self, token: str | None) -> str | None:
        if token is not None:
            self.opened.append(token)
        return super().decrypt(token)


def said(n: int) -> str:
    """Answer n's words: a marker to find it by, blankets (even n) or heating oil with a phone number."""
    if n % 2 == 0:
        return f"نحتاج بطانيات للأطفال [a{n:03d}]"
    return f"نحتاج نفط للمدفأة [a{n:03d}] اتصلوا على 0750123{n:04d}"


@pytest.fixture
def big_poll(runtime):
    """A sent poll with one free question and ANSWERS answers stored as the dialogue stores them
    (encrypted), answer n at minute n: newest first is n = ANSWERS-1 ... 0. Returns the poll id and
    each answer's token by n."""
    with runtime.transaction() as db:
        poll = polls.create(runtime, db, title="winter needs", questions=[FREE], actor="user:1")
        polls.approve(db, poll, "user:2", runtime.config)
        poll_id = poll.id
    start = utcnow() - timedelta(days=1)
    tokens = {n: runtime.vault.encrypt(said(n)) for n in range(ANSWERS)}
    with runtime.transaction() as db:
        db.execute(insert(Contact), [{"id": 5000 + n, "channel": "sms", "address_hash": f"h{n:040d}",
                                      "address_enc": "-", "language": "ar", "subscribed": True, "opted_out": False,
                                      "area": "duhok-khanke", "topics": "", "state": "browsing", "created_at": start}
                                     for n in range(ANSWERS)])
        db.execute(insert(PollAnswer), [{"poll_id": poll_id, "question": 0, "contact_id": 5000 + n, "option": None,
                                         "text_enc": tokens[n], "skipped": False, "language": "ar", "channel": "sms",
                                         "area": "duhok-khanke", "changes": 0, "created_at": start,
                                         "updated_at": start + timedelta(minutes=n)} for n in range(ANSWERS)])
        db.get(Poll, poll_id).status = "open"
    return poll_id, tokens


@pytest.fixture
def counting(runtime):
    runtime.vault = CountingVault(runtime.config["DATA_KEY"])
    return runtime.vault


def markers(page: str) -> list[int]:
    """The answers a page shows, by their marker, in the order shown."""
    return [int(m) for m in re.findall(r"\[a(\d{3})\]", page)]


def test_page_two_without_a_search_shows_the_right_answers_and_opens_only_them(app, runtime, big_poll, staff,
                                                                               counting):
    poll_id, tokens = big_poll
    officer = sign_in(app, staff["officer"])
    counting.opened.clear()
    page = officer.get(f"/dashboard/polls/{poll_id}/answers", query_string={"page": 2})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    expected = list(range(ANSWERS - 51, ANSWERS - 101, -1))          # newest first: the 51st to the 100th
    assert markers(text) == expected
    assert "130 answers" in text and "Page 2 of 3" in text
    assert "07501230079" not in text and "•••" in text               # numbers still masked
    opened = [token for token in counting.opened if token in tokens.values()]
    assert sorted(opened) == sorted(tokens[n] for n in expected)     # only the page's 50 were decrypted

    last = officer.get(f"/dashboard/polls/{poll_id}/answers", query_string={"page": 3}).get_data(as_text=True)
    assert markers(last) == list(range(29, -1, -1))
    with runtime.transaction() as db:
        poll = db.get(Poll, poll_id)
        beyond = poll_results.free_answers(runtime, db, poll, limit=50, offset=500)
        other_question = poll_results.free_answers(runtime, db, poll, question=1)
    assert beyond == {"total": ANSWERS, "more": False, "items": []}
    assert other_question["total"] == 0 and other_question["items"] == []


def test_a_search_pages_across_its_matches(app, runtime, big_poll, staff, counting):
    poll_id, tokens = big_poll
    officer = sign_in(app, staff["officer"])
    blankets = sorted((n for n in range(ANSWERS) if n % 2 == 0), reverse=True)      # 65 matches
    first = officer.get(f"/dashboard/polls/{poll_id}/answers", query_string={"q": "بطانيات"}).get_data(as_text=True)
    second = officer.get(f"/dashboard/polls/{poll_id}/answers",
                         query_string={"q": "بطانيات", "page": 2}).get_data(as_text=True)
    assert markers(first) == blankets[:50] and markers(second) == blankets[50:]
    assert "65 answers" in first and "Page 2 of 2" in second
    # a number is found in what the person wrote, and shown masked
    found = officer.get(f"/dashboard/polls/{poll_id}/answers", query_string={"q": "07501230077"}).get_data(as_text=True)
    shown = re.findall(r'<span class="said" dir="auto">(.*?)</span>', found)
    assert markers(found) == [77] and "1 answers" in found
    assert len(shown) == 1 and "07501230077" not in shown[0] and "•••" in shown[0]

    with runtime.transaction() as db:
        poll = db.get(Poll, poll_id)
        counting.opened.clear()
        bounded = poll_results.free_answers(runtime, db, poll, search="بطانيات", limit=10, offset=10, count_up_to=20)
        opened = len(counting.opened)
        rare = poll_results.free_answers(runtime, db, poll, search="a001", limit=10)
    # the page is the 11th to 20th match; counting stopped at the 21st: "20+", not every answer opened
    assert [int(item["text"].split("[a")[1][:3]) for item in bounded["items"]] == blankets[10:20]
    assert bounded["total"] == 20 and bounded["more"] is True
    newest_21st_match = blankets[20]
    assert opened == ANSWERS - newest_21st_match < ANSWERS
    assert rare["total"] == 1 and rare["more"] is False                # a rare word: read to the end, exact
    page = officer.get(f"/dashboard/polls/{poll_id}/answers", query_string={"q": "نحتاج"}).get_data(as_text=True)
    assert "130 answers" in page                                      # under the bound of 500: exact


def old_csv(rows: list[dict], tags: dict[str, str]) -> str:
    """How export_respondents wrote the CSV before it streamed (whole, in memory)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(tags))
    writer.writeheader()
    writer.writerow(tags)
    for row in rows:
        writer.writerow({k: neutralise(v) for k, v in row.items()})
    return buffer.getvalue()


def old_json(rows: list[dict], tags: dict[str, str]) -> str:
    return json.dumps({"hxl": tags, "rows": rows}, ensure_ascii=False, indent=1)


def test_the_streamed_export_is_the_file_the_whole_export_wrote(app, runtime, answered, tmp_path):
    page_url, writer = answered
    poll_id = int(page_url.rstrip("/").split("/")[-1])
    with runtime.transaction() as db:
        poll = db.get(Poll, poll_id)
        rows = list(poll_results.respondent_rows(runtime, db, poll))
        pieces = {(fmt, every): list(poll_results.stream_respondents(runtime, db, poll, fmt, every=every))
                  for fmt in ("csv", "json") for every in (1, 3, 500)}
        audits = db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "poll_export"))
    assert len(rows) == 10 and len({r["respondent"] for r in rows}) == 8        # eight people, two wrote too
    assert all(COMPLAINT_NUMBER not in r["answer_text"] for r in rows)
    expected = {"csv": old_csv(rows, poll_results.HXL_RESPONDENT), "json": old_json(rows, poll_results.HXL_RESPONDENT)}
    for (fmt, every), chunks in pieces.items():
        assert "".join(chunks) == expected[fmt], (fmt, every)
    assert len(pieces[("json", 1)]) == 11 and len(pieces[("csv", 3)]) == 4      # really in pieces

    streamed = writer.get(f"{page_url}/export/respondents.csv", buffered=False)
    assert streamed.is_streamed and streamed.status_code == 200
    assert streamed.get_data() == ("\ufeff" + expected["csv"]).encode("utf-8")
    as_json = writer.get(f"{page_url}/export/respondents.json")
    assert as_json.get_data() == expected["json"].encode("utf-8") and as_json.get_json()["rows"] == rows
    runner = app.test_cli_runner()
    printed = runner.invoke(args=["poll", "export", str(poll_id), "--format", "json", "--as", "cli"])
    assert printed.exit_code == 0, printed.output
    assert printed.stdout == expected["json"]
    written = runner.invoke(args=["poll", "export", str(poll_id), "--output", str(tmp_path / "r.csv"), "--as", "cli"])
    assert written.exit_code == 0, written.output
    assert (tmp_path / "r.csv").read_bytes() == expected["csv"].encode("utf-8")
    with runtime.transaction() as db:
        details = db.scalars(select(AuditEvent.detail).where(AuditEvent.action == "poll_export")
                             .order_by(AuditEvent.id)).all()
    assert len(details) == audits + 4 and set(details[-4:]) == {"10 answers, per respondent"}


def test_an_empty_poll_exports_valid_json(runtime):
    with runtime.transaction() as db:
        poll = polls.create(runtime, db, title="nobody yet", questions=[FREE], actor="user:1")
        db.flush()
        text = "".join(poll_results.stream_respondents(runtime, db, poll, "json"))
        csv_text = "".join(poll_results.stream_respondents(runtime, db, poll, "csv"))
    assert text == old_json([], poll_results.HXL_RESPONDENT) and json.loads(text)["rows"] == []
    assert csv_text == old_csv([], poll_results.HXL_RESPONDENT)
