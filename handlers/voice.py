""""voice on" / "voice off": a person who reads little asks once, and from then on every answer that has a
recording comes with its voice note (remembered with the contact, see ContactState.voice)."""
from .conversation import Conversation
from .menu import main_menu


def voice_on(ctx: Conversation) -> None:
    if not ctx.profile.voice:
        main_menu(ctx, intro=ctx.t("Voice notes cannot be sent here: this channel carries text only."))
        return
    ctx.state.voice = True
    ctx.note("voice", "on")
    main_menu(ctx, intro=ctx.t("Voice notes on: answers that have a recording now come with it."))


def voice_off(ctx: Conversation) -> None:
    if ctx.profile.voice:
        ctx.state.voice = False
        ctx.note("voice", "off")
    main_menu(ctx, intro=ctx.t("Voice notes off: answers come as text, with 🔊 to listen where there is a "
                               "recording."))
