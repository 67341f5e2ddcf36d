"""The lake: the warehouse tables Spark reads, as Parquet under ``DATAMART_HOME/lake``.

Ingestion (quarantine, load accounting, erasure) happens once, in the DuckDB warehouse; what it
accepted is written here for the Spark engine, so both engines read the same rows and the load
accounting holds on both. Raw tables are one folder per table with a file per landing-file date
(``lake/raw/<source>__<entity>/file_day=<YYYY-MM-DD>/``); the other tables a dbt step reads (the
identity and privacy steps' outputs, the staging layer for the marts: dbt_steps.py) one file each.

Layout: ``lake/<schema>/<table>/``; on Spark each folder is the external table ``<schema>.<table>``.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

import duckdb


def lake_dir(home: Path) -> Path:
    return home / "lake"


def _tables(con: duckdb.DuckDBPyConnection, schema: str) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = ? ORDER BY 1", [schema]).fetchall()]


def _replace_dir(target: Path, write) -> None:
    """Write a table's folder beside the old one, then swap: a reader never sees half a table."""
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    write(tmp)
    old = target.with_name(target.name + ".old")
    if target.exists():
        target.rename(old)
    tmp.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def export_raw(con: duckdb.DuckDBPyConnection, lake: Path) -> dict[str, int]:
    """Every raw table, a Parquet file per landing-file date. Returns rows written per table.

    Written whole each time: the privacy step scrubs erased people in place in raw, so a file of
    an old date can change without a new load."""
    written = {}
    for table in _tables(con, "raw"):
        def write(folder: Path, table=table) -> None:
            con.execute(f"""COPY (SELECT *, strftime(_file_date, '%Y-%m-%d') AS file_day FROM raw."{table}")
                            TO '{folder}' (FORMAT parquet, PARTITION_BY (file_day), FILENAME_PATTERN 'part_{{i}}',
                                           WRITE_PARTITION_COLUMNS false)""")
        _replace_dir(lake / "raw" / table, write)
        written[f"raw.{table}"] = con.execute(f'SELECT count(*) FROM raw."{table}"').fetchone()[0]
    return written


def export_tables(con: duckdb.DuckDBPyConnection, lake: Path, qualified: Iterable[str]) -> dict[str, int]:
    """Whole tables, one Parquet file each."""
    written = {}
    for name in qualified:
        schema, table = name.split(".", 1)

        def write(folder: Path, name=name) -> None:
            con.execute(f"COPY (SELECT * FROM {name}) TO '{folder / 'part_0.parquet'}' (FORMAT parquet)")
        _replace_dir(lake / schema / table, write)
        written[name] = con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
    return written


def register_lake(spark, lake: Path) -> list[str]:
    """Each folder of the lake as an external Parquet table of the Spark catalog (metadata only)."""
    if not lake.exists():
        return []
    return register_tables(spark, lake, [
        f"{schema_dir.name}.{table_dir.name}"
        for schema_dir in sorted(p for p in lake.iterdir() if p.is_dir())
        for table_dir in sorted(p for p in schema_dir.iterdir() if p.is_dir() and "." not in p.name)])


def register_tables(spark, lake: Path, qualified: Iterable[str]) -> list[str]:
    """The lake folders of `qualified` tables that exist, as external Parquet tables."""
    registered = []
    for name in qualified:
        schema, table = name.split(".", 1)
        folder = lake / schema / table
        if not folder.is_dir():
            continue
        spark.sql(f"CREATE DATABASE IF NOT EXISTS `{schema}`")
        spark.sql(f"DROP TABLE IF EXISTS `{schema}`.`{table}`")
        spark.sql(f"CREATE TABLE `{schema}`.`{table}` USING parquet OPTIONS (recursiveFileLookup 'true') "
                  f"LOCATION '{folder}'")
        registered.append(name)
    return registered
