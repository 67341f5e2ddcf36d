"""`datamart-dbt-spark`: dbt on the Spark engine, in this process.

dbt-spark's ``session`` method uses the process's active Spark session; this entry point creates
it first (orchestration.engines.spark: configuration, the project's SQL functions), registers the
lake's Parquet folders as tables, then runs dbt with the arguments it was given. dagster-dbt calls
it as its dbt executable when DATAMART_ENGINE=spark, so the asset graph is the same on both engines.

Afterwards it writes ``<target path>/spark_tables.json``: for each model and seed dbt built, the
folder of its Parquet files, which the step mirrors into the DuckDB warehouse (dbt_steps.py). The
folder is the catalog's, not a guess: a table dbt appends to may be one the lake registered.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from ..settings import Settings
from .lake import lake_dir, register_lake
from .spark import get_session

LOCATIONS_FILE = "spark_tables.json"


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    from dbt.cli.main import dbtRunner

    spark = None
    if args and args[0] not in {"parse", "deps", "clean", "--version", "debug"}:
        settings = Settings.from_env()
        spark = get_session(settings.home)
        register_lake(spark, lake_dir(settings.home))
    result = dbtRunner().invoke(args)
    if spark is not None:
        write_locations(spark, result, _target_path(args))
    # dbt's own exit codes: 0 success, 1 a node failed, 2 dbt itself failed
    return 0 if result.success else (2 if result.exception is not None else 1)


def _target_path(args: list[str]) -> Path:
    """dbt's target folder as dbt resolves it: --target-path, else DBT_TARGET_PATH (dagster-dbt
    sets one per invocation), else `target`; relative to the working directory (the project)."""
    for i, arg in enumerate(args):
        if arg == "--target-path" and i + 1 < len(args):
            return Path(args[i + 1])
        if arg.startswith("--target-path="):
            return Path(arg.split("=", 1)[1])
    return Path(os.environ.get("DBT_TARGET_PATH") or "target")


def write_locations(spark, result, target_path: Path) -> dict[str, dict[str, str]]:
    """unique_id -> {relation, location} of every model and seed this invocation built."""
    built = {}
    for node_result in getattr(result.result, "results", None) or []:
        node = node_result.node
        if node.resource_type not in ("model", "seed") or str(node_result.status) != "success":
            continue
        relation = f"{node.schema}.{node.alias}"
        rows = spark.sql(f"DESCRIBE TABLE EXTENDED `{node.schema}`.`{node.alias}`").collect()
        location = next((r.data_type for r in rows if r.col_name == "Location"), None)
        if location:
            built[node.unique_id] = {"relation": relation, "location": location}
    target_path.mkdir(parents=True, exist_ok=True)
    (target_path / LOCATIONS_FILE).write_text(json.dumps(built, indent=1, sort_keys=True))
    return built


if __name__ == "__main__":
    sys.exit(main())
