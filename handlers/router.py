"""Which handler answers a message: STOP first, then commands, numbers, the current state, and search.

Order matters and is the whole policy (RULES below: one rule per line of it, in this order, first match wins):
1. a person who sent STOP hears nothing but the way back (START, HELP);
2. a first message sets the language and gets the welcome;
3. command words (STOP, HELP, menu, back, language, announcements...) work in every state;
   then, outside a state waiting for words, a picture or voice note alone, or a kind of message we cannot read;
   then a poll question waiting for its answer takes an answer or SKIP, or asks once more (handlers/polls.py);
4. a number picks one of the options the person was last shown; a reference code asks for its case;
5. a state waiting for words (feedback text, a yes/no) takes them (a greeting there starts afresh);
6. a language, the menu or the language question asked for in a few words ("بالعربي", "رجعني للقائمة");
7. anything else is a question for search (or feedback, a status question, a greeting).
"""
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import feedback, menu, polls, search, subscription, topics, voice
from .content import Content
from .conversation import (
    ACTIONS,
    BROWSING,
    CHOOSING_LANGUAGE,
    ERASE_CONFIRM,
    NEW,
    STOP_CONFIRM,
    CaseKind,
    ContactState,
    Conversation,
    Services,
    StoredAction,
    TextHandler,
    run,
)
from .language import ARABIC_SCRIPT, LATIN, detect
from .text import clean_for_storage, number_rest, parse_number, stems, to_ascii_digits, tokens
from .types import Incoming

# States that consume free text themselves (after commands and numbers had their chance);
# filled in at the end of this module (the language question's handler is here).
TEXT_STATES: dict[str, TextHandler] = {}
# A state waiting for words is forgotten after this long: the next message starts afresh.
STALE_AFTER = 3600

# What every rule is given: the turn, the message's text (cleaned), its words joined by single spaces,
# the command those words are (None if none) and the person's state.
Predicate = Callable[[Conversation, str, str, "str | None", ContactState], bool]
Handler = Callable[[Conversation, str, str, "str | None", ContactState], None]


@dataclass(frozen=True)
class Rule:
    """One line of the policy: when `when` holds (and no rule before it did), `then` answers."""
    name: str
    step: int           # the numbered line of the policy above that it belongs to
    when: Predicate
    then: Handler


def respond(content: Content, incoming: Incoming, state: ContactState,
            services: Services | None = None, config: dict[str, Any] | None = None) -> Conversation:
    """Answer one message; the returned conversation holds the replies, the new state and
    `rule`, the name of the rule that answered."""
    ctx = Conversation(content, incoming, state, services, config)
    text = clean_for_storage(incoming.text).strip()
    phrase = " ".join(tokens(text))
    command = content.commands.get(phrase)
    if not state.opted_out and state.state != NEW:
        _forget_stale(state)
    rule = first_rule(ctx, text, phrase, command, state)
    ctx.rule = rule.name
    rule.then(ctx, text, phrase, command, state)
    polls.after_turn(ctx, rule.name, rule.step)
    return ctx


def first_rule(ctx: Conversation, text: str, phrase: str, command: str | None, state: ContactState) -> Rule:
    """The first rule of RULES whose condition holds (the last one always does)."""
    return next(rule for rule in RULES if rule.when(ctx, text, phrase, command, state))


def _forget_stale(state: ContactState) -> None:
    """Days later, "السلام عليكم" is not the awaited complaint: a state waiting for words is forgotten."""
    if state.state in TEXT_STATES and state.state != CHOOSING_LANGUAGE and (state.idle_seconds or 0) > STALE_AFTER:
        state.state, state.data = BROWSING, {}


def _command(name: str) -> Predicate:
    """The whole message is this command word (not while STOP holds: rule 1 answers then)."""
    return lambda ctx, text, phrase, command, state: command == name


def _waits_for_words(state: ContactState) -> bool:
    return state.state in TEXT_STATES


def _words_state(state: ContactState) -> bool:
    """A state waiting for words other than the language question."""
    return state.state in TEXT_STATES and state.state != CHOOSING_LANGUAGE


def _greet(ctx: Conversation, text: str, *_: object) -> None:
    _follow_language(ctx, text)
    menu.main_menu(ctx, intro=ctx.t("Hello!"))


def _cannot_read(ctx: Conversation, *_: object) -> None:
    ctx.say(ctx.t("Sorry, I can only read text messages here."), [("0", ctx.t("Main menu"), ["menu"])])


def _question(ctx: Conversation, text: str, *_: object) -> None:
    _follow_language(ctx, text)
    topics.answer_question(ctx, text)


RULES: tuple[Rule, ...] = (
    # 1. STOP holds: only the way back
    Rule("stopped_start", 1,
         lambda ctx, text, phrase, command, state: state.opted_out and (
             command == "start" or (command == "yes" and state.state != ERASE_CONFIRM)),
         lambda ctx, *_: menu.start(ctx)),
    Rule("stopped_help", 1, lambda ctx, text, phrase, command, state: state.opted_out and command == "help",
         lambda ctx, *_: menu.show_help(ctx)),
    Rule("stopped", 1, lambda ctx, text, phrase, command, state: state.opted_out,
         lambda ctx, *_: menu.still_stopped(ctx)),
    # 2. the first message
    Rule("first_message", 2, lambda ctx, text, phrase, command, state: state.state == NEW,
         lambda ctx, text, phrase, command, state: _first_message(ctx, text, command)),
    # 3. command words, in every state
    Rule("stop", 3, _command("stop"), lambda ctx, *_: menu.stop(ctx)),
    Rule("stop_maybe", 3, _command("stop_maybe"), lambda ctx, text, phrase, *_: menu.maybe_stop(ctx, phrase)),
    Rule("start", 3, _command("start"), lambda ctx, *_: menu.start(ctx)),
    Rule("help", 3, _command("help"), lambda ctx, *_: menu.show_help(ctx)),
    Rule("menu", 3, _command("menu"), lambda ctx, *_: menu.main_menu(ctx)),
    Rule("language", 3, _command("language"), lambda ctx, *_: menu.language_menu(ctx)),
    Rule("back", 3, _command("back"),
         lambda ctx, text, phrase, command, state: run(ctx, state.data.get("back") or ["menu"])),
    Rule("more", 3, lambda ctx, text, phrase, command, state: command == "more" and bool(_more_option(ctx)),
         lambda ctx, *_: run(ctx, _more_option(ctx) or ["menu"])),
    Rule("nothing_more", 3, _command("more"), lambda ctx, *_: _nothing_more(ctx)),
    Rule("my_cases", 3,
         lambda ctx, text, phrase, command, state: command == "status" and not feedback.looks_like_case_code(text),
         lambda ctx, *_: feedback.show_my_cases(ctx)),
    Rule("delete_data", 3, _command("delete_data"), lambda ctx, *_: feedback.ask_erase(ctx)),
    Rule("subscribe", 3, _command("subscribe"), lambda ctx, *_: subscription.announcements(ctx)),
    Rule("voice_on", 3, _command("voice_on"), lambda ctx, *_: voice.voice_on(ctx)),
    Rule("voice_off", 3, _command("voice_off"), lambda ctx, *_: voice.voice_off(ctx)),
    Rule("media_only", 3,
         lambda ctx, text, phrase, command, state: bool(ctx.incoming.media) and not text
         and not _waits_for_words(state),
         lambda ctx, *_: feedback.media_received(ctx)),
    Rule("unsupported", 3,
         lambda ctx, text, phrase, command, state: not ctx.incoming.supported and not _waits_for_words(state),
         _cannot_read),
    # ... and a poll's question waiting for its answer (handlers/polls.py): before menu numbers, after
    # every command word; a complaint or sensitive report is never an answer (step 7 takes it)
    Rule("poll_word", 3, _command("poll"), lambda ctx, *_: polls.resume(ctx)),
    Rule("poll_answer", 3, lambda ctx, text, phrase, command, state: polls.fits(ctx, text, phrase),
         lambda ctx, text, phrase, *_: polls.answer(ctx, text, phrase)),
    Rule("poll_unclear", 3, lambda ctx, text, phrase, command, state: polls.unclear(ctx, text, phrase),
         lambda ctx, *_: polls.ask_again(ctx)),
    # 4. a number picks an option last shown; a reference code asks for its case
    Rule("number", 4, lambda ctx, text, *_: _menu_number(ctx, text) is not None,
         lambda ctx, text, *_: _choose(ctx, _menu_number(ctx, text))),
    Rule("case_code", 4,
         lambda ctx, text, phrase, command, state: feedback.looks_like_case_code(text) or _code_like(text, state),
         lambda ctx, text, *_: feedback.show_status(ctx, text)),     # a mistyped code is told so, not searched
    # 5. a state waiting for words takes them
    Rule("greeting_in_a_step", 5,
         lambda ctx, text, phrase, command, state: _words_state(state) and _is_greeting(ctx.content, phrase),
         _greet),
    Rule("words_for_the_step", 5, lambda ctx, text, phrase, command, state: _waits_for_words(state),
         lambda ctx, text, phrase, command, state: TEXT_STATES[state.state](ctx, text, command)),
    # 6. a language, the menu or the language question asked for in a few words
    Rule("language_named", 6, lambda ctx, text, *_: menu.named_language(ctx.content, text) is not None,
         lambda ctx, text, *_: menu.ask_for_language(ctx, menu.named_language(ctx.content, text))),
    Rule("menu_asked", 6, lambda ctx, text, phrase, *_: _asks_for(ctx.content, phrase) == "menu",
         lambda ctx, *_: menu.main_menu(ctx)),
    Rule("language_asked", 6, lambda ctx, text, phrase, *_: _asks_for(ctx.content, phrase) == "language",
         lambda ctx, *_: menu.language_menu(ctx)),
    # 7. anything else: status or erasure asked in words, feedback, a greeting, a sensitive report, a question
    Rule("status_asked", 7, lambda ctx, text, *_: feedback.asks_status(ctx.content, text),
         lambda ctx, *_: feedback.show_my_cases(ctx)),
    Rule("erase_asked", 7, lambda ctx, text, *_: feedback.asks_erase(ctx.content, text),
         lambda ctx, *_: feedback.ask_erase(ctx)),
    Rule("feedback_words", 7, lambda ctx, text, phrase, *_: feedback.trigger_kind(ctx.content, phrase) is not None,
         lambda ctx, text, phrase, *_: _feedback_by_words(ctx, feedback.trigger_kind(ctx.content, phrase), text,
                                                          phrase)),
    Rule("greeting", 7, lambda ctx, text, phrase, *_: _is_greeting(ctx.content, phrase), _greet),
    Rule("sensitive", 7, lambda ctx, text, *_: feedback.is_sensitive(ctx.content, text),
         lambda ctx, text, *_: feedback.offer_sensitive(ctx, text)),
    Rule("question", 7, lambda ctx, text, phrase, *_: bool(phrase), _question),
    Rule("nothing_to_read", 7, lambda *_: True, lambda ctx, *_: menu.main_menu(ctx)),
)


def rule_named(name: str) -> Rule:
    return next(rule for rule in RULES if rule.name == name)


def _first_message(ctx: Conversation, text: str, command: str | None) -> None:
    """Detect the language; welcome; answer at once if the first message already is a question.

    A first message that does not tell its language (a voice note, an emoji) gets the language
    question, again until one is chosen; a voice note or photo waits there and is offered to the
    team once the person has read the welcome."""
    media = list(ctx.state.data.get("media") or []) + feedback.incoming_media(ctx)
    asked = menu.named_language(ctx.content, text)          # "بالعربي", "kurdish please"
    lang = asked if asked not in (None, "kurdish") else detect(ctx.content, text, ctx.incoming.language_hint)
    if lang is None or asked == "kurdish":
        menu.language_menu(ctx, first=True, media=media)
        return
    ctx.state.language = lang
    ctx.set_language(lang)
    ctx.state.state = BROWSING
    ctx.note("language", lang)
    if command == "stop":
        menu.stop(ctx)
        return
    if command == "stop_maybe":
        menu.maybe_stop(ctx, " ".join(tokens(text)))
        return
    welcome = menu.welcome_text(ctx)
    phrase = " ".join(tokens(text))
    if command == "subscribe":
        ctx.say(welcome)
        subscription.announcements(ctx)
        return
    if media and not phrase:
        ctx.say(welcome)
        feedback.media_received(ctx, media)
        return
    kind = feedback.trigger_kind(ctx.content, phrase)
    wanted = _asks_for(ctx.content, phrase)
    if wanted == "language":
        ctx.say(welcome)
        menu.language_menu(ctx)
        return
    if command or not phrase or asked or (_is_greeting(ctx.content, phrase) and kind is None) or wanted == "menu":
        ctx.say(welcome)
        menu.main_menu(ctx)
        return
    ctx.say(welcome)
    if feedback.is_sensitive(ctx.content, text):
        feedback.offer_sensitive(ctx, text)
    elif kind is not None:      # "سڵاو، دەمەوێت سکاڵایەک بنێرم": the greeting and the wish
        _feedback_by_words(ctx, kind, text, phrase)
    else:
        topics.answer_question(ctx, text)


def _feedback_by_words(ctx: Conversation, kind: str | None, text: str, phrase: str) -> None:
    """"شكوى" alone opens the feedback dialogue; a longer message with it is the feedback itself,
    unless it is really a question the content answers ("سؤال عن الكوليرا", "پێشنیاری کار لە دوبەی")
    and does not begin by saying what it is ("اقتراح: ...")."""
    words = phrase.split()
    if kind == CaseKind.THANKS and len(words) <= feedback.SHORT_TRIGGER:
        return feedback.welcome_thanks(ctx)    # "شكرا" at the end of a chat: not a form to fill
    if len(words) <= feedback.SHORT_TRIGGER or feedback.only_announces(ctx.content, phrase):
        return feedback.start(ctx, kind)   # "I want to ask a question": ask for it, do not file the sentence
    announced = feedback.trigger_kind(ctx.content, " ".join(words[:2])) is not None   # "اقتراح: ..."
    asking = kind in (CaseKind.QUESTION, CaseKind.HELP_REQUEST)
    if (asking or not announced) and kind != CaseKind.COMPLAINT and search.best(ctx.content, text, ctx.lang)[0]:
        # a question the content answers; or the word inside one: Kurdish پێشنیار is also a job "offer"
        return topics.answer_question(ctx, text)
    if announced and not asking:
        return feedback.start(ctx, kind, text)     # "اقتراح: نريد ماء اكثر" is the suggestion itself
    if len(words) < (5 if kind == CaseKind.COMPLAINT else 9):
        return feedback.start(ctx, kind)
    feedback.start(ctx, kind, text)


def _stored_label(state: ContactState, key: str) -> str | None:
    entry = (state.data.get("options") or {}).get(key)
    return entry[0] if entry else None


def on_language_text(ctx: Conversation, text: str, command: str | None) -> None:
    """Words at the language question: their language if they tell it, else the question again."""
    if ctx.state.data.get("first"):
        _first_message(ctx, text, command)
        return
    asked = menu.named_language(ctx.content, text)          # "سۆرانی", "bi kurmancî"
    lang = asked if asked != "kurdish" else None
    lang = lang or (None if asked else detect(ctx.content, text, ctx.incoming.language_hint))
    if lang is None:
        return menu.language_menu(ctx)
    menu.set_language(ctx, lang)


def _stored(state: ContactState, key: str) -> StoredAction | None:
    entry = (state.data.get("options") or {}).get(key)
    return entry[1] if entry else None


def _asks_for(content: Content, phrase: str) -> str | None:
    """"رجعني للقائمة الرئيسية", "غير اللغة رجاء": the menu or the language question asked for in a few
    words around its command word (only these two: STOP and the rest stay whole-message commands)."""
    words = phrase.split()
    if not 1 < len(words) <= 4:
        return None
    found: set[str] = set()
    used: set[int] = set()
    for i, word in enumerate(words):
        pair = " ".join(words[i:i + 2])
        for size, form in [(2, pair), *((1, f) for f in sorted(stems(word)))]:
            if content.commands.get(form) in ("menu", "language"):
                found.add(content.commands[form])
                used.update(range(i, i + size))
    if len(found) != 1 or not all(i in used or menu.is_request_word(content, w) for i, w in enumerate(words)):
        return None
    return found.pop()


def _is_greeting(content: Content, phrase: str) -> bool:
    """"مرحبا", "سڵاو چۆنی", "hi there": a greeting, perhaps with a word or two more."""
    words = phrase.split()
    if not words or len(words) > 4:
        return False
    return any(" ".join(words[:n]) in content.greetings for n in (1, 2, 3))


_KURDISH_ONLY = set("ێۆڕڵەڤ")


def _follow_language(ctx: Conversation, text: str) -> None:
    """On a shared phone the next person may write in another script: follow clear evidence only.

    Kurdish-only letters after Arabic, or a switch between Arabic and Latin script,
    change the language; Sorani and Badini never switch by guess (they share letters).
    """
    current = ctx.lang
    kurdish_letters = bool(set(text) & _KURDISH_ONLY)
    latin_now = current in ("en", "kmr_latn")
    if not (current == "ar" and kurdish_letters) and latin_now == (LATIN.search(text) is not None
                                                                   and ARABIC_SCRIPT.search(text) is None):
        return                  # same script, no Kurdish letter after Arabic: nothing could change
    seen = detect(ctx.content, text)
    if seen is None or seen == current:
        return
    latin_seen = seen in ("en", "kmr_latn")
    if latin_now != latin_seen and len(tokens(text)) >= 2 or (current == "ar" and kurdish_letters):
        ctx.state.language = seen
        ctx.set_language(seen)
        ctx.note("language", seen)
        ctx.note("language_switch", current, seen)


def _more_option(ctx: Conversation) -> StoredAction | None:
    """What "more" means on the last screen: the next page or step (option 1), or a list's "More" option."""
    stored = _stored(ctx.state, "1")
    if stored and stored[0] in ("page", "step"):
        return stored
    more = ctx.t("More")
    return next((act for label, act in (ctx.state.data.get("options") or {}).values() if label == more), None)


def _code_like(text: str, state: ContactState) -> bool:
    """Five to nine digits and nothing else, outside a state taking words: a reference code mistyped."""
    digits = to_ascii_digits(text).replace(" ", "").replace("-", "")
    return state.state not in TEXT_STATES and digits.isdigit() and 5 <= len(digits) <= 9


def _nothing_more(ctx: Conversation) -> None:
    """"More" after the last page: say so, and show again what can be chosen."""
    options = ctx.state.data.get("options") or {}
    ctx.say(ctx.t("That is the whole text."),
            [(key, label, act) for key, (label, act) in options.items()] or [("0", ctx.t("Main menu"), ["menu"])],
            back=ctx.state.data.get("back"))


def _menu_number(ctx: Conversation, text: str) -> int | None:
    """The number of an option, unless the person is writing words that merely start with one:
    "1- الخيمة مالتنا مشكوكة" at "write your message" is the message; "1. Yes" (a button) is option 1."""
    number = parse_number(text)
    if number is None or ctx.state.state in feedback.NUMBERLESS_STATES:
        return None
    if ctx.state.state in TEXT_STATES and (rest := number_rest(text)):
        label = (_stored_label(ctx.state, str(number)) or "")
        if not set(tokens(rest)) <= set(tokens(label)):
            return None
    return number


def _choose(ctx: Conversation, number: int | None) -> None:
    """A number picks one of the options last shown; an unknown number repeats them kindly.

    On a screen whose only way on is 0 (a last word, "subscribed"), another number is read as the
    main menu's: the person knows "6" as announcements from before."""
    options = ctx.state.data.get("options") or {}
    stored = _stored(ctx.state, str(number)) if number is not None else None
    if stored is None and number == 0:
        stored = ["menu"]
    if stored is None and set(options) <= {"0"}:
        stored = dict((key, act) for key, _label, act in menu.main_options(ctx)).get(str(number))
    if stored is None or stored[0] not in ACTIONS:
        ctx.note("bad_number")
        if not options:
            return menu.main_menu(ctx)
        ctx.say(ctx.t("Please send one of these numbers:"),
                [(key, label, act) for key, (label, act) in options.items()],
                back=ctx.state.data.get("back"))
        return
    run(ctx, stored)


TEXT_STATES.update({**feedback.TEXT_STATES, **subscription.TEXT_STATES, CHOOSING_LANGUAGE: on_language_text,
                    STOP_CONFIRM: menu.on_stop_confirm_text})
