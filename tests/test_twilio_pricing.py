"""`flask --app bot twilio voice-price`: the phone menu's cost read from Twilio's Pricing API (the loopback
fake, whose prices are made-up test data), through Flask's CLI runner."""
import base64
import socket
from datetime import UTC, datetime

import pytest

from bot import create_app

from .conftest import TWILIO_TOKEN

PRICING_PATHS = ["/v2/Voice/Countries/IQ", "/v1/Messaging/Countries/IQ"]


@pytest.fixture
def make_app(environ, tmp_path):
    made = []

    def make(**changes):
        settings = {k: v for k, v in {**environ, **changes}.items() if v is not None}
        made.append(create_app({"INSTANCE_PATH": str(tmp_path / f"instance{len(made)}"), "ENVIRON": settings,
                                "TESTING": True}))
        return made[-1]

    yield make
    for application in made:
        application.extensions["bot"].dispose()


def voice_price(application):
    return application.test_cli_runner().invoke(args=["twilio", "voice-price"])


def basic(sid: str, token: str) -> str:
    return "Basic " + base64.b64encode(f"{sid}:{token}".encode()).decode()


def pricing_requests(fake):
    return [r for r in fake.requests if r["path"] in PRICING_PATHS]


def test_the_command_prints_the_accounts_prices_per_number_type_and_a_typical_call(make_app, environ, fake):
    sid = environ["TWILIO_ACCOUNT_SID"]
    fake.account = (sid, TWILIO_TOKEN)
    result = voice_price(make_app(TWILIO_VOICE="1"))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    assert lines[0].startswith(f"Twilio prices for Iraq (IQ) for this account, read {today} ")
    assert lines[0].endswith(f"UTC from {fake.url}")
    assert "Calls in to the Voice number, per minute (USD), by number type:" in lines
    assert [line.split() for line in lines if line.strip().startswith(("local", "mobile"))] == [
        ["local", "0.0100"], ["mobile", "0.0200", "(list", "price", "0.0250)"]]
    outbound = [line for line in lines if "Iraq - Mobile" in line or "Landline" in line]
    assert [line.split()[-1] for line in outbound] == ["0.1000", "0.1100"]     # mobiles only, no landline
    assert "(96477, 96478)" in outbound[0]
    sms = [line.split() for line in lines if line.strip().startswith("Test Carrier")]
    assert sms == [["Test", "Carrier", "A,", "from", "local", "0.2000"],
                   ["Test", "Carrier", "B,", "from", "local", "0.2400", "(list", "price", "0.2500)"]]
    assert "One typical call: menu ~1 min + a 90 s message = 2 min 30 s, billed as 3 started minutes:" in lines
    assert "  on a local number: 0.0300 USD, + its SMS answer (1 part) 0.2000–0.2400 USD" in lines
    assert "  on a mobile number: 0.0600 USD, + its SMS answer (1 part) 0.2000–0.2400 USD" in lines
    assert "phone menu is off" not in result.output
    # the credentials went to the fake (TWILIO_API_URL) and only there, each price list once
    assert pricing_requests(fake) == [{"path": p, "authorization": basic(sid, TWILIO_TOKEN)} for p in PRICING_PATHS]
    assert fake.requests == pricing_requests(fake)


def test_the_estimate_follows_the_longest_message_allowed(make_app, environ, fake):
    fake.account = (environ["TWILIO_ACCOUNT_SID"], TWILIO_TOKEN)
    result = voice_price(make_app(TWILIO_VOICE="1", TWILIO_VOICE_RECORD_SECONDS="120"))
    assert result.exit_code == 0, result.output
    assert "a 120 s message = 3 min 00 s, billed as 3 started minutes:" in result.output
    assert "on a mobile number: 0.0600 USD" in result.output


def test_wrong_credentials_are_a_clear_error_without_a_traceback(make_app, environ, fake):
    fake.account = (environ["TWILIO_ACCOUNT_SID"], "the-token-twilio-knows")
    result = voice_price(make_app())
    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit)
    assert "Error: Twilio refused the credentials (HTTP 401, error 20003): check TWILIO_ACCOUNT_SID and " \
           "TWILIO_AUTH_TOKEN" in result.output
    assert "Traceback" not in result.output and "Calls in" not in result.output


def test_a_provider_error_is_a_clear_error(make_app, environ, fake):
    fake.account = (environ["TWILIO_ACCOUNT_SID"], TWILIO_TOKEN)
    fake.fail_next("twilio_pricing", 503, {"code": 20503, "message": "Service unavailable", "status": 503})
    result = voice_price(make_app())
    assert result.exit_code != 0 and isinstance(result.exception, SystemExit)
    assert "Error: Twilio's Pricing API answered HTTP 503 (error 20503)" in result.output


def test_twilio_off_is_a_clear_message_and_asks_nothing(make_app, fake):
    result = voice_price(make_app(TWILIO_ACCOUNT_SID=None, TWILIO_AUTH_TOKEN=None))
    assert result.exit_code != 0 and isinstance(result.exception, SystemExit)
    assert "Error: Twilio is off here: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN" in result.output
    assert "Traceback" not in result.output
    assert fake.requests == []


def test_the_phone_menu_off_still_shows_the_prices_and_says_it_is_off(make_app, environ, fake):
    """Prices are read before announcing the number, so before TWILIO_VOICE is on."""
    fake.account = (environ["TWILIO_ACCOUNT_SID"], TWILIO_TOKEN)
    result = voice_price(make_app(TWILIO_VOICE=None))
    assert result.exit_code == 0, result.output
    assert "on a local number: 0.0300 USD" in result.output
    assert result.output.splitlines()[-1] == \
        "The phone menu is off here (TWILIO_VOICE is not set): these are the prices it would cost."


def test_credentials_never_travel_in_clear_to_a_host_off_loopback(make_app, fake):
    result = voice_price(make_app(TWILIO_API_URL="http://twilio-proxy.example.org"))
    assert result.exit_code != 0 and isinstance(result.exception, SystemExit)
    assert "TWILIO_API_URL must be https (or http on 127.0.0.1/localhost, for a test fake), not " \
           "http://twilio-proxy.example.org" in result.output
    assert fake.requests == []


def test_twilio_unreachable_is_a_clear_error(make_app):
    with socket.socket() as closed:        # a loopback port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    result = voice_price(make_app(TWILIO_API_URL=f"http://127.0.0.1:{port}"))
    assert result.exit_code != 0 and isinstance(result.exception, SystemExit)
    assert "Error: Twilio's Pricing API could not be read: ConnectionError" in result.output
    assert "Traceback" not in result.output
