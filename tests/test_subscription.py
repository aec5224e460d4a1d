"""Announcements through the real webhooks: opting in with a topic and an area after a consent screen,
seeing and changing what one gets, opting out of announcements, and STOP winning over all of it."""
import pytest
from sqlalchemy import select, update

from bot.models import Contact
from handlers.content import load
from handlers.conversation import ContactState, Conversation
from handlers.i18n import Translator
from handlers.sms import MAX_SEGMENTS, segments
from handlers.subscription import announcements, ask_consent
from handlers.types import Incoming

CONTENT = load()
TOPICS = [topic.id for topic in CONTENT.topics]
GOVERNORATES = [g["id"] for g in CONTENT.areas]
CONSENT = ("Only to send you announcements, we keep: your number (encrypted), language, area, topics. "
           "Send STOP at any time to stop them.")
DONE = "Done: you will receive announcements. Send STOP to stop them."
ARABIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"


def topic_key(topic_id: str) -> str:
    """The number of a topic on the announcements screen: 1 is "all", the topics follow in content order."""
    return str(TOPICS.index(topic_id) + 2)


def governorate_key(group_id: str) -> str:
    return str(GOVERNORATES.index(group_id) + 1)


def place_key(group_id: str, area_id: str) -> str:
    places = [a["id"] for a in CONTENT.areas[GOVERNORATES.index(group_id)]["areas"]]
    return str(places.index(area_id) + 1)


def place(group_id: str, area_id: str, lang: str) -> str:
    group = CONTENT.areas[GOVERNORATES.index(group_id)]
    return next(a["name"][lang] for a in group["areas"] if a["id"] == area_id)


def arabic(number: str) -> str:
    return "".join(ARABIC_DIGITS[int(d)] for d in number)


def contact_row(runtime, channel: str, address: str) -> Contact:
    with runtime.transaction() as session:
        return session.execute(select(Contact).where(
            Contact.channel == channel,
            Contact.address_hash == runtime.vault.address_hash(channel, address))).scalar_one()


def one_sms(bodies: list[str]) -> str:
    """A screen on SMS: one message of at most three segments, never cut in two."""
    assert len(bodies) == 1, bodies
    assert segments(bodies[0]) <= MAX_SEGMENTS, bodies[0]
    return bodies[0]


def test_an_arabic_speaker_on_sms_subscribes_to_health_news_for_khanke_camp(twilio, runtime):
    t = Translator("ar")
    sender = "+9647504440001"
    twilio.say("مرحبا", sender)
    screen = one_sms(twilio.say("٦", sender))                               # main menu 6: announcements
    assert t("All announcements") in screen
    assert all(CONTENT.topic(topic_id).title["ar"] in screen for topic_id in TOPICS)
    areas = one_sms(twilio.say(arabic(topic_key("health")), sender))
    assert CONTENT.areas[0]["name"]["ar"] in areas and t("Skip") in areas
    camps = one_sms(twilio.say(arabic(governorate_key("duhok")), sender))
    assert place("duhok", "duhok-khanke", "ar") in camps
    consent = one_sms(twilio.say(arabic(place_key("duhok", "duhok-khanke")), sender))
    assert t(CONSENT) in consent                                           # what is kept and why, in Arabic
    assert CONTENT.topic("health").title["ar"] in consent and place("duhok", "duhok-khanke", "ar") in consent
    row = contact_row(runtime, "sms", sender)
    assert row.subscribed is False and row.area is None                   # nothing kept before the yes

    done = one_sms(twilio.say("١", sender))
    assert t(DONE) in done
    row = contact_row(runtime, "sms", sender)
    assert (row.subscribed, row.opted_out, row.topics, row.area) == (True, False, "health", "duhok-khanke")
    assert row.language == "ar"


def test_a_sorani_speaker_on_telegram_subscribes_by_word_then_changes_topic_and_area_then_stops(telegram, runtime):
    t = Translator("ckb")
    chat = 7310001
    telegram.say("سڵاو", chat_id=chat, language_code="ckb")
    screen = telegram.say("ئاگادارکردنەوەکان", chat_id=chat)               # "announcements", typed
    buttons = [row[0]["text"] for row in screen["reply_markup"]["keyboard"]]
    assert buttons[0] == f"١. {t('All announcements')}"
    telegram.say(buttons[0], chat_id=chat)                                 # a tap: all announcements
    consent = telegram.say("٠", chat_id=chat)                              # skip the area
    assert t(CONSENT) in consent["text"] and t("all topics") in consent["text"]
    done = telegram.say("بەڵێ", chat_id=chat)                              # yes, in words
    assert t(DONE) in done["text"]
    row = contact_row(runtime, "telegram", str(chat))
    assert (row.subscribed, row.topics, row.area) == (True, "", None)

    telegram.say("0", chat_id=chat)                                        # main menu
    mine = telegram.say("6", chat_id=chat)                                 # what I get
    assert t("You receive announcements on: {topics}.", topics=t("all topics")) in mine["text"]
    telegram.say("1", chat_id=chat)                                        # change topics
    saved = telegram.say(topic_key("safety"), chat_id=chat)
    assert t("Saved.") in saved["text"] and CONTENT.topic("safety").title["ckb"] in saved["text"]
    assert contact_row(runtime, "telegram", str(chat)).topics == "safety"

    telegram.say("2", chat_id=chat)                                        # change area
    camps = telegram.say(governorate_key("erbil"), chat_id=chat)
    assert len(camps["reply_markup"]["keyboard"]) == len(CONTENT.areas[1]["areas"]) + 1
    saved = telegram.say(place_key("erbil", "erbil-baharka"), chat_id=chat)
    assert place("erbil", "erbil-baharka", "ckb") in saved["text"]
    row = contact_row(runtime, "telegram", str(chat))
    assert (row.subscribed, row.topics, row.area) == (True, "safety", "erbil-baharka")

    stopped = telegram.say("3", chat_id=chat)                              # stop announcements
    assert t("Done: no more announcements.") in stopped["text"]
    row = contact_row(runtime, "telegram", str(chat))
    assert row.subscribed is False and row.opted_out is False             # still a contact, still served
    telegram.say("0", chat_id=chat)
    again = telegram.say("6", chat_id=chat)
    assert t("All announcements") in "\n".join(b[0]["text"] for b in again["reply_markup"]["keyboard"])


def test_a_badini_speaker_on_whatsapp_subscribes_to_migration_news_outside_a_camp_in_duhok(twilio, runtime):
    t = Translator("kmr")
    sender = "whatsapp:+9647704440003"
    twilio.say("سلاڤ، چاوانی؟", sender)
    screen = "\n".join(twilio.say("6", sender))
    assert t("All announcements") in screen and CONTENT.topic("migration").title["kmr"] in screen
    twilio.say(topic_key("migration"), sender)
    camps = "\n".join(twilio.say(governorate_key("duhok"), sender))
    assert all(a["name"]["kmr"] in camps for a in CONTENT.areas[0]["areas"])   # WhatsApp: the whole list
    consent = "\n".join(twilio.say(place_key("duhok", "duhok-outside-camp"), sender))
    assert t(CONSENT) in consent
    assert t("Yes, subscribe") in consent
    twilio.say("1", sender)
    row = contact_row(runtime, "whatsapp", sender[len("whatsapp:"):])
    assert (row.subscribed, row.topics, row.area, row.language) == (True, "migration", "duhok-outside-camp", "kmr")
    mine = "\n".join(twilio.say("ئاگەهداری", sender))                   # the word leads where menu 6 does
    assert CONTENT.topic("migration").title["kmr"] in mine
    assert f'{place("duhok", "duhok-outside-camp", "kmr")} ({CONTENT.areas[0]["name"]["kmr"]})' in mine


def duhok_camps_by_sms(twilio, sender: str, greeting: str) -> str:
    """Greeting, 6 (where I live), 1, Duhok: the first SMS page of Duhok's camp list."""
    twilio.say(greeting, sender)
    twilio.say("6", sender)
    twilio.say("1", sender)
    return one_sms(twilio.say(governorate_key("duhok"), sender))


def test_latin_kurmanji_on_sms_pages_through_a_long_camp_list(twilio, runtime):
    t = Translator("kmr_latn")
    sender = "+9647504440004"
    page = duhok_camps_by_sms(twilio, sender, "silav")
    seen = []
    while f". {t('More')}" in page:
        more = next(line.split(".")[0] for line in page.split("\n") if line.endswith(f". {t('More')}"))
        seen.append(page)
        page = one_sms(twilio.say(more if len(seen) > 1 else "bêtir", sender))   # the number, or the word
    seen.append(page)
    assert len(seen) >= 2                                                    # twelve camps do not fit one SMS
    last = CONTENT.areas[0]["areas"][-2]
    assert last["name"]["kmr_latn"] in page
    consent = one_sms(twilio.say(place_key("duhok", last["id"]), sender))     # numbers stay those of the list
    assert last["name"]["kmr_latn"] in consent and t(CONSENT) in consent
    twilio.say("erê", sender)
    row = contact_row(runtime, "sms", sender)
    assert (row.subscribed, row.topics, row.area) == (True, "", last["id"])


def test_only_a_clear_yes_subscribes(twilio, runtime):
    sender = "+9647504440005"
    twilio.say("مرحبا", sender)
    for answer in ("لا", "ما هي أعراض الكوليرا", "2"):
        twilio.say("اشترك", sender)                                          # the word opens the same screen
        twilio.say("١", sender)
        twilio.say("٠", sender)                                              # skip the area: consent screen
        twilio.say(answer, sender)
        assert contact_row(runtime, "sms", sender).subscribed is False


def test_stop_wins_and_only_start_brings_the_announcements_screen_back(twilio, runtime):
    t = Translator("ar")
    sender = "+9647504440006"
    twilio.say("مرحبا", sender)
    twilio.say("6", sender)
    twilio.say("1", sender)
    twilio.say("0", sender)
    twilio.say("1", sender)
    assert contact_row(runtime, "sms", sender).subscribed is True

    twilio.say("توقف", sender)
    row = contact_row(runtime, "sms", sender)
    assert (row.opted_out, row.subscribed) == (True, False)
    for attempt in ("اشترك", "6", "1", "subscribe", "الإعلانات"):
        answer = "\n".join(twilio.say(attempt, sender))
        assert answer == t("You asked us to stop messages. Send START to use the service again.")
        row = contact_row(runtime, "sms", sender)
        assert (row.opted_out, row.subscribed) == (True, False)

    twilio.say("ابدأ", sender)
    row = contact_row(runtime, "sms", sender)
    assert (row.opted_out, row.subscribed) == (False, False)              # START is not a subscription
    screen = one_sms(twilio.say("اشترك", sender))
    assert t("All announcements") in screen                               # asked again, consent again
    twilio.say("1", sender)
    twilio.say("0", sender)
    twilio.say("نعم", sender)
    assert contact_row(runtime, "sms", sender).subscribed is True


def test_an_opt_out_recorded_by_the_provider_mid_dialogue_blocks_the_yes(twilio, runtime):
    sender = "+9647504440007"
    twilio.say("مرحبا", sender)
    twilio.say("6", sender)
    twilio.say("1", sender)
    twilio.say("0", sender)                                                # at the consent screen
    with runtime.transaction() as session:                                 # Twilio said 21610 meanwhile
        session.execute(update(Contact).where(Contact.address_hash == runtime.vault.address_hash("sms", sender))
                        .values(opted_out=True, subscribed=False))
    twilio.say("1", sender)
    assert contact_row(runtime, "sms", sender).subscribed is False
    twilio.say("نعم", sender)                                              # YES opts back in (as Twilio's YES) ...
    row = contact_row(runtime, "sms", sender)
    assert (row.opted_out, row.subscribed) == (False, False)              # ... but never subscribes


@pytest.mark.parametrize("lang,hello", [("ar", "مرحبا"), ("ckb", "سڵاو چۆنی"), ("kmr", "سلاڤ، چاوانی؟"),
                                        ("kmr_latn", "silav")])
def test_every_area_screen_fits_three_sms_segments(twilio, lang, hello):
    sender = f"+96475044410{['ar', 'ckb', 'kmr', 'kmr_latn'].index(lang):02d}"
    twilio.say(hello, sender)
    for group in CONTENT.areas:
        one_sms(twilio.say("6", sender))
        one_sms(twilio.say("1", sender))
        page = one_sms(twilio.say(governorate_key(group["id"]), sender))
        shown = page
        while f". {Translator(lang)('More')}" in page:
            more = next(line.split(".")[0] for line in page.split("\n")
                        if line.endswith(f". {Translator(lang)('More')}"))
            page = one_sms(twilio.say(more, sender))
            shown += page
        assert all(a["name"][lang] in shown for a in group["areas"]), (lang, group["id"])
        one_sms(twilio.say("0", sender))                                   # skip: the consent screen
        twilio.say("2", sender)                                            # no


@pytest.mark.parametrize("lang", ["ar", "ckb", "kmr", "kmr_latn", "en"])
def test_consent_and_what_i_get_fit_three_sms_segments_for_every_place_and_topic(lang):
    """The longest combinations, without a database: each screen as one SMS."""
    from bot.channels.plain import as_text
    for topic in ["all"] + TOPICS:
        for group in CONTENT.areas:
            for area in group["areas"]:
                for screen in ("consent", "mine"):
                    state = ContactState(language=lang, state="browsing", subscribed=screen == "mine",
                                         topics=[] if topic == "all" else [topic], area=area["id"])
                    ctx = Conversation(CONTENT, Incoming("sms", "+9647500000000"), state)
                    if screen == "consent":
                        ask_consent(ctx, topic, area["id"])
                        assert Translator(lang)(CONSENT) in ctx.replies[-1].text
                        assert area["name"][lang] in ctx.replies[-1].text, (lang, area["id"])
                    else:
                        announcements(ctx, intro=ctx.t("Saved."))
                    body = as_text(ctx.replies[-1])
                    assert segments(body) <= MAX_SEGMENTS, (lang, topic, area["id"], screen, body)


def test_a_first_message_asking_for_announcements_gets_the_welcome_and_the_choice(twilio):
    t = Translator("ar")
    bodies = twilio.say("اشترك", "+9647504440008")
    assert t("All announcements") in bodies[-1]
    assert any(t("Send HELP for help, STOP to stop messages.") in body for body in bodies[:-1])


def test_feedback_uses_the_same_area_list_paged_on_sms(twilio, runtime):
    from bot.models import Case
    sender = "+9647504440009"
    twilio.say("مرحبا", sender)
    twilio.say("شكوى", sender)
    twilio.say("لا يوجد ماء في المخيم منذ ثلاثة أيام", sender)
    page = one_sms(twilio.say(governorate_key("duhok"), sender))
    more = next(line.split(".")[0] for line in page.split("\n") if line.endswith(f". {Translator('ar')('More')}"))
    one_sms(twilio.say(more, sender))
    twilio.say(arabic(place_key("duhok", "duhok-berseve-2")), sender)
    with runtime.transaction() as session:
        assert session.execute(select(Case.area)).scalar_one() == "duhok-berseve-2"


def test_a_camp_number_read_on_an_earlier_sms_page_still_works(twilio, runtime):
    """On page 2 of the camp list, "2" (Sharya, read on page 1) is still that camp, not an error."""
    t = Translator("ar")
    sender = "+9647504440009"
    page = duhok_camps_by_sms(twilio, sender, "مرحبا")
    assert f". {t('More')}" in page
    more = next(line.split(".")[0] for line in page.split("\n") if line.endswith(f". {t('More')}"))
    one_sms(twilio.say(more, sender))                                      # now on page 2
    second = CONTENT.areas[0]["areas"][1]
    consent = one_sms(twilio.say(place_key("duhok", second["id"]), sender))
    assert second["name"]["ar"] in consent and t(CONSENT) in consent
