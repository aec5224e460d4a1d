"""Polls in the chat: a question waits for the person's reply, which is read here and kept by the service.

The storage side (bot/poll_answers.py) puts a `PollTurn` in the contact's state before the turn and keeps
what changed after it; this module only reads words and says things. How a person answers:
- the option's number in any digits ("1", "١", "۱", a Telegram button's "1. Yes"), a yes/no word when
  one option is labelled with one ("نعم", "بەڵێ", "erê", "no"), or the option's own words; a free
  question takes any words (one that carries a complaint also becomes a feedback case);
- SKIP words pass the question; POLL words ask the first unanswered question again, or question 1 once
  all are answered: answering again changes the answer (SKIP then keeps the earlier one), until the poll
  closes;
- words that fit no option get the question again once, with the options; the next such message goes
  on to the ordinary rules and the question stops waiting.
A poll never traps anyone: STOP, HELP, menu words and the other commands come first (router RULES
step 3), and a complaint or sensitive report is never read as an answer: the poll waits while it is
told and filed, then asks its question again. Any other way out ends the waiting; so does the poll's
window (hours after the question was sent), which the service applies when it loads the turn.
"""
from dataclasses import dataclass, field
from datetime import datetime

from .conversation import ACTIONS, CHOOSING_LANGUAGE, ContactState, Conversation
from .i18n import N_, RTL, Translator
from .text import number_rest, parse_number, stems, to_arabic_digits, tokens

CHOICE, FREE = "choice", "free"
MAX_QUESTIONS = 5
MAX_OPTIONS = 9
MAX_FREE_ANSWER = 500      # characters kept of a free answer

REPLY_NUMBER = N_("Reply with the number, or SKIP.")
REPLY_WORDS = N_("Reply in a few words, or SKIP.")
SKIPPED = N_("Skipped.")
THANKS = N_("Thank you for your answers. To change one before the poll closes, send POLL.")
AGAIN = N_("Sorry, I did not understand. Please reply with one of the numbers:")
BACK_TO_POLL = N_("Back to the poll:")
NONE_OPEN = N_("There is no open poll for you now.")
PASSED_ON = N_("We also passed your answer to our team. Your reference code is {code}.")

# The feedback dialogue's steps: while one is under way a complaint is being told, and the poll waits.
FEEDBACK_STEPS = frozenset({"feedback_kind", "feedback_text", "feedback_sensitive", "feedback_area"})


@dataclass
class PollQuestion:
    """One question in the person's language."""
    kind: str
    text: str
    options: list[str] = field(default_factory=list)


@dataclass
class PollAnswerNote:
    """An answer to keep: option (choice), text (free) or skipped; the case a free answer became."""
    question: int
    option: int | None = None
    text: str | None = None
    skipped: bool = False
    case_code: str | None = None


@dataclass
class PollTurn:
    """A poll as one person meets it in this turn; the service keeps the fields that change."""
    poll_id: int
    language: str
    questions: list[PollQuestion]
    waiting: int | None = None          # the question waiting for an answer (0-based); None: none waits
    reasked: bool = False               # asked again after words that fitted nothing
    held: bool = False                  # a complaint is being told: asked again once it is filed
    answered: dict[int, int | str] = field(default_factory=dict)   # question -> option number or "text"
    finished: bool = False
    asked_at: datetime | None = None    # when the waiting question was sent (its window runs from then)
    asked_now: bool = False             # a question went out in this turn (its window starts now)
    changed: bool = False               # the service stores the turn only when set
    answers: list[PollAnswerNote] = field(default_factory=list)


def digits(lang: str, value: int) -> str:
    return to_arabic_digits(str(value)) if lang in RTL else str(value)


def render_question(lang: str, question: PollQuestion, number: int, total: int) -> str:
    """The question with its numbered options and how to answer, as text (SMS shows no buttons, and the
    broadcast carrying question 1 is text)."""
    t = Translator(lang)
    text = question.text.strip()
    lines = [f"({digits(lang, number)}/{digits(lang, total)}) {text}" if total > 1 else text]
    lines += [f"{digits(lang, n)}. {label}" for n, label in enumerate(question.options, 1)]
    lines.append(t(REPLY_NUMBER if question.kind == CHOICE else REPLY_WORDS))
    return "\n".join(lines)


def in_a_step(state: ContactState) -> bool:
    """Another dialogue waits for words (a complaint being written, a yes/no): it takes them first."""
    from .router import TEXT_STATES
    return state.state in TEXT_STATES and state.state != CHOOSING_LANGUAGE


def _yes_no(ctx: Conversation, phrase: str) -> str | None:
    kind = ctx.content.commands.get(phrase)
    return kind if kind in ("yes", "no") else None


def match_option(ctx: Conversation, question: PollQuestion, text: str) -> int | None:
    """The option the words choose, or None when they fit no option or more than one."""
    labels = [" ".join(tokens(label)) for label in question.options]
    number = parse_number(text)
    if number is not None:
        rest = set(tokens(number_rest(text)))
        if 1 <= number <= len(labels) and rest <= set(labels[number - 1].split()):
            return number
        return None
    phrase = " ".join(tokens(text))
    if not phrase:
        return None
    exact = [n for n, label in enumerate(labels, 1) if label == phrase]
    if len(exact) == 1:
        return exact[0]
    said = _yes_no(ctx, phrase)
    if said is not None:
        fitting = [n for n, label in enumerate(labels, 1)
                   if _yes_no(ctx, label) == said or (label and _yes_no(ctx, label.split()[0]) == said)]
        return fitting[0] if len(fitting) == 1 else None
    words = phrase.split()
    found = [n for n, label in enumerate(labels, 1) if label and _all_in(words, label)]
    return found[0] if len(found) == 1 else None


def _all_in(words: list[str], label: str) -> bool:
    """Every word said is a word of the label, by stem: "saturday" for "Saturday morning"."""
    label_stems = set().union(*(stems(w) for w in label.split()))
    return len(words) <= 4 and all(stems(w) & label_stems for w in words)


def is_skip(ctx: Conversation, phrase: str) -> bool:
    return ctx.content.commands.get(phrase) == "skip"


def is_poll_word(ctx: Conversation, phrase: str) -> bool:
    return ctx.content.commands.get(phrase) == "poll"


def waiting_turn(ctx: Conversation) -> PollTurn | None:
    """The poll whose question waits for this person now, unless another dialogue's step takes the words."""
    turn = ctx.state.poll
    if turn is None or turn.waiting is None or turn.held or in_a_step(ctx.state):
        return None
    return turn


def fits(ctx: Conversation, text: str, phrase: str) -> bool:
    """The words answer (or skip) the waiting question."""
    turn = waiting_turn(ctx)
    if turn is None or not phrase or turn.waiting is None:
        return False
    question = turn.questions[turn.waiting]
    return is_skip(ctx, phrase) or question.kind == FREE or match_option(ctx, question, text) is not None


def unclear(ctx: Conversation, text: str, phrase: str) -> bool:
    """Words that fit no option, the first time, and are not a complaint, a sensitive report or a reference
    code (theirs to tell or ask about: the ordinary rules take those)."""
    from . import feedback
    turn = waiting_turn(ctx)
    if turn is None or turn.reasked or not phrase:
        return False
    return feedback.trigger_kind(ctx.content, phrase) is None and not feedback.is_sensitive(ctx.content, text) \
        and not feedback.looks_like_case_code(text)


def ask(ctx: Conversation, turn: PollTurn, index: int, again: bool = False, intro: str | None = None) -> None:
    """Send question `index`; it waits for its answer from now."""
    text = render_question(turn.language, turn.questions[index], index + 1, len(turn.questions))
    lead = [intro] if intro else []
    if again and turn.questions[index].kind == CHOICE:
        lead.append(ctx.t(AGAIN))
    ctx.say("\n".join([*lead, text]))
    turn.waiting, turn.reasked, turn.held = index, again, False
    turn.asked_now = turn.changed = True
    ctx.note("poll_asked", turn.poll_id, index)


def _after(ctx: Conversation, turn: PollTurn, index: int, lead: list[str]) -> None:
    """After question `index`: the next question, or the thanks at the end."""
    if index + 1 < len(turn.questions):
        return ask(ctx, turn, index + 1, intro="\n".join(lead) or None)
    turn.waiting, turn.reasked, turn.finished, turn.changed = None, False, True, True
    ctx.say("\n".join([*lead, ctx.t(THANKS)]))
    ctx.note("poll_finished", turn.poll_id)


def answer(ctx: Conversation, text: str, phrase: str) -> None:
    """Keep the answer (or the skip) and go on to the next question."""
    from . import feedback
    turn = waiting_turn(ctx)
    assert turn is not None and turn.waiting is not None
    index, question = turn.waiting, turn.questions[turn.waiting]
    lead: list[str] = []
    if is_skip(ctx, phrase):
        if index not in turn.answered:          # skipping a question answered before keeps that answer
            turn.answers.append(PollAnswerNote(index, skipped=True))
        ctx.note("poll_skipped", turn.poll_id, index)
        return _after(ctx, turn, index, [ctx.t(SKIPPED)])
    if question.kind == FREE:
        words = text.strip()[:MAX_FREE_ANSWER]
        note = PollAnswerNote(index, text=words)
        kind = feedback.trigger_kind(ctx.content, phrase)
        sensitive = feedback.is_sensitive(ctx.content, words)
        if (sensitive or kind in ("complaint", "help_request")) and ctx.services is not None:
            note.case_code = ctx.services.open_case(kind or "complaint", words, [], ctx.state.area, sensitive)
            ctx.note("feedback", kind or "complaint", "sensitive" if sensitive else "")
            lead.append(ctx.t(PASSED_ON, code=ctx.t.digits(_display(note.case_code))))
        turn.answers.append(note)
        turn.answered[index] = "text"
    else:
        option = match_option(ctx, question, text)
        assert option is not None
        turn.answers.append(PollAnswerNote(index, option=option))
        turn.answered[index] = option
    ctx.note("poll_answer", turn.poll_id, index)
    _after(ctx, turn, index, lead)


def _display(code: str) -> str:
    from .codes import display
    return display(code)


def ask_again(ctx: Conversation, *_: object) -> None:
    """Words that fit nothing: the question once more, with its options."""
    turn = waiting_turn(ctx)
    assert turn is not None and turn.waiting is not None
    ask(ctx, turn, turn.waiting, again=True)


def resume(ctx: Conversation, *_: object) -> None:
    """POLL: the first unanswered question again; all answered: question 1, to change an answer."""
    turn = ctx.state.poll
    if turn is None:
        ctx.say(ctx.t(NONE_OPEN), [("0", ctx.t("Main menu"), ["menu"])])
        return
    if in_a_step(ctx.state):               # "poll" in the middle of writing a complaint: leave that step
        ctx.state.state, ctx.state.data = "browsing", {}
    ask(ctx, turn, next((i for i in range(len(turn.questions)) if i not in turn.answered), 0))


def after_turn(ctx: Conversation, rule: str, step: int) -> None:
    """Another rule answered while a question waited. A complaint under way holds the poll, and once it
    is filed the question comes again; STOP, a command word or anything else ends the waiting (POLL
    brings it back)."""
    turn = ctx.state.poll
    if turn is None or turn.waiting is None or rule.startswith("poll_"):
        return
    turn.changed = True
    if ctx.state.opted_out or ctx.state.state == "new":
        turn.waiting, turn.held, turn.reasked = None, False, False
        return
    filed = any(event[0] == "feedback" for event in ctx.events)
    if ctx.state.state in FEEDBACK_STEPS and not (filed and _nothing_to_choose(ctx)):
        if turn.held or any(event[0] in ("feedback_start", "feedback") for event in ctx.events) \
                or rule == "sensitive":
            turn.held = True
            return
    elif (turn.held or filed) and step != 3:
        if _nothing_to_choose(ctx):
            ctx.state.state, ctx.state.data = "browsing", {}
        return ask(ctx, turn, turn.waiting, intro=ctx.t(BACK_TO_POLL))
    turn.waiting, turn.held, turn.reasked = None, False, False


def _nothing_to_choose(ctx: Conversation) -> bool:
    """The last screen offers nothing but the main menu (a case filed where the area is known)."""
    return set(ctx.state.data.get("options") or {}) <= {"0"}


ACTIONS["poll"] = resume      # a stored option may lead back to the poll, as the POLL word does
