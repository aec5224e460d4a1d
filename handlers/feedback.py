"""Feedback from a person to the agency: kind, words (or voice note, photo), optional area, a reference code.

Sensitive reports (abuse, exploitation, fraud by aid workers, danger to life) are
handled survivor-first: no blame, no questions for detail, referral contacts, and
the case is flagged so only focal points see it. Storage is behind ctx.services.
"""
from collections.abc import Iterable
from functools import lru_cache

from . import areas, codes, search, topics
from .content import Content
from .conversation import (
    BROWSING,
    ERASE_CONFIRM,
    FEEDBACK_AREA,
    FEEDBACK_KIND,
    FEEDBACK_SENSITIVE,
    FEEDBACK_TEXT,
    CaseKind,
    CaseStatus,
    Conversation,
    MediaRef,
    TextHandler,
    action,
)
from .i18n import N_
from .menu import emergency_line, is_request_word, main_menu, referral_lines, yes_or_no
from .text import stems, tokens

KINDS = tuple(CaseKind)
SHORT_TRIGGER = 3  # a trigger word in a message this short starts the feedback dialogue; longer is the feedback
# States in which a bare number is part of what the person says, not a menu choice.
NUMBERLESS_STATES: set[str] = set()
# Phrases as PhraseMatcher compares them: per word, (the word without hamza, the word if 4+ letters long).
Phrases = list[tuple[tuple[str, str | None], ...]]
Forms = tuple[frozenset[str], frozenset[str]]


class PhraseMatcher:
    """Feedback and sensitive phrases compared with a message's words strictly, as
    search.word_matches(loose=False) does: the same word (a bare hamza may be left out) or, for a
    phrase word of 4+ letters, a longer form of it. Built once per content: a message's word forms go
    into two sets and each phrase word is two look-ups, not a comparison with every word."""

    def __init__(self, content: Content):
        self.source = content.feedback
        self.kinds = [(kind.get("id"), self._phrases(w for ws in (kind.get("words") or {}).values() for w in ws or []))
                      for kind in content.feedback.get("kinds") or []]
        sensitive = content.feedback.get("sensitive") or {}
        self.sensitive, self.money, self.smugglers = (
            self._phrases(w for ws in (sensitive.get(name) or {}).values() for w in ws or [])
            for name in ("words", "money", "smugglers"))
        self.status_mine, self.status_asking = self._pair(content, "status", "mine", "asking")
        self.erase_data, self.erase_delete = self._pair(content, "erase", "data", "delete")

    def _pair(self, content: Content, section: str, *parts: str) -> list[Phrases]:
        lists = content.feedback.get(section) or {}
        return [self._phrases(w for ws in (lists.get(part) or {}).values() for w in ws or []) for part in parts]

    @staticmethod
    def _phrases(words: Iterable[object]) -> Phrases:
        phrases = (tuple((_dehamza(p), p if len(p) >= 4 else None) for p in tokens(str(w))) for w in words)
        return [p for p in phrases if p]

    @staticmethod
    def forms(words: list[str]) -> Forms:
        """(every form of every word without hamza, every beginning of 4+ letters of every form)."""
        return _forms(tuple(words))

    @staticmethod
    def matches(phrases: Phrases, forms: Forms) -> bool:
        whole, begins = forms
        return any(all(bare in whole or (start is not None and start in begins) for bare, start in phrase)
                   for phrase in phrases)


@lru_cache(maxsize=1024)
def _forms(words: tuple[str, ...]) -> Forms:
    # Cached: one message is checked for feedback words, sensitive words, status and erasure phrases.
    whole: set[str] = set()
    begins: set[str] = set()
    for word in words:
        for form in stems(word):
            whole.add(_dehamza(form))
            begins.update(form[:k] for k in range(4, len(form) + 1))
    return frozenset(whole), frozenset(begins)


def _dehamza(word: str) -> str:
    return word.replace("ء", "")


def matcher(content: Content) -> PhraseMatcher:
    found = content.phrase_matcher
    if found is None or found.source is not content.feedback:
        found = content.phrase_matcher = PhraseMatcher(content)
    return found


def trigger_kind(content: Content, phrase: str) -> str | None:
    """The feedback kind a message announces ("شكوى", "pêşniyar", "complaint ..."), if any.

    Thanks first ("شكرا على المساعدة", "زۆر سوپاس بۆ هاوکارییەکەتان") is thanks, though help is named."""
    found = matcher(content)
    words = phrase.split()
    opening = found.forms(words[:2])
    if any(found.matches(phrases, opening) for kind, phrases in found.kinds if kind == CaseKind.THANKS):
        return CaseKind.THANKS
    forms = found.forms(words)
    return next((kind for kind, phrases in found.kinds if found.matches(phrases, forms)), None)


def only_announces(content: Content, phrase: str) -> bool:
    """"اريد اقدم شكوى", "سڵاو دەمەوێت سکاڵایەک بنێرم": nothing but the wish to give feedback of a kind."""
    return all(is_request_word(content, word) or trigger_kind(content, word) for word in phrase.split())


def is_sensitive(content: Content, text: str) -> bool:
    """A word that means a sensitive report; or a demand for money that is not a smuggler's (those get
    the smuggling answer)."""
    found = matcher(content)
    forms = found.forms(tokens(text))
    return found.matches(found.sensitive, forms) or (
        found.matches(found.money, forms) and not found.matches(found.smugglers, forms))


def asks_status(content: Content, text: str) -> bool:
    """"شنو صار بشكواي", "سکاڵاکەم چی لێهات؟": a question about one's own feedback, without the code."""
    found = matcher(content)
    return _both(found, found.status_mine, found.status_asking, text)


def asks_erase(content: Content, text: str) -> bool:
    """"ممكن تمسحون رقمي ومعلوماتي": the person then confirms, or not."""
    found = matcher(content)
    return _both(found, found.erase_data, found.erase_delete, text)


def _both(found: PhraseMatcher, first: Phrases, second: Phrases, text: str) -> bool:
    forms = found.forms(tokens(text))
    return found.matches(first, forms) and found.matches(second, forms)


def looks_like_case_code(text: str) -> bool:
    return codes.find_code(text) is not None


def _kind_label(ctx: Conversation, kind_id: str) -> str:
    for kind in ctx.content.feedback.get("kinds") or []:
        if kind.get("id") == kind_id:
            return ctx.pick(kind.get("label") or {})
    return kind_id


def welcome_thanks(ctx: Conversation) -> None:
    """A short thank-you: answered kindly, with the way to pass thanks on to the team and the menu."""
    ctx.go(BROWSING)
    ctx.say(ctx.t("You are welcome! We are glad to help."),
            [("1", ctx.t("Send thanks to the team"), ["feedback", CaseKind.THANKS]),
             ("0", ctx.t("Main menu"), ["menu"])], back=["menu"])


@action("feedback")
def start(ctx: Conversation, kind: str | None = None, text: str | None = None) -> None:
    """Begin: ask the kind, or (when we know it) ask for the words; with words already given, open the case."""
    ctx.note("feedback_start", kind or "")
    pending = list(ctx.state.data.get("media") or []) if ctx.state.state == FEEDBACK_KIND else []
    if kind and (text or pending):
        return _open(ctx, kind, text or "", pending, sensitive=is_sensitive(ctx.content, text or ""))
    if kind:
        return _ask_text(ctx, kind)
    t = ctx.t
    options = [(str(n), ctx.pick(k.get("label") or {}), ["feedback", k.get("id")])
               for n, k in enumerate(ctx.content.feedback.get("kinds") or [], 1)]
    options.append((str(len(options) + 1), t("Something serious (abuse, exploitation, fraud, danger)"),
                    ["feedback_sensitive"]))
    options.append(("0", t("Main menu"), ["menu"]))
    ctx.go(FEEDBACK_KIND, media=pending)
    ctx.say(t("What do you want to tell us?"), options, back=["menu"])


def incoming_media(ctx: Conversation) -> list[MediaRef]:
    return [{"url": m.url, "type": m.content_type} for m in ctx.incoming.media]


@action("media_received")
def media_received(ctx: Conversation, media: list[MediaRef] | None = None) -> None:
    """A voice note or photo outside the feedback dialogue: keep it and ask what it is about."""
    ctx.go(FEEDBACK_KIND, media=media or incoming_media(ctx))
    ctx.say(ctx.t("Thank you for your voice note or photo. We can pass it to our team."))
    start(ctx)


def _ask_text(ctx: Conversation, kind: str, sensitive: bool = False) -> None:
    t = ctx.t
    ctx.go(FEEDBACK_TEXT, kind=kind, sensitive=sensitive)
    prompt = t("Write your message in one message. You can also send a voice note or a photo.")
    if sensitive:
        prompt = "\n".join([t("You can tell us in confidence. Only trained staff will read it. "
                              "Share only what you want to share."), prompt])
    ctx.say(f"{_kind_label(ctx, kind) if not sensitive else ''}\n{prompt}".strip(),
            [("1", t("Choose another kind"), ["feedback"]), ("0", t("Cancel"), ["menu"])], back=["feedback"])


@action("feedback_sensitive")
def start_sensitive(ctx: Conversation) -> None:
    _ask_text(ctx, CaseKind.COMPLAINT, sensitive=True)


def on_text(ctx: Conversation, text: str, command: str | None) -> None:
    """The feedback itself: words, or media with or without a caption."""
    media = incoming_media(ctx)
    if not text and not media:
        ctx.say(ctx.t("Please write your message, or send 0 to cancel."))
        return
    kind = ctx.state.data.get("kind", CaseKind.COMPLAINT)
    sensitive = bool(ctx.state.data.get("sensitive")) or is_sensitive(ctx.content, text)
    _open(ctx, kind, text, media, sensitive)


def _open(ctx: Conversation, kind: str, text: str, media: list[MediaRef], sensitive: bool) -> None:
    t = ctx.t
    code = ctx.store.open_case(kind, text, media, ctx.state.area, sensitive)
    ctx.note("feedback", kind, "sensitive" if sensitive else "")
    shown = codes.display(code)
    if sensitive:
        return _sensitive_reply(ctx, code)
    days = int(ctx.config.get("RESPONSE_DAYS", 7))
    lines = [t("Thank you. We received your message. Your reference code is {code}.", code=ctx.t.digits(shown)),
             t.plural("Send this code at any time to see the status. We aim to answer within {days} day.",
                      "Send this code at any time to see the status. We aim to answer within {days} days.",
                      days, days=days)]
    ctx.go(FEEDBACK_AREA, code=code)
    if ctx.state.area:
        ctx.say("\n".join(lines), [("0", t("Main menu"), ["menu"])], back=["menu"])
        return
    lines.append(t("Optional: where are you? It helps us act on it."))
    ctx.say("\n".join(lines), areas.governorate_options(ctx, ["area_group", code]) + [("0", t("Skip"), ["menu"])],
            back=["menu"])


def _sensitive_reply(ctx: Conversation, code: str) -> None:
    """Survivor-centred: believed, not blamed, safe, and told where to get help; no detail asked."""
    t = ctx.t
    hours = int(ctx.config.get("SENSITIVE_RESPONSE_HOURS", 24))
    lines = [t("Thank you for trusting us. What happened is not your fault."),
             t.plural("Only a trained staff member will see your message, in confidence, within {hours} hour.",
                      "Only a trained staff member will see your message, in confidence, within {hours} hours.",
                      hours, hours=hours),
             t("Your reference code is {code}.", code=t.digits(codes.display(code)))]
    lines.extend(_help_now(ctx))
    ctx.go(BROWSING)
    ctx.say("\n".join(lines), [("0", t("Main menu"), ["menu"])], back=["menu"])


def _help_now(ctx: Conversation) -> list[str]:
    """For someone in danger: the emergency numbers and the verified referral contacts, under their heading."""
    lines = [f"• {line}" for line in [emergency_line(ctx)] if line] + referral_lines(ctx, "sensitive")
    return [ctx.t("If you are in danger or need help now:"), *lines] if lines else []


def offer_sensitive(ctx: Conversation, text: str) -> None:
    """Free text that sounds like a sensitive report: ask before passing it on (the survivor decides)."""
    t = ctx.t
    ctx.go(FEEDBACK_SENSITIVE, text=text)
    lines = [t("What you wrote sounds serious. You are not to blame."),
             t("Do you want us to pass it, in confidence, to a trained staff member?")]
    lines.extend(_help_now(ctx))
    ctx.say("\n".join(lines), [("1", t("Yes, pass it on"), ["sensitive_yes"]), ("2", t("No"), ["sensitive_no"])],
            back=["menu"])


@action("sensitive_yes")
def sensitive_yes(ctx: Conversation) -> None:
    text = ctx.state.data.get("text", "")
    _open(ctx, CaseKind.COMPLAINT, text, [], sensitive=True)


@action("area_group")
def area_group(ctx: Conversation, code: str, group_id: str, first: int = 0) -> None:
    group = areas.find_group(ctx, group_id)
    if group is None:
        return main_menu(ctx)
    text = ctx.t("Choose a number:")
    options = areas.area_options(ctx, group, text, ["area_group", code], ["set_area", code],
                                 ("0", ctx.t("Skip"), ["menu"]), first)
    ctx.go(FEEDBACK_AREA, code=code)
    ctx.say(text, options, back=["menu"], unshown=areas.earlier_places(ctx, group, ["set_area", code], first))


@action("set_area")
def set_area(ctx: Conversation, code: str, area_id: str) -> None:
    ctx.state.area = area_id
    ctx.store.set_case_area(code, area_id)
    main_menu(ctx, intro=ctx.t("Thank you."))


def on_more(ctx: Conversation, text: str, command: str | None) -> None:
    """After the code was given, more words or media join the same case, except what is plainly
    something else: a place answers "where are you?"; a question the content answers is answered (the
    person is not left with "added to your case" and no answer); a report that sounds sensitive is offered
    to a focal point apart, not added where every officer reads it; a short thank-you is welcomed."""
    code = ctx.state.data.get("code")
    media = incoming_media(ctx)
    if code and text and not media:
        if (place := areas.named_place(ctx.content, text)) is not None:
            place_kind, place_id = place
            return set_area(ctx, code, place_id) if place_kind == "area" else area_group(ctx, code, place_id)
        if is_sensitive(ctx.content, text):
            return offer_sensitive(ctx, text)
        phrase = " ".join(tokens(text))
        kind = trigger_kind(ctx.content, phrase)
        if kind == CaseKind.THANKS and len(phrase.split()) <= SHORT_TRIGGER:
            return welcome_thanks(ctx)
        if kind and only_announces(ctx.content, phrase):       # "گازندە", "اريد اقدم شكوى": a new one
            return start(ctx, kind)
        if topics.topic_named(ctx.content, text) or search.best(ctx.content, text, ctx.lang)[0]:
            return topics.answer_question(ctx, text)
    if code and (text or media) and ctx.store.add_to_case(code, text, media):
        ctx.say(ctx.t("Added to your case {code}.", code=ctx.t.digits(codes.display(code))),
                [("0", ctx.t("Main menu"), ["menu"])], back=["menu"])
    else:
        main_menu(ctx)


def on_sensitive_answer(ctx: Conversation, text: str, command: str | None) -> None:
    """The survivor decides: yes passes it on; no is respected, kindly, with the way back; anything
    else asks again (with the contacts) rather than dropping a report the person may think was sent."""
    answer = yes_or_no(ctx, text, command)
    if answer == "yes":
        return sensitive_yes(ctx)
    t = ctx.t
    help_lines = _help_now(ctx)
    if answer == "no":
        ctx.go(BROWSING, text=ctx.state.data.get("text", ""))
        ctx.say("\n".join([t("We will not pass it on. If you change your mind, send 1."), *help_lines]),
                [("1", t("Yes, pass it on"), ["sensitive_yes"]), ("0", t("Main menu"), ["menu"])],
                back=["menu"])
        return
    ctx.say("\n".join([t("Do you want us to pass it, in confidence, to a trained staff member?"),
                       t("Send 1 for yes or 2 for no."), *help_lines]),
            [("1", t("Yes, pass it on"), ["sensitive_yes"]), ("2", t("No"), ["sensitive_no"])], back=["menu"])


@action("sensitive_no")
def sensitive_no(ctx: Conversation) -> None:
    on_sensitive_answer(ctx, "", "no")


def on_kind_text(ctx: Conversation, text: str, command: str | None) -> None:
    """Words instead of a number at "which kind?": take them as the feedback, kind guessed."""
    kind = trigger_kind(ctx.content, " ".join(tokens(text))) or CaseKind.COMPLAINT
    media = list(ctx.state.data.get("media") or []) + [{"url": m.url, "type": m.content_type} for m in ctx.incoming.media]
    _open(ctx, kind, text, media, is_sensitive(ctx.content, text))


def show_my_cases(ctx: Conversation) -> None:
    """The person's latest cases and their status; without any, how to look one up by its code."""
    t = ctx.t
    cases = ctx.services.my_cases() if ctx.services else []
    ctx.go(BROWSING)
    if not cases:
        ctx.say(t("Send your reference code (7 digits) to see the status of your message."),
                [("0", t("Main menu"), ["menu"])])
        return
    lines = []
    for case in cases:
        lines.append(t("Case {code}: {status}.", code=t.digits(codes.display(case["code"])),
                       status=t(STATUS_LABELS[case["status"]])))
        if case.get("answer"):
            lines.append(t("Our answer: {answer}", answer=case["answer"]))
    ctx.say("\n".join(lines), [("0", t("Main menu"), ["menu"])])


def show_status(ctx: Conversation, text: str) -> None:
    """Status only to the contact who opened the case; anyone else learns nothing, not even that it exists."""
    t = ctx.t
    code = codes.find_code(text)
    case = ctx.store.case_status(code) if code else None
    ctx.go(BROWSING)
    if case is None or code is None:
        ctx.say(t("I found no case with that code from this number. Please check the code."),
                [("0", t("Main menu"), ["menu"])])
        return
    label = STATUS_LABELS[case["status"]]
    lines = [t("Case {code}: {status}.", code=t.digits(codes.display(code)), status=t(label))]
    if case.get("answer"):
        lines.append(t("Our answer: {answer}", answer=case["answer"]))
    ctx.say("\n".join(lines), [("0", t("Main menu"), ["menu"])])


# Case statuses as the person reads them (msgids are translated in locales/).
STATUS_LABELS: dict[str, str] = {
    CaseStatus.NEW: N_("received, waiting to be read"),
    CaseStatus.ACKNOWLEDGED: N_("read by our team"),
    CaseStatus.REFERRED: N_("passed to the organisation that can act on it"),
    CaseStatus.IN_PROGRESS: N_("being worked on"),
    CaseStatus.RESOLVED: N_("resolved"),
    CaseStatus.CLOSED: N_("closed"),
}


@action("erase")
def ask_erase(ctx: Conversation) -> None:
    t = ctx.t
    ctx.go(ERASE_CONFIRM)
    ctx.say("\n".join([
        t("This deletes your number, your messages and your feedback from our system."),
        t("We cannot delete what your phone company, Telegram or WhatsApp keep themselves."),
        t("Delete everything?")]),
        [("1", t("Yes, delete"), ["erase_yes"]), ("2", t("No"), ["menu"])], back=["menu"])


@action("erase_yes")
def erase_yes(ctx: Conversation) -> None:
    ctx.store.erase_contact()
    ctx.note("erased")
    ctx.go(BROWSING)
    ctx.say(ctx.t("Done: we deleted your data. If you write again, we start fresh."))


def on_erase_text(ctx: Conversation, text: str, command: str | None) -> None:
    """Only a clear yes deletes ("نعم احذفها" is one); anything unclear deletes nothing."""
    if yes_or_no(ctx, text, command) == "yes":
        return erase_yes(ctx)
    main_menu(ctx)


TEXT_STATES: dict[str, TextHandler] = {
    FEEDBACK_TEXT: on_text,
    FEEDBACK_AREA: on_more,
    FEEDBACK_KIND: on_kind_text,
    FEEDBACK_SENSITIVE: on_sensitive_answer,
    ERASE_CONFIRM: on_erase_text,
}
