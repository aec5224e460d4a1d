"""Announcements: opting in (topics, optional area, consent), seeing and changing what one gets, opting out.

A person is subscribed only after saying yes to a screen that tells what is kept
and why. Until then the choices ride in the stored options, not in the contact.
STOP wins over all of this: the router lets an opted-out person do nothing but
START, and every step that would subscribe checks opted_out again.
The broadcast engine reads ContactState.subscribed, .topics (empty = all) and .area.
"""
from . import areas
from .conversation import (
    BROWSING,
    SUBSCRIBE_AREA,
    SUBSCRIBE_CONFIRM,
    SUBSCRIBE_TOPICS,
    Conversation,
    ScreenOption,
    TextHandler,
    action,
)
from .i18n import RTL
from .menu import main_menu, still_stopped, yes_or_no
from .sms import fits_sms

ALL = "all"        # the topic choice "all announcements" (stored as an empty topics list)
NEW = "new"        # subscribing: each step leads to the consent screen
CHANGE = "change"  # already subscribed: each step saves at once and shows what they get


def _topic_ids(ctx: Conversation) -> set[str]:
    return {topic.id for topic in ctx.content.topics}


def _topics_text(ctx: Conversation, topic: str) -> str:
    found = ctx.content.topic(topic) if topic != ALL else None
    return ctx.pick(found.title) if found else ctx.t("all topics")


def _current_topic(ctx: Conversation) -> str:
    known = [t for t in ctx.state.topics if t in _topic_ids(ctx)]
    return known[0] if len(known) == 1 else ALL


@action("announcements")
def announcements(ctx: Conversation, intro: str = "") -> None:
    """Menu 6 and the word "announcements": subscribe, or see and change what one gets."""
    if ctx.state.opted_out:
        return still_stopped(ctx)
    if not ctx.state.subscribed:
        return subscribe(ctx)
    t = ctx.t
    known = [topic for topic in ctx.state.topics if topic in _topic_ids(ctx)]
    comma = "، " if ctx.lang in RTL else ", "
    topics = comma.join(_topics_text(ctx, topic) for topic in known) if known else _topics_text(ctx, ALL)
    lines = [intro, t("You receive announcements on: {topics}.", topics=topics)]
    if (where := areas.area_name(ctx, ctx.state.area)):
        lines.append(t("Area: {area}.", area=where))
    ctx.go(BROWSING)
    ctx.say("\n".join(line for line in lines if line), [
        ("1", t("Change topics"), ["sub_topics", CHANGE]),
        ("2", t("Change area"), ["sub_areas", CHANGE, _current_topic(ctx)]),
        ("3", t("Stop announcements"), ["unsubscribe"]),
        ("0", t("Main menu"), ["menu"]),
    ], back=["menu"])


@action("subscribe")
def subscribe(ctx: Conversation) -> None:
    """The first step of opting in (also what the "Subscribe" option of older screens leads to)."""
    if ctx.state.subscribed:
        return announcements(ctx)
    ask_topics(ctx, NEW)


@action("sub_topics")
def ask_topics(ctx: Conversation, mode: str) -> None:
    t = ctx.t
    text = (t("Short announcements in your language: health alerts, distributions, storm warnings. Which ones?")
            if mode == NEW else t("Which announcements do you want?"))
    options = [("1", t("All announcements"), ["sub_topic", mode, ALL])]
    options += [(str(n), ctx.pick(topic.title), ["sub_topic", mode, topic.id])
                for n, topic in enumerate(ctx.content.topics, 2)]
    back = ["menu"] if mode == NEW else ["announcements"]
    options.append(("0", t("Main menu") if mode == NEW else t("Cancel"), back))
    ctx.go(SUBSCRIBE_TOPICS, mode=mode)
    ctx.say(text, options, back=back)


@action("sub_topic")
def choose_topic(ctx: Conversation, mode: str, topic: str) -> None:
    if topic != ALL and topic not in _topic_ids(ctx):   # content changed under the person's feet
        return ask_topics(ctx, mode)
    if mode == CHANGE:
        if not _may_change(ctx):
            return announcements(ctx)
        ctx.state.topics = [] if topic == ALL else [topic]
        ctx.note("subscription_topics", topic)
        return announcements(ctx, intro=ctx.t("Saved."))
    ask_area(ctx, NEW, topic)


@action("sub_areas")
def ask_area(ctx: Conversation, mode: str, topic: str) -> None:
    """Optional: the governorate first (the same list as for feedback)."""
    t = ctx.t
    ctx.go(SUBSCRIBE_AREA, mode=mode, topic=topic)
    ctx.say(t("Optional: where are you? Then you also get the announcements for your area."),
            areas.governorate_options(ctx, ["sub_area_group", mode, topic]) + [_skip(ctx, mode, topic)],
            back=["sub_topics", mode] if mode == NEW else ["announcements"])


def _skip(ctx: Conversation, mode: str, topic: str) -> ScreenOption:
    if mode == NEW:
        return ("0", ctx.t("Skip"), ["sub_consent", topic, ""])
    return ("0", ctx.t("Cancel"), ["announcements"])


@action("sub_area_group")
def area_group(ctx: Conversation, mode: str, topic: str, group_id: str, first: int = 0) -> None:
    group = areas.find_group(ctx, group_id)
    if group is None:
        return ask_area(ctx, mode, topic)
    text = ctx.t("Choose a number:")
    pick = ["sub_consent", topic] if mode == NEW else ["sub_area", CHANGE]
    options = areas.area_options(ctx, group, text, ["sub_area_group", mode, topic], pick,
                                 _skip(ctx, mode, topic), first)
    ctx.go(SUBSCRIBE_AREA, mode=mode, topic=topic)
    ctx.say(text, options, back=["sub_areas", mode, topic], unshown=areas.earlier_places(ctx, group, pick, first))


@action("sub_area")
def change_area(ctx: Conversation, mode: str, area_id: str) -> None:
    """Already subscribed: a new area is saved at once."""
    if _may_change(ctx) and areas.is_area(ctx, area_id):
        ctx.state.area = area_id
        ctx.note("subscription_area", area_id)
        return announcements(ctx, intro=ctx.t("Saved."))
    announcements(ctx)


@action("sub_consent")
def ask_consent(ctx: Conversation, topic: str, area_id: str = "") -> None:
    """Say what is kept and why, and subscribe only on a yes."""
    if ctx.state.opted_out:
        return still_stopped(ctx)
    t = ctx.t
    area_id = area_id if areas.is_area(ctx, area_id) else (ctx.state.area or "")
    chosen, where = _topics_text(ctx, topic), areas.area_name(ctx, area_id)
    lines = [t("You chose: {topics}, {area}.", topics=chosen, area=where) if where
             else t("You chose: {topics}.", topics=chosen),
             t("Only to send you announcements, we keep: your number (encrypted), language, area, topics. "
               "Send STOP at any time to stop them.")]
    options = [("1", t("Yes, subscribe"), ["sub_yes", topic, area_id]), ("2", t("No"), ["menu"])]
    if ctx.profile.compact and not fits_sms(lines, options):
        lines = lines[1:]   # what is kept and why must be read; the reminder of the choice may go
    ctx.go(SUBSCRIBE_CONFIRM, topic=topic, area=area_id)
    ctx.say("\n".join(lines), options, back=["sub_areas", NEW, topic])


@action("sub_yes")
def consent_given(ctx: Conversation, topic: str, area_id: str = "") -> None:
    if ctx.state.opted_out:   # STOP always wins; only START undoes it
        return still_stopped(ctx)
    ctx.state.subscribed = True
    ctx.state.topics = [topic] if topic in _topic_ids(ctx) else []
    if areas.is_area(ctx, area_id):
        ctx.state.area = area_id
    ctx.note("subscribed", topic)
    _done(ctx, ctx.t("Done: you will receive announcements. Send STOP to stop them."))


def on_consent_text(ctx: Conversation, text: str, command: str | None) -> None:
    """Words at the consent screen: only a clear yes subscribes ("نعم اريد" is one)."""
    if yes_or_no(ctx, text, command) == "yes":
        return consent_given(ctx, ctx.state.data.get("topic", ALL), ctx.state.data.get("area", ""))
    main_menu(ctx)


@action("unsubscribe")
def unsubscribe(ctx: Conversation) -> None:
    """No more announcements; the person stays a contact and can use everything else."""
    ctx.state.subscribed = False
    ctx.state.topics = []
    ctx.note("unsubscribed")
    _done(ctx, ctx.t("Done: no more announcements."))


def _done(ctx: Conversation, text: str) -> None:
    """A short last word with the way back: the main menu under it would not fit one SMS."""
    ctx.go(BROWSING)
    ctx.say(text, [("0", ctx.t("Main menu"), ["menu"])], back=["menu"])


def _may_change(ctx: Conversation) -> bool:
    return ctx.state.subscribed and not ctx.state.opted_out


TEXT_STATES: dict[str, TextHandler] = {SUBSCRIBE_CONFIRM: on_consent_text}
