"""Statements that run on (nearly) every request, straight on the DBAPI cursor.

Executing a Core statement costs SQLAlchemy about 40 µs of Python before and
after the database's own few microseconds (execution context, parameter
processing, result metadata), an ORM load about 130 µs, and an ORM session
about 100 µs to open and close; the signed-in user's row and the patient's
routine are read on most requests, so those statements are `Prepared`:
compiled once per dialect, their parameters and results converted by the very
processors SQLAlchemy would use (a value reads exactly as through
`Connection.execute`), and run on a pooled connection of their own, checked
out at the first prepared read of a request (an app context) and returned to
the pool when it ends (`init_app`).

That connection only reads, and sees what is committed. The hot writes (a
tick, a pain entry, their adherence and audit rows) are prepared too, but
`write` runs them on the ORM session's connection, inside the session's
transaction, so they commit or roll back with it (on PostgreSQL that second
checkout costs one more pre-ping round trip). Only statements with scalar
bound parameters qualify (no expanding IN).
"""

from collections.abc import Mapping
from typing import Any

from flask import Flask, g
from sqlalchemy import Executable
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError

from backend.extensions import db


def _connection():
    """The app context's connection for prepared reads (checked out once)."""
    connection = g.get("_prepared_connection")
    if connection is None:
        connection = g._prepared_connection = db.engine.raw_connection()
    return connection


def _return_connection(_error=None) -> None:
    connection = g.pop("_prepared_connection", None)
    if connection is not None:
        connection.close()  # back to the pool, which rolls back what is open


def init_app(app: Flask) -> None:
    app.teardown_appcontext(_return_connection)


class _Compiled:
    """One statement compiled for one dialect, with its value converters."""

    def __init__(self, statement: Executable, dialect: Dialect):
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
            column.type.dialect_impl(dialect)
            for column in getattr(statement, "selected_columns", ())
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
    """A statement built once at import and run on the DBAPI cursor.

    For a SELECT, `all(params)` gives a list of dicts keyed by the selected
    columns' keys (their labels), `first(params)` the first such dict or None.
    An INSERT or UPDATE runs with `write(params)` (or a list of them).
    """

    def __init__(self, statement: Executable):
        self.statement = statement
        self.keys = tuple(
            column.key for column in getattr(statement, "selected_columns", ())
        )
        self._by_dialect: dict[str, _Compiled] = {}

    def _compiled(self, dialect: Dialect) -> _Compiled:
        compiled = self._by_dialect.get(dialect.name)
        if compiled is None:  # two threads may both compile: either result serves
            compiled = self._by_dialect[dialect.name] = _Compiled(
                self.statement, dialect
            )
        return compiled

    def rows(self, values: Mapping[str, Any], in_session: bool = False) -> list[list]:
        """The rows, converted; `in_session` reads on the ORM session's
        connection, inside its transaction (what a write decides on)."""
        if in_session:
            session_connection = db.session.connection()
            dialect, connection = (
                session_connection.dialect,
                session_connection.connection,
            )
        else:
            dialect, connection = db.engine.dialect, _connection()
        compiled = self._compiled(dialect)
        cursor = connection.cursor()
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

    def write(self, values: Mapping[str, Any] | list[Mapping[str, Any]]) -> None:
        """Run on the ORM session's connection, in its transaction; a unique or
        foreign key violation raises SQLAlchemy's `IntegrityError`, as
        `Connection.execute` would."""
        connection = db.session.connection()
        dialect = connection.dialect
        compiled = self._compiled(dialect)
        cursor = connection.connection.cursor()
        try:
            if isinstance(values, list) and len(values) != 1:
                params = [compiled.parameters(one) for one in values]
                cursor.executemany(compiled.sql, params)
            else:  # one row: psycopg's executemany would open a pipeline for it
                [one] = values if isinstance(values, list) else [values]
                params = compiled.parameters(one)
                cursor.execute(compiled.sql, params)
        except dialect.loaded_dbapi.IntegrityError as error:
            raise IntegrityError(compiled.sql, params, error) from error
        finally:
            cursor.close()

    def all(self, values: Mapping[str, Any], in_session: bool = False) -> list[dict]:
        keys = self.keys
        rows = self.rows(values, in_session)
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def first(self, values: Mapping[str, Any], in_session: bool = False) -> dict | None:
        rows = self.all(values, in_session)
        return rows[0] if rows else None
