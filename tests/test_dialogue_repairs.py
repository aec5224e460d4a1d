"""Conversations as people really hold them, where the dialogue used to lose them (a multi-turn sweep):
yes said in a sentence, a report kept back by "no", a state left days ago, a status asked in words,
a voice note before any language, words that start with a number, a menu number on a last screen."""
from datetime import timedelta

from sqlalchemy import select, update

from bot.models import Case, Contact, utcnow
from handlers.i18n import NATIVE_NAMES, Translator
from handlers.text import to_ascii_digits

from .test_feedback import code_in

SENDER = "+9647501112233"


def cases(runtime) -> list[Case]:
    with runtime.transaction() as session:
        return list(session.execute(select(Case).order_by(Case.id)).scalars())


def test_yes_in_a_sentence_passes_a_sensitive_report_on(twilio, runtime):
    twilio.say("مرحبا", SENDER)
    offer = "\n".join(twilio.say("واحد من موظفين المنظمة يطلب مني اطلع وياه مقابل السلة", SENDER))
    assert "١. نعم" in offer                      # recognised as sensitive: asked before anything is kept
    assert cases(runtime) == []
    reply = "\n".join(twilio.say("نعم ارجوكم", SENDER))
    code_in(reply)
    [case] = cases(runtime)
    assert case.sensitive and case.kind == "complaint"


def test_yes_in_sorani_on_telegram_and_no_is_respected_with_the_way_back(telegram, runtime):
    telegram.say("سڵاو", chat_id=811, language_code="ckb")
    telegram.say("مێردەکەم لێم دەدات و دەترسم", chat_id=811)
    reply = telegram.say("نا", chat_id=811)
    assert cases(runtime) == []
    assert "١" in reply["text"] or any("١" in b["text"] for row in reply["reply_markup"]["keyboard"] for b in row)
    reply = telegram.say("١", chat_id=811)               # changed their mind
    code_in(reply["text"])
    assert cases(runtime)[0].sensitive


def test_an_unclear_answer_to_the_sensitive_offer_asks_again_and_files_nothing(twilio, runtime):
    twilio.say("مرحبا", SENDER)
    twilio.say("زوجي يضربني كل يوم", SENDER)
    again = "\n".join(twilio.say("وين اروح؟", SENDER))
    assert "١" in again and "٢" in again
    assert cases(runtime) == []
    code_in("\n".join(twilio.say("1", SENDER)))


def test_a_husband_who_beats_is_recognised_in_every_language(twilio, telegram):
    for text, greeting, lang in (("رجلي يعتدي علي بالضرب وانا خايفة", "مرحبا", "ar"),
                                 ("مێردەکەم لێم دەدات", "سڵاو", "ckb"),
                                 ("مێرێ من من دقوتیت", "سلاڤ", "kmr"),
                                 ("mêrê min min dikute", "silav", "kmr_latn"),
                                 ("my husband beats me", "hello", "en")):
        sender = f"+96475011100{len(lang)}{ord(lang[-1]) % 10}"
        twilio.say(greeting, sender)
        reply = "\n".join(twilio.say(text, sender))
        assert Translator(lang)("Yes, pass it on") in reply, (text, reply)


def test_yes_in_a_sentence_subscribes(twilio, runtime):
    twilio.say("مرحبا", SENDER)
    twilio.say("6", SENDER)
    screen = "\n".join(twilio.say("1", SENDER))          # all announcements
    while "نعم" not in screen:                            # the area question may come first: skip it
        screen = "\n".join(twilio.say("0", SENDER))
    twilio.say("نعم اريد", SENDER)
    with runtime.transaction() as session:
        assert session.execute(select(Contact.subscribed)).scalar_one() is True


def test_a_state_left_days_ago_does_not_swallow_a_greeting_or_a_question(twilio, runtime):
    twilio.say("مرحبا", SENDER)
    twilio.say("شكوى", SENDER)                           # "write your message" ... and they never did
    with runtime.transaction() as session:
        session.execute(update(Contact).values(last_seen_at=utcnow() - timedelta(days=5)))
    reply = "\n".join(twilio.say("السلام عليكم", SENDER))
    assert "١." in reply and cases(runtime) == []        # the main menu, nothing filed
    twilio.say("شكوى", SENDER)
    with runtime.transaction() as session:
        session.execute(update(Contact).values(last_seen_at=utcnow() - timedelta(hours=3)))
    answer = "\n".join(twilio.say("شلون احمي اطفالي من الحر", SENDER))
    assert cases(runtime) == [] and "حر" in answer


def test_a_greeting_at_write_your_message_is_not_filed(twilio, runtime):
    twilio.say("مرحبا", SENDER)
    twilio.say("شكوى", SENDER)
    twilio.say("مرحبا", SENDER)
    assert cases(runtime) == []


def test_the_status_asked_in_words_lists_the_persons_cases(twilio, telegram, runtime):
    twilio.say("مرحبا", SENDER)
    twilio.say("شكوى", SENDER)
    code = code_in("\n".join(twilio.say("الماء مقطوع عن القطاع ب من يومين", SENDER)))
    twilio.say("0", SENDER)
    reply = to_ascii_digits("\n".join(twilio.say("شنو صار بشكواي", SENDER)))
    assert f"{code[:3]} {code[3:]}" in reply
    assert len(cases(runtime)) == 1                      # no new case opened by the question
    telegram.say("سڵاو", chat_id=812, language_code="ckb")
    none_yet = telegram.say("سکاڵاکەم چی لێهات؟", chat_id=812)["text"]
    assert "٧" in none_yet or "7" in none_yet             # no case yet: how to look one up by its code


def test_a_voice_note_before_any_language_is_kept_through_the_language_question(twilio, runtime):
    sender = "whatsapp:+9647701112233"
    voice = twilio.form("", sender, NumMedia="1", MediaUrl0="https://api.twilio.com/media/ME1",
                        MediaContentType0="audio/ogg")
    first = twilio.post(voice).get_data(as_text=True)
    assert "العربية" in first                            # which language?
    kinds = "\n".join(twilio.say("1", sender))           # Arabic: the welcome, then "what is it about?"
    assert "مرحب" in kinds or "أهل" in kinds
    code_in("\n".join(twilio.say("1", sender)))          # a complaint: filed with the voice note
    [case] = cases(runtime)
    assert case.media_enc and "ME1" in runtime.vault.decrypt(case.media_enc)


def test_emoji_only_asks_for_the_language_again(twilio):
    twilio.say("👍", "+9647501119999")
    again = "\n".join(twilio.say("🙏", "+9647501119999"))
    assert "العربية" in again and "Kurdî" in again or "کوردی" in again


def test_words_that_start_with_a_number_are_the_message(twilio, runtime):
    twilio.say("مرحبا", SENDER)
    twilio.say("شكوى", SENDER)
    code_in("\n".join(twilio.say("1- الخيمة مالتنا مشكوكة والمطر يدخل", SENDER)))
    [case] = cases(runtime)
    assert runtime.vault.decrypt(case.text_enc).startswith("1- الخيمة")


def test_a_suggestion_that_says_so_is_filed_even_when_a_topic_matches(twilio, runtime):
    twilio.say("مرحبا", SENDER)
    code_in("\n".join(twilio.say("اقتراح: ياريت تسوون توزيع الكاز بالمخيم قبل الشتا حتى الناس تتدفى", SENDER)))
    assert cases(runtime)[0].kind == "suggestion"


def test_a_main_menu_number_works_on_a_screen_that_only_offers_0(twilio):
    twilio.say("مرحبا", SENDER)
    twilio.say("شنو صار بشكواي", SENDER)                 # "send your code ... 0. main menu"
    health = "\n".join(twilio.say("1", SENDER))
    assert "الكوليرا" in health


def test_a_telegram_reply_without_options_removes_the_old_keyboard(telegram):
    telegram.say("مرحبا", chat_id=813)
    body = telegram.say("STOP", chat_id=813)
    assert body["reply_markup"] == {"remove_keyboard": True}


def test_asking_to_delete_my_data_in_a_sentence_asks_to_confirm(twilio, telegram):
    twilio.say("مرحبا", SENDER)
    confirm = "\n".join(twilio.say("ممكن تمسحون رقمي ومعلوماتي", SENDER))
    assert Translator("ar")("Yes, delete") in confirm
    telegram.say("سڵاو", chat_id=814, language_code="ckb")
    body = telegram.say("دەمەوێت زانیارییەکانم بسڕێتەوە", chat_id=814)
    labels = [b["text"] for row in body["reply_markup"]["keyboard"] for b in row]
    assert any(Translator("ckb")("Yes, delete") in label for label in labels)


def test_a_mistyped_code_is_told_so_and_more_after_the_end_says_so(twilio):
    twilio.say("مرحبا", SENDER)
    reply = "\n".join(twilio.say("٦١٠٧٧٠٠", SENDER))
    assert Translator("ar")("I found no case with that code from this number. Please check the code.") in reply
    twilio.say("0", SENDER)
    twilio.say("شلون انصب الخيمة", SENDER)
    for _ in range(12):                                   # page through to the end, then once more
        last = "\n".join(twilio.say("المزيد", SENDER))
        if Translator("ar")("That is the whole text.") in last:
            break
    assert Translator("ar")("That is the whole text.") in last
    assert "٠" in last                                    # and still a way on


def test_kurdish_typed_on_an_arabic_keyboard_and_bare_topic_names(twilio, runtime):
    """"ته ندروستى" is تەندروستی typed with ه + space for ە; a topic's name alone gets its list."""
    health_ckb = runtime.content.get().topic("health").title["ckb"]
    heat_ckb = runtime.content.get().items["heat"].sms["ckb"]
    assert health_ckb in "\n".join(twilio.say("ته ندروستى", "+9647501117001"))
    assert heat_ckb[:30] in "\n".join(twilio.say("گه رما زوره سه رم گيژ ده خوات", "+9647501117002"))
    assert runtime.content.get().items["cholera"].sms["ar"][:30] in "\n".join(twilio.say("كوليرا", "+9647501117003"))
    assert runtime.content.get().topic("shelter").title["ar"] in "\n".join(twilio.say("المأوى", "+9647501117004"))
    # no Kurdish letter and no marker word: the letters' statistics still tell Sorani and Badini from Arabic
    sorani = "\n".join(twilio.say("منداله كه م تاي هه يه جي بكه م", "+9647501117005"))
    badini = "\n".join(twilio.say("زاروكي من تا هه يه دي ج كه م", "+9647501117006"))
    assert sorani.startswith("بەخێربێیت") and badini.startswith("ب خێر بێی"), (sorani[:40], badini[:40])


def test_a_language_asked_for_in_a_few_words_is_switched_to(twilio, runtime):
    """"بە عەرەبی قسە بکە", "ممكن تحجي كردي", "ez dixwazim bi erebî biaxivim": not questions for search."""
    menu_ar = Translator("ar")("Main menu. Send a number, or write your question:")
    sender = "+9647501118001"
    twilio.say("سڵاو", sender)
    switched = "\n".join(twilio.say("دەمەوێت بە عەرەبی قسە بکەم", sender))
    assert menu_ar in switched
    which = "\n".join(twilio.say("ممكن تحجي كردي", sender))      # Kurdish, but which? the language question
    assert all(NATIVE_NAMES[lang] in which for lang in ("ckb", "kmr")), which
    latin = "+9647501118002"
    twilio.say("slav", latin)
    assert menu_ar in "\n".join(twilio.say("ez dixwazim bi erebî biaxivim", latin))
    first = "\n".join(twilio.say("english please", "+9647501118003"))    # as a first message too
    assert "Main menu" in first


def test_the_menu_asked_for_in_a_few_words_but_a_list_in_a_complaint_is_not_the_menu(twilio):
    menu_ar = Translator("ar")("Main menu. Send a number, or write your question:")
    sender = "+9647501118004"
    twilio.say("مرحبا", sender)
    twilio.say("شلون اغسل ايدي", sender)
    assert menu_ar in "\n".join(twilio.say("رجعني للقائمة الرئيسية", sender))
    assert menu_ar not in "\n".join(twilio.say("اسمي مو بالقائمة مال التوزيع", sender))
