"""The router's policy, rule by rule, through the dialogue's pure entry point: handlers.router.respond with
the shipped content, an Incoming and a ContactState. No database, no HTTP: the whole file runs in seconds.

Each row is a scenario: a person who has already sent these messages (played through respond from a new
contact) sends one more; the row names the rule that must answer and, where it is one fixed sentence,
what the reply says."""
import copy
import re
from functools import lru_cache

import pytest

from handlers import codes, router
from handlers.content import load
from handlers.conversation import BROWSING, FEEDBACK_TEXT, ContactState
from handlers.i18n import Translator
from handlers.polls import PollQuestion, PollTurn
from handlers.types import Incoming, Media

ADDRESS = "+9647701234567"
GREETED = ("مرحبا",)                       # an Arabic speaker who has been welcomed and shown the main menu
STOPPED = ("مرحبا", "stop")
WRITING = ("مرحبا", "شكوى")               # asked to write the complaint
ASKED = "<a poll question arrives>"        # not a message: the poll's question 1 reaches the person
POLLING = ("مرحبا", ASKED)                # a yes/no question waits for the answer
VALID_CODE = next(c for c in (f"482917{d}" for d in range(10)) if codes.is_valid(c))


class Services:
    """The storage the dialogue may ask for, kept in memory: what a case screen needs to answer."""

    def __init__(self):
        self.cases: dict[str, dict] = {}

    def open_case(self, kind, text, media, area, sensitive) -> str:
        self.cases[VALID_CODE] = {"status": "new", "kind": kind, "answer": None}
        return VALID_CODE

    def add_to_case(self, code, text, media) -> bool:
        return code in self.cases

    def set_case_area(self, code, area) -> None:
        pass

    def case_status(self, code):
        return self.cases.get(code)

    def my_cases(self, limit=3):
        return [{"code": code, **case} for code, case in list(self.cases.items())[:limit]]

    def erase_contact(self) -> None:
        self.cases.clear()


@lru_cache(maxsize=1)
def content():
    return load()


@lru_cache(maxsize=None)
def _played(messages: tuple[str, ...]) -> ContactState:
    state = ContactState()
    for text in messages:
        if text == ASKED:
            state.poll = PollTurn(1, "ar", [PollQuestion("choice", "هل استلمت حقيبة الشتاء؟", ["نعم", "لا"])],
                                  waiting=0)
            continue
        router.respond(content(), Incoming("sms", ADDRESS, text), state, Services())
    return state


def after(*messages: str) -> ContactState:
    """The state of a person who sent these messages, one after the other, from their first."""
    return copy.deepcopy(_played(tuple(messages)))


def turn(state: ContactState, text: str = "", **incoming):
    return router.respond(content(), Incoming("sms", ADDRESS, text, **incoming), state, Services())


# (what the person sent before, the message, the rule that answers, a sentence the reply holds or None)
SCENARIOS = [
    # 1. STOP holds: only the way back
    (STOPPED, "menu", "stopped", None),
    (STOPPED, "كوليرا", "stopped", None),
    (STOPPED, "1", "stopped", None),
    (STOPPED, "start", "stopped_start", None),
    (STOPPED, "نعم", "stopped_start", None),
    (STOPPED, "help", "stopped_help", None),
    # 2. the first message
    ((), "مرحبا", "first_message", None),
    ((), "STOP", "first_message", None),
    ((), "كوليرا", "first_message", None),
    # 3. command words in every state, even while a step waits for words
    (GREETED, "stop", "stop", None),
    (WRITING, "stop", "stop", None),
    (GREETED, "بس", "stop_maybe", None),
    (GREETED, "start", "start", None),
    (GREETED, "help", "help", None),
    (GREETED, "menu", "menu", None),
    (WRITING, "القائمة", "menu", None),
    (GREETED, "لغة", "language", None),
    (("مرحبا", "1"), "back", "back", None),
    (("مرحبا", "1", "1"), "المزيد", "more", None),
    (GREETED, "المزيد", "nothing_more", "That is the whole text."),
    (GREETED, "حالتي", "my_cases", None),
    (GREETED, "احذف بياناتي", "delete_data", None),
    (GREETED, "اشتراك", "subscribe", None),
    (GREETED, "بالصوت", "voice_on", None),
    (GREETED, "دەنگم ناوێت", "voice_off", None),
    (GREETED, "", "media_only", None),                    # a photo alone (incoming below)
    (GREETED, "", "unsupported", "Sorry, I can only read text messages here."),   # a sticker (below)
    # 3. ... while a poll's question waits: commands still first, then the answer, SKIP, or the question again
    (POLLING, "stop", "stop", None),
    (POLLING, "help", "help", None),
    (POLLING, "menu", "menu", None),
    (GREETED, "استبيان", "poll_word", "There is no open poll for you now."),
    (POLLING, "استبيان", "poll_word", None),
    (POLLING, "١", "poll_answer", "Thank you for your answers. To change one before the poll closes, send POLL."),
    (POLLING, "نعم", "poll_answer", None),
    (POLLING, "تخطي", "poll_answer", "Skipped."),
    (POLLING, "ربما", "poll_unclear", "Sorry, I did not understand. Please reply with one of the numbers:"),
    (POLLING, "شكوى", "feedback_words", None),                 # a complaint is never an answer
    (POLLING, VALID_CODE, "case_code", None),                  # nor a reference code
    (POLLING, "تعرضت للتحرش", "sensitive", None),
    # 4. a number picks an option last shown; a reference code asks for its case
    (GREETED, "1", "number", None),
    (GREETED, "١", "number", None),
    (GREETED, "99", "number", "Please send one of these numbers:"),
    (GREETED, VALID_CODE, "case_code", None),
    (GREETED, "12345", "case_code", None),
    # 5. a state waiting for words takes them; a greeting there starts afresh
    (WRITING, "مرحبا", "greeting_in_a_step", "Hello!"),
    (WRITING, "الخيمة مالتنا تسرب ماي من السقف من يومين", "words_for_the_step", None),
    # 6. a language, the menu or the language question asked for in a few words
    (GREETED, "بالكوردي", "language_named", None),
    (GREETED, "kurdish please", "language_named", None),
    (GREETED, "رجعني للقائمة", "menu_asked", None),
    (GREETED, "غير اللغة رجاء", "language_asked", None),
    # 7. anything else
    (GREETED, "وين صارت شكواي", "status_asked", None),
    (GREETED, "شكوى", "feedback_words", None),
    (GREETED, "مرحبا", "greeting", "Hello!"),
    (GREETED, "تعرضت للتحرش", "sensitive", None),
    (GREETED, "كوليرا", "question", None),
    (GREETED, "👍", "nothing_to_read", None),
]
ERASE_IN_WORDS = [rule for rule in router.RULES if rule.name == "erase_asked"]   # see the test below


def _incoming_for(rule: str) -> dict:
    if rule == "media_only":
        return {"media": [Media("https://api.twilio.com/m/1", "image/jpeg")]}
    if rule == "unsupported":
        return {"supported": False}
    return {}


@pytest.mark.parametrize("before, text, rule, said", SCENARIOS,
                         ids=[f"{r}:{t or '-'}" for _b, t, r, _s in SCENARIOS])
def test_the_first_rule_that_holds_answers(before, text, rule, said):
    ctx = turn(after(*before), text, **_incoming_for(rule))
    assert ctx.rule == rule
    assert ctx.replies, "every answer says something"
    if said:
        assert Translator(ctx.lang)(said) in "\n".join(r.text for r in ctx.replies)


@pytest.mark.parametrize("before, text, rule, said", SCENARIOS,
                         ids=[f"{r}:{t or '-'}" for _b, t, r, _s in SCENARIOS])
def test_each_rule_alone_holds_for_its_scenario_and_no_rule_before_it_does(before, text, rule, said):
    """The table is first-match: the scenario's rule holds on its own, every rule above it does not."""
    state, incoming = after(*before), Incoming("sms", ADDRESS, text, **_incoming_for(rule))
    ctx = router.Conversation(content(), incoming, state, Services())
    cleaned = router.clean_for_storage(text).strip()
    phrase = " ".join(router.tokens(cleaned))
    command = content().commands.get(phrase)
    names = [r.name for r in router.RULES]
    assert router.rule_named(rule).when(ctx, cleaned, phrase, command, state)
    assert not [r.name for r in router.RULES[:names.index(rule)] if r.when(ctx, cleaned, phrase, command, state)]


def test_every_rule_has_a_scenario():
    covered = {rule for _b, _t, rule, _s in SCENARIOS} | {"erase_asked"}
    assert covered == {rule.name for rule in router.RULES}


def test_erasure_asked_in_words_is_its_own_rule_after_the_command():
    """The whole-message command ("احذف بياناتي") comes first (rule 3); other wordings reach erase_asked."""
    rule = router.rule_named("erase_asked")
    state = after(*GREETED)
    ctx = router.Conversation(content(), Incoming("sms", ADDRESS, "x"), state, Services())
    asks = [text for text in ("اريد ان تحذفوا كل بياناتي", "please delete all my data", "delete my number")
            if rule.when(ctx, text, " ".join(router.tokens(text)), None, state)]
    for text in asks:
        assert turn(after(*GREETED), text).rule in ("erase_asked", "delete_data")


def test_the_table_follows_the_documented_policy():
    """RULES lists the docstring's numbered policy in its order: steps 1..7, each present, never going back;
    names unique; the last rule always holds, so every message gets an answer."""
    documented = [int(n) for n in re.findall(r"^(\d)\. ", router.__doc__, flags=re.M)]
    assert documented == list(range(1, 8))
    steps = [rule.step for rule in router.RULES]
    assert steps == sorted(steps)
    assert sorted(set(steps)) == documented
    assert len({rule.name for rule in router.RULES}) == len(router.RULES)
    state = after(*GREETED)
    ctx = router.Conversation(content(), Incoming("sms", ADDRESS, ""), state, Services())
    assert router.RULES[-1].when(ctx, "", "", None, state)


def test_a_step_waiting_for_words_is_forgotten_after_an_hour():
    """Days later, a message is not the awaited complaint: the step is forgotten before the rules run."""
    state = after(*WRITING)
    assert state.state == FEEDBACK_TEXT
    state.idle_seconds = router.STALE_AFTER + 1
    ctx = turn(state, "كوليرا")
    assert ctx.rule == "question" and state.state == BROWSING


def test_a_stopped_person_asked_to_confirm_erasure_is_still_stopped_by_yes():
    """STOP's rule reads the state as stored: "yes" at the erasure question does not restart the messages."""
    state = after("مرحبا", "احذف بياناتي")
    state.opted_out = True
    assert turn(state, "نعم").rule == "stopped"
