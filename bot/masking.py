"""Addresses as staff see them: enough to tell people apart on the phone, not enough to misuse."""


def mask(channel: str, address: str | None) -> str:
    """+964 77• ••• •234 for phone numbers; ••••1357 for Telegram chat ids."""
    if not address:
        return "—"
    if channel in ("sms", "whatsapp") and address.startswith("+"):
        digits = address[1:]
        country = "964" if digits.startswith("964") else digits[:3]
        rest = digits[len(country):]
        if len(rest) < 6:
            return f"+{country} " + "•" * len(rest)
        visible_start, visible_end = rest[:2], rest[-3:]
        hidden = "•" * (len(rest) - 5)
        middle = visible_start + hidden + visible_end
        return f"+{country} {middle[:3]} {middle[3:6]} {middle[6:]}".strip()
    if channel == "telegram":
        return "tg ••••" + address[-4:]
    return "••••" + address[-4:]
