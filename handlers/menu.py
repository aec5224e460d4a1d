"""The main menu, the language choice, help, and STOP/START: the screens every path leads back to.

Announcements (menu 6) are in subscription.py."""
from . import referrals
from .content import Content
from .conversation import BROWSING, CHOOSING_LANGUAGE, STOP_CONFIRM, Conversation, MediaRef, ScreenOption, action, run
from .i18n import LANGUAGES, N_, NATIVE_NAMES, Translator
from .language import LATIN
from .text import rejoin_split, stems, tokens

MENU_FEEDBACK = "5"
MENU_ANNOUNCEMENTS = "6"
MENU_LANGUAGE = "7"


def language_label() -> str:
    """"Language" in every language at once, so anyone can find the switch whatever is on screen."""
    seen = []
    for lang in LANGUAGES:
        word = Translator(lang)(N_("Language"))
        if word not in seen:
            seen.append(word)
    return "🌐 " + " / ".join(seen)


def welcome_text(ctx: Conversation) -> str:
    t = ctx.t
    return "\n".join([
        t("Welcome! I can answer questions about health, camp safety, shelter and safe migration, "
          "and pass your feedback to the team."),
        t.plural("We keep your number encrypted and your messages for {days} day, only to answer you.",
                 "We keep your number encrypted and your messages for {days} days, only to answer you.",
                 int(ctx.config.get("MESSAGE_RETENTION_DAYS", 90)), days=int(ctx.config.get("MESSAGE_RETENTION_DAYS", 90))),
        t("Send HELP for help, STOP to stop messages."),
    ])


def main_options(ctx: Conversation) -> list[ScreenOption]:
    t = ctx.t
    options: list[ScreenOption] = [(str(n), ctx.pick(topic.title), ["topic", topic.id])
               for n, topic in enumerate(ctx.content.topics, 1)]
    return options + [
        (MENU_FEEDBACK, t("Feedback or complaint"), ["feedback"]),
        (MENU_ANNOUNCEMENTS, t("Announcements"), ["announcements"]),
        (MENU_LANGUAGE, language_label(), ["language_menu"]),
    ]


@action("menu")
def main_menu(ctx: Conversation, intro: str = "") -> None:
    ctx.go(BROWSING)
    ctx.say("\n".join(part for part in (intro, ctx.t("Main menu. Send a number, or write your question:")) if part),
            main_options(ctx), back=["menu"])


@action("language_menu")
def language_menu(ctx: Conversation, first: bool = False, media: list[MediaRef] | None = None) -> None:
    """Asked in every language at once: the person may not read the one we guessed.

    first: the person has not had the welcome yet (their first message did not tell the language);
    media: a voice note or photo they sent, kept until the language is known."""
    prompts = []
    for lang in LANGUAGES:
        prompt = Translator(lang)(N_("Choose your language:"))
        if prompt not in prompts:
            prompts.append(prompt)
    ctx.go(CHOOSING_LANGUAGE, **({"first": True, "media": media or []} if first else {}))
    ctx.say("\n".join(prompts),
            [(str(n), NATIVE_NAMES[lang], ["set_language", lang]) for n, lang in enumerate(LANGUAGES, 1)],
            back=["menu"])


def named_language(content: Content, text: str) -> str | None:
    """"بالعربي", "بە عەرەبی قسە بکە", "ez dixwazim bi erebî biaxivim": the language a short message asks
    for; "kurdish" when it names Kurdish without the dialect; None when it names none or says more."""
    for candidate in (text, rejoin_split(text)):
        if candidate and (lang := _named(content, tokens(candidate))):
            return "kmr_latn" if lang == "kmr" and LATIN.search(text) else lang
    return None


def _named(content: Content, words: list[str]) -> str | None:
    if not 0 < len(words) <= 5:
        return None
    names = content.language_names
    found: set[str] = set()
    used: set[int] = set()
    for size in (3, 2, 1):
        for i in range(len(words) - size + 1):
            if used & set(range(i, i + size)):
                continue
            forms = [" ".join(words[i:i + size])] if size > 1 else sorted(stems(words[i]))
            lang = next((names[f] for f in forms if f in names), None)
            if lang:
                found.add(lang)
                used.update(range(i, i + size))
    rest = [w for i, w in enumerate(words) if i not in used]
    if len(found) != 1 or not all(is_request_word(content, w) for w in rest):
        return None
    return found.pop()


def is_request_word(content: Content, word: str) -> bool:
    """A word around what is asked for ("اريد", "please", "show me"), not a question of its own."""
    announce: set[str] | None = content.__dict__.get("_announce")
    if announce is None:
        lists = (content.feedback.get("announce") or {}).values()
        announce = content.__dict__["_announce"] = {t for ws in lists for w in ws or [] for t in tokens(str(w))}
    return word in content.language_talk or word in announce or word in content.greetings


def ask_for_language(ctx: Conversation, lang: str | None) -> None:
    """A language asked for by name: switched at once; Kurdish without the dialect (or none) asks which."""
    if lang is None or lang == "kurdish":
        return language_menu(ctx)
    set_language(ctx, lang)


@action("set_language")
def set_language(ctx: Conversation, lang: str) -> None:
    first, media = ctx.state.data.get("first"), list(ctx.state.data.get("media") or [])
    ctx.state.language = lang
    ctx.set_language(lang)
    ctx.note("language", lang)
    if not first:
        return main_menu(ctx, intro=ctx.t("Language changed to English."))
    ctx.say(welcome_text(ctx))
    if media:
        return run(ctx, ["media_received", media])
    main_menu(ctx)


@action("help")
def show_help(ctx: Conversation) -> None:
    t = ctx.t
    lines = [t("Send a number to choose from a menu, or write your question in your own words. "
               "0 = main menu. STOP = no more messages. START = messages again.")]
    lines.extend(emergency_lines(ctx))
    contacts = referral_lines(ctx, "general")
    if contacts:
        lines.append(t("To talk to a person:"))
        lines.extend(contacts)
    ctx.go(BROWSING)
    ctx.say("\n".join(lines), [("0", t("Main menu"), ["menu"]),
                               (MENU_LANGUAGE, language_label(), ["language_menu"])])


def referral_lines(ctx: Conversation, use: str) -> list[str]:
    """Configured referral contacts for a purpose: only those someone verified (referrals.shown)."""
    lines = []
    for contact in ctx.content.referrals:
        if use not in (contact.get("use") or []) or not referrals.shown(contact):
            continue
        if not referrals.serves(contact, ctx.state.area, ctx.content.areas):
            continue
        phone = str(contact.get("phone") or "")
        name = ctx.pick(contact.get("name") or {})
        hours = ctx.pick(contact.get("hours") or {}) if contact.get("hours") else ""
        lines.append(" ".join(part for part in (f"• {name}", phone, f"({hours})" if hours else "") if part))
    return lines


def emergency_line(ctx: Conversation) -> str:
    """The verified emergency numbers in one line (referrals.yaml `inline`); empty when none is verified."""
    if not referrals.emergency_numbers(ctx.content.emergency):
        return ""
    return ctx.pick(ctx.content.emergency.get("inline") or {})


def emergency_lines(ctx: Conversation) -> list[str]:
    """The verified emergency numbers under their heading; nothing when none is verified."""
    emergency = ctx.content.emergency
    numbers = referrals.emergency_numbers(emergency)
    if not numbers:
        return []
    return [ctx.pick(emergency.get("heading") or {})] + [
        f"• {ctx.pick(n.get('name') or {})}: {n.get('phone')}" for n in numbers]


def yes_or_no(ctx: Conversation, text: str, command: str | None) -> str | None:
    """"yes", "no" or None for a reply to a yes/no question: the word alone, or leading a few more
    ("نعم ارجوكم", "بەڵێ تکایە", "لا ما اريد"); a contradiction ("نعم لا") is no answer."""
    if command in ("yes", "no"):
        return command
    words = tokens(text)
    commands = ctx.content.commands
    found = next((commands.get(" ".join(words[:n])) for n in (2, 1)
                  if commands.get(" ".join(words[:n])) in ("yes", "no")), None)
    if found is None:
        return None
    other = "no" if found == "yes" else "yes"
    return None if any(commands.get(word) == other for word in words[1:]) else found


def stop(ctx: Conversation) -> None:
    """STOP wins at once, in any state: no announcements, no messages until START."""
    ctx.state.opted_out = True
    ctx.state.subscribed = False
    ctx.go(BROWSING)
    ctx.note("opt_out")
    ctx.say(ctx.t("You will get no more messages from us. Send START at any time to use the service again."))


def maybe_stop(ctx: Conversation, phrase: str) -> None:
    """A word that may mean "stop everything" or only "cancel this" ("بس", "الغاء", "cancel", "betal").

    On SMS a word the carrier itself treats as opting out stops at once (the carrier has already stopped
    our messages: our record must say so too). Inside a step the step's own cancel comes first. Anywhere
    else the person is asked once, so nobody loses the whole service by typing "enough"."""
    if ctx.profile.carrier_opt_out and phrase in ctx.content.carrier_opt_out:
        return stop(ctx)
    if ctx.state.state not in (BROWSING, CHOOSING_LANGUAGE, STOP_CONFIRM):
        return run(ctx, (ctx.state.data.get("options") or {}).get("0", [None, ["menu"]])[1])
    t = ctx.t
    ctx.go(STOP_CONFIRM)
    ctx.say(t("Stop all messages from us? You would get no answers and no announcements until you send START."),
            [("1", t("Yes, stop all messages"), ["stop_confirmed"]), ("2", t("No, keep them"), ["menu"])])


@action("stop_confirmed")
def stop_confirmed(ctx: Conversation) -> None:
    stop(ctx)


def on_stop_confirm_text(ctx: Conversation, text: str, command: str | None) -> None:
    """Yes stops; anything else keeps the service and shows the menu."""
    if yes_or_no(ctx, text, command) == "yes":
        return stop(ctx)
    main_menu(ctx)


def start(ctx: Conversation) -> None:
    ctx.state.opted_out = False
    ctx.note("opt_in")
    main_menu(ctx, intro=ctx.t("Welcome back."))


def still_stopped(ctx: Conversation) -> None:
    ctx.say(ctx.t("You asked us to stop messages. Send START to use the service again."))
