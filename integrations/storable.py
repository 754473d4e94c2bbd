"""Text from outside (a receiver's answer, an exception's message) made safe to store and show."""

from __future__ import annotations

import re

# C0 and C1 controls (but tab, newline and carriage return) and DEL: PostgreSQL refuses NUL in text,
# and the others garble the delivery log. Shown as escapes, so the admin sees what was sent.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Lone surrogates cannot be encoded as UTF-8: both databases refuse them.
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def storable_text(value: str | bytes, *, limit: int) -> str:
    """At most `limit` characters of `value`, with every character a database refuses replaced.

    Bytes are read as UTF-8, invalid sequences replaced.
    """
    text = value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)
    if len(text) <= limit and text.isascii() and text.isprintable():
        return text  # most headers and errors: nothing to replace, and no pattern to run
    # Cut before escaping (an escape is four characters), and again after, to stay within the limit.
    text = _SURROGATE.sub("\ufffd", text[:limit])
    text = _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", text)
    return text[:limit]
