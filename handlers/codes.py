"""Reference codes for feedback cases: digits only, so any keypad and any digit system can type them.

Six random digits and a Damm check digit: a mistyped digit or two swapped
neighbours never lands on somebody else's case; they read as "not a code".
"""
import re
import secrets

from .text import to_ascii_digits

_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2), (7, 0, 9, 2, 1, 5, 4, 8, 6, 3), (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6), (6, 1, 2, 3, 0, 4, 5, 9, 7, 8), (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4), (8, 9, 4, 5, 3, 6, 2, 0, 1, 7), (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)
LENGTH = 7
_CODE_IN_TEXT = re.compile(r"(?<!\d)(\d[\d\s\-]{5,10}\d)(?!\d)")


def _check_digit(digits: str) -> int:
    interim = 0
    for ch in digits:
        interim = _DAMM[interim][int(ch)]
    return interim


def new_code() -> str:
    body = "".join(secrets.choice("0123456789") for _ in range(LENGTH - 1))
    return body + str(_check_digit(body))


def is_valid(code: str) -> bool:
    return len(code) == LENGTH and code.isdigit() and _check_digit(code) == 0


def find_code(text: str) -> str | None:
    """A valid code anywhere in a short message ("status ٤٨٢-٩١٧٣"), written with any digits."""
    ascii_text = to_ascii_digits(text or "")
    if len(ascii_text) > 80:
        return None
    for match in _CODE_IN_TEXT.finditer(ascii_text):
        digits = re.sub(r"\D", "", match.group(1))
        if is_valid(digits):
            return digits
    return None


def display(code: str) -> str:
    """Grouped for reading aloud and typing: 482 9173."""
    return f"{code[:3]} {code[3:]}"
