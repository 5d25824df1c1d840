"""PostgreSQL connection settings, catalog queries and error messages (no table writes here)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit

import psycopg
from psycopg import sql

from pinads.load.url_parts import query_params
from pinads.settings import AppSettings

if TYPE_CHECKING:
    from pinads.load.registry import Opener
    from pinads.load.spec import Destination

__all__ = [
    "PostgresTarget",
    "connect_failure",
    "parse_postgres_url",
    "parse_url",
    "primary_key",
    "table_columns",
]

_SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
DEFAULT_SCHEMA = "public"
CONNECT_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class PostgresTarget:
    """Where to connect: a libpq URL without our `schema` parameter, and the schema."""

    conninfo: str
    schema: str
    host: str
    port: str
    dbname: str
    user: str

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}/{self.dbname}"


def parse_url(text: str, parts: SplitResult, settings: AppSettings) -> Opener:
    """The registry's reader of `postgresql://` and `postgres://` URLs (see registry.py)."""
    query_params(parts.query)  # refuses repeated parameters
    return partial(_open, parse_postgres_url(text))


def _open(target: PostgresTarget, url: str) -> Destination:
    from pinads.load.postgres import PostgresDestination

    return PostgresDestination(target, url=url)


def parse_postgres_url(url: str) -> PostgresTarget:
    """Split `postgresql://user[:pw]@host[:port]/db?schema=NAME&...` (other params go to libpq).

    ValueError(why) for a URL libpq would refuse or that names no host or database: the
    caller shows it with the URL, password hidden. libpq's own text is never shown, since it
    may quote part of the password."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schemas = [v for k, v in query if k == "schema"]
    schema = schemas[-1] if schemas else DEFAULT_SCHEMA
    if not _SCHEMA_NAME.match(schema):
        raise ValueError(
            f"schema {schema!r} must be letters, digits and _ (not starting with a digit)"
        )
    rest = urlencode([(k, v) for k, v in query if k != "schema"])
    # Not urlunsplit: it drops the // of a URL without host (a Unix socket given as ?host=).
    conninfo = f"postgresql://{parts.netloc}{parts.path}{'?' if rest else ''}{rest}"
    try:
        params = psycopg.conninfo.conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError as exc:
        raise ValueError(_libpq_problem(exc)) from None
    _check_params(params)
    return PostgresTarget(
        conninfo=conninfo,
        schema=schema,
        host=str(params["host"]),
        port=str(params.get("port") or "5432"),
        dbname=str(params["dbname"]),
        user=str(params.get("user") or "(default user)"),
    )


_SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
_UNKNOWN_PARAMETER = re.compile(r'invalid URI query parameter: "([^"]*)"')


def _libpq_problem(exc: psycopg.ProgrammingError) -> str:
    unknown = _UNKNOWN_PARAMETER.search(str(exc))
    if unknown is not None:
        return (
            f"unknown parameter {unknown.group(1)!r} (it takes schema and libpq's connection "
            "parameters such as sslmode, connect_timeout, application_name)"
        )
    return (
        "it could not be parsed; percent-encode @ : / ? # % in the user name and password "
        "(%40 %3A %2F %3F %23 %25)"
    )


def _check_params(params: dict[str, Any]) -> None:
    """Host, database, port and sslmode: what libpq only checks when it connects."""
    shape = "postgresql://user:password@host:5432/database?schema=NAME"
    if not params.get("host"):
        raise ValueError(f"it names no host; write {shape}")
    if not params.get("dbname"):
        raise ValueError(f"it names no database; write {shape}")
    for port in str(params.get("port") or "5432").split(","):
        if not port.isdigit() or not 1 <= int(port) <= 65535:
            # The value is not quoted: in a malformed URL it may be a piece of the password.
            raise ValueError("the port (after host:) is not a number from 1 to 65535")
    sslmode = params.get("sslmode")
    if sslmode is not None and sslmode not in _SSL_MODES:
        raise ValueError(f"sslmode {sslmode!r} is not one of {', '.join(_SSL_MODES)}")


def connect_failure(target: PostgresTarget, exc: psycopg.Error) -> str:
    """One line that says why connecting failed and what to do (never the password)."""
    text = str(exc)
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    lowered = text.lower()
    if "password authentication failed" in lowered or "no password supplied" in lowered:
        return (
            f"PostgreSQL at {target.host}:{target.port} refused user {target.user!r} (wrong "
            "password or user); fix them in the destination URL"
        )
    if "does not exist" in lowered and "database" in lowered:
        return (
            f"database {target.dbname!r} does not exist on {target.host}:{target.port}; create it "
            f"(createdb {target.dbname}) or fix the database name in the destination URL"
        )
    if "role" in lowered and "does not exist" in lowered:
        return (
            f"PostgreSQL at {target.host}:{target.port} has no user {target.user!r}; create "
            "it or fix the user in the destination URL"
        )
    if "pg_hba.conf" in lowered:
        return (
            f"PostgreSQL at {target.host}:{target.port} does not accept this client "
            f"(pg_hba.conf); ask its administrator to allow user {target.user!r}"
        )
    if "refused" in lowered or "timeout" in lowered or "could not" in lowered:
        return (
            f"PostgreSQL at {target.host}:{target.port} is not reachable ({_short(first)}); "
            "start the server or fix host and port in the destination URL"
        )
    return (
        f"cannot connect to PostgreSQL at {target.where} ({_short(first)}); check the "
        "destination URL"
    )


def _short(text: str) -> str:
    return text.removeprefix("connection failed: ").strip()


def table_columns(cur: psycopg.Cursor[Any], schema: str, table: str) -> dict[str, str]:
    """Column name -> `format_type()` spelling, in table order; empty if no such table."""
    cur.execute(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
        "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relname = %s AND c.relkind IN ('r', 'p') "
        "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
        (schema, table),
    )
    return {str(name): str(sql_type) for name, sql_type in cur.fetchall()}


def primary_key(cur: psycopg.Cursor[Any], schema: str, table: str) -> tuple[str, ...] | None:
    """The table's primary key columns in order, or None without one."""
    cur.execute(
        "SELECT a.attname FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) "
        "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
        "WHERE n.nspname = %s AND c.relname = %s AND i.indisprimary ORDER BY k.ord",
        (schema, table),
    )
    names = tuple(str(r[0]) for r in cur.fetchall())
    return names or None


def ident(*names: str) -> sql.Composable:
    """A (schema-)qualified identifier."""
    return sql.Identifier(*names)


def idents(names: tuple[str, ...] | list[str]) -> sql.Composable:
    return sql.SQL(", ").join(sql.Identifier(n) for n in names)
