"""The API's request bodies: JSON read strictly, bounded in size and in depth, before anything parses it."""

from __future__ import annotations

import json
import re
from typing import IO, Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from ...conf import conf

# Deeper than any body the API takes (a webhook's custom headers are three levels): Python's JSON reader
# recurses once per level, and about two thousand `[` were a RecursionError (a 500).
JSON_DEPTH_MAX = 16
# A body's structure: brackets, and what starts, ends or escapes inside strings.
_STRUCTURE = re.compile(r'["\\\[\]{}]')


def json_depth_exceeds(text: str, limit: int) -> bool:
    """True when arrays and objects nest deeper than `limit` (brackets inside strings do not count).

    One pass over the structural characters, no recursion: safe on whatever a client sends.
    """
    depth = 0
    in_string = False
    escaped_at = -1  # the position a backslash escapes
    for match in _STRUCTURE.finditer(text):
        char, at = match.group(), match.start()
        if in_string:
            if at == escaped_at:
                continue
            if char == "\\":
                escaped_at = at + 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


class BoundedJSONParser(JSONParser):
    """JSON bodies of at most API_BODY_MAX_BYTES, nested at most JSON_DEPTH_MAX deep: a 400 otherwise."""

    def parse(self, stream: IO[Any], media_type: str | None = None, parser_context: Any = None) -> Any:
        limit = conf.API_BODY_MAX_BYTES
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise ParseError(f"The body is larger than {limit} bytes.")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ParseError("The body is not UTF-8 text.") from None
        if json_depth_exceeds(text, JSON_DEPTH_MAX):
            raise ParseError(f"The JSON is nested more than {JSON_DEPTH_MAX} levels deep.")
        try:
            return json.loads(text, parse_constant=_no_constant)
        except ValueError as error:
            raise ParseError(f"JSON parse error - {error}") from None


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")
