"""Plain SQL on the DB-API cursor, for the few statements every report runs.

SQLAlchemy Core sets up an execution context, parameters and a result on every call; on the
intake's short statements that costs more than the database does (bench/README.md). These
statements are written once as plain SQL with `:name` placeholders and "quoted" names (the SQL
holds no string literals), adapted once per database
(its driver's placeholder style; FOR UPDATE only where the database has it) and run on the
connection's DB-API cursor, inside its transaction. Only public interfaces are used: values go
through the column types' own bind and result processors (so they are stored and read exactly as
SQLAlchemy would), and a driver error comes out as the SQLAlchemy exception of the same name, the
connection invalidated when the database is gone, so callers handle it as any other.
"""

import re
from dataclasses import dataclass

from sqlalchemy import exc

PLACEHOLDER = re.compile(r":(\w+)")


@dataclass(frozen=True)
class ForDialect:
    """One statement as one database's driver takes it."""

    sql: str
    names: tuple  # the parameters in placeholder order (positional styles) or once each (named styles)
    positional: bool
    processors: dict  # parameter -> the type's bind processor, where it has one
    results: tuple  # for each result column, the type's result processor or None


class Statement:
    """A plain SQL statement; `types` names the parameters whose type converts values (dates,
    booleans), `columns` the types of the columns a SELECT returns, in order."""

    def __init__(self, sql, types=None, columns=()):
        if "'" in sql:
            raise ValueError("plain SQL here holds no string literals: pass values as parameters")
        self.sql, self.types, self.columns = sql, dict(types or {}), tuple(columns)
        self.by_dialect = {}

    def for_dialect(self, dialect):
        key = (dialect.name, dialect.paramstyle)
        found = self.by_dialect.get(key)
        if found is None:
            found = self.by_dialect[key] = adapt(self, dialect)
        return found

    def run(self, connection, parameters):
        """Run on a SQLAlchemy Connection's DB-API connection, in its transaction; returns the
        number of rows changed, or the rows a SELECT gives (as tuples)."""
        dialect = connection.dialect
        adapted = self.for_dialect(dialect)
        arguments = driver_arguments(adapted, parameters)
        proxied = connection.connection
        cursor = proxied.cursor()
        try:
            cursor.execute(adapted.sql, arguments)
            if not adapted.results:
                return cursor.rowcount
            return [tuple(convert(value) if convert else value for convert, value in zip(adapted.results, row))
                    for row in cursor.fetchall()]
        except dialect.loaded_dbapi.Error as error:
            lost = dialect.is_disconnect(error, proxied.dbapi_connection, cursor)
            if lost:
                connection.invalidate(error)
            raise as_sqlalchemy(error, adapted.sql, arguments, lost) from error
        finally:
            cursor.close()


def adapt(statement, dialect):
    """`statement` for `dialect`: its placeholder style, its quotes around names ("member" is
    `member` on MariaDB, where MEMBER is a keyword), FOR UPDATE only where there are row locks."""
    sql = statement.sql
    if dialect.name == "sqlite":
        sql = sql.replace(" FOR UPDATE", "")
    elif dialect.name == "mysql":
        sql = sql.replace('"', "`")
    names = PLACEHOLDER.findall(sql)
    style = dialect.paramstyle
    if style == "pyformat":
        sql = PLACEHOLDER.sub(r"%(\1)s", sql)
    elif style in ("qmark", "format"):
        sql = PLACEHOLDER.sub("?" if style == "qmark" else "%s", sql)
    elif style != "named":
        raise ValueError(f"no plain SQL for the {style} placeholder style")
    positional = style in ("qmark", "format")
    processors = {}
    for name, type_ in statement.types.items():
        processor = type_.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            processors[name] = processor
    results = tuple(type_.dialect_impl(dialect).result_processor(dialect, None) for type_ in statement.columns)
    return ForDialect(sql, tuple(names) if positional else tuple(dict.fromkeys(names)), positional, processors, results)


def driver_arguments(adapted, parameters):
    """The driver's parameters: a tuple in placeholder order or a dict, each value through its type's processor."""
    def value(name):
        given = parameters[name]
        processor = adapted.processors.get(name)
        return processor(given) if processor is not None and given is not None else given

    if adapted.positional:
        return tuple(value(name) for name in adapted.names)
    return {name: value(name) for name in adapted.names}


def as_sqlalchemy(error, sql, arguments, lost):
    """The driver's error as the SQLAlchemy exception of the same name (IntegrityError,
    OperationalError, ...), as SQLAlchemy itself would raise it."""
    for kind in type(error).__mro__:
        found = getattr(exc, kind.__name__, None)
        if isinstance(found, type) and issubclass(found, exc.DBAPIError):
            return found(sql, arguments, error, connection_invalidated=lost)
    return exc.DBAPIError(sql, arguments, error, connection_invalidated=lost)
