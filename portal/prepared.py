"""Querysets compiled to SQL once per process and run as prepared statements on PostgreSQL.

The questions asked on every API decision are built by the ORM, from the same querysets that define
"in force" and read a mandate's history, but compiling a queryset (and PostgreSQL planning the
result) costs far more than running it. A ``Statement`` builds its queryset once, with placeholder
values that nothing real equals, and remembers where each one lands among the SQL's parameters;
every later question only fills in its values. psycopg prepares the statement at its first run on
each connection, so PostgreSQL parses and plans it once per connection, not once per question.

``Statement.rows_for_many`` asks the same statement for many questions in one go: their values as
arrays, unnested and joined ``LATERAL`` to the statement, each row tagged with its question's
number. On other databases (SQLite in development) both simply run the queryset.
"""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Callable, Hashable
from typing import Any

from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connection, connections
from django.db.models import QuerySet

#: The kinds of value a statement is filled with, and their SQL array types for ``rows_for_many``.
TEXT, NUMBER, MOMENT = "text", "number", "moment"
ARRAY_TYPES = {TEXT: "text[]", NUMBER: "bigint[]", MOMENT: "timestamptz[]"}

_BASE_MOMENT = datetime.datetime(1901, 2, 3, 4, 5, 6, 789012, tzinfo=datetime.UTC)
# A parameter marker in the SQL Django compiles (``%%`` is a literal percent sign).
_MARKER = re.compile(r"%s|%%")


def _placeholder(kind: str, n: int):
    if kind == TEXT:
        return f"\x1fslot-{n}"
    if kind == NUMBER:
        return -907_000_100 - n
    if kind == MOMENT:
        return _BASE_MOMENT + datetime.timedelta(microseconds=n)
    raise ValueError(f"unknown kind of value {kind!r}")


def _same(a, b) -> bool:
    return type(a) is type(b) and isinstance(a, Hashable) and a == b


class Statement:
    """``build(**values)`` (a ``values_list`` queryset) compiled once; ``kinds`` names its values.

    Its rows are the driver's values, not passed through Django's field converters: fine for keys,
    text, numbers, flags and times, not for a field that needs converting (JSON, say).

    Every other parameter of the SQL (a status, ``True``, the ``1`` of an ``EXISTS``) is a constant of
    the statement. If the ORM dropped or rewrote one of the values, this fails at once rather than
    ask the wrong question later.
    """

    def __init__(self, build: Callable[..., QuerySet], **kinds: str):
        if not all(name.isidentifier() for name in kinds):  # they become SQL column names
            raise ValueError(f"value names must be identifiers: {sorted(kinds)}")
        self.build = build
        self.kinds = kinds
        self._for_many: dict[tuple[str, ...], tuple[str, list]] = {}
        # Only PostgreSQL runs the compiled SQL (other backends turn some values into text while
        # compiling, and simply run the queryset).
        if connection.vendor == "postgresql":
            self._compile()

    def _compile(self) -> None:
        placeholders = {name: _placeholder(kind, n) for n, (name, kind) in enumerate(self.kinds.items())}
        self.sql, params = self.build(**placeholders).query.sql_with_params()
        self.slots: list[str | None] = [
            next((name for name, value in placeholders.items() if _same(param, value)), None)
            for param in params
        ]
        self.constants = list(params)
        missing = set(self.kinds) - set(self.slots)
        if missing:
            raise RuntimeError(f"the statement lost its parameters {sorted(missing)}")

    def params(self, values: dict[str, Any]) -> list:
        return [
            values[slot] if slot is not None else constant
            for slot, constant in zip(self.slots, self.constants, strict=True)
        ]

    def rows(self, **values) -> list[tuple]:
        """The statement's rows for these values."""
        if connection.vendor != "postgresql":
            return [tuple(row) for row in self.build(**values)]
        return _read(self.sql, self.params(values))

    def rows_for_many(self, per_question: dict[str, list], **shared) -> list[tuple]:
        """The rows for many questions at once, each as ``(question's index, *row)``.

        ``per_question`` gives each value that differs between the questions as a list (one entry per
        question, all lists of the same length); ``shared`` the values they have in common.
        """
        count = len(next(iter(per_question.values()))) if per_question else 0
        if count == 0:
            return []
        if connection.vendor != "postgresql":
            rows = []
            for index in range(count):
                values = {name: column[index] for name, column in per_question.items()}
                rows.extend((index, *row) for row in self.build(**values, **shared))
            return rows
        names = tuple(per_question)
        sql, shared_slots = self._many_sql(names)
        params = [per_question[name] for name in names]
        params += [shared[slot] if slot is not None else constant for slot, constant in shared_slots]
        return [(row[0] - 1, *row[1:]) for row in _read(sql, params)]

    def _many_sql(self, names: tuple[str, ...]) -> tuple[str, list]:
        found = self._for_many.get(names)
        if found is not None:
            return found
        markers = iter(zip(self.slots, self.constants, strict=True))
        shared_slots = []

        def replace(match: re.Match) -> str:
            if match.group() == "%%":
                return "%%"
            slot, constant = next(markers)
            if slot in names:
                return f'q."{slot}"'
            shared_slots.append((slot, constant))
            return "%s"

        inner = _MARKER.sub(replace, self.sql)
        arrays = ", ".join(f"%s::{ARRAY_TYPES[self.kinds[name]]}" for name in names)
        columns = ", ".join(f'"{name}"' for name in names)
        # Only identifiers from the code and the ORM's own SQL go into the text; values are parameters.
        sql = (
            f'SELECT q."question #", x.* FROM unnest({arrays}) WITH ORDINALITY AS q({columns}, "question #") '  # noqa: S608
            f"CROSS JOIN LATERAL ({inner}) AS x"
        )
        self._for_many[names] = (sql, shared_slots)
        return sql, shared_slots


def _read(sql: str, params: list) -> list[tuple]:
    """The rows of a statement that only reads, which is its connection's health check if one is due.

    With ``CONN_HEALTH_CHECKS`` Django sends ``SELECT 1`` before a request's first query, so a
    connection the database dropped in the meantime (a restart, a failover) is replaced rather than
    failing the request. A decision's first query is this read, and a read can simply be asked
    again: it stands in for the check, so a decision costs no extra round trip. If it fails and the
    connection turns out to be unusable, it is asked once more on a new connection; an error of
    the statement itself (the connection still answers) is raised as it is.
    """
    db = connections[DEFAULT_DB_ALIAS]
    check_due = (
        db.connection is not None
        and db.health_check_enabled
        and not db.health_check_done
        and not db.in_atomic_block
    )
    if check_due:
        db.health_check_done = True
    try:
        with prepared_cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    except (OperationalError, InterfaceError):
        if not check_due or db.is_usable():
            raise
    db.close()
    with prepared_cursor() as cursor:  # connecting anew counts as the health check
        cursor.execute(sql, params)
        return cursor.fetchall()


@functools.cache
def _always_prepared_cursor_class():
    from django.db.backends.postgresql.base import ServerBindingCursor

    class AlwaysPrepared(ServerBindingCursor):
        """Binds parameters on the server and prepares at the first run, not the fifth; rows come
        back in binary, which psycopg reads without parsing text (times above all)."""

        def execute(self, query, params=None, *, prepare=None, binary=None):
            return super().execute(query, params, prepare=True, binary=True)

    return AlwaysPrepared


def prepared_cursor():
    """A cursor on Django's own connection (health check, error translation, query logging and
    execute wrappers as for any query) whose statements psycopg prepares once per connection."""
    db = connections[DEFAULT_DB_ALIAS]  # once: each use of the ``connection`` proxy looks it up again
    db.close_if_health_check_failed()
    db.ensure_connection()
    with db.wrap_database_errors:
        return db._prepare_cursor(_always_prepared_cursor_class()(db.connection))
