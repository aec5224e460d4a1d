"""People's attachments, opened by staff: credentials go only to the provider, files come back inert.

A case comes in through the real signed Twilio webhook (or Telegram update JSON) with an attachment;
an officer opens it in the dashboard, which fetches it from the loopback fake provider. A second
loopback server stands for any other host: it records every request it gets.
"""
import base64
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bot import security_headers, users

from .conftest import payload
from .fakes import PHOTO, VOICE, serve_in_thread
from .test_dashboard import PASSWORD, sign_in
from .test_feedback import code_in

SID = "AC00000000000000000000000000000000"
MEDIA = (f"/2010-04-01/Accounts/{SID}/Messages/MM00000000000000000000000000000001"
         "/Media/ME0000000000000000000000000000001")
CREDENTIALS = "Basic " + base64.b64encode(f"{SID}:twilio-auth-token-for-tests".encode()).decode()
BIG = 21 * 1024 * 1024


class Stranger:
    """Another host: answers every GET with a photo and remembers who asked, and with what."""

    def __init__(self):
        self.requests: list[dict] = []
        stranger = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                stranger.requests.append({"path": self.path, "authorization": self.headers.get("Authorization", "")})
                self.send_response(200)
                self.send_header("Content-Type", "image/jpeg")
                self.send_header("Content-Length", str(len(PHOTO)))
                self.end_headers()
                self.wfile.write(PHOTO)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        serve_in_thread(self.server)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stranger():
    server = Stranger()
    yield server
    server.stop()


@pytest.fixture
def officer(app, runtime):
    """An officer signed in, on the app as deployed (security headers on; bot/app.py wires them)."""
    if "security_headers" not in app.extensions:
        security_headers.init_app(app)
    with runtime.transaction() as db:
        users.create(db, "officer@agency.example", "Officer", PASSWORD, "officer")
    return sign_in(app, "officer@agency.example")


def mms_case(twilio, media: list[tuple[str, str]], sender: str = "+9647701112233") -> str:
    """An MMS (signed, as Twilio posts it) with attachments (URL, declared type), then Arabic, then
    "a complaint": a case holding them."""
    fields = {"NumMedia": str(len(media))}
    for n, (url, kind) in enumerate(media):
        fields.update({f"MediaUrl{n}": url, f"MediaContentType{n}": kind})
    assert twilio.post(twilio.form("", sender, **fields)).status_code == 200
    twilio.say("1", sender)
    return code_in("\n".join(twilio.say("1", sender)))


def sms_case_with(twilio, url: str, kind: str = "image/jpeg", sender: str = "+9647701112233") -> str:
    """The same with one attachment."""
    return mms_case(twilio, [(url, kind)], sender)


def telegram_case_with(telegram, file_id: str, chat_id: int = 555000222) -> str:
    """A Telegram voice note (real update JSON), then "a complaint": a case holding the voice note."""
    telegram.say("مرحبا", chat_id=chat_id)
    voice = payload("telegram", "voice")
    voice["message"]["voice"]["file_id"] = file_id
    voice["message"]["chat"]["id"] = voice["message"]["from"]["id"] = chat_id
    assert telegram.post(voice).status_code == 200
    return code_in(telegram.say("1", chat_id=chat_id)["text"])


# ---- Twilio: the account's credentials only for Twilio's media host -----------------------------------

def test_a_media_url_on_another_host_is_never_fetched(app, officer, twilio, fake, stranger):
    fake_port = fake.url.rsplit(":", 1)[1]
    urls = [stranger.url + MEDIA,                                            # the media path, on another host
            stranger.url + "/dashboard/users",                               # the app's own pages (SSRF)
            f"http://127.0.0.1:{fake_port}@127.0.0.1:{stranger.port}{MEDIA}",   # the fake's address as a user
            f"{fake.url}@127.0.0.1:{stranger.port}/x"]
    code = mms_case(twilio, [(url, "image/jpeg") for url in urls])
    for n in range(len(urls)):
        assert officer.get(f"/dashboard/cases/{code}/media/{n}").status_code == 502
    assert stranger.requests == []                 # no request at all, so no credentials either
    assert not any("/Media/" in r["path"] for r in fake.requests)


def test_twilio_gets_the_credentials_and_its_cdn_does_not(app, officer, twilio, fake):
    fake.redirects[MEDIA] = f"{fake.url}/cdn/ME1.jpg"     # as Twilio sends a media URL on to its CDN
    code = sms_case_with(twilio, "https://api.twilio.com" + MEDIA)
    response = officer.get(f"/dashboard/cases/{code}/media/0")
    assert response.status_code == 200 and response.data == PHOTO and response.mimetype == "image/jpeg"
    asked = {r["path"]: r["authorization"] for r in fake.requests if r["path"] in (MEDIA, "/cdn/ME1.jpg")}
    assert asked == {MEDIA: CREDENTIALS, "/cdn/ME1.jpg": ""}


def test_a_redirect_off_twilio_over_plain_http_is_not_followed(app, officer, twilio, fake, stranger):
    fake.redirects[MEDIA] = f"{stranger.url}/cdn/ME1.jpg"
    code = sms_case_with(twilio, "https://api.twilio.com" + MEDIA)
    assert officer.get(f"/dashboard/cases/{code}/media/0").status_code == 502
    assert stranger.requests == []


def test_redirects_are_followed_three_times_at_most(app, officer, twilio, fake):
    fake.redirects[MEDIA] = f"{fake.url}/cdn/1"
    fake.redirects["/cdn/1"] = f"{fake.url}/cdn/2"
    fake.redirects["/cdn/2"] = f"{fake.url}/cdn/3"
    fake.redirects["/cdn/3"] = f"{fake.url}/cdn/1"          # round and round
    code = sms_case_with(twilio, "https://api.twilio.com" + MEDIA)
    assert officer.get(f"/dashboard/cases/{code}/media/0").status_code == 502
    hops = [r for r in fake.requests if r["path"] == MEDIA or r["path"].startswith("/cdn/")]
    assert len(hops) == 4 and [r["authorization"] for r in hops] == [CREDENTIALS, "", "", ""]


def test_an_attachment_over_20_mb_is_not_read_to_the_end(app, officer, twilio, fake):
    fake.files[MEDIA] = (PHOTO + bytes(BIG), "image/jpeg")    # streamed without a length
    code = sms_case_with(twilio, "https://api.twilio.com" + MEDIA)
    response = officer.get(f"/dashboard/cases/{code}/media/0")
    assert response.status_code == 502 and len(response.data) < 10_000


# ---- Telegram: only a plain relative file_path under the Bot API's file URL ------------------------

@pytest.mark.parametrize("file_path", ["/etc/passwd", "../x", "voice/../../../etc/passwd", "..",
                                       "voice/x.oga?y=1", "https://example.org/x.oga", "//example.org/x",
                                       "voice\\..\\x", "voice/x.oga#", "voice/ x.oga"])
def test_a_file_path_that_is_not_a_plain_relative_path_is_refused(app, officer, telegram, fake, file_path):
    fake.file_paths["AwACAgIAAxkBAAIBBad01"] = file_path
    code = telegram_case_with(telegram, "AwACAgIAAxkBAAIBBad01")
    response = officer.get(f"/dashboard/cases/{code}/media/0")
    assert response.status_code == 502 and b"root:" not in response.data
    assert [r["path"] for r in fake.requests if not r["path"].startswith("/bot")] == []   # only getFile, no download


def test_a_file_path_naming_a_file_on_this_machine_is_not_read(app, officer, telegram, fake, tmp_path,
                                                                monkeypatch):
    """python-telegram-bot reads a file_path that exists on disk (relative to the working directory)."""
    (tmp_path / "voice").mkdir()
    (tmp_path / "voice" / "keys.oga").write_bytes(b"OggS secret key material")
    monkeypatch.chdir(tmp_path)
    fake.file_paths["AwACAgIAAxkBAAIBLocal1"] = "voice/keys.oga"
    code = telegram_case_with(telegram, "AwACAgIAAxkBAAIBLocal1")
    response = officer.get(f"/dashboard/cases/{code}/media/0")
    assert b"secret key material" not in response.data


def test_a_telegram_voice_note_is_downloaded_from_the_bot_api(app, officer, telegram, fake):
    code = telegram_case_with(telegram, "AwACAgIAAxkBAAIBGood01")
    response = officer.get(f"/dashboard/cases/{code}/media/0")
    assert response.status_code == 200 and response.data == VOICE and response.mimetype == "audio/ogg"
    [download] = [r["path"] for r in fake.requests if r["path"].startswith("/file/")]
    assert download.endswith("/voice/AwACAgIAAxkBAAIBGood01.oga")


def test_a_telegram_file_over_20_mb_is_not_read_to_the_end(app, officer, telegram, fake):
    fake.files["/file/bot123456:TEST-token/voice/AwACAgIAAxkBAAIBHuge01.oga"] = (VOICE + bytes(BIG), "audio/ogg")
    code = telegram_case_with(telegram, "AwACAgIAAxkBAAIBHuge01")
    response = officer.get(f"/dashboard/cases/{code}/media/0")
    assert response.status_code == 502 and len(response.data) < 10_000


# ---- What staff's browser gets: inert media inline, everything else a download ---------------------

HTML = b"<!doctype html><html><body><script>fetch('/dashboard/users')</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'
OGG, JPEG = VOICE, PHOTO
PNG = b"\x89PNG\r\n\x1a\n" + bytes(40)
MP4 = b"\x00\x00\x00\x20ftypisom" + bytes(40)
M4A = b"\x00\x00\x00\x20ftypM4A " + bytes(40)
WEBM = (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04\x42\xf3\x81\x08"   # EBML header
        b"\x42\x82\x84webm" + bytes(20))                                                        # DocType webm
AMR = b"#!AMR\n" + bytes(40)
MP3 = b"ID3\x04\x00" + bytes(40)
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(40)
PDF = b"%PDF-1.7\n" + bytes(40)


GIF = b"GIF89a\x01\x00\x01\x00" + bytes(40)
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(40)


@pytest.mark.parametrize("table", [
    [(HTML, "text/html", None),
     (SVG, "image/svg+xml", None),
     (HTML, "image/jpeg", None),                    # the provider's word is not enough
     (PDF, "application/pdf", None)],
    [(JPEG + HTML, "text/html", "image/jpeg"),      # the bytes decide, and a JPEG stays an image
     (JPEG, "image/jpeg", "image/jpeg"),
     (PNG, "image/png", "image/png"),
     (GIF, "image/gif", "image/gif"),
     (WEBP, "image/webp", "image/webp")],
    [(OGG, "audio/ogg", "audio/ogg"),
     (MP3, "audio/mpeg", "audio/mpeg"),
     (AMR, "audio/amr", "audio/amr"),
     (WAV, "audio/wav", "audio/wav"),
     (M4A, "audio/mp4", "audio/mp4"),
     (MP4, "video/mp4", "video/mp4"),
     (WEBM, "video/webm", "video/webm")],
], ids=["downloads", "images", "sound and video"])
def test_only_images_and_sound_are_shown_inline_and_everything_else_is_a_download(
        app, officer, twilio, fake, table):
    urls = []
    for n, (body, declared, _) in enumerate(table):
        path = MEDIA[:-2] + f"{n:02d}"
        fake.files[path] = (body, declared)
        urls.append(("https://api.twilio.com" + path, declared))
    code = mms_case(twilio, urls)
    for n, (body, declared, served) in enumerate(table):
        response = officer.get(f"/dashboard/cases/{code}/media/{n}")
        assert response.status_code == 200 and response.data == body, declared
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "sandbox" in csp and "script-src" not in csp
        assert "no-store" in response.headers["Cache-Control"]
        if served is None:
            assert response.mimetype == "application/octet-stream", declared
            assert response.headers["Content-Disposition"] == f'attachment; filename="attachment-{n + 1}.bin"'
        else:
            assert response.mimetype == served, declared
            assert response.headers["Content-Disposition"] == "inline"


def test_the_case_page_offers_a_player_for_sound_and_only_a_link_for_an_svg(app, officer, twilio, fake):
    fake.files[MEDIA[:-1] + "1"] = (SVG, "image/svg+xml")
    fake.files[MEDIA[:-1] + "2"] = (OGG, "audio/ogg")
    code = mms_case(twilio, [("https://api.twilio.com" + MEDIA[:-1] + "1", "image/svg+xml"),
                             ("https://api.twilio.com" + MEDIA[:-1] + "2", "audio/ogg")])
    page = officer.get(f"/dashboard/cases/{code}").get_data(as_text=True)
    assert f'<img src="/dashboard/cases/{code}/media/0"' not in page
    assert f'href="/dashboard/cases/{code}/media/0"' in page
    assert f'<audio controls preload="none" src="/dashboard/cases/{code}/media/1">' in page
