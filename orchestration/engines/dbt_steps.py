"""What a dbt step does around dbt on the Spark engine (orchestration/defs/dbt.py calls these).

Before dbt, what the step's models and tests read is written to the lake (lake.py): the raw
tables for the staging layer; for the marts layer the identity and privacy steps' outputs and
every staging-layer table. The staging-layer tables go back to the lake from the DuckDB
warehouse, not from Spark's own copies: the privacy step erased people in place in DuckDB
(staging and intermediate included) after Spark built them, and the marts must not see them.

After dbt, every table the step built is *mirrored*: Spark's Parquet files are copied into the
DuckDB warehouse under the same ``schema.table``, with the column types the DuckDB build gives, so
identity resolution, ML scoring, the GX checks and publishing read the same tables on both engines.

Both directions go through files, so the orchestrator's process never starts a JVM: Spark runs in
the dbt invocation (``datamart-dbt-spark``), and in the identity and feature jobs
(``identity_spark.py``, ``models_spark.py``).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import duckdb

from .dbt_spark import LOCATIONS_FILE
from .lake import export_raw, export_tables, lake_dir

RAW_SCHEMA = "raw"


def load_manifest(path: Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text())


def _relation(node: Mapping[str, Any]) -> str:
    return f"{node['schema']}.{node.get('alias') or node.get('identifier') or node['name']}"


def layer_inputs(manifest: Mapping[str, Any], layer_tag: str) -> list[str]:
    """``schema.table`` of every relation the layer's nodes read that the layer does not build:
    the parents of its models and seeds, and of the data tests dbt runs with them (dbt's default
    eager selection runs a test when any of its parents is selected, e.g. a relationships test
    from a mart to a staging table)."""
    nodes, sources = manifest["nodes"], manifest["sources"]
    in_layer = {uid for uid, n in nodes.items()
                if n["resource_type"] in ("model", "seed") and layer_tag in n.get("tags", [])}
    readers = set(in_layer) | {uid for uid, n in nodes.items() if n["resource_type"] == "test"
                               and in_layer & set(n.get("depends_on", {}).get("nodes", []))}
    parents = {p for uid in readers for p in nodes[uid].get("depends_on", {}).get("nodes", [])} - in_layer
    out = set()
    for uid in parents:
        if uid in sources:
            out.add(_relation({**sources[uid], "alias": sources[uid].get("identifier")}))
        elif uid in nodes and nodes[uid]["resource_type"] in ("model", "seed"):
            out.add(_relation(nodes[uid]))
    return sorted(out)


def export_inputs(con: duckdb.DuckDBPyConnection, home: Path, manifest: Mapping[str, Any],
                  layer_tag: str) -> dict[str, int]:
    """Write what the layer reads to the lake. Returns rows written per table (counts only)."""
    inputs = layer_inputs(manifest, layer_tag)
    lake = lake_dir(home)
    written: dict[str, int] = {}
    if any(t.startswith(f"{RAW_SCHEMA}.") for t in inputs):
        written.update(export_raw(con, lake))  # a file per landing-file date, every raw table
    written.update(export_tables(con, lake, [t for t in inputs if not t.startswith(f"{RAW_SCHEMA}.")]))
    return written


def clear_raw(home: Path) -> None:
    """Remove the lake's raw tables once dbt has read them. The privacy step erases people in
    DuckDB's raw tables after the staging step, so the lake's copy would keep their data until
    the next night; it is written whole every night anyway (export_raw), so nothing is lost."""
    shutil.rmtree(lake_dir(home) / RAW_SCHEMA, ignore_errors=True)


def built_tables(unique_ids: Iterable[str], target_path: Path) -> dict[str, Path]:
    """``schema.table`` -> folder of its Parquet files, for the nodes dbt built (the step's Output
    events' ``unique_id``), as the dbt process found them in Spark's catalog (dbt_spark.py)."""
    report = json.loads((Path(target_path) / LOCATIONS_FILE).read_text())
    tables = {}
    for uid in unique_ids:
        if uid not in report:
            raise LookupError(f"dbt built {uid} but the Spark process did not report its location")
        location = report[uid]["location"]
        if "://" in location and not location.startswith("file:"):
            raise ValueError(f"{report[uid]['relation']} is stored at {location}: the mirror reads local "
                             "(or mounted) folders only (docs/scale-out.md)")
        tables[report[uid]["relation"]] = Path(location.removeprefix("file://").removeprefix("file:"))
    return dict(sorted(tables.items()))


def contract_types(manifest: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """``schema.table`` -> {column: DuckDB type}, in the declared order, for the models whose
    contract is enforced: on DuckDB the build guarantees exactly these types and this column
    order, so the mirror does too."""
    out: dict[str, dict[str, str]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] == "model" and node["config"].get("contract", {}).get("enforced"):
            out[_relation(node)] = {c: col["data_type"] for c, col in node.get("columns", {}).items()
                                    if col.get("data_type")}
    return out


def _column_sql(name: str, parquet_type: str, wanted: str | None) -> str:
    col = '"' + name.replace('"', '""') + '"'
    expr = col
    # Spark's timestamps are instants on a UTC session clock (spark.py); DuckDB reads them as
    # naive TIMESTAMP (Spark's INT96, the default) or as TIMESTAMPTZ (TIMESTAMP_MICROS, if a
    # cluster configures it). The DuckDB build's timestamps are naive: back to the UTC wall
    # clock, never through this connection's time zone (Europe/Paris)
    if parquet_type == "TIMESTAMP WITH TIME ZONE":
        expr = f"timezone('UTC', {col})"
    elif parquet_type in ("TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S"):
        expr = f"CAST({col} AS TIMESTAMP)"
    if wanted and wanted.upper() != parquet_type.upper():
        expr = f"CAST({expr} AS {wanted})"
    return expr if expr == col else f"{expr} AS {col}"


def _data_files(folder: Path) -> list[Path]:
    """The table's Parquet files: not Spark's _SUCCESS marker, hidden .crc files or _temporary
    folders. A partitioned table has them in ``<column>=<value>/`` folders."""
    return sorted(p for p in Path(folder).rglob("*.parquet")
                  if not any(part.startswith((".", "_")) for part in p.relative_to(folder).parts))


def mirror_tables(con: duckdb.DuckDBPyConnection, tables: Mapping[str, Path],
                  types: Mapping[str, Mapping[str, str]] | None = None) -> dict[str, int]:
    """Copy each ``schema.table`` from its folder of Parquet files into the DuckDB warehouse, in
    one transaction (a failure leaves the previous tables). Returns rows per table."""
    types = types or {}
    counts: dict[str, int] = {}
    con.execute("BEGIN")
    try:
        for relation, folder in tables.items():
            schema, table = relation.split(".", 1)
            files = _data_files(folder)  # an empty table still has one file holding the schema
            if not files:
                raise FileNotFoundError(f"no Parquet file for {relation} under {folder}")
            partitioned = any(f.parent != Path(folder) for f in files)
            source = f"read_parquet({[str(f) for f in files]!r}, hive_partitioning = {str(partitioned).lower()})"
            columns = con.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM {source})").fetchall()
            declared = types.get(relation, {})
            wanted = {c.lower(): t for c, t in declared.items()}
            if wanted and set(wanted) == {c.lower() for c, _ in columns}:
                # Spark stores partition columns last; the contract's order is the DuckDB build's
                order = {c: i for i, c in enumerate(wanted)}
                columns.sort(key=lambda col: order[col[0].lower()])
            select = ", ".join(_column_sql(c, t, wanted.get(c.lower())) for c, t in columns)
            con.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            con.execute(f'CREATE OR REPLACE TABLE "{schema}"."{table}" AS SELECT {select} FROM {source}')
            counts[relation] = con.execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchall()[0][0]
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return counts
