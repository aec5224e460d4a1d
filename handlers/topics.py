"""The four topics: lists of items, an item's answer (paged on SMS), shelter steps one at a time, and search."""
from typing import Any

from .content import FALLBACK, Content, Item, Texts
from .conversation import BROWSING, CaseKind, Conversation, ScreenOption, action
from .i18n import NATIVE_NAMES
from .menu import MENU_FEEDBACK
from .recordings import Voice, playable
from .search import best
from .sms import split_pages
from .text import _stems, rejoin_split, tokens

# Room left on an SMS page for the option lines under it (three UCS-2 segments in all).
SMS_PAGE_ROOM = 201 - 55
LISTEN_KEY = "8"      # "🔊 listen" on an item or step with a recording (1, 2, 9 and 0 are taken there)
OptionRow = tuple[str, str, list[Any]]     # (key, label, stored action), as Conversation.say takes them


def _menu_option(ctx: Conversation) -> ScreenOption:
    return ("0", ctx.t("Main menu"), ["menu"])


@action("topic")
def topic_menu(ctx: Conversation, topic_id: str) -> None:
    topic = ctx.content.topic(topic_id)
    if topic is None:  # content was edited under the person's feet
        from .menu import main_menu
        return main_menu(ctx)
    options = [(str(n), ctx.pick(item.title), ["item", item.id]) for n, item in enumerate(topic.items, 1)]
    ctx.go(BROWSING)
    ctx.note("topic", topic.id)
    ctx.say(f"{ctx.pick(topic.title)}\n{ctx.t('Choose a number:')}", options + [_menu_option(ctx)], back=["menu"])


def _body(ctx: Conversation, item: Item, texts: Texts) -> str:
    """The item's text in the person's language; with REVIEWED_ONLY, in the nearest language (kmr_latn,
    kmr, ckb, ar, en) whose translation a reviewer approved, saying so. Nothing reviewed: their own."""
    if not ctx.config.get("REVIEWED_ONLY"):
        return ctx.pick(texts)
    lang: str | None = ctx.lang
    seen = set()
    while lang and lang not in seen:
        if texts.get(lang) and ctx.content.review_state(item.id, lang) == "reviewed":
            if lang == ctx.lang:
                return texts[lang]
            note = ctx.t("This answer is in {language}: the text in your language is still being checked.",
                         language=NATIVE_NAMES.get(lang, lang))
            return f"{note}\n{texts[lang]}"
        seen.add(lang)
        lang = FALLBACK.get(lang)
    return ctx.pick(texts)


def _item_nav(ctx: Conversation, item: Item, first: ScreenOption | None) -> list[ScreenOption]:
    options = [first] if first else []
    topic = ctx.content.topic(item.topic)
    options.append(("9", ctx.t("Back to {topic}", topic=ctx.pick(topic.title if topic else {})),
                    ["topic", item.topic]))
    options.append(_menu_option(ctx))
    return options


def _voice(ctx: Conversation, item: Item, step: int | None) -> Voice | None:
    """The recording of an item (or of step 1..n) in the person's language, where their channel plays
    voice notes (not SMS); with REVIEWED_ONLY only a reviewed one, as for texts."""
    if not ctx.profile.voice:
        return None
    return playable(ctx.content.recordings, item.id, step, ctx.lang, bool(ctx.config.get("REVIEWED_ONLY")))


def _with_listen(ctx: Conversation, options: list[OptionRow], item: Item, step: int | None,
                 voice: Voice | None) -> list[OptionRow]:
    """"🔊 listen" after the first option, unless the voice note already comes with the answer (voice on)."""
    if voice is None or ctx.state.voice:
        return options
    label = ctx.t("Listen")          # outside the f-string, where pybabel extract finds it
    listen: OptionRow = (LISTEN_KEY, f"🔊 {label}", ["listen", item.id, step or 0])
    return options[:1] + [listen] + options[1:]


def _item_first(ctx: Conversation, item: Item) -> OptionRow | None:
    if item.steps:
        return ("1", ctx.t("Start step 1"), ["step", item.id, 0])
    if ctx.profile.compact:
        return ("1", ctx.t("More"), ["page", item.id, 0])
    return None


@action("item")
def show_item(ctx: Conversation, item_id: str) -> None:
    item = ctx.content.items.get(item_id)
    if item is None:
        from .menu import main_menu
        return main_menu(ctx)
    ctx.go(BROWSING)
    ctx.note("item", item.id)
    voice = _voice(ctx, item, None)
    options = _with_listen(ctx, _item_nav(ctx, item, _item_first(ctx, item)), item, None, voice)
    auto = voice.sha256 if voice and ctx.state.voice else None
    if item.steps or ctx.profile.compact:
        body = _body(ctx, item, item.sms if ctx.profile.compact else item.text)
    else:
        body = f"*{ctx.pick(item.title)}*\n{_body(ctx, item, item.text)}"
    ctx.say(body, options, back=["topic", item.topic], voice=auto)


@action("listen")
def listen(ctx: Conversation, item_id: str, step: int = 0) -> None:
    """"🔊": the voice note of the item (or step), under its title, with the screen's way on."""
    item = ctx.content.items.get(item_id)
    if item is None or (step and step > len(item.steps)):
        from .menu import main_menu
        return main_menu(ctx)
    voice = _voice(ctx, item, step or None)
    if voice is None:                 # taken away or no longer reviewed since the option was shown
        if step:
            show_step(ctx, item.id, step - 1)
        else:
            show_item(ctx, item.id)
        return
    ctx.go(BROWSING)
    ctx.note("listen", item.id, str(step))
    title = f"🔊 {ctx.pick(item.title)}"
    if step:                          # the same options as the screen, "listen" again included
        heading = ctx.t("Step {step} of {steps}", step=step, steps=len(item.steps))
        options = _with_listen(ctx, _step_options(ctx, item, step - 1), item, step, voice)
        ctx.say(f"{title}\n{heading}", options, back=["item", item.id], voice=voice.sha256)
        return
    options = _with_listen(ctx, _item_nav(ctx, item, _item_first(ctx, item)), item, None, voice)
    ctx.say(title, options, back=["topic", item.topic], voice=voice.sha256)


@action("page")
def show_page(ctx: Conversation, item_id: str, number: int) -> None:
    """SMS: the full text, one page of at most three segments at a time."""
    item = ctx.content.items.get(item_id)
    if item is None:
        from .menu import main_menu
        return main_menu(ctx)
    pages = split_pages(_body(ctx, item, item.text), SMS_PAGE_ROOM)
    number = max(0, min(number, len(pages) - 1))
    more = None
    if number + 1 < len(pages):
        more = ("1", ctx.t("More ({page}/{pages})", page=number + 2, pages=len(pages)),
                ["page", item.id, number + 1])
    ctx.go(BROWSING)
    ctx.say(pages[number], _item_nav(ctx, item, more), back=["item", item.id])


@action("step")
def show_step(ctx: Conversation, item_id: str, number: int) -> None:
    """Shelter kit assembly: one step per message, with its picture where the channel shows pictures."""
    item = ctx.content.items.get(item_id)
    if item is None or not item.steps:
        from .menu import main_menu
        return main_menu(ctx)
    number = max(0, min(number, len(item.steps) - 1))
    step = item.steps[number]
    heading = ctx.t("Step {step} of {steps}", step=number + 1, steps=len(item.steps))
    body = _body(ctx, item, step.sms if ctx.profile.compact else step.text)
    voice = _voice(ctx, item, number + 1)
    options = _with_listen(ctx, _step_options(ctx, item, number), item, number + 1, voice)
    ctx.go(BROWSING)
    ctx.say(f"{heading}\n{body}", options, image=step.image, back=["item", item.id],
            voice=voice.sha256 if voice and ctx.state.voice else None)


def _step_options(ctx: Conversation, item: Item, number: int) -> list[OptionRow]:
    options: list[OptionRow] = []
    if number + 1 < len(item.steps):
        options.append(("1", ctx.t("Next step"), ["step", item.id, number + 1]))
    if number > 0:
        options.append(("2", ctx.t("Previous step"), ["step", item.id, number - 1]))
    return options + _item_nav(ctx, item, None)


def topic_named(content: Content, text: str) -> str | None:
    """"الصحة", "ته ندروستى", "shelter": a message that is only a topic's name (or one word of it), in any
    language, gets that topic's list rather than a search."""
    names = content.topic_names
    if names is None:
        names = {}
        shared = set()
        for topic in content.topics:
            for title in topic.title.values():
                words = tokens(str(title))
                names[" ".join(words)] = topic.id
                for form in {f for w in words if len(w) >= 4 for f in _stems(w)}:
                    if names.get(form, topic.id) != topic.id:
                        shared.add(form)
                    names[form] = topic.id
        names = content.topic_names = {k: v for k, v in names.items() if k and k not in shared}
    for candidate in (text, rejoin_split(text)):
        words = tokens(candidate or "")
        forms = [" ".join(words)] + (sorted(_stems(words[0])) if len(words) == 1 else [])
        found = next((names[f] for f in forms if f in names), None) if 0 < len(words) <= 3 else None
        if found:
            return found
    return None


def answer_question(ctx: Conversation, text: str) -> None:
    """Free text: the best item, a short numbered choice, or a way forward when nothing matches."""
    if (named := topic_named(ctx.content, text)) is not None:
        return topic_menu(ctx, named)
    item_id, candidates = best(ctx.content, text, ctx.lang)
    if item_id:
        ctx.note("topic_hit", item_id)
        return show_item(ctx, item_id)
    ctx.go(BROWSING)
    if candidates:
        ctx.note("topic_choice", *candidates)
        options = [(str(n), ctx.pick(ctx.content.items[i].title), ["item", i]) for n, i in enumerate(candidates, 1)]
        ctx.say(ctx.t("Did you mean:"), options + [_menu_option(ctx)], back=["menu"])
        return
    ctx.note("unmatched")
    ctx.say(ctx.t("Sorry, I have no answer to that yet. You can send your question to our team, "
                  "or choose a topic from the menu."),
            [("1", ctx.t("Send my question to the team"), ["feedback", CaseKind.QUESTION, text]),
             (MENU_FEEDBACK, ctx.t("Feedback or complaint"), ["feedback"]),
             _menu_option(ctx)], back=["menu"])
