"""Core statements compiled once per dialect and run on the database driver's cursor.

SQLAlchemy writes the SQL for each database from one statement, and that stays the one code
path for SQLite and MariaDB. What this module saves is the work SQLAlchemy does on every
execution (an execution context, a compiled-cache lookup, parameter and result set-up), which on
the intake's short statements costs more than the database does. It is for a few hot statements
whose parameters are plain values; everything else goes through SQLAlchemy as usual.

A driver error comes out as the SQLAlchemy exception it would have been (IntegrityError,
OperationalError, ...), with the connection invalidated when the database is gone, so callers
handle errors exactly as they do for any other statement.
"""

from collections import namedtuple
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError


@dataclass(frozen=True)
class Compiled:
    """One statement's SQL for one dialect, and how to turn named parameters into the driver's."""

    sql: str
    names: tuple  # parameter names in SQL order (positional styles), or the names used (named styles)
    positional: bool
    constants: dict  # values SQLAlchemy bound itself (literals in CASE, SET active = false, ...)
    processors: dict  # name -> the type's bind processor, where it has one
    row: type | None  # a named tuple for the rows of a SELECT (or of an INSERT ... RETURNING), else None
    result_processors: tuple


@dataclass(frozen=True)
class Outcome:
    """What a statement did: rows changed, and the rows a SELECT (or RETURNING) gave."""

    rowcount: int
    rows: list

    def first(self):
        return self.rows[0] if self.rows else None

    def scalar(self):
        return self.rows[0][0] if self.rows else None


class Prepared:
    """A Core statement, compiled on first use for each dialect.

    Every parameter the SQL names must be given when it runs (an INSERT lists its columns, so
    a column's Python-side default does not apply: pass its value). A statement whose SQL would
    need rendering at run time (an IN list, a literal_execute bind) is refused when compiled.
    """

    def __init__(self, statement, column_keys=None):
        self.statement = statement
        self.column_keys = column_keys  # an INSERT's columns, in the order its parameters name them
        self.by_dialect = {}

    def compiled(self, dialect):
        # One compilation per kind of database and driver style (MariaDB and MySQL share a dialect
        # name but not every feature).
        key = (dialect.name, dialect.paramstyle, getattr(dialect, "is_mariadb", False))
        found = self.by_dialect.get(key)
        if found is None:
            found = self.by_dialect[key] = compile_for(self.statement, dialect, self.column_keys)
        return found

    def run(self, connection, parameters=None):
        """Execute on a SQLAlchemy Connection's driver connection, inside its transaction."""
        dialect = connection.dialect
        compiled = self.compiled(dialect)
        arguments = driver_arguments(compiled, parameters or {})
        driver_connection = connection.connection
        cursor = driver_connection.cursor()
        try:
            try:
                cursor.execute(compiled.sql, arguments)
                fetched = cursor.fetchall() if compiled.row is not None else ()
            except dialect.loaded_dbapi.Error as error:
                raise as_sqlalchemy_error(connection, driver_connection, cursor, compiled.sql, arguments, error) from error
            rows = [compiled.row(*(convert(value) if convert else value
                                   for convert, value in zip(compiled.result_processors, row))) for row in fetched]
            return Outcome(cursor.rowcount, rows)
        finally:
            cursor.close()


def compile_for(statement, dialect, column_keys=None):
    compiled = statement.compile(dialect=dialect, column_keys=column_keys)
    if compiled.literal_execute_params or compiled.post_compile_params:
        raise ValueError("a prepared statement cannot hold parameters rendered at run time")
    if compiled.insert_prefetch or compiled.update_prefetch:
        raise ValueError("a prepared statement must be given every column with a Python-side default")
    # Positional styles: every placeholder in order. Named styles: each name the SQL uses, once.
    names = tuple(compiled.positiontup) if compiled.positional else tuple(sorted(set(compiled.bind_names.values())))
    constants, processors = {}, {}
    for name in set(names):
        bind = compiled.binds[name]
        if not bind.required:
            constants[name] = bind.effective_value
        processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            processors[name] = processor
    row, result_processors = None, ()
    columns = list(statement.selected_columns if statement.is_select else statement.exported_columns)
    if columns:
        row = namedtuple("Row", [column.key for column in columns])
        result_processors = tuple(column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns)
    return Compiled(str(compiled), names, compiled.positional, constants, processors, row, result_processors)


def driver_arguments(compiled, parameters):
    """The driver's parameters: a tuple in SQL order, or a dict, each value through its type's processor."""
    def value(name):
        given = parameters[name] if name in parameters else compiled.constants[name]
        processor = compiled.processors.get(name)
        return processor(given) if processor is not None and given is not None else given

    if compiled.positional:
        return tuple(value(name) for name in compiled.names)
    return {name: value(name) for name in compiled.names}


def as_sqlalchemy_error(connection, driver_connection, cursor, sql, arguments, error):
    """The driver's error as SQLAlchemy would raise it; a lost connection is invalidated so the
    pool replaces it (and `connection_invalidated` tells the caller it may run the work again)."""
    dialect = connection.dialect
    lost = dialect.is_disconnect(error, driver_connection.dbapi_connection, cursor)
    if lost and not connection.invalidated:
        connection.invalidate(error)
    return DBAPIError.instance(sql, arguments, error, dialect.loaded_dbapi.Error,
                               connection_invalidated=lost, dialect=dialect)
