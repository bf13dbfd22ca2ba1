"""What every list page shares: a safe page/sort/search from the query string, a page of rows
through `db.paginate()` (never a silent cut), and a streamed CSV export.

A list declares its sort keys once (`Sorts`): only those keys reach `ORDER BY`, each ends on
the primary key so that pages never overlap, and the template macros in
`templates/_listing.html` draw the sortable headers (with `aria-sort`) and the pager."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace

from flask import Response, abort, request, stream_with_context
from sqlalchemy import Select

from webapp.extensions import db

PER_PAGE = 50
MAX_PAGE = 1_000_000
MAX_QUERY = 100
# A cell a spreadsheet would run as a formula: `=`, `+`, `-`, `@` (and tab/CR, which some
# spreadsheets strip before looking).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Sorts:
    """The columns a list may be sorted by: {key: (label, column expressions)}; the first
    key, ascending unless `default_desc`, is the default; `tie` keeps the order total."""

    columns: dict[str, tuple]
    tie: object
    default: str = ""
    default_desc: bool = False

    def order_by(self, key: str, descending: bool) -> list:
        """ORDER BY clauses for a whitelisted key."""
        _label, exprs = self.columns[key]
        clauses = [e.desc() if descending else e.asc() for e in exprs]
        clauses.append(self.tie.desc() if descending else self.tie.asc())
        return clauses


@dataclass(frozen=True)
class Listing:
    """Page, sort and search of one request, parsed so that anything odd falls back to the
    default instead of failing."""

    page: int = 1
    sort: str = ""
    descending: bool = False
    q: str = ""
    extra: tuple = ()  # other query parameters a link must keep (filters)

    @classmethod
    def from_request(cls, sorts: Sorts, **extra: str) -> Listing:
        """Read ?page=&sort=&dir=&q= safely: unknown sort keys and malformed pages fall back."""
        args = request.args
        raw_page = args.get("page", "1")
        page = int(raw_page) if raw_page.isdigit() and len(raw_page) <= 7 else 1
        sort = args.get("sort", "")
        default = sorts.default or next(iter(sorts.columns))
        if sort not in sorts.columns:
            sort = default
            descending = sorts.default_desc
        else:
            descending = args.get("dir") == "desc"
        q = args.get("q", "").strip()[:MAX_QUERY]
        kept = tuple((k, v) for k, v in extra.items() if v)
        return cls(min(max(page, 1), MAX_PAGE), sort, descending, q, kept)

    def args(self, **changes) -> dict:
        """Query parameters for a link to this list with some of them changed."""
        values = {
            **dict(self.extra),
            "q": self.q,
            "sort": self.sort,
            "dir": "desc" if self.descending else "",
            "page": self.page,
            **changes,
        }
        return {k: v for k, v in values.items() if v and not (k == "page" and v == 1)}

    def sorted_by(self, key: str) -> dict:
        """Link arguments to sort by `key`: the other direction when already sorted by it."""
        descending = not self.descending if key == self.sort else False
        return self.args(sort=key, dir="desc" if descending else "", page=1)

    def aria_sort(self, key: str) -> str:
        if key != self.sort:
            return "none"
        return "descending" if self.descending else "ascending"

    def with_page(self, page: int) -> Listing:
        return replace(self, page=page)


def paginate(stmt: Select, listing: Listing, sorts: Sorts, per_page: int = PER_PAGE):
    """One page of `stmt` in the chosen order (a count and a page query, whatever the total);
    a page past the last is 404, as a bookmark to a list that shrank should say."""
    ordered = stmt.order_by(None).order_by(*sorts.order_by(listing.sort, listing.descending))
    return db.paginate(
        ordered, page=listing.page, per_page=per_page, max_per_page=per_page, error_out=True
    )


class ListPage:
    """A page of rows already filtered in Python (a list whose filter is not SQL), with the
    same attributes as `db.paginate()`'s result, so the same pager draws it."""

    def __init__(self, rows: list, page: int, per_page: int = PER_PAGE):
        self.total = len(rows)
        self.per_page = per_page
        self.pages = max(1, -(-self.total // per_page))
        if page > self.pages and page > 1:
            abort(404)
        self.page = page
        self.items = rows[(page - 1) * per_page : page * per_page]

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int | None:
        return self.page - 1 if self.has_prev else None

    @property
    def next_num(self) -> int | None:
        return self.page + 1 if self.has_next else None

    @property
    def first(self) -> int:
        return 0 if self.total == 0 else (self.page - 1) * self.per_page + 1

    @property
    def last(self) -> int:
        return min(self.total, self.page * self.per_page)


def safe_cell(value) -> str:
    """A CSV cell a spreadsheet shows as text: a leading formula character gets a `'`."""
    if value is None:
        return ""
    text = str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def csv_rows(header: list[str], rows: Iterable, cells: Callable[[object], list]) -> Iterator[str]:
    """The CSV text, one line at a time (quoted as needed, formulas neutralised)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(values) -> str:
        writer.writerow([safe_cell(v) for v in values])
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield "\ufeff" + line(header)  # the BOM makes spreadsheets read UTF-8
    for row in rows:
        yield line(cells(row))


def chunks(stmt: Select, size: int = 500) -> Iterator[list]:
    """Every entity of `stmt`, fetched `size` at a time (a streamed export's rows)."""
    result = db.session.scalars(stmt.execution_options(yield_per=size))
    for partition in result.partitions(size):
        yield list(partition)


def csv_response(
    filename: str, header: list[str], rows: Iterable, cells: Callable[[object], list]
) -> Response:
    """Stream rows as CSV (pass `chunks(...)`, flattened, or any iterable): never all in
    memory, and the first bytes leave before the last row is read."""
    return Response(
        stream_with_context(csv_rows(header, rows, cells)),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


def stream(stmt: Select, size: int = 500) -> Iterator:
    """Every entity of `stmt`, one at a time, fetched in chunks."""
    for chunk in chunks(stmt, size):
        yield from chunk


def wants_csv() -> bool:
    return request.args.get("format") == "csv"
