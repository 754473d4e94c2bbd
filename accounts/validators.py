"""Text people type (names, identifiers, answers, feedback): nothing a database or a receiver cannot take."""

from __future__ import annotations

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

# Line breaks and tabs belong in answers and feedback, not in names or identifiers.
_MULTILINE_ALLOWED = frozenset("\t\n\r")


@deconstructible
class TextCharactersValidator:
    """Refuses control characters (NUL, escape codes, …) and lone surrogates, with the one found.

    NUL cannot be stored in PostgreSQL, a lone surrogate in any database; the other controls
    are invisible on the page and break the receivers' logs and CSV exports.
    """

    def __init__(self, *, multiline: bool = False) -> None:
        self.multiline = multiline

    def __call__(self, value: str) -> None:
        allowed = _MULTILINE_ALLOWED if self.multiline else frozenset()
        for position, char in enumerate(str(value), start=1):
            if char not in allowed and unicodedata.category(char) in {"Cc", "Cs"}:
                raise ValidationError(
                    "Remove the invisible control character %(code)s (character %(position)s): "
                    "it cannot be stored or sent in a notification.",
                    code="control_character",
                    params={"code": f"U+{ord(char):04X}", "position": position},
                )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TextCharactersValidator) and other.multiline == self.multiline

    def __hash__(self) -> int:
        return hash(self.multiline)


validate_single_line = TextCharactersValidator()
validate_multiline = TextCharactersValidator(multiline=True)
