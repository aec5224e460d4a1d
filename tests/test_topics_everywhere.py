"""Each of the four topics is reachable in every language on every channel, by menu and by free text."""
import pytest

from handlers.content import load
from handlers.sms import segments

from .conftest import twiml_bodies

CONTENT = load()
TOPICS = [t.id for t in CONTENT.topics]
# A first message in each language, typed as people type it; the bot must recognise the language.
FIRST = {"ar": "مرحبا", "ckb": "سڵاو چۆنی", "kmr": "سلاڤ، چاوانی؟", "kmr_latn": "silav",
         "en": "hello"}
TELEGRAM_HINT = {"ar": "ar", "ckb": None, "kmr": None, "kmr_latn": None, "en": "en"}


class Person:
    """One person on one channel, talking through the real webhook."""

    def __init__(self, channel, telegram, twilio, n):
        self.channel, self.telegram, self.twilio = channel, telegram, twilio
        self.chat_id = 900000 + n
        self.sender = f"+96475{n:08d}" if channel == "sms" else f"whatsapp:+96477{n:08d}"

    def say(self, text, hint=None) -> str:
        """Everything the person sees in answer: text and option labels."""
        if self.channel == "telegram":
            body = self.telegram.say(text, chat_id=self.chat_id, language_code=hint)
            buttons = [row[0]["text"] for row in (body.get("reply_markup") or {}).get("keyboard", [])]
            return "\n".join([body.get("text") or body.get("caption") or ""] + buttons)
        response = self.twilio.post(self.twilio.form(text, self.sender))
        assert response.status_code == 200
        bodies = twiml_bodies(response.get_data(as_text=True))
        if self.channel == "sms":
            assert all(segments(b) <= 3 for b in bodies), bodies
        else:
            assert all(len(b) <= 4096 for b in bodies)
        return "\n".join(bodies)


@pytest.fixture
def person_factory(telegram, twilio):
    counter = iter(range(1, 10_000))
    return lambda channel: Person(channel, telegram, twilio, next(counter))


@pytest.mark.parametrize("channel", ["telegram", "sms", "whatsapp"])
@pytest.mark.parametrize("lang", ["ar", "ckb", "kmr", "kmr_latn"])
def test_every_topic_by_menu(person_factory, runtime, channel, lang):
    for number, topic_id in enumerate(TOPICS, 1):
        person = person_factory(channel)
        welcome = person.say(FIRST[lang], TELEGRAM_HINT[lang])
        assert CONTENT.topic(topic_id).title[lang] in welcome, (lang, welcome)
        typed = str(number) if lang in ("kmr_latn", "en") else "٠١٢٣٤٥٦٧٨٩"[number]
        listing = person.say(typed)
        topic = CONTENT.topic(topic_id)
        for item in topic.items[:3]:
            assert item.title[lang] in listing, (lang, channel, topic_id, item.id)
        first_item = topic.items[0]
        answer = person.say("۱")                                  # Extended Arabic-Indic one
        expected = (first_item.sms[lang] if channel == "sms" else
                    (first_item.text[lang] if not first_item.steps else first_item.text[lang]))
        assert expected.split("\n")[0][:40] in answer.replace("*", ""), (lang, channel, topic_id)


def test_an_sms_item_pages_through_the_full_text(person_factory):
    person = person_factory("sms")
    person.say("مرحبا")
    person.say("1")
    person.say("1")
    seen = []
    for _ in range(12):
        page = person.say("1")
        seen.append(page)
        if "(" not in page:
            break
    full = " ".join(CONTENT.items[CONTENT.topic("health").items[0].id].text["ar"].split())
    assert full[:30] in " ".join(seen)
    assert full[-20:] in " ".join(" ".join(seen).split())
