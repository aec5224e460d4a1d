"""Polls in the chat: a question waits for the person's reply, which is read here and stored by the service.

The storage side (bot/poll_answers.py) loads a `PollTurn` into the contact's state before the turn and
keeps what changed after it; this module only reads words and says things. An answer is the option's
number in any digit system ("1", "١", "۱"), a yes/no word when an option is labelled with one
("نعم", "بەڵێ", "erê", "no"), or the option's own words; a free question takes any words.
An answer that fits nothing gets the question again once; after that the question stops waiting and
the message goes on to the ordinary rules. SKIP words pass a question; POLL words ask the first
unanswered question again (or, once all are answered, question 1: answering again changes an answer,
SKIP then keeps the earlier one). Menu words, STOP, HELP and complaints are never taken as answers.
"""
from dataclasses import dataclass, field

from .conversation import Conversation, ContactState, action
from .i18n import RTL, N_, Translator
from .text import fold, parse_number, stems, to_arabic_digits, tokens

CHOICE, FREE = "choice", "free"
MAX_QUESTIONS = 5
MAX_OPTIONS = 9
MAX_FREE_ANSWER = 500      # characters kept of a free answer

REPLY_NUMBER = N_("Reply with the number, or SKIP.")
REPLY_WORDS = N_("Reply in a few words, or SKIP.")
SKIPPED = N_("Skipped.")
THANKS = N_("Thank you for your answers. To change one before the poll closes, send POLL.")
AGAIN = N_("Sorry, I did not understand. Please reply with one of the numbers:")
NOT_WAITING = N_("There is no open poll for you now.")


def in_a_step(state: ContactState) -> bool:
    """Another dialogue waits for words (a complaint being written, a yes/no): it takes them first."""
    from .router import TEXT_STATES
    from .conversation import CHOOSING_LANGUAGE
    return state.state in TEXT_STATES and state.state != CHOOSING_LANGUAGE


@dataclass
class PollQuestion:
    """One question in the person's language."""
    kind: str
    text: str
    options: list[str] = field(default_factory=list)


@dataclass
class PollTurn:
    """A poll as one person sees it in this turn; the service stores the fields that change."""
    poll_id: int
    language: str
    questions: list[PollQuestion]
    waiting: int | None = None          # the question waiting for an answer (0-based), None: none waits
    reasked: bool = False               # it was asked again after an answer that fitted nothing
    held: bool = False                  # a complaint set it aside: asked again once the case is filed
    answered: dict[int, int | str] = field(default_factory=dict)   # question -> option number or free text
    finished: bool = False
    changed: bool = False               # the service stores the turn only when this is set
    answers: list[tuple[int, int | None, str | None, bool]] = field(default_factory=list)  # to store


def render_question(lang: str, question: PollQuestion, number: int, total: int) -> str:
    """The question as text with its numbered options (the broadcast that carries question 1 and SMS)."""
    t = Translator(lang)
    digits = (lambda s: to_arabic_digits(s)) if lang in RTL else (lambda s: s)
    head = f"({digits(str(number))}/{digits(str(total))}) {question.text.strip()}" if total > 1 \
        else question.text.strip()
    lines = [head]
    lines += [f"{digits(str(i))}. {label}" for i, label in enumerate(question.options, 1)]
    lines.append(t(REPLY_NUMBER if question.kind == CHOICE else REPLY_WORDS))
    return "\n".join(lines)


def _yes_no(ctx: Conversation, phrase: str) -> str | None:
    kind = ctx.content.commands.get(phrase)
    return kind if kind in ("yes", "no") else None


def match_option(ctx: Conversation, question: PollQuestion, text: str) -> int | None:
    """The option number the words choose, or None when they fit no option (or more than one)."""
    number = parse_number(text)
    phrase = " ".join(tokens(text))
    if number is not None and 1 <= number <= len(question.options) and not _rest(text, number):
        return number
    if not phrase:
        return None
    labels = [" ".join(tokens(label)) for label in question.options]
    exact = [i for i, label in enumerate(labels, 1) if label == phrase]
    if len(exact) == 1:
        return exact[0]
    said = _yes_no(ctx, phrase)
    if said is not None:
        fitting = [i for i, label in enumerate(labels, 1)
                   if _yes_no(ctx, label) == said or any(_yes_no(ctx, w) == said for w in label.split()[:1])]
        if len(fitting) == 1:
            return fitting[0]
    words = set(phrase.split())
    found = [i for i, label in enumerate(labels, 1) if label and _all_in(words, label)]
    return found[0] if len(found) == 1 else None


def _rest(text: str, number: int) -> str:
    """What follows the number ("1. Yes" is option 1; "1 2" is not a single answer)."""
    from .text import number_rest
    return " ".join(tokens(number_rest(text))) if parse_number(text) == number else text


def _all_in(words: set[str], label: str) -> bool:
    """Every word said is a word of the label (by stem): "saturday" for "Saturday morning"."""
    label_stems = set().union(*(stems(w) for w in label.split()))
    return all(stems(w) & label_stems for w in words)


def is_skip(ctx: Conversation, phrase: str) -> bool:
    return ctx.content.commands.get(phrase) == "skip" or fold(phrase) in SKIP_WORDS


def is_poll_word(ctx: Conversation, phrase: str) -> bool:
    return ctx.content.commands.get(phrase) == "poll" or fold(phrase) in POLL_WORDS


# Used when the published content has no "skip"/"poll" commands yet (an older version): the same
# words as content/commands.yaml, folded.
SKIP_WORDS = frozenset(fold(w) for w in ("skip", "تخطي", "تجاوز", "بازدان", "تێپەڕاندن", "بازبدە", "derbas", "derbas bike"))
POLL_WORDS = frozenset(fold(w) for w in ("poll", "استبيان", "استطلاع", "ڕاپرسی", "راپرسی", "rapirsî", "anket"))


def ask(ctx: Conversation, turn: PollTurn, index: int, again: bool = False, intro: str | None = None) -> None:
    """Send question `index` and wait for its answer."""
    question = turn.questions[index]
    text = render_question(turn.language, question, index + 1, len(turn.questions))
    if again:
        text = f"{ctx.t(AGAIN)}\n{text}" if question.kind == CHOICE else text
    if intro:
        text = f"{intro}\n{text}"
    ctx.say(text)
    turn.waiting, turn.reasked, turn.held, turn.changed = index, again, False, True
    ctx.note("poll_asked", turn.poll_id, index)


def _next(ctx: Conversation, turn: PollTurn, index: int, lead: str | None = None) -> None:
    """After question `index`: the next question, or the thanks at the end."""
    if index + 1 < len(turn.questions):
        ask(ctx, turn, index + 1, intro=lead)
        return
    turn.waiting, turn.reasked, turn.finished, turn.changed = None, False, True, True
    ctx.say("\n".join(filter(None, [lead, ctx.t(THANKS)])))
    ctx.note("poll_finished", turn.poll_id)


def waiting_turn(ctx: Conversation) -> PollTurn | None:
    """The poll whose question waits for this person, unless a step of another dialogue takes words now."""
    turn = ctx.state.poll
    if turn is None or turn.waiting is None or turn.held:
        return None
    if in_a_step(ctx.state):
        return None
    return turn


def fits(ctx: Conversation, text: str, phrase: str) -> bool:
    """The words answer (or skip) the waiting question."""
    turn = waiting_turn(ctx)
    if turn is None or not phrase:
        return False
    if is_skip(ctx, phrase):
        return True
    question = turn.questions[turn.waiting or 0]
    if question.kind == FREE:
        return True
    return match_option(ctx, question, text) is not None


def answer(ctx: Conversation, text: str, phrase: str) -> None:
    """Store the answer (or the skip) and go on to the next question."""
    turn = ctx.state.poll
    assert turn is not None and turn.waiting is not None
    index = turn.waiting
    question = turn.questions[index]
    if is_skip(ctx, phrase):
        if index not in turn.answered:        # skipping a question answered before keeps that answer
            turn.answers.append((index, None, None, True))
        ctx.note("poll_skipped", turn.poll_id, index)
        return _next(ctx, turn, index, lead=ctx.t(SKIPPED))
    if question.kind == FREE:
        words = text.strip()[:MAX_FREE_ANSWER]
        turn.answers.append((index, None, words, False))
        turn.answered[index] = words
    else:
        option = match_option(ctx, question, text)
        assert option is not None
        turn.answers.append((index, option, None, False))
        turn.answered[index] = option
    ctx.note("poll_answer", turn.poll_id, index)
    _next(ctx, turn, index)


def unclear(ctx: Conversation, text: str, phrase: str) -> bool:
    """Words that fit no option, the first time, and are not something else the person means
    (a complaint, a sensitive report, a greeting or a question the content answers are theirs to say)."""
    from . import feedback
    turn = waiting_turn(ctx)
    if turn is None or turn.reasked or not phrase:
        return False
    if feedback.trigger_kind(ctx.content, phrase) is not None or feedback.is_sensitive(ctx.content, text):
        return False
    return True


def ask_again(ctx: Conversation, *_: object) -> None:
    turn = ctx.state.poll
    assert turn is not None and turn.waiting is not None
    ask(ctx, turn, turn.waiting, again=True)


def resume(ctx: Conversation, *_: object) -> None:
    """POLL: the first unanswered question again; all answered: question 1, to change answers."""
    turn = ctx.state.poll
    if turn is None:
        ctx.say(ctx.t(NOT_WAITING), [("0", ctx.t("Main menu"), ["menu"])])
        return
    index = next((i for i in range(len(turn.questions)) if i not in turn.answered), 0)
    ask(ctx, turn, index)


def after_turn(ctx: Conversation, rule: str) -> None:
    """Another rule answered while a question waited: a complaint sets the poll aside until its case is
    filed (then the question comes again); anything else ends the waiting (POLL brings it back)."""
    turn = ctx.state.poll
    if turn is None or rule.startswith("poll_"):
        return
    if turn.held and ctx.state.state not in TEXT_STATES_EXEMPT and ctx.state.state != "feedback_sensitive":
        if any(e[0] == "case_opened" for e in ctx.events) or not ctx.state.opted_out:
            if ctx.state.opted_out or turn.waiting is None:
                turn.held, turn.changed = False, True
                return
            ask(ctx, turn, turn.waiting)
        return
    if turn.waiting is None or turn.held:
        return
    if ctx.state.opted_out:
        turn.waiting, turn.changed = None, True
        return
    if rule in HOLDING_RULES and ctx.state.state in TEXT_STATES_EXEMPT | {"feedback_sensitive"}:
        turn.held, turn.changed = True, True
        return
    if rule in HOLDING_RULES:      # the case was filed in this very turn: the question again at once
        ask(ctx, turn, turn.waiting)
        return
    turn.waiting, turn.reasked, turn.changed = None, False, True


# Rules after which the poll waits on (set aside, then asked again) instead of ending.
HOLDING_RULES = frozenset({"feedback_words", "sensitive"})


@action("poll")
def _poll_action(ctx: Conversation) -> None:
    resume(ctx)
