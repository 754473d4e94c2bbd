"""Whole numbers read from query strings, forms and cursors: one reading for every one of them.

ASCII digits only, within bounds: `int()` also reads "٣" (an Arabic-Indic three), " 3 ", "+3" and
"3_000", `str.isdigit()` also passes "²", which `int()` then refuses (a 500), and a number longer
than a database column is an overflow on PostgreSQL.
"""

from __future__ import annotations

# Ids and offsets fit a 64-bit column (SQLite's and PostgreSQL's bigint) with 18 digits.
MAX_ID = 10**18 - 1


def whole_number(value: object, *, minimum: int = 0, maximum: int = MAX_ID) -> int | None:
    """`value` as a whole number when it is written in the digits 0-9 and within bounds; None otherwise."""
    if isinstance(value, bool) or value is None:
        return None
    text = str(value)
    if not text or len(text) > len(str(maximum)) or not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if minimum <= number <= maximum else None
