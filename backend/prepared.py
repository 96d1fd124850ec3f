"""SELECTs that run on (nearly) every request, straight on the DBAPI cursor.

Executing a Core statement costs SQLAlchemy about 40 µs of Python before and
after the database's own few microseconds (execution context, parameter
processing, result metadata), and an ORM load about 130 µs; the signed-in
user's row and the patient's routine are read on most requests, so those
statements are `Prepared`: compiled once per dialect, their parameters and
results converted by the very processors SQLAlchemy would use (so a value
reads exactly as through `Connection.execute`), and run on the DBAPI cursor of
the request's session connection, inside the session's transaction.

Only plain SELECTs with scalar bound parameters qualify (no expanding IN).
"""

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select
from sqlalchemy.engine import Dialect

from backend.extensions import db


class _Compiled:
    """One statement compiled for one dialect, with its value converters."""

    def __init__(self, statement: Select, dialect: Dialect):
        compiled = statement.compile(dialect=dialect)
        for name, bind in compiled.binds.items():
            if bind.expanding:
                raise ValueError(f"expanding parameter {name!r} cannot be prepared")
        if compiled.literal_execute_params or compiled.post_compile_params:
            raise ValueError("parameters rendered at execution cannot be prepared")
        self.sql = compiled.string
        self.compiled = compiled
        self.positions = compiled.positiontup if compiled.positional else None
        self.bind_processors = {}
        for name, bind in compiled.binds.items():
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                self.bind_processors[name] = process
        self.result_types = [
            column.type.dialect_impl(dialect) for column in statement.selected_columns
        ]
        self.result_processors = None  # needs the cursor's type codes: first run

    def parameters(self, values: Mapping[str, Any]):
        params = self.compiled.construct_params(values)
        for name, process in self.bind_processors.items():
            params[name] = process(params[name])
        if self.positions is None:
            return params
        return [params[name] for name in self.positions]

    def processors(self, cursor, dialect: Dialect) -> list:
        if self.result_processors is None:
            self.result_processors = [
                (index, process)
                for index, (kind, description) in enumerate(
                    zip(self.result_types, cursor.description, strict=True)
                )
                if (process := kind.result_processor(dialect, description[1]))
                is not None
            ]
        return self.result_processors


class Prepared:
    """A SELECT built once at import and run on the DBAPI cursor.

    `all(params)` gives a list of dicts keyed by the selected columns' keys
    (their labels), `first(params)` the first such dict or None.
    """

    def __init__(self, statement: Select):
        self.statement = statement
        self.keys = tuple(column.key for column in statement.selected_columns)
        self._by_dialect: dict[str, _Compiled] = {}

    def _compiled(self, dialect: Dialect) -> _Compiled:
        compiled = self._by_dialect.get(dialect.name)
        if compiled is None:  # two threads may both compile: either result serves
            compiled = self._by_dialect[dialect.name] = _Compiled(
                self.statement, dialect
            )
        return compiled

    def rows(self, values: Mapping[str, Any]) -> list[list]:
        connection = db.session.connection()
        dialect = connection.dialect
        compiled = self._compiled(dialect)
        cursor = connection.connection.cursor()
        try:
            cursor.execute(compiled.sql, compiled.parameters(values))
            rows = cursor.fetchall()
            processors = compiled.processors(cursor, dialect)
        finally:
            cursor.close()
        if not processors:
            return [list(row) for row in rows]
        converted = []
        for row in rows:
            row = list(row)
            for index, process in processors:
                row[index] = process(row[index])
            converted.append(row)
        return converted

    def all(self, values: Mapping[str, Any]) -> list[dict]:
        keys = self.keys
        return [dict(zip(keys, row, strict=True)) for row in self.rows(values)]

    def first(self, values: Mapping[str, Any]) -> dict | None:
        rows = self.all(values)
        return rows[0] if rows else None
