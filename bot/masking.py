"""Addresses as staff see them: enough to tell people apart on the phone, not enough to misuse."""


def mask(channel: str, address: str | None) -> str:
    """As the channel's adapter masks it: +964 77• ••• •234 for phone numbers; tg ••••1357 for Telegram."""
    from .channels import mask as channel_mask
    return channel_mask(channel, address)
