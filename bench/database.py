"""The throwaway PostgreSQL database the bench runs on: dropped, recreated and migrated each run."""

import os
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/licensedesk_bench"


class BenchDatabaseError(RuntimeError):
    pass


def database_url() -> str:
    # Its own variable: a shell's DATABASE_URL names a database somebody keeps data in.
    url = os.environ.get("BENCH_DATABASE_URL") or DEFAULT_URL
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        raise BenchDatabaseError(
            f"The bench needs PostgreSQL; BENCH_DATABASE_URL is {parts.scheme}://."
        )
    name = database_name(url)
    # The bench drops its database on every run: never let a shell's DATABASE_URL aim that at
    # a database somebody keeps data in.
    if "bench" not in name:
        raise BenchDatabaseError(
            f"Refusing to drop database {name!r}: the bench recreates its database on every run, "
            f"so its name must contain 'bench' (e.g. {DEFAULT_URL})."
        )
    return url


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


@contextmanager
def _maintenance(url: str):
    with psycopg.connect(_with_database(url, "postgres"), autocommit=True) as conn:
        yield conn


def recreate(url: str, *, template: str | None = None) -> None:
    """Drop the bench database and create it again, empty or as a copy of `template`."""
    name = database_name(url)
    with _maintenance(url) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            create += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        conn.execute(create)


def snapshot(url: str, template: str) -> None:
    """Copy the (idle) bench database to `template`, so each row can start from it."""
    with _maintenance(url) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(template)))
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(template), sql.Identifier(database_name(url))
            )
        )


def drop(url: str, name: str) -> None:
    with _maintenance(url) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


def server_version(url: str) -> str:
    with psycopg.connect(url) as conn:
        return conn.execute("SHOW server_version").fetchone()[0]


def connect(url: str) -> psycopg.Connection:
    """A raw psycopg connection for baselines, in UTC like Django's own."""
    return psycopg.connect(url, options="-c TimeZone=UTC")


def settle(url: str) -> None:
    """VACUUM ANALYZE after setup, so both sides meet tables with fresh statistics and set hint
    bits, instead of whichever side runs first paying for them (or for autovacuum)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
