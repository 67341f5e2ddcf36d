"""Opening the DuckDB warehouse the same way everywhere.

DuckDB allows one writer per file across processes, so connections are opened per step
and closed at its end (never at import time: the long-lived code server would hold the lock).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

# No network on the build machines: extensions must come from the wheel (parquet, json, icu).
_CONFIG = {"autoinstall_known_extensions": "false", "autoload_known_extensions": "true"}

# DuckDB's own default is 80 % of the machine's RAM: on a 24 GB machine a full refresh at a
# million customers grew to 21.6 GB instead of spilling its large sorts and joins to disk (a
# file database spills next to itself, `<file>.tmp`). The same value goes to the dbt profile.
MEMORY_LIMIT_ENV = "DATAMART_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "4GB"


def memory_limit() -> str:
    return os.environ.get(MEMORY_LIMIT_ENV, "").strip() or DEFAULT_MEMORY_LIMIT


def duckdb_config() -> dict[str, str]:
    """The configuration of every DuckDB the product opens (the warehouse, Splink's in-memory one)."""
    return {**_CONFIG, "memory_limit": memory_limit()}


def connect(path: Path | str, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    if not read_only:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only, config=duckdb_config())
    con.execute("SET TimeZone = 'Europe/Paris'")
    return con


@contextmanager
def open_warehouse(path: Path | str, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect(path, read_only=read_only)
    try:
        yield con
    finally:
        con.close()


def table_exists(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    if hasattr(con, "table_exists"):  # another engine's connection (orchestration/engines/spark_sql.py)
        return con.table_exists(qualified)
    schema, name = qualified.split(".", 1)
    # DuckDB's own catalog functions: a third of the time of information_schema (called ~20 times a
    # night by the identity step)
    return con.execute(
        "SELECT EXISTS (SELECT 1 FROM duckdb_tables() WHERE schema_name = $1 AND table_name = $2) "
        "OR EXISTS (SELECT 1 FROM duckdb_views() WHERE schema_name = $1 AND view_name = $2)",
        [schema, name]).fetchall()[0][0]


def table_rows(con: duckdb.DuckDBPyConnection, qualified: str) -> int:
    """Row count of a table, 0 when it does not exist yet (a silo that never delivered)."""
    return con.execute(f"SELECT count(*) FROM {qualified}").fetchall()[0][0] if table_exists(con, qualified) else 0
