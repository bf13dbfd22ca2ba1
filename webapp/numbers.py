"""One parser for every integer a request carries: ids in paths, ?page=, form fields.

Only ASCII digits count ("²" and "٣" are digits to str.isdigit() but not numbers here), and
every value is range-checked before it reaches the database: PostgreSQL refuses an integer
out of its column's range, which would otherwise be a 500."""

from __future__ import annotations

import re

from werkzeug.routing import IntegerConverter, ValidationError

MAX_ID = 2**31 - 1  # PostgreSQL integer, the type of every id column
MAX_PAGE = 100_000
DIGITS = re.compile(r"[0-9]{1,12}")


def parse_int(raw: object, low: int = 0, high: int = MAX_ID) -> int | None:
    """The integer in `raw` if it is plain ASCII digits within [low, high], else None."""
    if raw is None:
        return None
    text = str(raw).strip()
    if not DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if low <= value <= high else None


def parse_id(raw: object) -> int | None:
    """A row id (1 .. 2**31-1) or None."""
    return parse_int(raw, 1, MAX_ID)


def page_number(source, name: str = "page") -> int:
    """?page= as 1 .. MAX_PAGE; anything else is the first page."""
    return parse_int(source.get(name), 1, MAX_PAGE) or 1


class IdConverter(IntegerConverter):
    """<int:...> in every route: ASCII digits only, at most 2**31-1, else the URL does not
    match (404)."""

    regex = r"[0-9]{1,12}"

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):
        super().__init__(map, fixed_digits, min, MAX_ID if max is None else max, signed)

    def to_python(self, value: str):
        if len(value) > 10:
            raise ValidationError()
        return super().to_python(value)
